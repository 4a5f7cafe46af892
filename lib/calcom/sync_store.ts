/**
 * What the Cal.com sync remembers, in KV: which Cal.com event type mirrors each session, which
 * Cal.com booking and seat mirror each booking, every booking's sync state, and the manual-review
 * queue. The outbound runner, the webhook apply step, reconciliation and the admin API all read
 * and write through these functions, and only these.
 */
import type { Origin } from "../booking/events.ts";
import { newId } from "../domain/ids.ts";
import { getValueById } from "../store/batch.ts";
import { keys } from "../store/keys.ts";
import { type Fence, LeaseLostError } from "../worker/lease.ts";

/** Where a booking stands with Cal.com. */
export type SyncStatus = "pending" | "synced" | "failed" | "skipped";

/** The Cal.com event type of one session. */
export interface EventTypeLink {
  sessionId: string;
  tenant: string;
  eventTypeId: number;
  slug: string;
  /** What Cal.com was last told. */
  capacity: number;
  startsAt: string;
  status: "active" | "deleted";
  syncedAt: string;
}

/** The Cal.com seat of one of our bookings. */
export interface SeatLink {
  bookingId: string;
  sessionId: string;
  tenant: string;
  eventTypeId: number;
  /** Cal.com's booking uid (for seats: the parent booking shared by every seat of that start). */
  calBookingUid: string;
  /** The seat's own uid (null for a booking without seats). */
  seatUid: string | null;
  /** The attendee's email, lowercased: Cal.com's seat cancel names only this. */
  email: string;
  /** `active` while the seat exists on Cal.com. */
  status: "active" | "cancelled";
  /** `ours`: we created it on Cal.com; `calcom`: it came from Cal.com. */
  createdBy: "ours" | "calcom";
  linkedAt: string;
}

/** A booking's sync state (`GET /api/v1/bookings/{id}/sync-status`). */
export interface SyncState {
  bookingId: string;
  sessionId: string;
  tenant: string | null;
  status: SyncStatus;
  /** Origin of the change being mirrored (a `calcom` change is never sent back). */
  origin: Origin;
  attempts: number;
  lastAttemptAt: string | null;
  /** When the runner tries next (pending only). */
  nextAttemptAt: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  /** Last time Cal.com was seen to agree (after a send, a webhook or reconciliation). */
  verifiedAt: string | null;
  requiresManualReview: boolean;
  flaggedAt: string | null;
  /** When the change happened (the start of the sync latency). */
  changedAt: string;
  syncedAt: string | null;
  /** `syncedAt - changedAt` of the last successful send. */
  latencyMs: number | null;
  /** Why it was skipped, or what was done. */
  note: string | null;
  /**
   * Set just before a seat is POSTed: until then a send may be in flight, so no worker sends this
   * booking again before it passes, and the next attempt first looks for the seat on Cal.com.
   */
  sendingUntil?: string | null;
}

/** An entry of the manual-review queue. */
export interface ReviewItem {
  id: string;
  /** `sync_failed`: a booking we could not mirror; `calcom_conflict`: a Cal.com change we could not apply. */
  kind: "sync_failed" | "calcom_conflict";
  tenant: string | null;
  bookingId: string | null;
  sessionId: string | null;
  calBookingUid: string | null;
  email: string | null;
  code: string;
  message: string;
  flaggedAt: string;
  status: "open" | "resolved";
  resolvedAt: string | null;
  resolvedBy: string | null;
  comment: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

// ── event types ─────────────────────────────────────────────────────────

/** The event type mirroring `sessionId`, or null. */
export async function getEventTypeLink(kv: Deno.Kv, sessionId: string): Promise<EventTypeLink | null> {
  return (await kv.get<EventTypeLink>(keys.calcomEventType(sessionId))).value;
}

/** Stores a session's event type and its reverse index (tenant, event type → session). */
export async function saveEventTypeLink(kv: Deno.Kv, link: EventTypeLink, fence?: Fence): Promise<void> {
  await commitFenced(
    kv.atomic()
      .set(keys.calcomEventType(link.sessionId), link)
      .set(keys.calcomEventTypeSession(link.tenant, link.eventTypeId), link.sessionId)
      .set(keys.calcomEventTypeTenant(link.eventTypeId), link.tenant),
    fence,
  );
}

/** The session a tenant's event type mirrors, or null (not ours, or another tenant's). */
export async function findSessionByEventType(kv: Deno.Kv, tenant: string, eventTypeId: number): Promise<string | null> {
  return (await kv.get<string>(keys.calcomEventTypeSession(tenant, eventTypeId))).value;
}

/** Which tenant an event type is mapped to, if any (ownership checks). */
export async function tenantOfEventType(kv: Deno.Kv, eventTypeId: number): Promise<string | null> {
  return (await kv.get<string>(keys.calcomEventTypeTenant(eventTypeId))).value;
}

/** Every mapped session's event type. */
export async function listEventTypeLinks(kv: Deno.Kv): Promise<EventTypeLink[]> {
  const out: EventTypeLink[] = [];
  for await (const e of kv.list<EventTypeLink>({ prefix: keys.calcomEventTypesPrefix() })) out.push(e.value);
  return out;
}

// ── seats ───────────────────────────────────────────────────────────────

/** The Cal.com seat of `bookingId`, or null. */
export async function getSeatLink(kv: Deno.Kv, bookingId: string): Promise<SeatLink | null> {
  return (await kv.get<SeatLink>(keys.calcomSeat(bookingId))).value;
}

/** Stores a booking's seat link and its (tenant, Cal.com uid, email) index. */
export async function saveSeatLink(kv: Deno.Kv, link: SeatLink, fence?: Fence): Promise<void> {
  const normalised = { ...link, email: link.email.toLowerCase() };
  const prior = await getSeatLink(kv, link.bookingId);
  const op = kv.atomic();
  if (prior && (prior.calBookingUid !== normalised.calBookingUid || prior.email !== normalised.email)) {
    op.delete(keys.calcomSeatByUid(prior.tenant, prior.calBookingUid, prior.email));
  }
  op.set(keys.calcomSeat(link.bookingId), normalised)
    .set(keys.calcomSeatByUid(link.tenant, link.calBookingUid, normalised.email), link.bookingId);
  await commitFenced(op, fence);
}

/** Our booking mirrored by (tenant, Cal.com booking uid, attendee email), or null. */
export async function findBookingBySeat(
  kv: Deno.Kv,
  tenant: string,
  calBookingUid: string,
  email: string,
): Promise<string | null> {
  return (await kv.get<string>(keys.calcomSeatByUid(tenant, calBookingUid, email))).value;
}

// ── sync state ──────────────────────────────────────────────────────────

/** A booking's sync state, or null when it never needed one. */
export async function getSyncState(kv: Deno.Kv, bookingId: string): Promise<SyncState | null> {
  return (await kv.get<SyncState>(keys.calcomSync(bookingId))).value;
}

/** Every sync state. */
export async function listSyncStates(kv: Deno.Kv): Promise<SyncState[]> {
  const out: SyncState[] = [];
  for await (const e of kv.list<SyncState>({ prefix: keys.calcomSyncPrefix() })) out.push(e.value);
  return out;
}

/**
 * Writes a sync state, keeping the runner's due index in step: a pending state with a
 * `nextAttemptAt` is listed under `["calcom_sync_due", ms, bookingId]`, anything else is not.
 * Retries on contention; `update` gets the current state (or null) and returns the new one.
 */
export async function updateSyncState(
  kv: Deno.Kv,
  bookingId: string,
  update: (current: SyncState | null) => SyncState | null,
  fence?: Fence,
  /** More writes for the same atomic op (e.g. the review item a failure opens), so neither lands alone. */
  also?: (op: Deno.AtomicOperation, next: SyncState) => void,
): Promise<SyncState | null> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const entry = await kv.get<SyncState>(keys.calcomSync(bookingId));
    const next = update(entry.value);
    if (next === null) return entry.value;
    const op = kv.atomic().check(entry);
    fence?.guard(op);
    const prevDue = dueMs(entry.value);
    if (prevDue !== null) op.delete(keys.calcomSyncDue(prevDue, bookingId));
    const due = dueMs(next);
    if (due !== null) op.set(keys.calcomSyncDue(due, bookingId), null);
    op.set(keys.calcomSync(bookingId), next);
    also?.(op, next);
    if ((await op.commit()).ok) return next;
    await fence?.verify();
    await new Promise((r) => setTimeout(r, Math.random() * 10));
  }
  throw new Error(`sync state of ${bookingId} is too contended`);
}

function dueMs(state: SyncState | null): number | null {
  if (!state || state.status !== "pending" || !state.nextAttemptAt) return null;
  return Date.parse(state.nextAttemptAt);
}

/** A fresh pending state for a change made now (due at once). */
export function pendingState(
  prior: SyncState | null,
  init: { bookingId: string; sessionId: string; tenant: string | null; origin: Origin; nowMs: number },
): SyncState {
  return {
    bookingId: init.bookingId,
    sessionId: init.sessionId,
    tenant: init.tenant,
    status: "pending",
    origin: init.origin,
    attempts: 0,
    lastAttemptAt: prior?.lastAttemptAt ?? null,
    nextAttemptAt: iso(init.nowMs),
    errorCode: null,
    errorMessage: null,
    verifiedAt: prior?.verifiedAt ?? null,
    requiresManualReview: false,
    flaggedAt: null,
    changedAt: iso(init.nowMs),
    syncedAt: prior?.syncedAt ?? null,
    latencyMs: prior?.latencyMs ?? null,
    note: null,
    sendingUntil: prior?.sendingUntil ?? null,
  };
}

/** Booking ids whose next attempt is due at or before `nowMs`, soonest first. */
export async function listDueSyncs(kv: Deno.Kv, nowMs: number, limit = 100): Promise<string[]> {
  const out: string[] = [];
  const iter = kv.list<null>({
    start: keys.calcomSyncDuePrefix(),
    end: [...keys.calcomSyncDuePrefix(), nowMs + 1],
  }, { limit });
  for await (const e of iter) out.push(String(e.key[2]));
  return out;
}

/** When the next pending attempt is due (ms), or null when nothing is pending. */
export async function nextDueAt(kv: Deno.Kv): Promise<number | null> {
  for await (const e of kv.list<null>({ prefix: keys.calcomSyncDuePrefix() }, { limit: 1 })) {
    return Number(e.key[1]);
  }
  return null;
}

/** Figures for the admin page: counts per status, flagged, and sync latency percentiles. */
export interface SyncFigures {
  total: number;
  pending: number;
  synced: number;
  failed: number;
  skipped: number;
  flagged: number;
  openReviewItems: number;
  latencyMs: { p50: number | null; p95: number | null; max: number | null; samples: number };
}

/** Counts of synced, failed, skipped, pending and flagged bookings, and sync latency. */
export async function syncFigures(kv: Deno.Kv): Promise<SyncFigures> {
  const out: SyncFigures = {
    total: 0,
    pending: 0,
    synced: 0,
    failed: 0,
    skipped: 0,
    flagged: 0,
    openReviewItems: 0,
    latencyMs: { p50: null, p95: null, max: null, samples: 0 },
  };
  const latencies: number[] = [];
  for (const s of await listSyncStates(kv)) {
    out.total++;
    out[s.status]++;
    if (s.requiresManualReview) out.flagged++;
    if (s.latencyMs !== null) latencies.push(s.latencyMs);
  }
  out.openReviewItems = (await listReviewItems(kv, "open")).length;
  latencies.sort((a, b) => a - b);
  if (latencies.length > 0) {
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    out.latencyMs = { p50: at(0.5), p95: at(0.95), max: latencies[latencies.length - 1], samples: latencies.length };
  }
  return out;
}

// ── manual review ───────────────────────────────────────────────────────

/** The review item id of a booking that failed to sync (one open item per booking). */
export function syncReviewId(bookingId: string): string {
  return `booking-${bookingId}`;
}

/** Adds (or refreshes) an entry of the manual-review queue and returns it. */
export async function flagForReview(
  kv: Deno.Kv,
  input: Omit<ReviewItem, "id" | "status" | "resolvedAt" | "resolvedBy" | "comment" | "flaggedAt"> & {
    id?: string;
    flaggedAt?: string;
  },
  fence?: Fence,
): Promise<ReviewItem> {
  const item = openReviewItem(input);
  await commitFenced(kv.atomic().set(keys.calcomReview(item.id), item), fence);
  return item;
}

/** A new open review item (not stored; {@link flagForReview} stores one on its own). */
export function openReviewItem(
  input: Omit<ReviewItem, "id" | "status" | "resolvedAt" | "resolvedBy" | "comment" | "flaggedAt"> & {
    id?: string;
    flaggedAt?: string;
  },
): ReviewItem {
  return {
    ...input,
    id: input.id ?? newId(),
    flaggedAt: input.flaggedAt ?? new Date().toISOString(),
    status: "open",
    resolvedAt: null,
    resolvedBy: null,
    comment: null,
  };
}

/** An open review item marked resolved (not stored). */
export function resolvedReviewItem(
  item: ReviewItem,
  comment: string,
  resolvedBy: string | null,
  nowMs: number,
): ReviewItem {
  return { ...item, status: "resolved", resolvedAt: iso(nowMs), resolvedBy, comment };
}

/** One review item, or null. */
export async function getReviewItem(kv: Deno.Kv, id: string): Promise<ReviewItem | null> {
  return await getValueById<ReviewItem>(kv, id, keys.calcomReview);
}

/** Review items, newest first; `status` filters. */
export async function listReviewItems(kv: Deno.Kv, status?: ReviewItem["status"]): Promise<ReviewItem[]> {
  const out: ReviewItem[] = [];
  for await (const e of kv.list<ReviewItem>({ prefix: keys.calcomReviewPrefix() })) {
    if (!status || e.value.status === status) out.push(e.value);
  }
  return out.sort((a, b) => b.flaggedAt.localeCompare(a.flaggedAt));
}

/** Marks an item resolved with a comment (and clears the booking's review flag). Null when unknown. */
export async function resolveReviewItem(
  kv: Deno.Kv,
  id: string,
  comment: string,
  resolvedBy: string | null,
  nowMs = Date.now(),
): Promise<ReviewItem | null> {
  const entry = await kv.get<ReviewItem>(keys.calcomReview(id));
  if (!entry.value) return null;
  const resolved = resolvedReviewItem(entry.value, comment, resolvedBy, nowMs);
  await kv.set(keys.calcomReview(id), resolved);
  if (resolved.bookingId && resolved.kind === "sync_failed") {
    await updateSyncState(kv, resolved.bookingId, (s) => s && { ...s, requiresManualReview: false });
  }
  return resolved;
}

// ── meta ────────────────────────────────────────────────────────────────

/** A small named value of the sync (cursor, last webhook time per tenant, last reconciliation). */
export async function getSyncMeta<T>(kv: Deno.Kv, name: string): Promise<T | null> {
  return (await kv.get<T>(keys.calcomMeta(name))).value;
}

/** Sets a named value of the sync. */
export async function setSyncMeta(kv: Deno.Kv, name: string, value: unknown): Promise<void> {
  await kv.set(keys.calcomMeta(name), value);
}

/**
 * Puts a booking back in the runner's queue, due at once with fresh attempts (retry from the
 * review queue, reconciliation's re-send). Keeps its origin; null when it has no sync state.
 */
export async function requeueSync(kv: Deno.Kv, bookingId: string, nowMs = Date.now()): Promise<SyncState | null> {
  const entry = await kv.get<SyncState>(keys.calcomSync(bookingId));
  if (!entry.value) return null;
  return await updateSyncState(kv, bookingId, (s) =>
    s && {
      ...pendingState(s, { bookingId, sessionId: s.sessionId, tenant: s.tenant, origin: s.origin, nowMs }),
      changedAt: s.changedAt,
      note: "queued again",
    });
}

/**
 * Commits `op`, fenced by the worker's lease when given: a worker that lost its lease mid-send
 * throws {@link LeaseLostError} instead of writing.
 */
export async function commitFenced(op: Deno.AtomicOperation, fence?: Fence): Promise<void> {
  if (!fence) {
    await op.commit();
    return;
  }
  if (!(await fence.guard(op).commit()).ok) {
    await fence.verify();
    throw new LeaseLostError("calcom-outbound");
  }
}
