/**
 * What the bench counts after the load: the background work a run leaves behind. A run's
 * sustained rate is measured until the process is idle again: both outboxes (Kafka relay, Cal.com
 * sync) empty and no hold due for the sweep. Also the outbox backlog for sampling during a run,
 * and a process's CPU time from /proc (Linux), for app processes that are not this one.
 */
import { OUTBOX_CONSUMERS } from "../lib/booking/events.ts";
import { keys } from "../lib/store/keys.ts";

/** Pending outbox entries per consumer (each counted up to `cap`). */
export async function outboxBacklog(kv: Deno.Kv, cap = 200_000): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const consumer of OUTBOX_CONSUMERS) {
    let n = 0;
    for await (const _ of kv.list({ prefix: keys.outboxPrefix(consumer) }, { batchSize: 1000, limit: cap })) n++;
    out[consumer] = n;
  }
  return out;
}

/** True when no consumer has a pending entry and no hold is due (expired but not swept yet). */
export async function backgroundIdle(kv: Deno.Kv, nowMs = Date.now()): Promise<boolean> {
  for (const consumer of OUTBOX_CONSUMERS) {
    for await (const _ of kv.list({ prefix: keys.outboxPrefix(consumer) }, { limit: 1 })) return false;
  }
  for await (
    const _ of kv.list({ prefix: keys.holdsByExpiryPrefix(), end: [...keys.holdsByExpiryPrefix(), nowMs] }, {
      limit: 1,
    })
  ) {
    return false;
  }
  return true;
}

/** How the background drained after a load stopped. */
export interface Drain {
  /** From the load's end until the background was idle (or the timeout). */
  drainMs: number;
  /** False when `timeoutMs` passed first. */
  idle: boolean;
  /** Outbox entries pending when the load stopped. */
  backlogAtStop: Record<string, number>;
  /** CPU seconds the app process(es) used while draining (user + system). */
  cpuSecondsAfterLoad: number;
}

/**
 * Polls every `pollMs` until the background is idle. `cpuSeconds` reads the app's CPU time (this
 * process: {@link ownCpuSeconds}; another one: {@link procCpuSeconds}).
 */
export async function waitForIdle(
  kv: Deno.Kv,
  cpuSeconds: () => number,
  options: { timeoutMs?: number; pollMs?: number } = {},
): Promise<Drain> {
  const t0 = performance.now();
  const cpu0 = cpuSeconds();
  const backlogAtStop = await outboxBacklog(kv);
  const deadline = t0 + (options.timeoutMs ?? 300_000);
  let idle = false;
  while (!(idle = await backgroundIdle(kv)) && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
  }
  return {
    drainMs: Math.round(performance.now() - t0),
    idle,
    backlogAtStop,
    cpuSecondsAfterLoad: Math.round((cpuSeconds() - cpu0) * 100) / 100,
  };
}

/** CPU seconds (user + system) this process has used. */
export function ownCpuSeconds(): number {
  return procCpuSeconds(Deno.pid);
}

/** CPU seconds (utime + stime from /proc/<pid>/stat) of a process; 0 where /proc is missing. */
export function procCpuSeconds(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces) in parentheses: utime is the 14th field.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(rest[11]) + Number(rest[12]);
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

/** Resident memory of a process in MB (VmRSS from /proc/<pid>/status); 0 where /proc is missing. */
export function procRssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}
