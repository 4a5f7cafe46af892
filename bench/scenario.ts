/**
 * One measured scenario: the load-generator process runs a job against a server in this process,
 * while this process reads its own CPU time and the booking lanes' counters; hold scenarios then
 * recount their sessions.
 */
import type { BookingEngine } from "../lib/booking/engine.ts";
import type { Session } from "../lib/booking/model.ts";
import { startClient } from "./client.ts";
import { type Drain, outboxBacklog, ownCpuSeconds, waitForIdle } from "./idle.ts";
import type { ClientJob, ClientReport } from "./load_client.ts";
import { validatePlan } from "./plan.ts";
import { recountSessions } from "./recount.ts";
import { perSecond, round } from "./stats.ts";

/** A client report plus this (server) process's CPU use over the same window. */
export interface Measured {
  report: ClientReport;
  /** CPU this process used during the run, as % of one core (2 cores: up to 200). */
  serverCpuPct: number;
}

/** Runs a job in the load-generator process; `cpuSeconds` reads the server's CPU (default: this process). */
export async function measure(job: ClientJob, cpuSeconds: () => number = ownCpuSeconds): Promise<Measured> {
  validatePlan(job.plan);
  const client = await startClient(job);
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  try {
    const report = await client.go();
    const cpu = cpuSeconds() - cpu0;
    const wall = performance.now() - t0;
    return { report, serverCpuPct: Math.round((cpu * 1000 / wall) * 100) };
  } catch (err) {
    client.kill();
    throw err;
  }
}

/** The app a hold scenario loads: its KV (for recounts), and in this process its engine. */
export interface HoldTarget {
  kv: Deno.Kv;
  /** The engine when the app runs in this process (its lane counters are reported). */
  engine?: BookingEngine;
  /** CPU seconds of the app process(es) (default: this process). */
  cpuSeconds?: () => number;
}

/** What to count besides the load itself. */
export interface HoldScenarioOptions {
  /** Wait until the background is idle after the load and report the sustained rate. */
  drain?: boolean;
  /** Sample the outbox backlog this often during the load. */
  sampleEveryMs?: number;
}

/** Outbox backlog sampled during a run (entries pending, both consumers together). */
export interface BacklogSamples {
  everyMs: number;
  /** [ms since start, pending entries]. */
  samples: [number, number][];
  first: number;
  last: number;
  max: number;
}

/** The rate counted until the background was idle again, and what the drain cost. */
export interface Sustained extends Drain {
  /** Holds placed per second over the load plus the drain. */
  holdsPerSec: number;
}

/** What a hold scenario reports. */
export interface HoldScenario {
  /** Holds placed (201) per second. */
  opsPerSec: number;
  /** Responses of any status per second. */
  reqPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  durationMs: number;
  requests: number;
  /** Requests without a response (network errors). */
  failed: number;
  statuses: Record<string, number>;
  errorCodes: Record<string, number>;
  /** The plan ran out of learners before the time was up (the rate is still over the time run). */
  exhausted: boolean;
  /** Seats taken beyond capacity, by recount of the records (must be 0). */
  oversold: number;
  /** 201s the clients saw beyond the sessions' total capacity (must be 0). */
  oversoldBy201: number;
  /** The recount agrees with the 201s (every hold answered 201 exists, and no other). */
  recountMatches201: boolean;
  sessions: number;
  capacity: number;
  seatsTaken: number;
  /** Lane commits during the run, holds they carried, retried conflicts. */
  lanes: { commits: number; ops: number; conflicts: number; opsPerCommit: number };
  cpu: { serverPct: number; clientPct: number };
  /** Responses with a 5xx status (must be 0). */
  errors5xx: number;
  sustained?: Sustained;
  backlog?: BacklogSamples;
}

/** Runs a hold-placing job against the app and checks its sessions afterwards. */
export async function holdScenario(
  app: HoldTarget,
  job: ClientJob,
  sessions: Session[],
  options: HoldScenarioOptions = {},
): Promise<HoldScenario> {
  const cpuSeconds = app.cpuSeconds ?? ownCpuSeconds;
  const zero = { commits: 0, ops: 0, conflicts: 0 };
  const before = { ...(app.engine?.lanes.stats ?? zero) };
  let sampling: Promise<void> | null = null;
  let stopSampling = false;
  const samples: [number, number][] = [];
  if (options.sampleEveryMs) {
    const t0 = performance.now();
    sampling = (async () => {
      while (!stopSampling) {
        const b = await outboxBacklog(app.kv);
        samples.push([Math.round(performance.now() - t0), Object.values(b).reduce((a, x) => a + x, 0)]);
        await new Promise((r) => setTimeout(r, options.sampleEveryMs));
      }
    })();
  }
  const { report, serverCpuPct } = await measure(job, cpuSeconds).finally(() => stopSampling = true);
  await sampling;
  const drain = options.drain ? await waitForIdle(app.kv, cpuSeconds) : null;
  const after = app.engine?.lanes.stats ?? zero;
  const lanes = {
    commits: after.commits - before.commits,
    ops: after.ops - before.ops,
    conflicts: after.conflicts - before.conflicts,
    opsPerCommit: 0,
  };
  lanes.opsPerCommit = lanes.commits ? round(lanes.ops / lanes.commits, 1) : 0;
  const recount = await recountSessions(app.kv, sessions);
  const created = report.statuses["201"] ?? 0;
  return {
    opsPerSec: perSecond(created, report.elapsedMs),
    reqPerSec: report.reqPerSec,
    p50Ms: report.p50Ms,
    p90Ms: report.p90Ms,
    p99Ms: report.p99Ms,
    maxMs: report.maxMs,
    meanMs: report.meanMs,
    durationMs: report.elapsedMs,
    requests: report.completed,
    failed: report.failed,
    statuses: report.statuses,
    errorCodes: report.errorCodes,
    exhausted: report.exhausted,
    oversold: recount.oversold,
    oversoldBy201: Math.max(0, created - recount.capacity),
    recountMatches201: recount.taken === created,
    sessions: recount.sessions,
    capacity: recount.capacity,
    seatsTaken: recount.taken,
    lanes,
    cpu: { serverPct: serverCpuPct, clientPct: report.clientCpuPct },
    errors5xx: Object.entries(report.statuses).reduce((n, [s, c]) => n + (Number(s) >= 500 ? c : 0), 0),
    ...(drain ? { sustained: { holdsPerSec: perSecond(created, report.elapsedMs + drain.drainMs), ...drain } } : {}),
    ...(samples.length
      ? {
        backlog: {
          everyMs: options.sampleEveryMs!,
          samples,
          first: samples[0][1],
          last: samples.at(-1)![1],
          max: Math.max(...samples.map((x) => x[1])),
        },
      }
      : {}),
  };
}
