/**
 * Test harness (not a test file itself): runs `main.ts` (or another entry, e.g. the worker) as a
 * real subprocess, reads the port it listens on, keeps its output for failure messages.
 * @module
 */

const ROOT = new URL("../", import.meta.url);

/** A running `deno run -A <entry>` process. */
export interface AppProcess {
  /** `http://127.0.0.1:PORT` once listening (empty for an entry that serves nothing). */
  url: string;
  child: Deno.ChildProcess;
  /** Everything printed so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolves with the exit status. */
  exited: Promise<Deno.CommandStatus>;
  /** Sends `signal` (default SIGTERM) and waits for the exit. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Options of {@link startAppProcess}. */
export interface AppProcessOptions {
  /** Entry file relative to the repository root (default `main.ts`). */
  entry?: string;
  env?: Record<string, string>;
  /** Wait for this line before resolving (default: the "Listening on" line, whose port is read). */
  readyLine?: RegExp;
}

const LISTENING = /Listening on http:\/\/[^:]+:(\d+)\//;

/** Starts the entry and resolves once it is ready; rejects (with its output) when it exits first. */
export async function startAppProcess(options: AppProcessOptions = {}): Promise<AppProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", options.entry ?? "main.ts"],
    cwd: ROOT,
    env: { NO_COLOR: "1", PORT: "0", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const ready = options.readyLine ?? LISTENING;
  let resolveReady: (m: RegExpExecArray) => void;
  const readyP = new Promise<RegExpExecArray>((r) => resolveReady = r);
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      const m = ready.exec(text);
      if (m) resolveReady(m);
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const exited = child.status.then(async (s) => {
    await pumps;
    return s;
  });
  const first = await Promise.race([readyP, exited.then((s) => s)]);
  if (!Array.isArray(first)) {
    throw new Error(`${options.entry ?? "main.ts"} exited (code ${first.code}) before it was ready:\n${text}`);
  }
  const port = LISTENING.exec(text)?.[1];
  return {
    url: port ? `http://127.0.0.1:${port}` : "",
    child,
    output: () => text,
    exited,
    async stop(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
      return await exited;
    },
  };
}
