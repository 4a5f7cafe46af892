/**
 * Processes the multi-instance and concurrent-users benches start: a real `denokv` (KV Connect)
 * serving a SQLite file, and app instances (`main.ts`) on loopback ports. Everything listens on
 * 127.0.0.1 and is killed by `close()`.
 */
import { freePort } from "../scripts/kafka_lib.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Path of the `denokv` binary: DENOKV_BIN, the CI cache, ~/.cargo/bin, or null. */
export function findDenokv(): string | null {
  const home = Deno.env.get("HOME") ?? "";
  const candidates = [
    Deno.env.get("DENOKV_BIN"),
    `${home}/.cache/training-booking/denokv-0.14.0/bin/denokv`,
    `${home}/.cargo/bin/denokv`,
  ];
  for (const c of candidates) {
    if (!c) continue;
    try {
      if (Deno.statSync(c).isFile) return c;
    } catch { /* next */ }
  }
  return null;
}

async function waitForPort(port: number, exited: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`${what} exited before listening`);
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${what} did not listen within 60 s`);
}

/** A child process with its pid and a stop. */
export interface Child {
  pid: number;
  url: string;
  close(): Promise<void>;
}

function spawn(cmd: string, args: string[], env: Record<string, string>, port: number, what: string) {
  const child = new Deno.Command(cmd, { args, env, stdin: "null", stdout: "null", stderr: "inherit" }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  return {
    child,
    ready: waitForPort(port, () => exited, what),
    async close() {
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch { /* gone */ }
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 10_000);
      await status;
      clearTimeout(timer);
    },
  };
}

/** A running `denokv serve` on `sqlitePath`. */
export interface DenokvServer extends Child {
  token: string;
  /** `DENO_KV_PATH` and `DENO_KV_ACCESS_TOKEN` for a client. */
  clientEnv: Record<string, string>;
}

/** Starts `denokv --sqlite-path F serve` on a free loopback port. */
export async function startDenokv(bin: string, sqlitePath: string): Promise<DenokvServer> {
  const port = freePort();
  const token = crypto.randomUUID().replaceAll("-", "");
  const p = spawn(
    bin,
    ["--sqlite-path", sqlitePath, "serve", "--access-token", token, "--addr", `127.0.0.1:${port}`],
    { RUST_LOG: "warn" },
    port,
    "denokv",
  );
  await p.ready;
  const url = `http://127.0.0.1:${port}`;
  return {
    pid: p.child.pid,
    url,
    token,
    clientEnv: { DENO_KV_PATH: url, DENO_KV_ACCESS_TOKEN: token },
    close: p.close,
  };
}

/** Starts `deno run -A main.ts` with `env` (plus PORT, HOST, no demo seed, no dev sign-in). */
export async function startAppProcess(env: Record<string, string>): Promise<Child> {
  const port = freePort();
  const p = spawn(
    Deno.execPath(),
    ["run", "-A", "--quiet", MAIN],
    {
      ...Deno.env.toObject(),
      PORT: String(port),
      HOST: "127.0.0.1",
      SEED_DEMO: "0",
      DEV_LOGIN: "0",
      KAFKA_BROKERS: "",
      ...env,
    },
    port,
    "app instance",
  );
  await p.ready;
  return { pid: p.child.pid, url: `http://127.0.0.1:${port}`, close: p.close };
}
