/**
 * Test harness (not a test file itself): a real `denokv` 0.14.0 server (KV Connect, the
 * self-hosted remote KV) on a free loopback port, and a cluster of app instances (`main.ts`) and
 * a worker as subprocesses on it.
 *
 * The binary comes from `DENOKV_BIN`, else the CI cache (`.ci/run` builds it with
 * `cargo install denokv --version 0.14.0 --locked` into
 * `~/.cache/training-booking/denokv-0.14.0/bin/`), else `~/.cargo/bin/denokv`, else `PATH`.
 * Missing, the multi-instance tests FAIL saying so; `SKIP_DENOKV=1` leaves them out on a machine
 * without it (refused when `CI=true`), as `SKIP_KAFKA` does for Kafka.
 * @module
 */
import { freePort } from "../../scripts/kafka_lib.ts";
import { type AppProcess, startAppProcess } from "../app_process.ts";

export const DENOKV_VERSION = "0.14.0";

function existsSync(url: URL): boolean {
  try {
    return Deno.statSync(url).isFile;
  } catch {
    return false;
  }
}

/** The worker role (`deno task worker`): its file, and the line it prints once running. */
export const WORKER_ENTRY = "scripts/worker.ts";
export const WORKER_READY = /worker: running/;

function env(name: string): string | undefined {
  return Deno.env.get(name) || undefined;
}

function home(): string {
  return env("HOME") ?? Deno.cwd();
}

/** Where `.ci/run` caches the binary. */
export function denokvCacheBin(): string {
  return `${env("XDG_CACHE_HOME") ?? `${home()}/.cache`}/training-booking/denokv-${DENOKV_VERSION}/bin/denokv`;
}

function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Path of the `denokv` binary, or null when none is found. */
export function findDenokv(): string | null {
  const explicit = env("DENOKV_BIN");
  if (explicit) return isExecutable(explicit) ? explicit : null;
  for (const candidate of [denokvCacheBin(), `${home()}/.cargo/bin/denokv`]) {
    if (isExecutable(candidate)) return candidate;
  }
  for (const dir of (env("PATH") ?? "").split(":")) {
    if (dir && isExecutable(`${dir}/denokv`)) return `${dir}/denokv`;
  }
  return null;
}

/**
 * Whether the denokv tests should be left out: only with `SKIP_DENOKV=1` outside CI.
 * Use as `Deno.test({ ignore: skipDenokv(), ... })`. Throws when `SKIP_DENOKV` is set with `CI=true`.
 */
export function skipDenokv(): boolean {
  if (!env("SKIP_DENOKV")) return false;
  if (env("CI") === "true") {
    throw new Error("SKIP_DENOKV is not allowed in CI: the multi-instance tests are a required part of the suite.");
  }
  console.error("SKIP_DENOKV=1: the multi-instance tests on denokv are left out.");
  return true;
}

/** A running `denokv serve`. */
export interface Denokv {
  /** `http://127.0.0.1:PORT`, the `DENO_KV_PATH` of its clients. */
  url: string;
  /** The access token (`DENO_KV_ACCESS_TOKEN`). */
  token: string;
  /** Env for a client process: `DENO_KV_PATH` and `DENO_KV_ACCESS_TOKEN`. */
  clientEnv: Record<string, string>;
  /** The same with the names Deno Deploy allows: `KV_PATH` and `KV_ACCESS_TOKEN`. */
  deployEnv: Record<string, string>;
  /** Opens a KV Connect handle from this process (sets `DENO_KV_ACCESS_TOKEN` here). */
  open(): Promise<Deno.Kv>;
  output(): string;
  /** Stops the server and deletes its SQLite file. */
  close(): Promise<void>;
}

/** Starts `denokv` on a free port with its SQLite file in a temporary directory. */
export async function startDenokv(): Promise<Denokv> {
  const bin = findDenokv();
  if (!bin) {
    throw new Error(
      `denokv ${DENOKV_VERSION} was not found (DENOKV_BIN, ${denokvCacheBin()}, ~/.cargo/bin, PATH). ` +
        `Install it with \`cargo install denokv --version ${DENOKV_VERSION} --locked\` (or run .ci/run), ` +
        "or set SKIP_DENOKV=1 to leave these tests out locally.",
    );
  }
  const dir = await Deno.makeTempDir({ prefix: "denokv_" });
  const token = crypto.randomUUID().replaceAll("-", "");
  const port = freePort();
  const child = new Deno.Command(bin, {
    args: ["--sqlite-path", `${dir}/kv.sqlite3`, "serve", "--access-token", token, "--addr", `127.0.0.1:${port}`],
    env: { RUST_LOG: "warn" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  // Ready once it accepts connections.
  while (true) {
    if (exited) throw new Error(`denokv exited before listening:\n${text}`);
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    token,
    clientEnv: { DENO_KV_PATH: url, DENO_KV_ACCESS_TOKEN: token },
    deployEnv: { KV_PATH: url, KV_ACCESS_TOKEN: token },
    open() {
      Deno.env.set("DENO_KV_ACCESS_TOKEN", token);
      return Deno.openKv(url);
    },
    output: () => text,
    async close() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      await status;
      await pumps;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** N app instances (and optionally the worker) on one denokv. */
export interface Cluster {
  kv: Denokv;
  apps: AppProcess[];
  worker: AppProcess | null;
  /** Starts instance `i` again with its env (same store), in place of `apps[i]` (e.g. after a kill -9). */
  restartApp(i: number): Promise<AppProcess>;
  /** Starts the worker again with its env, in place of `worker`. */
  restartWorker(): Promise<AppProcess>;
  /** Stops every process (SIGTERM), then denokv. */
  close(): Promise<void>;
}

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  instances: number;
  worker?: boolean;
  /** Env for every process (e.g. `SEED_DEMO`, `ADMIN_TOKEN`, `KAFKA_BROKERS`). */
  env?: Record<string, string>;
  /** An already running denokv to use (the cluster then leaves it running on close). */
  kv?: Denokv;
  /** How instance `i` names its store (default `kv.clientEnv`; `kv.deployEnv` as on Deno Deploy). */
  storeEnv?: (i: number, kv: Denokv) => Record<string, string>;
  /** More env for instance `i` only (e.g. {@link skewedClockEnv}). */
  instanceEnv?: (i: number) => Record<string, string>;
}

/**
 * Env that runs a process with its wall clock `seconds` off (libfaketime preloaded, as the Debian
 * `faketime` command does, without its wrapper process, so signals reach the app itself).
 */
export function skewedClockEnv(seconds: number): Record<string, string> {
  const lib = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"]
    .map((dir) => `${dir}/faketime/libfaketime.so.1`)
    .find((path) => existsSync(new URL(`file://${path}`)));
  if (!lib) throw new Error("libfaketime was not found: install Debian's faketime package (apt-get install faketime).");
  return { LD_PRELOAD: lib, FAKETIME: `${seconds >= 0 ? "+" : ""}${seconds}s` };
}

/** Starts denokv (unless given), the app instances in parallel and the worker. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const kv = options.kv ?? await startDenokv();
  const env = { SEED_DEMO: "0", KAFKA_BROKERS: "", ...options.env, ...kv.clientEnv };
  const appEnv = (i: number) => ({
    SEED_DEMO: "0",
    KAFKA_BROKERS: "",
    ...options.env,
    ...(options.storeEnv ?? ((_, k) => k.clientEnv))(i, kv),
    ...options.instanceEnv?.(i),
  });
  const cluster: Cluster = {
    kv,
    apps: [],
    worker: null,
    async restartApp(i) {
      return cluster.apps[i] = await startAppProcess({ env: appEnv(i) });
    },
    async restartWorker() {
      return cluster.worker = await startAppProcess({ entry: WORKER_ENTRY, env, readyLine: WORKER_READY });
    },
    async close() {
      const all = [...cluster.apps, ...(cluster.worker ? [cluster.worker] : [])];
      await Promise.all(all.map((p) => p.stop("SIGTERM")));
      if (!options.kv) await kv.close();
    },
  };
  try {
    const started = await Promise.allSettled(
      Array.from({ length: options.instances }, (_, i) => startAppProcess({ env: appEnv(i) })),
    );
    for (const s of started) if (s.status === "fulfilled") cluster.apps.push(s.value);
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    if (options.worker) {
      if (!existsSync(new URL(`../../${WORKER_ENTRY}`, import.meta.url))) {
        throw new Error(`the worker role (${WORKER_ENTRY}, deno task worker) does not exist`);
      }
      await cluster.restartWorker();
    }
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}

/** Runs `tasks` with at most `limit` in flight; the results in task order. */
export async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]();
    }
  }));
  return out;
}
