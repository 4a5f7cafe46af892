/**
 * Test harness (not a test file itself): a storm of interleaved booking operations from many
 * learners against one store, with samplers that watch availability and consistency while it
 * runs, and the checks that every event matches a committed change once it is over.
 * @module
 */
import assert from "node:assert/strict";
import { getAvailability } from "../../lib/booking/availability.ts";
import { checkConsistency, type Problem } from "../../lib/booking/consistency.ts";
import { BookingEngine } from "../../lib/booking/engine.ts";
import { DomainError } from "../../lib/booking/errors.ts";
import { type CommittedEvent, type DomainEvent, type EventType, listEvents } from "../../lib/booking/events.ts";
import { keys } from "../../lib/store/keys.ts";
import type { Booking, Hold, LearnerHolds, Session, WaitlistEntry } from "../../lib/booking/model.ts";
import { Clock, MINUTE, putCourse, putSession, putUsers, self } from "./test_fixtures.ts";
import { enforceKvConnectLimits } from "../kv_connect_limits.ts";

/** Small seeded PRNG (mulberry32), so a failing storm can be replayed from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Codes an operation may legitimately be refused with during a storm. */
export const EXPECTED_CODES = new Set([
  "session_full",
  "already_holding",
  "already_booked",
  "already_waitlisted",
  "offer_pending",
  "too_many_holds",
  "hold_expired",
  "hold_released",
  "hold_already_confirmed",
  "hold_not_active",
  "booking_not_active",
  "seats_available",
  "not_on_waitlist",
  "busy",
]);

/** What the callers saw succeed. */
export interface Observed {
  holdsPlaced: Set<string>;
  bookingsConfirmed: Set<string>;
  bookingsCancelled: Set<string>;
  rescheduled: Set<string>;
  joins: number;
  leaves: number;
  released: number;
  releasedAsExpired: number;
  refusals: Map<string, number>;
  busy: number;
  ops: number;
}

/** Empty tallies. */
export function newObserved(): Observed {
  return {
    holdsPlaced: new Set(),
    bookingsConfirmed: new Set(),
    bookingsCancelled: new Set(),
    rescheduled: new Set(),
    joins: 0,
    leaves: 0,
    released: 0,
    releasedAsExpired: 0,
    refusals: new Map(),
    busy: 0,
    ops: 0,
  };
}

export interface StormOptions {
  seed: number;
  capacity: number;
  sessions: number;
  learners: number;
  /** Concurrent learner flows; each runs `steps` operations. */
  flows: number;
  steps: number;
  /** Engines on the store (2: two lanes compete for the same sessions). */
  engines?: 1 | 2;
  /** Open the store at this path (file-backed KV); one handle per engine. */
  path?: string;
  /** Advance the clock while the storm runs, so holds expire mid-storm. */
  clockStepMs?: number;
  /** Run checkConsistency while the storm runs. */
  liveConsistency?: boolean;
  holdMinutes?: number;
  /** Share of each session's seats booked before the storm (so cancels and reschedules have work). */
  prefill?: number;
  /** Hold every store handle to KV Connect's 10-check budget (as a remote `denokv` does). */
  kvConnectLimits?: boolean;
}

export interface StormResult {
  observed: Observed;
  samples: number;
  liveChecks: number;
  elapsedMs: number;
  eventCount: number;
  /** Lane commits, operations they carried, and versionstamp conflicts retried, over all engines. */
  lanes: { commits: number; ops: number; conflicts: number };
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs one storm and asserts, during and after it: availability never shows more seats taken than
 * capacity, checkConsistency finds nothing, listEvents pages return every event once in commit
 * order, and the events match both the stored records and what callers saw succeed.
 */
export async function storm(o: StormOptions): Promise<StormResult> {
  const started = performance.now();
  const random = rng(o.seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
  const kvs = [await Deno.openKv(o.path ?? ":memory:")];
  if (o.engines === 2 && o.path) kvs.push(await Deno.openKv(o.path));
  const spies = o.kvConnectLimits ? kvs.map(enforceKvConnectLimits) : [];
  const kv = kvs[0];
  const clock = new Clock();
  const engines = [new BookingEngine(kvs[0], { holdMinutes: o.holdMinutes ?? 15, now: clock.now })];
  if (o.engines === 2) {
    engines.push(new BookingEngine(kvs.at(-1)!, { holdMinutes: o.holdMinutes ?? 15, now: clock.now }));
  }
  const course = await putCourse(kv);
  const sessions: Session[] = [];
  for (let i = 0; i < o.sessions; i++) {
    sessions.push(await putSession(kv, course.id, { capacity: o.capacity, startsInHours: 24 * 30 + i }));
  }
  const learners = await putUsers(kv, o.learners);
  const observed = newObserved();
  // Book part of every session up front, one learner per seat.
  let next = 0;
  for (const s of sessions) {
    for (let i = 0; i < Math.round(o.capacity * (o.prefill ?? 0)); i++) {
      const learner = learners[next++ % learners.length];
      const { hold } = await engines[0].placeHold(s.id, learner.id, self(learner.id));
      const { booking } = await engines[0].confirmHold(hold.id, self(learner.id));
      observed.holdsPlaced.add(hold.id);
      observed.bookingsConfirmed.add(booking.id);
    }
  }
  const unexpected: unknown[] = [];
  const call = async <T>(p: () => Promise<T>): Promise<T | null> => {
    observed.ops++;
    try {
      return await p();
    } catch (err) {
      if (err instanceof DomainError && EXPECTED_CODES.has(err.code)) {
        observed.refusals.set(err.code, (observed.refusals.get(err.code) ?? 0) + 1);
        if (err.code === "busy") observed.busy++;
        return null;
      }
      unexpected.push(err);
      return null;
    }
  };
  const knownHolds: string[] = [];

  async function flow(): Promise<void> {
    const learner = pick(learners);
    const me = self(learner.id);
    const engine = () => pick(engines);
    // Start from what the learner already has (earlier flows of the same learner made it).
    await delay(random() * 5);
    const holds: Hold[] = [];
    const bookings: Booking[] = [];
    const waiting = new Set<string>();
    for await (const e of kv.list<string>({ prefix: ["bookings_by_learner", learner.id] })) {
      const b = (await kv.get<Booking>(keys.booking(e.value))).value;
      if (b?.status === "confirmed") bookings.push(b);
    }
    const mine = (await kv.get<LearnerHolds>(keys.learnerHolds(learner.id))).value?.items ?? [];
    for (const item of mine) {
      const h = (await kv.get<Hold>(keys.hold(item.holdId))).value;
      if (h?.status === "active") holds.push(h);
    }
    for await (const e of kv.list<WaitlistEntry>({ prefix: ["waitlist_by_learner", learner.id] })) {
      waiting.add(String(e.key[2]));
    }
    for (let step = 0; step < o.steps; step++) {
      const r = random();
      if (r < 0.3) await delay(random() * 3);
      else if (r < 0.6) await Promise.resolve();
      const a = random();
      let b = 1;
      const takeOne = <T>(xs: T[]) => xs.splice(Math.floor(random() * xs.length), 1)[0];
      if (holds.length && a < 0.45) {
        const hold = takeOne(holds);
        const res = await call(() => engine().confirmHold(hold.id, me));
        if (res) {
          bookings.push(res.booking);
          observed.bookingsConfirmed.add(res.booking.id);
        }
      } else if (holds.length && a < 0.55) {
        const hold = takeOne(holds);
        const res = await call(() => engine().releaseHold(hold.id, me));
        if (res?.status === "released") observed.released++;
        if (res?.status === "expired") observed.releasedAsExpired++;
      } else if (bookings.length && a < 0.66) {
        const booking = takeOne(bookings);
        const res = await call(() => engine().cancelBooking(booking.id, me));
        if (res) observed.bookingsCancelled.add(res.id);
      } else if (bookings.length && a < 0.8) {
        const i = Math.floor(random() * bookings.length);
        const target = pick(sessions.filter((s) => s.id !== bookings[i].sessionId));
        const res = await call(() => engine().rescheduleBooking(bookings[i].id, target.id, me));
        if (res) {
          bookings[i] = res.booking;
          observed.rescheduled.add(res.booking.id);
        }
      } else if (waiting.size && a < 0.83) {
        const sid = pick([...waiting]);
        waiting.delete(sid);
        const res = await call(async () => {
          await engine().leaveWaitlist(sid, learner.id, me);
          return true;
        });
        if (res) observed.leaves++;
      } else if (waiting.size && a < 0.93) {
        // Take up an offer if one came.
        const sid = pick([...waiting]);
        const entry = (await kv.get<WaitlistEntry>(keys.waitlistByLearner(learner.id, sid))).value;
        if (entry?.status === "offered" && entry.offerHoldId) {
          waiting.delete(sid);
          const res = await call(() => engine().confirmHold(entry.offerHoldId!, me));
          if (res) {
            bookings.push(res.booking);
            observed.bookingsConfirmed.add(res.booking.id);
          }
        }
      } else if ((b = random()) < 0.12) {
        const s = pick(sessions);
        const res = await call(() => engine().joinWaitlist(s.id, learner.id, me));
        if (res) {
          waiting.add(s.id);
          observed.joins++;
        }
      } else if (b < 0.2 && knownHolds.length) {
        // The expiry message for some hold arrives (often early: then it is a no-op).
        await call(() => engine().expireHold(pick(knownHolds)));
      } else {
        const target = pick(sessions);
        let full = false;
        const res = await call(() =>
          engine().placeHold(target.id, learner.id, me).catch((err) => {
            full = err instanceof DomainError && err.code === "session_full";
            throw err;
          })
        );
        if (full && random() < 0.3) {
          // Full: queue for it.
          const joined = await call(() => engine().joinWaitlist(target.id, learner.id, me));
          if (joined) {
            waiting.add(target.id);
            observed.joins++;
          }
        }
        if (res) {
          knownHolds.push(res.hold.id);
          if (!res.replayed) observed.holdsPlaced.add(res.hold.id);
          if (random() < 0.5) {
            // Straight through checkout.
            const done = await call(() => engine().confirmHold(res.hold.id, me));
            if (done) {
              bookings.push(done.booking);
              observed.bookingsConfirmed.add(done.booking.id);
            }
          } else holds.push(res.hold);
        }
      }
    }
  }

  let done = false;
  let samples = 0;
  let liveChecks = 0;
  const violations: string[] = [];
  const sampler = (async () => {
    while (!done) {
      const now = clock.now();
      const avail = await getAvailability(kv, sessions, now);
      // A sample is exact only when the clock stood still while it was read: commits seen were
      // decided at or before `now`, so a hold they treated as lapsed is lapsed here too.
      if (clock.ms === now.getTime()) {
        samples++;
        for (const a of avail.values()) {
          if (a.taken > a.capacity || a.taken < 0 || a.seatsLeft < 0) {
            violations.push(`availability ${a.sessionId}: taken ${a.taken} of ${a.capacity}`);
          }
        }
      }
      await delay(1);
    }
  })();
  const checker = (async () => {
    if (!o.liveConsistency) return;
    while (!done) {
      const report = await checkConsistency(kv, clock.now);
      liveChecks++;
      for (const p of report.problems) violations.push(`live consistency: ${p.code} ${p.message}`);
      await delay(5);
    }
  })();
  const ticker = (async () => {
    if (!o.clockStepMs) return;
    while (!done) {
      await delay(2);
      clock.advance(Math.round(random() * o.clockStepMs));
      if (random() < 0.2) await call(() => pick(engines).sweepExpiredHolds());
    }
  })();

  await Promise.all(Array.from({ length: o.flows }, flow));
  done = true;
  await Promise.all([sampler, checker, ticker]);

  assert.deepEqual(unexpected, [], "only expected refusals");
  assert.deepEqual(violations, [], "no violation while the storm ran");
  const report = await checkConsistency(kv, clock.now());
  assert.deepEqual(report.problems satisfies Problem[], [], "consistent after the storm");
  assert.equal(report.sessions, sessions.length);
  // Let the remaining holds lapse, sweep, and check again: everything expired ends up cleaned.
  clock.advance(48 * 60 * MINUTE);
  while (await engines[0].sweepExpiredHolds()) { /* offers passed on may lapse in turn */ }
  assert.deepEqual((await checkConsistency(kv, clock.now())).problems, [], "consistent after the final sweep");
  const eventCount = await assertEventsMatch(kv, observed);
  for (const spy of spies) assert.ok(spy.most() <= 10, `a commit carried ${spy.most()} checks`);
  for (const k of kvs) k.close();
  const lanes = { commits: 0, ops: 0, conflicts: 0 };
  for (const e of engines) {
    lanes.commits += e.lanes.stats.commits;
    lanes.ops += e.lanes.stats.ops;
    lanes.conflicts += e.lanes.stats.conflicts;
  }
  return { observed, samples, liveChecks, elapsedMs: Math.round(performance.now() - started), eventCount, lanes };
}

async function values<T>(kv: Deno.Kv, prefix: Deno.KvKey): Promise<T[]> {
  const out: T[] = [];
  for await (const e of kv.list<T>({ prefix })) out.push(e.value);
  return out;
}

/** Every stored event ordered by commit (versionstamp, then key): what listEvents must return. */
export async function rawEvents(kv: Deno.Kv): Promise<CommittedEvent[]> {
  const out: CommittedEvent[] = [];
  for await (const e of kv.list<DomainEvent>({ prefix: keys.eventsPrefix() })) {
    out.push({ ...e.value, versionstamp: e.versionstamp });
  }
  return out.sort((a, b) =>
    a.versionstamp !== b.versionstamp ? (a.versionstamp < b.versionstamp ? -1 : 1) : a.key < b.key ? -1 : 1
  );
}

/** Pages through listEvents with `limit` and returns what it saw. */
export async function pageEvents(kv: Deno.Kv, limit: number): Promise<CommittedEvent[]> {
  const out: CommittedEvent[] = [];
  let after: string | null = null;
  for (let guard = 0; guard < 100_000; guard++) {
    const page: { events: CommittedEvent[]; nextCursor: string | null } = await listEvents(kv, { after, limit });
    if (!page.events.length) return out;
    assert.ok(page.events.length <= limit);
    out.push(...page.events);
    after = page.nextCursor;
  }
  throw new Error("listEvents never ran dry");
}

/**
 * Asserts listEvents pages return every event exactly once in commit order, and that the events
 * match the committed records one for one and what callers saw succeed. Returns the event count.
 */
export async function assertEventsMatch(kv: Deno.Kv, observed: Observed): Promise<number> {
  const raw = await rawEvents(kv);
  for (const limit of [7, 100]) {
    const paged = await pageEvents(kv, limit);
    if (paged.length !== raw.length || paged.some((e, i) => e.key !== raw[i].key)) {
      const seen = new Set(paged.map((e) => e.key));
      const missing = raw.filter((e) => !seen.has(e.key));
      const dup = paged.length - seen.size;
      const lag = missing.map((m) => {
        const i = raw.indexOf(m);
        return `${m.key} (${m.occurredAt}) idx ${i} prev ${raw[i - 1]?.key} (${raw[i - 1]?.occurredAt})`;
      });
      assert.fail(
        `listEvents(limit ${limit}): ${missing.length} missing, ${dup} duplicated of ${raw.length}: ${
          lag.slice(0, 5).join("; ")
        }`,
      );
    }
  }
  assert.equal(new Set(raw.map((e) => e.id)).size, raw.length, "event ids are unique");
  const count = (t: EventType) => raw.filter((e) => e.type === t);
  const ids = (t: EventType, field: string) => new Set(count(t).map((e) => String(e.data[field])));
  const holds = await values<Hold>(kv, ["holds"]);
  const bookings = await values<Booking>(kv, ["bookings"]);
  const waiting = await values<WaitlistEntry>(kv, ["waitlist"]);
  const idsOf = <T extends { id: string }>(xs: T[]) => new Set(xs.map((x) => x.id));

  // Holds: one hold.placed per hold, one waitlist.offered per offer, one end event per ended hold.
  assert.deepEqual(ids("hold.placed", "holdId"), idsOf(holds.filter((h) => h.kind === "hold")));
  assert.equal(count("hold.placed").length, holds.filter((h) => h.kind === "hold").length);
  assert.deepEqual(ids("waitlist.offered", "holdId"), idsOf(holds.filter((h) => h.kind === "offer")));
  assert.equal(count("waitlist.offered").length, holds.filter((h) => h.kind === "offer").length);
  assert.deepEqual(ids("hold.released", "holdId"), idsOf(holds.filter((h) => h.status === "released")));
  assert.equal(count("hold.released").length, holds.filter((h) => h.status === "released").length);
  assert.deepEqual(ids("hold.expired", "holdId"), idsOf(holds.filter((h) => h.status === "expired")));
  assert.equal(count("hold.expired").length, holds.filter((h) => h.status === "expired").length);
  assert.deepEqual(
    ids("booking.confirmed", "holdId"),
    new Set(holds.filter((h) => h.status === "confirmed").map((h) => h.id)),
  );

  // Bookings: confirmed via a hold, moved by reschedule, cancelled.
  assert.deepEqual(ids("booking.confirmed", "bookingId"), idsOf(bookings.filter((b) => b.holdId)));
  assert.equal(count("booking.confirmed").length, bookings.filter((b) => b.holdId).length);
  assert.deepEqual(ids("booking.rescheduled", "bookingId"), idsOf(bookings.filter((b) => b.rescheduledFromBookingId)));
  assert.equal(count("booking.rescheduled").length, bookings.filter((b) => b.rescheduledFromBookingId).length);
  const cancelled = bookings.filter((b) => b.status === "cancelled" && !b.rescheduledToBookingId);
  assert.deepEqual(ids("booking.cancelled", "bookingId"), idsOf(cancelled));
  assert.equal(count("booking.cancelled").length, cancelled.length);
  assert.equal(
    bookings.filter((b) => b.status === "cancelled" && b.rescheduledToBookingId).length,
    count("booking.rescheduled").length,
  );

  // Waitlist: every join ends in a leave, an offer, or is still waiting.
  assert.equal(
    count("waitlist.joined").length,
    count("waitlist.left").length + count("waitlist.offered").length + waiting.length,
  );

  // What the callers saw succeed is exactly what the events say happened.
  assert.deepEqual(ids("hold.placed", "holdId"), observed.holdsPlaced);
  assert.deepEqual(ids("booking.confirmed", "bookingId"), observed.bookingsConfirmed);
  assert.deepEqual(ids("booking.cancelled", "bookingId"), observed.bookingsCancelled);
  assert.deepEqual(ids("booking.rescheduled", "bookingId"), observed.rescheduled);
  assert.equal(count("waitlist.joined").length, observed.joins);
  assert.equal(count("hold.released").length + count("waitlist.left").length, observed.released + observed.leaves);
  return raw.length;
}
