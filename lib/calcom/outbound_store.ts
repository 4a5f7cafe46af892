/**
 * What the outbound sync keeps besides the shared sync store: one job per session whose Cal.com
 * event type must be brought up to date (created, changed, its seats moved, or deleted), under the
 * sync's meta keys (`["calcom_meta", "session_job:<sessionId>"]`). The worker's writes carry its
 * lease's fence (lib/worker/lease.ts).
 */
import { keys } from "../store/keys.ts";
import type { Fence } from "../worker/lease.ts";
import { commitFenced } from "./sync_store.ts";

const JOB_PREFIX = "session_job:";
/** The character after `:` bounds the range of job keys. */
const JOB_END = "session_job;";

const iso = (ms: number) => new Date(ms).toISOString();

/** A session whose Cal.com event type needs work. Done jobs are deleted; failed ones stay. */
export interface SessionSyncJob {
  sessionId: string;
  tenant: string;
  status: "pending" | "failed";
  attempts: number;
  lastAttemptAt: string | null;
  /** When the runner tries next (pending only). */
  nextAttemptAt: string | null;
  changedAt: string;
  errorCode: string | null;
  errorMessage: string | null;
  requiresManualReview: boolean;
  flaggedAt: string | null;
  /**
   * Progress of a time change: the Cal.com booking that holds the seats already moved to
   * `movedToStart` (a retry does not move them again).
   */
  movedToUid: string | null;
  movedToStart: string | null;
}

function jobKey(sessionId: string): Deno.KvKey {
  return keys.calcomMeta(`${JOB_PREFIX}${sessionId}`);
}

/** The review item id of a session whose event type could not be synced. */
export function sessionReviewId(sessionId: string): string {
  return `session-${sessionId}`;
}

/** A session's job, or null. */
export async function getSessionJob(kv: Deno.Kv, sessionId: string): Promise<SessionSyncJob | null> {
  return (await kv.get<SessionSyncJob>(jobKey(sessionId))).value;
}

/** Writes a job. */
export async function putSessionJob(kv: Deno.Kv, job: SessionSyncJob, fence?: Fence): Promise<void> {
  await commitFenced(kv.atomic().set(jobKey(job.sessionId), job), fence);
}

/** Removes a job (done). */
export async function deleteSessionJob(kv: Deno.Kv, sessionId: string, fence?: Fence): Promise<void> {
  await commitFenced(kv.atomic().delete(jobKey(sessionId)), fence);
}

/** Every job, pending and failed. */
export async function listSessionJobs(kv: Deno.Kv): Promise<SessionSyncJob[]> {
  const out: SessionSyncJob[] = [];
  for await (
    const e of kv.list<SessionSyncJob>({ start: keys.calcomMeta(JOB_PREFIX), end: keys.calcomMeta(JOB_END) })
  ) {
    out.push(e.value);
  }
  return out;
}

/** Pending jobs due at or before `nowMs`, soonest first. */
export async function listDueSessionJobs(kv: Deno.Kv, nowMs: number): Promise<SessionSyncJob[]> {
  return (await listSessionJobs(kv))
    .filter((j) => j.status === "pending" && j.nextAttemptAt !== null && Date.parse(j.nextAttemptAt) <= nowMs)
    .sort((a, b) => Date.parse(a.nextAttemptAt!) - Date.parse(b.nextAttemptAt!));
}

/** When the next pending job is due (ms), or null. */
export async function nextSessionJobDueAt(kv: Deno.Kv): Promise<number | null> {
  let min: number | null = null;
  for (const j of await listSessionJobs(kv)) {
    if (j.status !== "pending" || !j.nextAttemptAt) continue;
    const at = Date.parse(j.nextAttemptAt);
    if (min === null || at < min) min = at;
  }
  return min;
}

/** Queues (or re-queues) a session's job, due at once with fresh attempts; keeps a time change's progress. */
export async function queueSessionJob(
  kv: Deno.Kv,
  sessionId: string,
  tenant: string,
  nowMs: number,
  fence?: Fence,
): Promise<SessionSyncJob> {
  const prior = await getSessionJob(kv, sessionId);
  const job: SessionSyncJob = {
    sessionId,
    tenant,
    status: "pending",
    attempts: 0,
    lastAttemptAt: prior?.lastAttemptAt ?? null,
    nextAttemptAt: iso(nowMs),
    changedAt: prior?.status === "pending" ? prior.changedAt : iso(nowMs),
    errorCode: null,
    errorMessage: null,
    requiresManualReview: false,
    flaggedAt: null,
    movedToUid: prior?.movedToUid ?? null,
    movedToStart: prior?.movedToStart ?? null,
  };
  await putSessionJob(kv, job, fence);
  return job;
}

/** Retry from the review queue: a failed (or pending) session job runs again at once. Null when none. */
export async function requeueSessionSync(
  kv: Deno.Kv,
  sessionId: string,
  nowMs = Date.now(),
): Promise<SessionSyncJob | null> {
  const prior = await getSessionJob(kv, sessionId);
  if (!prior) return null;
  return await queueSessionJob(kv, sessionId, prior.tenant, nowMs);
}
