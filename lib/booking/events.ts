/**
 * Domain events: the transactional outbox. Every state change stores its events at
 * `["events", key]` and enqueues a wake-up `{kind: "events", items: [key, …]}` (one per commit) in
 * the SAME atomic op (via a Draft),
 * so an event exists exactly when its change committed.
 */
import { monotonicFactory } from "ulid";
import type { Draft } from "./draft.ts";
import { K } from "./keys.ts";

/** Kind of the queue message that announces a commit's events (`items` = event keys). */
export const EVENTS_MESSAGE = "events";

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
] as const;

export type EventType = typeof EVENT_TYPES[number];
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

/** A stored domain event. `id` is a UUID (the xAPI statement id); `key` orders storage. */
export interface DomainEvent {
  id: string;
  key: string;
  type: EventType;
  schemaVersion: 1;
  occurredAt: string;
  origin: Origin;
  correlationId: string;
  actor: { userId: string | null };
  sessionId: string;
  learnerId: string | null;
  reason: string | null;
  data: Record<string, unknown>;
}

const nextKey = monotonicFactory();

/** Adds an event to the draft: stored for replay and enqueued for delivery in the same commit. */
export function addEvent(
  draft: Draft,
  actor: Actor,
  type: EventType,
  sessionId: string,
  learnerId: string | null,
  data: Record<string, unknown>,
  now: Date,
): DomainEvent {
  const event: DomainEvent = {
    id: crypto.randomUUID(),
    // Wall-clock time, not the engine's (injectable) business clock: the key approximates commit
    // order for listEvents, which trusts it to within COMMIT_LAG_MS of the commit.
    key: nextKey(Date.now()),
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
  // The key is minted again when the commit is sent, so that it trails the commit by the commit
  // call alone (listEvents relies on that lag being small; see COMMIT_LAG_MS).
  draft.setAtCommit(() => {
    event.key = nextKey(Date.now());
    return K.event(event.key);
  }, event);
  draft.enqueueMerged(EVENTS_MESSAGE, () => event.key);
  return event;
}

/** An event with the commit position that orders it. */
export interface CommittedEvent extends DomainEvent {
  versionstamp: string;
}

/**
 * How far a commit may lag the minting of its events' keys. Keys are minted from the wall clock
 * as the atomic op is sent (each attempt mints new ones), so only the commit call itself lies in
 * between: milliseconds. 2 s is a wide margin; `listEvents` rescans this much before its cursor,
 * so a smaller margin is cheaper for the relay at high event rates.
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

function ulidFloor(ms: number): string {
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
 * Replays events in commit order. Commit order is the KV versionstamp of each (immutable) event
 * entry; events of one commit follow their key order. `after` is a cursor returned earlier.
 * Keys (ULIDs) are near commit order, off by at most COMMIT_LAG_MS, so the scan starts that much
 * before the cursor and runs that much past the page before sorting exactly.
 */
export async function listEvents(
  kv: Deno.Kv,
  options: { after?: string | null; limit?: number } = {},
): Promise<{ events: CommittedEvent[]; nextCursor: string | null }> {
  const limit = options.limit ?? 100;
  const after = options.after ? decodeCursor(options.after) : null;
  const start = after ? K.event(ulidFloor(ulidTime(after.key) - COMMIT_LAG_MS)) : K.eventsPrefix();
  const found: CommittedEvent[] = [];
  let stopAfterMs = Infinity;
  for await (const e of kv.list<DomainEvent>({ start, end: [...K.eventsPrefix(), "\uffff"] })) {
    const keyMs = ulidTime(e.value.key);
    if (keyMs > stopAfterMs) break;
    const ev = { ...e.value, versionstamp: e.versionstamp };
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
