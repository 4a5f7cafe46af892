/**
 * The consistency recount: rebuilds every session's seat picture from the primary records (holds,
 * bookings, waitlist entries) and compares it with the counters, the one-place-per-learner keys
 * and the secondary indexes the booking engine maintains. It backs
 * `GET /api/v1/admin/consistency` and `deno task doctor`.
 *
 * The check only reads. On a live store it re-reads sessions whose `["seats", id]` changed while
 * it was scanning (every seat-affecting write touches that key), so a problem it reports was seen
 * on a session that stood still during the scan, unless that session never stood still in
 * {@link MAX_PASSES} passes.
 * @module
 */
import { keys } from "../store/keys.ts";
import { getRules } from "./rules.ts";
import {
  type Booking,
  type Hold,
  type LearnerHolds,
  MAX_ACTIVE_HOLDS,
  type PendingSessionCancel,
  type Place,
  type SeatDoc,
  type Session,
  type WaitlistEntry,
} from "./model.ts";

/** What kind of disagreement a {@link Problem} is. */
export type ProblemCode =
  | "seats_confirmed_mismatch"
  | "seats_holds_mismatch"
  | "seats_waiting_mismatch"
  | "over_capacity"
  | "two_live_places"
  | "place_missing"
  | "place_orphan"
  | "hold_index_missing"
  | "hold_index_orphan"
  | "booking_index_missing"
  | "booking_index_orphan"
  | "waitlist_index_mismatch"
  | "learner_holds_mismatch"
  | "too_many_holds"
  | "session_missing"
  | "cancelled_session_live"
  | "session_cancel_stalled";

/** One disagreement between primary records and what is derived from them. */
export interface Problem {
  code: ProblemCode;
  /** The session it concerns (null for a learner-wide problem). */
  sessionId: string | null;
  learnerId?: string;
  /** The key that is wrong or missing, when there is one. */
  key?: Deno.KvKey;
  message: string;
}

/** Result of {@link checkConsistency}. */
export interface ConsistencyReport {
  /** Sessions checked. */
  sessions: number;
  /** Empty when the store is consistent. */
  problems: Problem[];
}

/** Passes over a live store before problems on still-changing sessions are reported anyway. */
export const MAX_PASSES = 4;

/**
 * Age at which a pending session cancel counts as stalled: 10 minutes. A cancel takes seconds,
 * and the app resumes pending ones at startup and every minute, so one still pending after ten
 * such chances is stuck (the app is down, or every attempt fails: see its log).
 */
export const STALLED_CANCEL_MS = 10 * 60_000;

/**
 * Recounts every session from its primary records and reports each disagreement:
 * - `["seats", id]` counters: `confirmed` = confirmed bookings, `holds` = active hold records
 *   still indexed (offers included, expired-but-not-cleaned included), `waiting` = waitlist entries;
 * - seats taken (confirmed bookings + active holds and offers with `expiresAt > now`) ≤ capacity;
 * - never two live places (hold, offer, booking, waiting entry) for one learner in one session;
 * - `["places", sessionId, learnerId]` keys point at exactly the live records and back;
 * - `holds_by_session` and `holds_by_expiry` hold exactly the active holds, at their expiry;
 * - `bookings_by_session` and `bookings_by_learner` hold exactly the bookings;
 * - `waitlist_by_learner` agrees with waiting entries and pending offers;
 * - `learner_holds` lists each learner's live holds, and no learner has more than
 *   {@link MAX_ACTIVE_HOLDS} live holds;
 * - a cancelled session has no confirmed booking, active hold or offer, waiting learner or seat
 *   counted (`cancelled_session_live`; while its cancel is still running too: the message says
 *   whether one is pending, i.e. whether the app will finish it by itself);
 * - no session cancel has been pending for {@link STALLED_CANCEL_MS} or longer
 *   (`session_cancel_stalled`).
 *
 * @param kv the store to check
 * @param now the instant that decides which holds are live, or a clock read at the start of each
 *   pass (default: the current time, per pass). On a live store prefer a clock: a fixed instant
 *   that falls behind the writers' clock sees holds they already treated as lapsed as still live.
 */
export async function checkConsistency(
  kv: Deno.Kv,
  now: Date | (() => Date) = () => new Date(),
): Promise<ConsistencyReport> {
  const clock = typeof now === "function" ? now : () => now;
  let report: Scan | null = null;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const before = await seatStamps(kv);
    report = await scan(kv, clock().getTime());
    const after = await seatStamps(kv);
    const moving = new Set<string>();
    for (const id of new Set([...before.keys(), ...after.keys()])) {
      if (before.get(id) !== after.get(id)) moving.add(id);
    }
    const unsure = report.problems.some((p) => p.involved.some((id) => moving.has(id)));
    if (!unsure) break;
  }
  return {
    sessions: report!.sessions,
    problems: report!.problems.map(({ involved: _, ...p }) => p),
  };
}

interface Scan {
  sessions: number;
  problems: (Problem & { involved: string[] })[];
}

async function seatStamps(kv: Deno.Kv): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of kv.list({ prefix: ["seats"] })) out.set(String(e.key[1]), e.versionstamp);
  return out;
}

async function entries<T>(kv: Deno.Kv, prefix: Deno.KvKey): Promise<Deno.KvEntry<T>[]> {
  const out: Deno.KvEntry<T>[] = [];
  for await (const e of kv.list<T>({ prefix })) out.push(e);
  return out;
}

function push<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

async function scan(kv: Deno.Kv, nowMs: number): Promise<Scan> {
  const [
    sessionRows,
    seatRows,
    holdRows,
    holdBySessionRows,
    holdByExpiryRows,
    bookingRows,
    bookingBySessionRows,
    bookingByLearnerRows,
    waitlistRows,
    waitlistByLearnerRows,
    placeRows,
    learnerHoldRows,
    pendingCancelRows,
  ] = await Promise.all([
    entries<Session>(kv, ["sessions"]),
    entries<SeatDoc>(kv, ["seats"]),
    entries<Hold>(kv, ["holds"]),
    entries<string>(kv, ["holds_by_session"]),
    entries<{ holdId: string; sessionId: string }>(kv, keys.holdsByExpiryPrefix()),
    entries<Booking>(kv, ["bookings"]),
    entries<string>(kv, ["bookings_by_session"]),
    entries<string>(kv, ["bookings_by_learner"]),
    entries<WaitlistEntry>(kv, ["waitlist"]),
    entries<WaitlistEntry>(kv, ["waitlist_by_learner"]),
    entries<Place>(kv, ["places"]),
    entries<LearnerHolds>(kv, ["learner_holds"]),
    entries<PendingSessionCancel>(kv, keys.sessionCancelsPendingPrefix()),
  ]);
  const problems: Scan["problems"] = [];
  const report = (p: Problem, ...involved: string[]) =>
    problems.push({ ...p, involved: involved.length ? involved : p.sessionId ? [p.sessionId] : [] });

  const sessions = new Map(sessionRows.map((e) => [e.value.id, e.value]));
  const pendingCancels = new Map(pendingCancelRows.map((e) => [e.value.sessionId, e.value]));
  const seats = new Map(seatRows.map((e) => [String(e.key[1]), e.value]));
  const holds = new Map(holdRows.map((e) => [e.value.id, e.value]));
  const bookings = new Map(bookingRows.map((e) => [e.value.id, e.value]));
  const isLive = (h: Hold) => h.status === "active" && Date.parse(h.expiresAt) > nowMs;

  const activeHolds = [...holds.values()].filter((h) => h.status === "active");
  const confirmed = [...bookings.values()].filter((b) => b.status === "confirmed");
  const waiting = waitlistRows.map((e) => e.value);

  // Records of unknown sessions.
  const recordSessions: [string, string, Deno.KvKey][] = [
    ...[...holds.values()].map((h) => [h.sessionId, h.learnerId, keys.hold(h.id)] as [string, string, Deno.KvKey]),
    ...[...bookings.values()].map((b) =>
      [b.sessionId, b.learnerId, keys.booking(b.id)] as [string, string, Deno.KvKey]
    ),
    ...waitlistRows.map((e) => [String(e.key[1]), e.value.learnerId, e.key] as [string, string, Deno.KvKey]),
  ];
  for (const [sessionId, learnerId, key] of recordSessions) {
    if (!sessions.has(sessionId)) {
      report({
        code: "session_missing",
        sessionId,
        learnerId,
        key,
        message: `Record for unknown session ${sessionId}.`,
      });
    }
  }

  // Counters and capacity, per session.
  const bySession = <T extends { sessionId: string }>(list: T[]) => {
    const m = new Map<string, T[]>();
    for (const x of list) push(m, x.sessionId, x);
    return m;
  };
  const activeBySession = bySession(activeHolds);
  const confirmedBySession = bySession(confirmed);
  const waitingBySession = new Map<string, WaitlistEntry[]>();
  for (const e of waitlistRows) push(waitingBySession, String(e.key[1]), e.value);
  for (const s of sessions.values()) {
    const doc = seats.get(s.id) ?? { confirmed: 0, holds: 0, waiting: 0 };
    const nConfirmed = confirmedBySession.get(s.id)?.length ?? 0;
    const active = activeBySession.get(s.id) ?? [];
    const nWaiting = waitingBySession.get(s.id)?.length ?? 0;
    if (doc.confirmed !== nConfirmed) {
      report({
        code: "seats_confirmed_mismatch",
        sessionId: s.id,
        key: keys.seats(s.id),
        message: `seats.confirmed is ${doc.confirmed} but ${nConfirmed} bookings are confirmed.`,
      });
    }
    if (doc.holds !== active.length) {
      report({
        code: "seats_holds_mismatch",
        sessionId: s.id,
        key: keys.seats(s.id),
        message: `seats.holds is ${doc.holds} but ${active.length} holds are active (expired or not).`,
      });
    }
    if ((doc.waiting ?? 0) !== nWaiting) {
      report({
        code: "seats_waiting_mismatch",
        sessionId: s.id,
        key: keys.seats(s.id),
        message: `seats.waiting is ${doc.waiting ?? 0} but ${nWaiting} learners are waiting.`,
      });
    }
    const taken = nConfirmed + active.filter(isLive).length;
    if (taken > s.capacity) {
      report({
        code: "over_capacity",
        sessionId: s.id,
        message: `${taken} seats are taken in a session of capacity ${s.capacity}.`,
      });
    }
    const counted = doc.confirmed + doc.holds + (doc.waiting ?? 0);
    if (s.status === "cancelled" && nConfirmed + active.length + nWaiting + counted > 0) {
      const pending = pendingCancels.get(s.id);
      report({
        code: "cancelled_session_live",
        sessionId: s.id,
        message: `Session is cancelled but still has ${nConfirmed} confirmed booking(s), ${active.length} active ` +
          `hold(s) or offer(s) and ${nWaiting} waiting learner(s) (seats counted: ${doc.confirmed} confirmed, ` +
          `${doc.holds} holds, ${doc.waiting ?? 0} waiting); ` +
          (pending
            ? `its cancel is pending since ${pending.startedAt} and the app finishes it by itself.`
            : "no cancel is pending: cancel the session again to finish it."),
      });
    }
  }

  // Session cancels still pending long after they began.
  for (const e of pendingCancelRows) {
    const { sessionId, startedAt } = e.value;
    const ageMs = nowMs - Date.parse(startedAt);
    if (!(ageMs < STALLED_CANCEL_MS)) {
      report({
        code: "session_cancel_stalled",
        sessionId,
        key: e.key,
        message: `The cancel of session ${sessionId} began at ${startedAt} (${
          Math.round(ageMs / 60_000)
        } min ago) and has not finished; the app resumes it at startup and every minute: see its log.`,
      });
    }
  }

  // One live place per learner per session, and the places keys that enforce it.
  type Live = { kind: Place["kind"]; id: string; expired?: boolean };
  const livePlaces = new Map<string, Live[]>(); // `${sessionId} ${learnerId}` → records
  for (const h of activeHolds) {
    push(livePlaces, `${h.sessionId} ${h.learnerId}`, { kind: h.kind, id: h.id, expired: !isLive(h) });
  }
  for (const b of confirmed) push(livePlaces, `${b.sessionId} ${b.learnerId}`, { kind: "booking", id: b.id });
  for (const w of waiting) push(livePlaces, `${w.sessionId} ${w.learnerId}`, { kind: "waitlist", id: w.joinedAt });
  for (const [pair, list] of livePlaces) {
    const [sessionId, learnerId] = pair.split(" ");
    const live = list.filter((x) => !x.expired);
    if (live.length > 1) {
      report({
        code: "two_live_places",
        sessionId,
        learnerId,
        message: `Learner ${learnerId} has ${live.length} live places: ${
          live.map((x) => `${x.kind} ${x.id}`).join(", ")
        }.`,
      });
    }
  }
  const places = new Map(placeRows.map((e) => [`${String(e.key[1])} ${String(e.key[2])}`, e.value]));
  for (const [pair, list] of livePlaces) {
    const [sessionId, learnerId] = pair.split(" ");
    const place = places.get(pair);
    for (const x of list) {
      if (!place || place.kind !== x.kind || place.id !== x.id) {
        report({
          code: "place_missing",
          sessionId,
          learnerId,
          key: keys.place(sessionId, learnerId),
          message: `No place key points at ${x.kind} ${x.id}${
            place ? ` (it points at ${place.kind} ${place.id})` : ""
          }.`,
        });
      }
    }
  }
  for (const [pair, place] of places) {
    const [sessionId, learnerId] = pair.split(" ");
    const list = livePlaces.get(pair) ?? [];
    const match = list.find((x) => x.kind === place.kind && x.id === place.id);
    const holdOk = place.kind === "hold" || place.kind === "offer"
      ? place.expiresAtMs === undefined || place.expiresAtMs === Date.parse(holds.get(place.id)?.expiresAt ?? "")
      : true;
    if (!match || !holdOk) {
      report({
        code: "place_orphan",
        sessionId,
        learnerId,
        key: keys.place(sessionId, learnerId),
        message: `Place ${place.kind} ${place.id} matches no live record${holdOk ? "" : " (expiry differs)"}.`,
      });
    }
  }

  // Hold indexes: exactly the active holds, at their expiry.
  const activeIds = new Map(activeHolds.map((h) => [h.id, h]));
  const seenBySession = new Set<string>();
  for (const e of holdBySessionRows) {
    const [, sessionId, ms, holdId] = e.key as [string, string, number, string];
    const h = activeIds.get(holdId);
    if (!h || h.sessionId !== sessionId || Date.parse(h.expiresAt) !== ms || e.value !== holdId) {
      report({
        code: "hold_index_orphan",
        sessionId,
        key: e.key,
        message: `holds_by_session entry for hold ${holdId} matches no active hold.`,
      });
    } else seenBySession.add(holdId);
  }
  const seenByExpiry = new Set<string>();
  for (const e of holdByExpiryRows) {
    const [, ms, holdId] = e.key as [string, number, string];
    const h = activeIds.get(holdId);
    if (
      !h || Date.parse(h.expiresAt) !== ms || e.value.holdId !== holdId || e.value.sessionId !== h.sessionId
    ) {
      report({
        code: "hold_index_orphan",
        sessionId: h?.sessionId ?? e.value.sessionId ?? null,
        key: e.key,
        message: `holds_by_expiry entry for hold ${holdId} matches no active hold.`,
      });
    } else seenByExpiry.add(holdId);
  }
  for (const h of activeHolds) {
    const ms = Date.parse(h.expiresAt);
    if (!seenBySession.has(h.id)) {
      report({
        code: "hold_index_missing",
        sessionId: h.sessionId,
        learnerId: h.learnerId,
        key: keys.holdBySession(h.sessionId, ms, h.id),
        message: `Active hold ${h.id} is missing from holds_by_session.`,
      });
    }
    if (!seenByExpiry.has(h.id)) {
      report({
        code: "hold_index_missing",
        sessionId: h.sessionId,
        learnerId: h.learnerId,
        key: keys.holdByExpiry(ms, h.id),
        message: `Active hold ${h.id} is missing from holds_by_expiry.`,
      });
    }
  }

  // Booking indexes: every booking (any status) under its session and its learner.
  const bookingIndex = (rows: Deno.KvEntry<string>[], field: "sessionId" | "learnerId", name: string) => {
    const seen = new Set<string>();
    for (const e of rows) {
      const owner = String(e.key[1]);
      const id = String(e.key[2]);
      const b = bookings.get(id);
      if (!b || b[field] !== owner || e.value !== id) {
        report({
          code: "booking_index_orphan",
          sessionId: b?.sessionId ?? (field === "sessionId" ? owner : null),
          key: e.key,
          message: `${name} entry for booking ${id} matches no booking.`,
        });
      } else seen.add(id);
    }
    for (const b of bookings.values()) {
      if (!seen.has(b.id)) {
        report({
          code: "booking_index_missing",
          sessionId: b.sessionId,
          learnerId: b.learnerId,
          key: field === "sessionId"
            ? keys.bookingBySession(b.sessionId, b.id)
            : keys.bookingByLearner(b.learnerId, b.id),
          message: `Booking ${b.id} is missing from ${name}.`,
        });
      }
    }
  };
  bookingIndex(bookingBySessionRows, "sessionId", "bookings_by_session");
  bookingIndex(bookingByLearnerRows, "learnerId", "bookings_by_learner");

  // Waitlist entries: the key says the same as the value, and everyone in the queue is waiting.
  for (const e of waitlistRows) {
    const [, sessionId, joinedAt, learnerId] = e.key.map(String);
    const w = e.value;
    if (w.sessionId !== sessionId || w.joinedAt !== joinedAt || w.learnerId !== learnerId || w.status !== "waiting") {
      report({
        code: "waitlist_index_mismatch",
        sessionId,
        learnerId,
        key: e.key,
        message: `Waitlist entry says ${w.status} ${w.sessionId} ${w.joinedAt} ${w.learnerId}, unlike its key.`,
      });
    }
  }

  // waitlist_by_learner: a waiting entry for each queued learner, an offered entry for each offer.
  const wbl = new Map(waitlistByLearnerRows.map((e) => [`${String(e.key[2])} ${String(e.key[1])}`, e]));
  const wblExpected = new Map<string, string>(); // pair → description of what it should say
  for (const w of waiting) wblExpected.set(`${w.sessionId} ${w.learnerId}`, `waiting ${w.joinedAt}`);
  for (const h of activeHolds) {
    if (h.kind === "offer") wblExpected.set(`${h.sessionId} ${h.learnerId}`, `offered ${h.id}`);
  }
  for (const [pair, expected] of wblExpected) {
    const [sessionId, learnerId] = pair.split(" ");
    const got = wbl.get(pair)?.value;
    const actual = got
      ? (got.status === "waiting" ? `waiting ${got.joinedAt}` : `${got.status} ${got.offerHoldId}`)
      : "nothing";
    if (actual !== expected) {
      report({
        code: "waitlist_index_mismatch",
        sessionId,
        learnerId,
        key: keys.waitlistByLearner(learnerId, sessionId),
        message: `waitlist_by_learner says ${actual}, records say ${expected}.`,
      });
    }
  }
  for (const [pair, e] of wbl) {
    if (wblExpected.has(pair)) continue;
    const [sessionId, learnerId] = pair.split(" ");
    report({
      code: "waitlist_index_mismatch",
      sessionId,
      learnerId,
      key: e.key,
      message: `waitlist_by_learner says ${e.value.status} but the learner is neither waiting nor offered a seat.`,
    });
  }

  // learner_holds: each learner's live holds and offers; at most MAX_ACTIVE_HOLDS live holds, or the
  // admins' maxLiveHolds rule when higher (a lowered rule applies to new holds only).
  const holdLimit = Math.max(MAX_ACTIVE_HOLDS, (await getRules(kv)).rules.maxLiveHolds);
  const liveByLearner = new Map<string, Hold[]>();
  for (const h of activeHolds) if (isLive(h)) push(liveByLearner, h.learnerId, h);
  const docs = new Map(learnerHoldRows.map((e) => [String(e.key[1]), e.value]));
  for (const learnerId of new Set([...liveByLearner.keys(), ...docs.keys()])) {
    const live = liveByLearner.get(learnerId) ?? [];
    const items = (docs.get(learnerId)?.items ?? []).filter((i) => i.expiresAtMs > nowMs);
    const want = live.map((h) => `${h.id} ${h.sessionId} ${h.kind} ${Date.parse(h.expiresAt)}`).sort();
    const got = items.map((i) => `${i.holdId} ${i.sessionId} ${i.kind} ${i.expiresAtMs}`).sort();
    const involved = [...new Set([...live.map((h) => h.sessionId), ...items.map((i) => i.sessionId)])];
    if (want.join() !== got.join()) {
      report({
        code: "learner_holds_mismatch",
        sessionId: null,
        learnerId,
        key: keys.learnerHolds(learnerId),
        message: `learner_holds lists [${got.join("; ")}] but the live holds are [${want.join("; ")}].`,
      }, ...involved);
    }
    const nHolds = live.filter((h) => h.kind === "hold").length;
    if (nHolds > holdLimit) {
      report({
        code: "too_many_holds",
        sessionId: null,
        learnerId,
        message: `Learner ${learnerId} has ${nHolds} live holds (limit ${holdLimit}).`,
      }, ...involved);
    }
  }

  return { sessions: sessions.size, problems };
}
