/**
 * Graceful shutdown on SIGTERM and SIGINT (what Deno Deploy, systemd, Docker and Ctrl-C send):
 * stop accepting connections and let in-flight requests finish (up to a grace period: live-seat
 * streams never finish on their own), stop the background loops (each finishes or abandons its
 * current send and releases its lease), close KV, then exit 0 (1 when a step failed or timed out).
 * @module
 */

/** A background loop to stop (relay, outbound sync, worker jobs). */
export interface Stoppable {
  name: string;
  stop(): Promise<void> | void;
}

/** What {@link shutdown} stops, and how long it waits. */
export interface ShutdownPlan {
  server?: { shutdown(): Promise<void> };
  loops?: Stoppable[];
  kv?: Deno.Kv;
  /** Longest wait for in-flight requests, then for the loops (default 10 s each). */
  graceMs?: number;
  log?: (line: string) => void;
}

function within<T>(promise: Promise<T>, ms: number): Promise<"done" | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), ms));
  return Promise.race([promise.then(() => "done" as const), timeout]).finally(() => clearTimeout(timer));
}

/** Runs the shutdown steps in order; resolves true when every step finished cleanly. */
export async function shutdown(plan: ShutdownPlan): Promise<boolean> {
  const log = plan.log ?? ((line: string) => console.log(line));
  const grace = plan.graceMs ?? 10_000;
  let clean = true;
  if (plan.server) {
    if (await within(plan.server.shutdown(), grace) === "timeout") {
      log(`shutdown: requests still open after ${grace} ms (live streams); closing them`);
    }
  }
  const results = await Promise.all((plan.loops ?? []).map(async (loop) => {
    try {
      const outcome = await within(Promise.resolve(loop.stop()), grace);
      if (outcome === "timeout") log(`shutdown: ${loop.name} did not stop within ${grace} ms`);
      return outcome === "done";
    } catch (err) {
      log(`shutdown: stopping ${loop.name} failed: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
  }));
  if (results.includes(false)) clean = false;
  try {
    plan.kv?.close();
  } catch {
    // Already closed.
  }
  return clean;
}

/**
 * On the first SIGTERM or SIGINT, runs {@link shutdown} and exits (0 when clean); a second signal
 * exits at once. Returns a function that removes the handlers (tests).
 */
export function exitOnSignals(plan: ShutdownPlan, exit: (code: number) => void = Deno.exit): () => void {
  let started = false;
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGTERM", "SIGINT"];
  const handler = () => {
    if (started) return exit(1);
    started = true;
    (plan.log ?? console.log)("shutdown: signal received; finishing in-flight requests");
    // Crons and queue listeners keep the process alive: exit explicitly once stopped.
    shutdown(plan).then((clean) => exit(clean ? 0 : 1), () => exit(1));
  };
  for (const s of signals) Deno.addSignalListener(s, handler);
  return () => {
    for (const s of signals) Deno.removeSignalListener(s, handler);
  };
}
