/**
 * The load generator as a process of its own, so its CPU is accounted apart from the server's
 * (on 2 cores the two still compete for CPU, as a client on the same host always does).
 *
 * Protocol on stdin/stdout, one JSON document per line: the parent writes a {@link ClientJob};
 * the client answers `{"ready":true}` once set up; the parent writes `{"go":true}` (so it can
 * read its own counters right at the start) and the client answers with a {@link ClientReport}.
 *
 * Run by `bench/client.ts`; not meant to be started by hand.
 * @module
 */
import process from "node:process";
import { runLoad } from "./load.ts";
import { type Plan, planRequest } from "./plan.ts";
import { type LatencySummary, perSecond, round, summarizeLatencies } from "./stats.ts";

/** What the client is asked to run. */
export interface ClientJob {
  baseUrl: string;
  /** More app instances, taken in turn (see LoadOptions). */
  alsoBaseUrls?: string[];
  /** Rate limit (see LoadOptions); closed loop when unset. */
  ratePerSec?: number;
  concurrency: number;
  durationMs?: number;
  maxRequests?: number;
  plan: Plan;
}

/** What the client measured. */
export interface ClientReport extends LatencySummary {
  completed: number;
  failed: number;
  elapsedMs: number;
  /** Responses (any status) per second. */
  reqPerSec: number;
  statuses: Record<string, number>;
  errorCodes: Record<string, number>;
  exhausted: boolean;
  firstError: string | null;
  /** CPU the client process used while it ran, as % of one core. */
  clientCpuPct: number;
}

/** Splits a byte stream into lines. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
  if (buf) yield buf;
}

/** Runs a job and reports (used by the process entry below, and directly by tests). */
export async function runJob(job: ClientJob): Promise<ClientReport> {
  const cpu0 = process.cpuUsage();
  const r = await runLoad({
    baseUrl: job.baseUrl,
    alsoBaseUrls: job.alsoBaseUrls,
    ratePerSec: job.ratePerSec,
    concurrency: job.concurrency,
    durationMs: job.durationMs,
    maxRequests: job.maxRequests,
    request: (i) => planRequest(job.plan, i),
  });
  const cpu = process.cpuUsage(cpu0);
  return {
    completed: r.completed,
    failed: r.failed,
    elapsedMs: round(r.elapsedMs, 1),
    reqPerSec: perSecond(r.completed, r.elapsedMs),
    ...summarizeLatencies(r.latenciesMs),
    statuses: r.statuses,
    errorCodes: r.errorCodes,
    exhausted: r.exhausted,
    firstError: r.firstError,
    clientCpuPct: Math.round(((cpu.user + cpu.system) / 1000 / r.elapsedMs) * 100),
  };
}

/**
 * The process side of the protocol: reads the job, answers ready, waits for go, runs `run` and
 * writes its report, then exits. Shared by every client process.
 */
export async function serveClientProtocol<J>(run: (job: J) => Promise<unknown>): Promise<never> {
  const input = lines(Deno.stdin.readable);
  const say = async (x: unknown) => {
    let bytes = new TextEncoder().encode(JSON.stringify(x) + "\n");
    while (bytes.length) bytes = bytes.subarray(await Deno.stdout.write(bytes));
  };
  const first = await input.next();
  if (first.done) Deno.exit(2);
  const job = JSON.parse(first.value) as J;
  await say({ ready: true });
  const go = await input.next();
  if (go.done) Deno.exit(2);
  await say(await run(job));
  Deno.exit(0);
}

if (import.meta.main) await serveClientProtocol(runJob);
