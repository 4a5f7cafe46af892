/**
 * Domain events. Every state change writes, in the SAME atomic op (via a Draft), each event:
 * - at `["events", key]`: the permanent history (replay, `GET /api/v1/events`), ordered by a key
 *   minted from the writer's wall clock: approximate, see {@link listEvents};
 * - at `["outbox", consumer, sessionId, key]` once per consumer that wants it (Kafka relay: every
 *   event; Cal.com sync: {@link CALCOM_EVENT_TYPES}; reports): the pending entry that consumer deletes
 *   after delivery (lib/booking/outbox.ts). Delivery reads
 *   only these, so it depends on no clock and no cursor.
 * So an event exists, and is pending for every consumer, exactly when its change committed.
 * No queue message is enqueued; consumers poll, and commits of this process wake them at once.
 */
import { monotonicFactory } from "ulid";
import { keys } from "../store/keys.ts";
import type { Draft } from "./draft.ts";

/** Who reads the outbox: each has its own pending entries (`reports`: the report aggregates, lib/reports/; `notify`: notifications, lib/notify/). */
export const OUTBOX_CONSUMERS = ["kafka", "calcom", "reports", "notify"] as const;
export type OutboxConsumer = typeof OUTBOX_CONSUMERS[number];

/**
 * The event types the Cal.com sync acts on (lib/calcom/outbound_consumer.ts): bookings and
 * session changes. Holds, waitlist moves and attendance never reach Cal.com, so they get no
 * pending Cal.com entry: on the hot path of a hold that is one write less, and one read and
 * delete less for the sync.
 */
export const CALCOM_EVENT_TYPES: ReadonlySet<string> = new Set([
  "booking.confirmed",
  "booking.cancelled",
  "booking.rescheduled",
  "session.scheduled",
  "session.updated",
  "session.cancelled",
]);

/**
 * The event types the report aggregates fold (lib/reports/ledger.ts): session changes, holds,
 * bookings, waitlist joins and offers, attendance and completions.
 */
export const REPORT_EVENT_TYPES: ReadonlySet<string> = new Set([
  "session.scheduled",
  "session.updated",
  "session.cancelled",
  "hold.placed",
  "hold.expired",
  "hold.released",
  "booking.confirmed",
  "booking.cancelled",
  "booking.rescheduled",
  "waitlist.joined",
  "waitlist.offered",
  "attendance.recorded",
  "course.completed",
]);

/**
 * The event types notifications are made from (lib/notify/produce.ts): bookings, waitlist offers,
 * session moves, attendance (a manager's no-show notice), and the events of recordings and
 * compliance named in lib/notify/kinds.ts (EXTERNAL_EVENT_KINDS).
 */
export const NOTIFY_EVENT_TYPES: ReadonlySet<string> = new Set([
  "booking.confirmed",
  "booking.rescheduled",
  "booking.cancelled",
  "waitlist.offered",
  "session.updated",
  "attendance.recorded",
  "recording.available",
  "assignment.created",
  "assignment.due_soon",
  "assignment.overdue",
  "certification.expiring",
]);

/** Every event type the booking engine emits. */
export const EVENT_TYPES = [
  "session.scheduled",
  "session.updated",
  "session.cancelled",
  "hold.placed",
  "hold.released",
  "hold.expired",
  "booking.confirmed",
  "booking.cancelled",
  "booking.rescheduled",
  "waitlist.joined",
  "waitlist.offered",
  "waitlist.left",
  "attendance.recorded",
  "alternatives.offered",
  "course.completed",
] as const;

/** Engine event types (each one an xAPI statement). */
export type EventType = typeof EVENT_TYPES[number];

/**
 * Events of the privacy tooling (lib/privacy/erase.ts), not about a session: `user.erased` goes
 * to its own Kafka topic as plain JSON (user id and erasure time, no personal data).
 */
export const PRIVACY_EVENT_TYPES = ["user.erased"] as const;

/** The outbox "session" of privacy events (every outbox entry belongs to one stream). */
export const PRIVACY_STREAM = "_privacy";

/**
 * Events that are news for people, not learning: they make notifications (lib/notify/) and never
 * reach Kafka. `recording.available` `{recordingUrl}`: a session's recording was added.
 */
export const NOTICE_EVENT_TYPES = ["recording.available"] as const;

/** Every stored event type: the engine's, the privacy tooling's and the notices. */
export type AnyEventType = EventType | typeof PRIVACY_EVENT_TYPES[number] | typeof NOTICE_EVENT_TYPES[number];

/** Which event types each consumer gets a pending entry for (Kafka: every learning and privacy event). */
export const CONSUMER_EVENT_TYPES: Readonly<Record<OutboxConsumer, ReadonlySet<string>>> = {
  kafka: new Set<string>([...EVENT_TYPES, ...PRIVACY_EVENT_TYPES]),
  calcom: CALCOM_EVENT_TYPES,
  reports: REPORT_EVENT_TYPES,
  notify: NOTIFY_EVENT_TYPES,
};

const consumersByType = new Map<string, readonly OutboxConsumer[]>();

/** The consumers that get a pending entry for an event of `type`. */
export function outboxConsumersFor(type: string): readonly OutboxConsumer[] {
  let list = consumersByType.get(type);
  if (!list) {
    list = OUTBOX_CONSUMERS.filter((c) => CONSUMER_EVENT_TYPES[c].has(type));
    consumersByType.set(type, list);
  }
  return list;
}
export type Origin = "web" | "api" | "admin" | "calcom" | "system";

/** Who caused a change, from where, and why: carried into events and audit trails. */
export interface Actor {
  userId: string | null;
  /** Roles of the acting user; admins and instructors may act for others. */
  roles?: readonly string[];
  origin: Origin;
  correlationId: string;
  reason?: string | null;
}

/**
 * A stored domain event. `id` is a UUID (the xAPI statement id); `key` orders storage.
 * `commitVersionstamp` is set only on events rewritten later (pseudonymised by lib/privacy/): the
 * versionstamp of their original commit, which keeps their place in history order.
 */
export interface DomainEvent {
  id: string;
  key: string;
  type: AnyEventType;
  schemaVersion: 1;
  occurredAt: string;
  origin: Origin;
  correlationId: string;
  actor: { userId: string | null };
  sessionId: string;
  learnerId: string | null;
  reason: string | null;
  data: Record<string, unknown>;
  commitVersionstamp?: string;
}

/** How a store handle mints event keys: its wall clock and a monotonic ULID factory of its own. */
interface KeyMinter {
  mint(): string;
}

function minterFor(clock: () => number): KeyMinter {
  const next = monotonicFactory();
  return { mint: () => next(clock()) };
}

const defaultMinter = minterFor(Date.now);
const minters = new WeakMap<Deno.Kv, KeyMinter>();

/**
 * Sets the wall clock that events written through `kv` (this store handle) get their keys from.
 * Tests skew it to act as instances with wrong clocks; production uses `Date.now`.
 */
export function useEventClock(kv: Deno.Kv, clock: () => number): void {
  minters.set(kv, minterFor(clock));
}

const committedListeners = new Map<() => void, OutboxConsumer | null>();

/**
 * Calls `listener` after every commit of this process that wrote events (a low-latency wake-up for
 * consumers running here; other processes find the events by polling); with `consumer`, only after
 * commits that left that consumer a pending entry (a hot run of holds does not wake the Cal.com
 * sync or the notifier, which get no entry for a hold). Returns an unsubscribe.
 */
export function onEventsCommitted(listener: () => void, consumer?: OutboxConsumer): () => void {
  committedListeners.set(listener, consumer ?? null);
  return () => committedListeners.delete(listener);
}

function notifyCommitted(consumers: readonly OutboxConsumer[]): void {
  for (const [listener, consumer] of committedListeners) {
    if (consumer === null || consumers.includes(consumer)) listener();
  }
}

/** Adds an event to the draft: history and one pending entry per consumer, in the same commit. */
export function addEvent(
  draft: Draft,
  actor: Actor,
  type: AnyEventType,
  sessionId: string,
  learnerId: string | null,
  data: Record<string, unknown>,
  now: Date,
): DomainEvent {
  const event: DomainEvent = {
    id: crypto.randomUUID(),
    // Wall-clock time, not the engine's (injectable) business clock; minted again per commit attempt.
    key: "",
    type,
    schemaVersion: 1,
    occurredAt: now.toISOString(),
    origin: actor.origin,
    correlationId: actor.correlationId,
    actor: { userId: actor.userId },
    sessionId,
    learnerId,
    reason: actor.reason ?? null,
    data,
  };
  // The key is minted when the commit is sent, so that it trails the commit by the commit call
  // alone (history order; see COMMIT_LAG_MS). Delivery never relies on it.
  const minter = minters.get(draft.kv) ?? defaultMinter;
  event.key = minter.mint();
  draft.beforeCommit(() => event.key = minter.mint());
  draft.setAtCommit(() => keys.event(event.key), event);
  // Per-learner index of the history (privacy export and erasure; lib/privacy/). The event key is
  // the index key's last part (the value would hold the first attempt's key, not the final one).
  if (learnerId) draft.setAtCommit(() => keys.eventByLearner(learnerId, event.key), null);
  // Per-session index (the admin audit trail by session and course).
  if (sessionId !== PRIVACY_STREAM) draft.setAtCommit(() => keys.eventBySession(sessionId, event.key), null);
  const consumers = outboxConsumersFor(type);
  for (const consumer of consumers) {
    draft.setAtCommit(() => keys.outboxEntry(consumer, sessionId, event.key), event);
  }
  draft.afterCommit(() => notifyCommitted(consumers));
  return event;
}

/** An event with the commit position that orders it. */
export interface CommittedEvent extends DomainEvent {
  versionstamp: string;
}

/**
 * How far a commit may usually lag the minting of its events' keys. Keys are minted from the
 * writer's wall clock as the atomic op is sent (each attempt mints new ones), so normally only the
 * commit call lies in between: milliseconds. `listEvents` rescans this much before its cursor.
 * This is a HISTORY bound only: a commit that lands later (a remote KV retrying, a GC pause) or an
 * instance whose clock is skewed by more can be passed over by a history reader paging at that
 * moment. Delivery (Kafka, Cal.com) reads the outbox instead and never misses such an event.
 */
export const COMMIT_LAG_MS = 2_000;

function encodeCursor(versionstamp: string, key: string): string {
  return btoa(`${versionstamp}.${key}`).replaceAll("=", "");
}

function decodeCursor(cursor: string): { versionstamp: string; key: string } | null {
  try {
    const [versionstamp, key] = atob(cursor).split(".");
    if (!/^[0-9a-f]{20}$/.test(versionstamp) || !/^[0-9A-HJKMNP-TV-Z]{26}$/.test(key)) return null;
    return { versionstamp, key };
  } catch {
    return null;
  }
}

/**
 * A cursor placed just before the events minted at `ms` (within COMMIT_LAG_MS): for replaying
 * history from a point in time. Filter by `occurredAt` for an exact start.
 */
export function cursorAtTime(ms: number): string {
  return encodeCursor("0".repeat(20), ulidFloor(ms));
}

/** The cursor just after this event (what `listEvents` returns when it is a page's last). */
export function cursorOf(event: { versionstamp: string; key: string }): string {
  return encodeCursor(event.versionstamp, event.key);
}

/** Whether a string is a cursor that `listEvents` accepts. */
export function isEventCursor(cursor: string): boolean {
  return decodeCursor(cursor) !== null;
}

/** Milliseconds encoded in a ULID. */
function ulidTime(key: string): number {
  const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  let t = 0;
  for (const ch of key.slice(0, 10)) t = t * 32 + alphabet.indexOf(ch);
  return t;
}

/** The smallest ULID of the millisecond `ms` (a list bound for keys minted from that time on). */
export function ulidFloor(ms: number): string {
  const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  let s = "";
  let t = Math.max(0, ms);
  for (let i = 0; i < 10; i++) {
    s = alphabet[t % 32] + s;
    t = Math.floor(t / 32);
  }
  return s + "0".repeat(16);
}

/**
 * Replays the event history in commit order. Commit order is the KV versionstamp of each
 * (immutable) event entry; events of one commit follow their key order. `after` is a cursor
 * returned earlier. Keys (ULIDs) are near commit order, off by at most COMMIT_LAG_MS when clocks
 * agree and commits land at once, so the scan starts that much before the cursor and runs that
 * much past the page before sorting exactly. Beyond that bound (late commits, skewed instances) a
 * reader paging live may pass an event over: use it for history and replay, not for delivery
 * (lib/booking/outbox.ts delivers).
 */
export async function listEvents(
  kv: Deno.Kv,
  options: { after?: string | null; limit?: number } = {},
): Promise<{ events: CommittedEvent[]; nextCursor: string | null }> {
  const limit = options.limit ?? 100;
  const after = options.after ? decodeCursor(options.after) : null;
  const start = after ? keys.event(ulidFloor(ulidTime(after.key) - COMMIT_LAG_MS)) : keys.eventsPrefix();
  const found: CommittedEvent[] = [];
  let stopAfterMs = Infinity;
  for await (const e of kv.list<DomainEvent>({ start, end: [...keys.eventsPrefix(), "\uffff"] })) {
    const keyMs = ulidTime(e.value.key);
    if (keyMs > stopAfterMs) break;
    const { commitVersionstamp, ...stored } = e.value;
    const ev = { ...stored, versionstamp: commitVersionstamp ?? e.versionstamp };
    if (after && compare(ev, after) <= 0) continue;
    found.push(ev);
    if (found.length === limit) stopAfterMs = keyMs + COMMIT_LAG_MS;
  }
  found.sort(compare);
  const page = found.slice(0, limit);
  const last = page.at(-1);
  return { events: page, nextCursor: last ? encodeCursor(last.versionstamp, last.key) : options.after ?? null };
}

function compare(a: { versionstamp: string; key: string }, b: { versionstamp: string; key: string }): number {
  if (a.versionstamp !== b.versionstamp) return a.versionstamp < b.versionstamp ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
