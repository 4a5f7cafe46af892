/**
 * The outbox: what each consumer (Kafka relay, Cal.com sync) still has to deliver. `addEvent`
 * writes one entry per consumer at `["outbox", consumer, sessionId, eventKey]` in the event's own
 * commit; the consumer deletes it after delivery. Nothing here trusts a clock or a cursor:
 *
 * - a commit that lands late (a remote KV retrying, a GC pause) or comes from an instance with a
 *   skewed clock simply shows up in a later read: pending entries only ever leave by delivery;
 * - per-session commit order: a session's entries are delivered sorted by versionstamp, and only
 *   after ALL of its visible entries were read in one snapshot. An entry not visible yet commits
 *   later, so its versionstamp is higher than every one delivered before it.
 *
 * Reading: one list read of up to `limit` entries (`batchSize` = `limit`, so one snapshot). Every
 * session inside it is complete, except perhaps the last one of a full page, which is read again
 * on its own (twice, until two reads agree, when it needs more than one batch). A page resumes
 * after the last session of the previous one, so a busy session cannot starve the others.
 */
import { keys } from "../store/keys.ts";
import type { CommittedEvent, DomainEvent, OutboxConsumer } from "./events.ts";

/** Adds the consumer's lease check to an atomic op (see lib/worker/lease.ts). */
export type AtomicGuard = (op: Deno.AtomicOperation) => Deno.AtomicOperation;

/** A pending event with its entry's versionstamp (commit order). */
export interface PendingEvent extends CommittedEvent {
  /** The entry to delete once delivered. */
  outboxKey: Deno.KvKey;
}

/** One page of pending events, in commit order (versionstamp, then key), whole sessions only. */
export interface OutboxPage {
  events: PendingEvent[];
  /** Where the next page starts (after this session id), or null to start over. */
  resumeAfter: string | null;
}

/** KV's largest list batch: one batch is one snapshot read. */
const MAX_BATCH = 1000;

function toPending(e: Deno.KvEntry<DomainEvent>): PendingEvent {
  // A pending entry pseudonymised by lib/privacy/ keeps its original commit position.
  const { commitVersionstamp, ...event } = e.value;
  return { ...event, versionstamp: commitVersionstamp ?? e.versionstamp, outboxKey: e.key };
}

function byCommit(a: PendingEvent, b: PendingEvent): number {
  if (a.versionstamp !== b.versionstamp) return a.versionstamp < b.versionstamp ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Every visible pending entry of one session, from a consistent read. */
async function readSession(kv: Deno.Kv, consumer: OutboxConsumer, sessionId: string): Promise<PendingEvent[]> {
  const prefix = keys.outboxSessionPrefix(consumer, sessionId);
  const read = async () => {
    const out: PendingEvent[] = [];
    for await (const e of kv.list<DomainEvent>({ prefix }, { batchSize: MAX_BATCH })) out.push(toPending(e));
    return out;
  };
  let first = await read();
  // One batch is one snapshot. Over several batches an entry could land between two of them, so
  // read until two reads agree: then nothing landed in the range during the first of them.
  while (first.length >= MAX_BATCH) {
    const second = await read();
    const same = second.length === first.length &&
      second.every((e, i) => e.versionstamp === first[i].versionstamp && e.key === first[i].key);
    if (same) break;
    first = second;
  }
  return first;
}

/**
 * Reads the next page of `consumer`'s pending events: whole sessions, at most about `limit`
 * events (a session larger than the page comes alone), sorted in commit order.
 */
export async function readOutbox(
  kv: Deno.Kv,
  consumer: OutboxConsumer,
  options: { limit?: number; resumeAfter?: string | null } = {},
): Promise<OutboxPage> {
  const limit = Math.min(options.limit ?? 500, MAX_BATCH);
  const prefix = keys.outboxPrefix(consumer);
  const selector: Deno.KvListSelector = options.resumeAfter
    // Just past every entry of that session (event keys are ULIDs, below "\uffff").
    ? { start: [...prefix, options.resumeAfter, "\uffff"], end: [...prefix, "\uffff"] }
    : { prefix };
  const entries: Deno.KvEntry<DomainEvent>[] = [];
  for await (const e of kv.list<DomainEvent>(selector, { limit, batchSize: limit })) entries.push(e);
  if (entries.length === 0 && options.resumeAfter) return await readOutbox(kv, consumer, { limit });
  const sessions = new Map<string, PendingEvent[]>();
  for (const e of entries) {
    const sessionId = String(e.key[2]);
    const list = sessions.get(sessionId) ?? [];
    list.push(toPending(e));
    sessions.set(sessionId, list);
  }
  let resumeAfter: string | null = null;
  if (entries.length === limit) {
    // The page may have cut the last session short: read it whole, or leave it to the next page.
    const last = String(entries.at(-1)!.key[2]);
    if (sessions.size > 1) sessions.delete(last);
    else sessions.set(last, await readSession(kv, consumer, last));
    resumeAfter = sessions.size ? [...sessions.keys()].at(-1)! : null;
  }
  const events = [...sessions.values()].flat().sort(byCommit);
  return { events, resumeAfter };
}

/**
 * Deletes delivered entries, guarded by the consumer's lease: a worker that lost its lease
 * mid-delivery cannot commit (its guard's check fails). Entries are written by their event's
 * commit (and rewritten only by the privacy tooling, checked against the entry, so a deleted entry
 * never comes back): a delete never needs to check them.
 * `extra` adds the consumer's own bookkeeping for each chunk (counters, dead letters: at most two
 * mutations per item plus a few). Returns false when the guard failed (the lease changed hands).
 */
export async function acknowledgeOutbox<T extends { outboxKey: Deno.KvKey }>(
  kv: Deno.Kv,
  delivered: readonly T[],
  guard: AtomicGuard,
  extra?: (op: Deno.AtomicOperation, chunk: readonly T[]) => void,
): Promise<boolean> {
  // 1 check + 300 deletes + bookkeeping: inside KV Connect's 10 checks and 1000 mutations.
  const CHUNK = 300;
  for (let i = 0; i < delivered.length; i += CHUNK) {
    const chunk = delivered.slice(i, i + CHUNK);
    const op = guard(kv.atomic());
    for (const e of chunk) op.delete(e.outboxKey);
    extra?.(op, chunk);
    if (!(await op.commit()).ok) return false;
  }
  return true;
}

/** Counts `consumer`'s pending entries (up to `cap`), grouped by `groupOf`. */
export async function countOutbox(
  kv: Deno.Kv,
  consumer: OutboxConsumer,
  groupOf: (event: DomainEvent) => string,
  cap = 50_000,
): Promise<{ counts: Map<string, number>; capped: boolean }> {
  const counts = new Map<string, number>();
  let n = 0;
  for await (const e of kv.list<DomainEvent>({ prefix: keys.outboxPrefix(consumer) }, { batchSize: MAX_BATCH })) {
    const g = groupOf(e.value);
    counts.set(g, (counts.get(g) ?? 0) + 1);
    if (++n >= cap) return { counts, capped: true };
  }
  return { counts, capped: false };
}
