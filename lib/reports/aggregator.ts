/**
 * The report aggregator: one step of the worker's `reports` leased loop folds what is pending into
 * the day blobs (lib/reports/model.ts), in ONE atomic op guarded by the loop's lease:
 *
 * - the `reports` outbox (every booking event, written in the event's own commit);
 * - the view inbox (`["report_inbox", …]`, lib/reports/record.ts);
 * - alternative offers whose 24 h are over (`["report_alt_due", …]`): accepted when the learner's
 *   bookings show one of the alternatives booked in time.
 *
 * Exactly once: the blobs, a `["report_applied", eventKey]` marker per event, and the deletes of
 * the pending items commit together, and only under the lease (the aggregator is the blobs' only
 * writer, so no other check is needed). A crash before the commit leaves everything pending; an
 * event delivered again (its outbox entry written again) finds its marker and is only acknowledged.
 */
import { type AtomicGuard, readOutbox } from "../booking/outbox.ts";
import type { DomainEvent } from "../booking/events.ts";
import type { Session, User } from "../domain/mod.ts";
import { keys } from "../store/keys.ts";
import { ulid } from "ulid";
import { blobKeysFor, foldAltOffer, foldEvent, type FoldLookup, foldViews, Ledger, offerAccepted } from "./ledger.ts";
import {
  type AltOffer,
  isPacked,
  type PackedBlob,
  type ReportBlob,
  type ReportInboxItem,
  type SessionMeta,
} from "./model.ts";

/** Lease name of the aggregator loop (the recount takes it too). */
export const REPORTS_JOB = "reports";

/** How long a folded event's marker is kept (a redelivery later than this is caught by the recount). */
const APPLIED_TTL_MS = 7 * 24 * 3600_000;

/**
 * Items per step: with their markers and deletes (2 per event, 1 per view, 2 per offer) and the changed blobs, well
 * inside 1,000 mutations per atomic op.
 */
export const EVENTS_PER_STEP = 200;
const VIEWS_PER_STEP = 100;
const OFFERS_PER_STEP = 20;
/**
 * Changed blobs per commit: with the items above (at most 400 + 100 + 40 mutations) and the one an item may overshoot
 * (4 blobs), the op stays under 1,000 mutations. Events spread over many sessions touch one day blob each (four buckets
 * a day; a second for the dealer), so the cap of 24 this replaced folded only a dozen of them per step. The op's size
 * is bounded by bytes ({@link MAX_BLOB_BYTES}).
 */
const MAX_DIRTY_BLOBS = 400;
/** Estimated bytes of the changed blobs per commit (KV allows 800 KiB per atomic op). */
const MAX_BLOB_BYTES = 480 * 1024;
/** What one folded item may add to a blob (a new row and its strings). */
const GROWTH_PER_ITEM = 512;

/** About how many bytes a stored blob takes. */
function blobBytes(value: PackedBlob | ReportBlob | null): number {
  if (!value) return 0;
  if (isPacked(value)) return value.r.byteLength + value.p.byteLength + value.s.reduce((n, x) => n + x.length + 8, 64);
  return JSON.stringify(value).length;
}

/** Reads values by key, 10 per getMany (KV Connect's limit), in parallel. */
export async function getManyValues<T>(kv: Deno.Kv, list: Deno.KvKey[]): Promise<(T | null)[]> {
  const chunks: Deno.KvKey[][] = [];
  for (let i = 0; i < list.length; i += 10) chunks.push(list.slice(i, i + 10));
  const got = await Promise.all(chunks.map((c) => kv.getMany<T[]>(c)));
  return got.flat().map((e) => e.value as T | null);
}

/** The session fields a row records. */
export function sessionMeta(s: Session): SessionMeta {
  return {
    id: s.id,
    courseId: s.courseId,
    locationId: s.locationId,
    instructorId: s.instructorId,
    capacity: s.capacity,
    status: s.status,
    startsAt: s.startsAt,
  };
}

/** Loads the sessions and learners' dealers the fold needs. */
export async function loadLookup(kv: Deno.Kv, sessionIds: Iterable<string>, learnerIds: Iterable<string>) {
  const sIds = [...new Set(sessionIds)];
  const uIds = [...new Set(learnerIds)];
  const [sessions, users] = await Promise.all([
    getManyValues<Session>(kv, sIds.map(keys.session)),
    getManyValues<User>(kv, uIds.map(keys.user)),
  ]);
  const metas = new Map<string, SessionMeta>();
  sessions.forEach((s) => s && metas.set(s.id, sessionMeta(s)));
  const dealers = new Map<string, string | null>();
  users.forEach((u, i) => dealers.set(uIds[i], u?.dealerId ?? null));
  const look: FoldLookup = {
    session: (id) => metas.get(id) ?? null,
    dealerOf: (id) => dealers.get(id) ?? null,
  };
  return look;
}

/** The sessions an event's fold touches. */
function sessionsOf(ev: DomainEvent): string[] {
  return ev.type === "booking.rescheduled" && ev.data.fromSessionId
    ? [ev.sessionId, String(ev.data.fromSessionId)]
    : [ev.sessionId];
}

/**
 * When a learner booked which session (booking.confirmed and the target of booking.rescheduled), from
 * their event history (`["events_by_learner", …]`): what decides their alternative offers. The
 * recount reads the same events from the full history.
 */
export async function learnerBookings(
  kv: Deno.Kv,
  learnerId: string,
): Promise<{ sessionId: string; createdAtMs: number }[]> {
  const eventKeys: string[] = [];
  for await (const e of kv.list({ prefix: keys.eventsByLearnerPrefix(learnerId) })) eventKeys.push(String(e.key[2]));
  const events = await getManyValues<DomainEvent>(kv, eventKeys.map(keys.event));
  return events.flatMap((e) => e ? bookingOf(e) : []);
}

/** The booking an event made, if any (for alternative offers). */
export function bookingOf(e: DomainEvent): { sessionId: string; createdAtMs: number }[] {
  if (e.type !== "booking.confirmed" && e.type !== "booking.rescheduled") return [];
  return [{ sessionId: e.sessionId, createdAtMs: Date.parse(e.occurredAt) }];
}

/** What one step did. */
export interface FoldResult {
  events: number;
  /** Events skipped because they were folded before (redeliveries). */
  redelivered: number;
  views: number;
  offers: number;
  /** Whether more was pending than this step took (a full page, or a commit that filled up): go on at once. */
  more: boolean;
}

/**
 * Folds one batch of pending items and says what it handled (all zero: nothing pending). Null when
 * the guarded commit failed (the lease changed hands): nothing was written then.
 */
export async function foldPending(
  kv: Deno.Kv,
  guard: AtomicGuard,
  now: Date,
): Promise<FoldResult | null> {
  const [page, inbox, due] = await Promise.all([
    readOutbox(kv, "reports", { limit: EVENTS_PER_STEP }),
    Array.fromAsync(kv.list<ReportInboxItem>({ prefix: keys.reportInboxPrefix() }, { limit: VIEWS_PER_STEP })),
    Array.fromAsync(
      kv.list<null>({ start: keys.reportAltDuePrefix(), end: [...keys.reportAltDuePrefix(), now.getTime() + 1] }, {
        limit: OFFERS_PER_STEP,
      }),
    ),
  ]);
  const result: FoldResult = { events: 0, redelivered: 0, views: 0, offers: 0, more: false };
  // A page holds whole sessions, so one busy session can bring thousands of events: fold a prefix in
  // commit order (at most EVENTS_PER_STEP: two mutations each keep the commit within KV's 1,000), the
  // rest on the next step.
  const events = page.events.slice(0, EVENTS_PER_STEP);
  if (!events.length && !inbox.length && !due.length) return result;

  const offerKeys = due.map((d) => keys.reportAltOffer(String(d.key[2])));
  const offers = await getManyValues<AltOffer>(kv, offerKeys);
  // A marker's value is null: it exists when getMany returns a versionstamp.
  const appliedKeys = new Set<string>();
  const chunks: (typeof events)[] = [];
  for (let i = 0; i < events.length; i += 10) chunks.push(events.slice(i, i + 10));
  await Promise.all(chunks.map(async (chunk) => {
    const entries = await kv.getMany(chunk.map((e) => keys.reportApplied(e.key)));
    entries.forEach((en, j) => en.versionstamp && appliedKeys.add(chunk[j].key));
  }));

  const look = await loadLookup(
    kv,
    [
      ...events.flatMap(sessionsOf),
      ...inbox.map((i) => i.value.sessionId),
      ...offers.flatMap((o) => o ? [o.sessionId] : []),
    ],
    [...events.flatMap((e) => e.learnerId ? [e.learnerId] : []), ...offers.flatMap((o) => o ? [o.learnerId] : [])],
  );
  const decided = await Promise.all(
    offers.map(async (o) =>
      o ? { ...o, decided: true, accepted: offerAccepted(o, await learnerBookings(kv, o.learnerId)) } : null
    ),
  );

  // Load every blob the batch may touch, then fold item by item until the commit would grow too big.
  const blobKeys: Deno.KvKey[] = [];
  const metaOf = (id: string) => look.session(id);
  for (const ev of events) {
    for (const sid of sessionsOf(ev)) {
      const m = metaOf(sid);
      if (m) blobKeys.push(...blobKeysFor(m, ev.learnerId ? look.dealerOf(ev.learnerId) : null));
    }
  }
  for (const i of inbox) {
    const m = metaOf(i.value.sessionId);
    if (m) blobKeys.push(...blobKeysFor(m, i.value.dealerId));
  }
  for (const o of decided) {
    const m = o ? metaOf(o.sessionId) : null;
    if (m && o) blobKeys.push(...blobKeysFor(m, look.dealerOf(o.learnerId)));
  }
  const unique = [...new Map(blobKeys.map((k) => [JSON.stringify(k), k])).values()];
  const blobs = await getManyValues<PackedBlob | ReportBlob>(kv, unique);
  const ledger = new Ledger();
  const storedBytes = new Map<string, number>();
  unique.forEach((k, i) => {
    ledger.put(k, blobs[i]);
    storedBytes.set(JSON.stringify(k), blobBytes(blobs[i]));
  });
  let folded = 0;
  const full = () => {
    if (ledger.dirty.size >= MAX_DIRTY_BLOBS) return true;
    let bytes = folded * GROWTH_PER_ITEM;
    for (const id of ledger.dirty) bytes += storedBytes.get(id) ?? 0;
    return bytes >= MAX_BLOB_BYTES;
  };

  const op = guard(kv.atomic());
  for (const ev of events) {
    if (full()) break;
    if (appliedKeys.has(ev.key)) result.redelivered++;
    else {
      foldEvent(ledger, ev, look);
      op.set(keys.reportApplied(ev.key), null, { expireIn: APPLIED_TTL_MS });
      result.events++;
      folded++;
    }
    op.delete(ev.outboxKey);
  }
  for (const i of inbox) {
    if (full()) break;
    const m = metaOf(i.value.sessionId);
    if (m) foldViews(ledger, m, i.value.dealerId, 1);
    op.delete(i.key);
    result.views++;
    folded++;
  }
  decided.forEach((o, idx) => {
    if (full()) return;
    if (o) {
      foldAltOffer(ledger, o, look);
      op.set(keys.reportAltOffer(o.id), o);
      folded++;
    }
    op.delete(due[idx].key);
    result.offers++;
  });
  result.more = page.events.length >= EVENTS_PER_STEP || result.events + result.redelivered < events.length ||
    inbox.length >= VIEWS_PER_STEP || result.views < inbox.length || due.length >= OFFERS_PER_STEP;
  for (const { key, value } of ledger.changed()) op.set(key, value);
  op.set(keys.reportMeta("version"), ulid());
  const res = await op.commit();
  return res.ok ? result : null;
}

/** Total items a fold handled. */
export function handled(r: FoldResult): number {
  return r.events + r.redelivered + r.views + r.offers;
}
