/**
 * One measured scenario: the load-generator process runs a job against a server in this process,
 * while this process reads its own CPU time and the booking lanes' counters; hold scenarios then
 * recount their sessions.
 */
import process from "node:process";
import type { Session } from "../lib/booking/model.ts";
import { startClient } from "./client.ts";
import type { ClientJob, ClientReport } from "./load_client.ts";
import { validatePlan } from "./plan.ts";
import { recountSessions } from "./recount.ts";
import type { BenchApp } from "./servers.ts";
import { perSecond, round } from "./stats.ts";

/** A client report plus this (server) process's CPU use over the same window. */
export interface Measured {
  report: ClientReport;
  /** CPU this process used during the run, as % of one core (2 cores: up to 200). */
  serverCpuPct: number;
}

/** Runs a job in the load-generator process. */
export async function measure(job: ClientJob): Promise<Measured> {
  validatePlan(job.plan);
  const client = await startClient(job);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    const report = await client.go();
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - t0;
    return { report, serverCpuPct: Math.round(((cpu.user + cpu.system) / 1000 / wall) * 100) };
  } catch (err) {
    client.kill();
    throw err;
  }
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
}

/** Runs a hold-placing job against the app and checks its sessions afterwards. */
export async function holdScenario(app: BenchApp, job: ClientJob, sessions: Session[]): Promise<HoldScenario> {
  const before = { ...app.engine.lanes.stats };
  const { report, serverCpuPct } = await measure(job);
  const after = app.engine.lanes.stats;
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
  };
}
