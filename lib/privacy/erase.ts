/**
 * Erasure of a person (GDPR art. 17), by an admin with a reason:
 *
 * 1. One atomic op: the user record becomes a pseudonymised tombstone (name "Erased user", email
 *    `erased-<id>@erased.invalid`, role learner, `erasedAt`), the email index and every API token go,
 *    the erasure record `["privacy_erasures", id]` (who, when, the reason with the person's name
 *    and email removed) is written with status `cancelling`, and a `user.erased` event (user id
 *    and time only) enters the outbox: the relay sends it to `nlj.privacy.erasure`.
 * 2. Through the booking engine, as the admin: future bookings are cancelled (seats freed,
 *    waitlist offers made, `booking.cancelled` events, which the Cal.com sync turns into seat
 *    cancels), live holds and offers released, waitlist places left.
 *    Compliance records (assignments, recommendations, alerts), the profile's preferences
 *    (location, times), notification preferences and pacing, and the alternatives last shown go
 *    in step 1; course-wide waitlist entries first thing in step 2.
 * 3. Stored history is pseudonymised: free text (reasons) in the person's events, their pending
 *    outbox entries and their bookings' audit; their Cal.com seat links and sync states lose the
 *    email; stored Cal.com deliveries, review items, dead letters, notification messages and
 *    idempotency results have the name and email replaced. Ids, statuses and counters stay: seat
 *    counts and reports do not move. Then the record's status becomes `done`. Records that hold
 *    ids, times and counters only stay as they are, like bookings: attendance and its audit,
 *    online presence, RSVPs, recording views, completions (certifications are computed from them)
 *    and the notifications index; with the name and email gone they no longer identify anyone.
 *
 * A second call on an erased user does nothing (200) unless an earlier run stopped before
 * `done`: then it finishes steps 2 and 3. Page sessions: {@link ErasureOptions.endSessions}.
 */
import type { BookingEngine } from "../booking/engine.ts";
import type { CourseWaitlistEntry } from "../booking/course_waitlist.ts";
import { type Actor, addEvent, type DomainEvent, OUTBOX_CONSUMERS, PRIVACY_STREAM } from "../booking/events.ts";
import { Draft } from "../booking/draft.ts";
import { DomainError } from "../booking/errors.ts";
import type { Booking } from "../domain/booking.ts";
import { type User, UserSchema } from "../domain/user.ts";
import type { SeatLink, SyncState } from "../calcom/sync_store.ts";
import { getManyChunked, listValues } from "../store/batch.ts";
import { keys } from "../store/keys.ts";
import { deleteComplianceOf } from "../store/compliance.ts";
import { listLearnerEventKeys } from "./export.ts";
import {
  ERASED_NAME,
  erasedEmail,
  ERASURE_MARKER,
  pseudonymiseBooking,
  pseudonymiseEvent,
  scrubStrings,
} from "./pseudonymise.ts";

/** The audit record of an erasure: no personal data of the erased person. */
export interface ErasureRecord {
  userId: string;
  erasedAt: string;
  /** The admin's user id (null for the bootstrap admin token). */
  erasedBy: string | null;
  /** The admin's reason, with the person's name and email replaced. */
  reason: string;
  correlationId: string;
  /** `done` once every step ran; a repeat call finishes a run that stopped earlier. */
  status: "cancelling" | "done";
  cancelled: { bookings: number; holds: number; waitlist: number };
  pseudonymised: { events: number; bookings: number; other: number };
}

/** What {@link eraseUser} returns. */
export type ErasureResult =
  | { outcome: "not_found" }
  | { outcome: "erased" | "already_erased"; record: ErasureRecord };

/** Options of an erasure. */
export interface ErasureOptions {
  /** Who erases, and why (required, free text). */
  actor: Actor;
  reason: string;
  now?: Date;
  /**
   * Ends the person's page sessions (sign-in sessions live with lib/auth). Called in step 1,
   * after the tombstone is written. Without it only API tokens are revoked here.
   */
  endSessions?: (kv: Deno.Kv, userId: string) => Promise<unknown>;
}

/** Reason on the engine's changes made by an erasure (no free text of the admin's). */
export const ERASURE_CHANGE_REASON = "account erased";

/** Largest checked rewrite per atomic op (KV Connect allows 10 checks). */
const CHECKED_BATCH = 10;
/** Blind rewrites per atomic op (well inside 1000 mutations and 800 KiB). */
const BLIND_BATCH = 200;

/** Erases a person; see the module doc. */
export async function eraseUser(
  kv: Deno.Kv,
  engine: BookingEngine,
  userId: string,
  options: ErasureOptions,
): Promise<ErasureResult> {
  const now = options.now ?? engine.now();
  let record: ErasureRecord | null = null;
  let existing: ErasureRecord | null = null;
  let needles: string[] = [];
  for (let attempt = 0; !record; attempt++) {
    const userEntry = await kv.get<User>(keys.user(userId));
    if (!userEntry.value) return { outcome: "not_found" };
    existing = (await kv.get<ErasureRecord>(keys.erasure(userId))).value;
    // existing: this call resumes an erasure begun by another (finished: nothing to do).
    if (userEntry.value.erasedAt) {
      if (existing?.status === "done") return { outcome: "already_erased", record: existing };
      record = existing;
      if (!record) throw new Error(`user ${userId} is erased but has no erasure record`);
      break;
    }
    needles = [userEntry.value.email, userEntry.value.name];
    record = await writeTombstone(kv, userEntry as Deno.KvEntry<User>, options, now, needles);
    // Changed meanwhile (another erasure, an update): read again.
    if (!record && attempt >= 5) throw new Error(`user ${userId} kept changing during the erasure; try again`);
    if (record) await options.endSessions?.(kv, userId);
  }
  const actor: Actor = { ...options.actor, roles: ["admin"], reason: ERASURE_CHANGE_REASON };
  const cancelled = await cancelPlaces(engine, userId, actor, now);
  const pseudonymised = await pseudonymiseHistory(kv, userId, needles);
  // Merged into the stored record (a concurrent run resuming the same erasure adds its own counts).
  for (let attempt = 0;; attempt++) {
    const current = await kv.get<ErasureRecord>(keys.erasure(userId));
    const base = current.value ?? record;
    const done: ErasureRecord = {
      ...base,
      status: "done",
      cancelled: add(base.cancelled, cancelled),
      pseudonymised: add(base.pseudonymised, pseudonymised),
    };
    if ((await kv.atomic().check(current).set(keys.erasure(userId), done).commit()).ok) {
      return { outcome: existing ? "already_erased" : "erased", record: done };
    }
    if (attempt >= 10) throw new Error(`the erasure record of ${userId} kept changing; try again`);
  }
}

function add<T extends Record<string, number>>(a: T, b: T): T {
  const out = { ...a };
  for (const k of Object.keys(b) as (keyof T)[]) out[k] = (a[k] + b[k]) as T[keyof T];
  return out;
}

async function writeTombstone(
  kv: Deno.Kv,
  entry: Deno.KvEntry<User>,
  options: ErasureOptions,
  now: Date,
  needles: string[],
): Promise<ErasureRecord | null> {
  const user = entry.value;
  const email = erasedEmail(user.id);
  const tokens: { key: Deno.KvKey; hash: string }[] = [];
  for await (const t of kv.list<{ hash: string }>({ prefix: keys.apiTokensByUserPrefix(user.id) })) {
    tokens.push({ key: t.key, hash: t.value.hash });
  }
  // Tokens first (blind deletes, in batches): the tombstone op then stays small.
  for (let i = 0; i < tokens.length; i += BLIND_BATCH) {
    const op = kv.atomic();
    for (const t of tokens.slice(i, i + BLIND_BATCH)) op.delete(t.key).delete(keys.apiToken(t.hash));
    await op.commit();
  }
  // Compliance records (assignment notes are free text about the person).
  await deleteComplianceOf(kv, user.id);
  // Preferences and small per-person state with no use for a tombstone: notification choices,
  // pacing, the alternatives last shown.
  const doomed: Deno.KvKey[] = [keys.notifyPrefs(user.id), keys.notifyRate(user.id)];
  for await (const e of kv.list({ prefix: keys.alternativesOfferedPrefix(user.id) })) doomed.push(e.key);
  for (let i = 0; i < doomed.length; i += BLIND_BATCH) {
    const op = kv.atomic();
    for (const key of doomed.slice(i, i + BLIND_BATCH)) op.delete(key);
    await op.commit();
  }
  const { preferredTimes: _times, ...kept } = user;
  const tombstone: User = UserSchema.parse({
    ...kept,
    name: ERASED_NAME,
    email,
    roles: ["learner"],
    preferredLocationId: null,
    erasedAt: now.toISOString(),
  });
  const record: ErasureRecord = {
    userId: user.id,
    erasedAt: now.toISOString(),
    erasedBy: options.actor.userId,
    reason: scrubStrings(options.reason, needles, email).value,
    correlationId: options.actor.correlationId,
    status: "cancelling",
    cancelled: { bookings: 0, holds: 0, waitlist: 0 },
    pseudonymised: { events: 0, bookings: 0, other: 0 },
  };
  const draft = new Draft(kv);
  draft.track(entry);
  draft.delete(keys.userByEmail(user.email));
  draft.set(keys.user(user.id), tombstone);
  draft.set(keys.userByEmail(email), user.id);
  draft.set(keys.erasure(user.id), record);
  draft.set(keys.privacyMeta(ERASURE_MARKER), { userId: user.id, at: record.erasedAt });
  const eventActor: Actor = { ...options.actor, reason: null };
  addEvent(draft, eventActor, "user.erased", PRIVACY_STREAM, user.id, { erasedAt: record.erasedAt }, now);
  return (await draft.commit())?.ok ? record : null;
}

/** Cancels future bookings, releases live holds and offers, leaves waitlists: through the engine. */
async function cancelPlaces(
  engine: BookingEngine,
  userId: string,
  actor: Actor,
  now: Date,
): Promise<ErasureRecord["cancelled"]> {
  // Course-wide waitlist entries first: with them gone no session offers the person a seat, and
  // each session removes their places from those entries (lib/booking/course_waitlist.ts).
  for await (const e of engine.kv.list<CourseWaitlistEntry>({ prefix: keys.courseWaitlistPrefix(userId) })) {
    const index = keys.courseWaitlistByCourse(e.value.courseId, e.value.joinedAt, userId);
    await engine.kv.atomic().delete(e.key).delete(index).commit();
  }
  const places = await engine.listLearnerPlaces(userId);
  const out = { bookings: 0, holds: 0, waitlist: 0 };
  // A place gone meanwhile (expired, or ended by a concurrent erasure) is a refusal (4xx): skip it.
  const gone = (err: unknown) => {
    if (err instanceof DomainError && err.status < 500) return false;
    throw err;
  };
  for (const hold of places.holds) {
    if (await engine.releaseHold(hold.id, actor).then(() => true, gone)) out.holds++;
  }
  for (const w of places.waitlist) {
    if (await engine.leaveWaitlist(w.entry.sessionId, userId, actor).then(() => true, gone)) out.waitlist++;
  }
  const future = places.bookings.filter((b) => b.status === "confirmed");
  const sessions = await getManyChunked<{ startsAt: string }>(
    engine.kv,
    future.map((b) => keys.session(b.sessionId)),
  );
  for (const [i, b] of future.entries()) {
    const startsAt = sessions[i].value?.startsAt;
    if (!startsAt || Date.parse(startsAt) <= now.getTime()) continue;
    // One cancelled already (by a concurrent erasure) is refused with 409 booking_not_active.
    if (await engine.cancelBooking(b.id, actor).then(() => true, gone)) out.bookings++;
  }
  return out;
}

/** Step 3: pseudonymises stored history about the person; returns how many records changed. */
async function pseudonymiseHistory(
  kv: Deno.Kv,
  userId: string,
  extraNeedles: string[],
): Promise<ErasureRecord["pseudonymised"]> {
  const email = erasedEmail(userId);
  const out = { events: 0, bookings: 0, other: 0 };

  // Events (history and pending outbox entries), through the per-learner index.
  const eventKeys = await listLearnerEventKeys(kv, userId);
  for (let i = 0; i < eventKeys.length; i += CHECKED_BATCH) {
    const chunk = eventKeys.slice(i, i + CHECKED_BATCH);
    const entries = await getManyChunked<DomainEvent>(kv, chunk.map(keys.event));
    const op = kv.atomic();
    for (const e of entries) {
      if (!e.value) continue;
      const next = pseudonymiseEvent(e.value, e.versionstamp!);
      if (next) {
        op.set(e.key, next);
        out.events++;
      }
    }
    await op.commit();
    // Pending copies: checked, so an entry delivered (deleted) meanwhile is not brought back.
    for (const consumer of OUTBOX_CONSUMERS) {
      const pending = await getManyChunked<DomainEvent>(
        kv,
        entries.flatMap((e) => e.value ? [keys.outboxEntry(consumer, e.value.sessionId, e.value.key)] : []),
      );
      const rewrite = pending.flatMap((p) => p.value ? [{ p, next: pseudonymiseEvent(p.value, p.versionstamp!) }] : [])
        .filter((x) => x.next);
      if (!rewrite.length) continue;
      const op2 = kv.atomic();
      for (const { p, next } of rewrite) op2.check(p).set(p.key, next);
      await op2.commit();
    }
  }

  // Bookings: audit and cancel reasons; Cal.com seat links and sync states.
  const bookingIds = await listValues<string>(kv, { prefix: keys.bookingsByLearnerPrefix(userId) });
  for (let i = 0; i < bookingIds.length; i += CHECKED_BATCH) {
    const chunk = bookingIds.slice(i, i + CHECKED_BATCH);
    out.bookings += await rewriteChecked<Booking>(kv, chunk.map(keys.booking), (b) => pseudonymiseBooking(b));
    out.other += await rewriteChecked<SyncState>(
      kv,
      chunk.map(keys.calcomSync),
      (s) => scrubbed(s, extraNeedles, email),
    );
    const seats = await getManyChunked<SeatLink>(kv, chunk.map(keys.calcomSeat));
    for (const seat of seats) {
      if (!seat.value || seat.value.email === email) continue;
      const link = seat.value;
      const next: SeatLink = { ...link, email };
      const res = await kv.atomic().check(seat)
        .set(seat.key, next)
        .delete(keys.calcomSeatByUid(link.tenant, link.calBookingUid, link.email))
        .set(keys.calcomSeatByUid(link.tenant, link.calBookingUid, email), link.bookingId)
        .commit();
      if (res.ok) out.other++;
    }
  }

  // Dead letters hold a copy of their event: the same rule as the history.
  for await (const e of kv.list<{ event: DomainEvent }>({ prefix: keys.deadLettersPrefix() })) {
    if (e.value.event?.learnerId !== userId || e.value.event.reason === null) continue;
    const next = { ...e.value, event: { ...e.value.event, reason: null } };
    if ((await kv.atomic().check(e).set(e.key, next).commit()).ok) out.other++;
  }

  // Third-party payloads and small families we do not own the shape of: scrub by name and email.
  if (extraNeedles.length) {
    for (
      const prefix of [
        ["calcom_deliveries"],
        keys.calcomReviewPrefix(),
        keys.deadLettersPrefix(),
        keys.notifyMessagesPrefix(),
      ]
    ) {
      out.other += await scrubPrefix(kv, prefix, extraNeedles, email, "rewrite");
    }
    // Stored responses (24 h, with a TTL a rewrite would lose): dropped; a retry runs afresh.
    out.other += await scrubPrefix(kv, ["idempotency"], extraNeedles, email, "delete");
  }
  return out;
}

function scrubbed<T>(value: T, needles: string[], email: string): T | null {
  if (!needles.length) return null;
  const r = scrubStrings(value, needles, email);
  return r.changed ? r.value : null;
}

/** Rewrites up to 10 entries with `change` (null: leave it), checked against concurrent writes. */
async function rewriteChecked<T>(
  kv: Deno.Kv,
  keyList: Deno.KvKey[],
  change: (value: T) => T | null,
): Promise<number> {
  const entries = await getManyChunked<T>(kv, keyList);
  const op = kv.atomic();
  let n = 0;
  for (const e of entries) {
    if (e.value === null) continue;
    const next = change(e.value);
    if (!next) continue;
    op.check(e).set(e.key, next);
    n++;
  }
  if (n && !(await op.commit()).ok) {
    // Changed meanwhile (a booking being cancelled, a sync attempt): one more read, one at a time.
    n = 0;
    for (const key of keyList) {
      const e = await kv.get<T>(key);
      const next = e.value === null ? null : change(e.value);
      if (next && (await kv.atomic().check(e).set(key, next).commit()).ok) n++;
    }
  }
  return n;
}

/** Replaces the name and email in every value under `prefix`; returns how many changed. */
async function scrubPrefix(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
  needles: string[],
  email: string,
  mode: "rewrite" | "delete",
): Promise<number> {
  let n = 0;
  for await (const e of kv.list<unknown>({ prefix }, { batchSize: 500 })) {
    const r = scrubStrings(e.value, needles, email);
    if (!r.changed) continue;
    const op = kv.atomic().check(e);
    if (mode === "delete") op.delete(e.key);
    else op.set(e.key, r.value);
    if ((await op.commit()).ok) n++;
  }
  return n;
}
