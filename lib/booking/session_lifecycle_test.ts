/** Session lifecycle: schedule, update and cancel, each with its events, under concurrency too. */
import assert from "node:assert/strict";
import type { NewSession } from "../domain/session.ts";
import { ValidationError } from "../domain/validation.ts";
import { keys, type SessionIndexEntry } from "../store/keys.ts";
import { sessionIndexKeys } from "../store/session_index.ts";
import { getAvailability } from "./availability.ts";
import { checkConsistency, STALLED_CANCEL_MS } from "./consistency.ts";
import { BookingEngine } from "./engine.ts";
import type { CancelSessionResult, ResumeCancelsResult } from "./session_lifecycle.ts";
import { DomainError } from "./errors.ts";
import type { Actor, CommittedEvent, EventType } from "./events.ts";
import type { Booking, Hold, PendingSessionCancel, SeatDoc, Session, WaitlistEntry } from "./model.ts";
import { rawEvents, rng } from "../../tests/booking/storm.ts";
import {
  admin,
  type Clock,
  HOUR,
  listValues,
  MINUTE,
  putLocation,
  putUser,
  putUsers,
  self,
  setup,
  T0,
  teardown,
} from "../../tests/booking/test_fixtures.ts";

/** Asserts `p` rejects with a DomainError of this status and code; returns it. */
async function rejects(p: Promise<unknown>, status: number, code: string): Promise<DomainError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DomainError, `expected DomainError ${code}, got ${err}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.status, status);
    return err;
  }
  assert.fail(`expected ${status} ${code}, but it succeeded`);
}

/** Asserts `p` rejects with a ValidationError; returns the issue paths. */
async function invalid(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected ValidationError, got ${err}`);
    return err.issues.map((i) => i.path);
  }
  assert.fail("expected a ValidationError, but it succeeded");
}

async function assertConsistent(kv: Deno.Kv, now: Date): Promise<void> {
  assert.deepEqual((await checkConsistency(kv, now)).problems, []);
}

/** The distinct problem codes checkConsistency reports, sorted. */
async function problemCodes(kv: Deno.Kv, now: Date): Promise<string[]> {
  return [...new Set((await checkConsistency(kv, now)).problems.map((p) => p.code))].sort();
}

async function seats(kv: Deno.Kv, sessionId: string): Promise<SeatDoc> {
  return (await kv.get<SeatDoc>(keys.seats(sessionId))).value!;
}

function ofType(events: CommittedEvent[], type: EventType): CommittedEvent[] {
  return events.filter((e) => e.type === type);
}

/** An admin with a reason, as the API will pass it. */
function staff(reason: string | null = null): Actor {
  return { ...admin(), reason };
}

/** A valid in-person session input for `courseId` at `locationId`, taught by `instructorId`. */
function input(courseId: string, locationId: string, instructorId: string, over: Partial<NewSession> = {}): NewSession {
  return {
    courseId,
    startsAt: new Date(T0 + 7 * 24 * HOUR).toISOString(),
    endsAt: new Date(T0 + 7 * 24 * HOUR + 2 * HOUR).toISOString(),
    timeZone: "America/New_York",
    mode: "in_person",
    locationId,
    capacity: 10,
    instructorId,
    ...over,
  };
}

/** Engine, course, a location, an instructor and one scheduled session with `capacity`. */
async function world(capacity: number, over: Partial<NewSession> = {}, path?: string) {
  const { kv, engine, clock, course } = await setup({ path });
  const location = await putLocation(kv);
  const instructor = await putUser(kv, { roles: ["instructor"] });
  const session = await engine.scheduleSession(
    input(course.id, location.id, instructor.id, { capacity, ...over }),
    staff(),
  );
  return { kv, engine, clock, course, location, instructor, session };
}

/** A learner who holds and confirms a seat. */
async function book(engine: BookingEngine, sessionId: string, learnerId: string): Promise<Booking> {
  const { hold } = await engine.placeHold(sessionId, learnerId, self(learnerId));
  return (await engine.confirmHold(hold.id, self(learnerId))).booking;
}

/**
 * A store that dies (every commit fails for good) once `n` commits have landed: a process dying
 * midway. A commit refused by its checks is not counted, so the crash point does not move when a
 * retry is needed.
 */
function crashesAfter(kv: Deno.Kv, n: number): Deno.Kv {
  let left = n;
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const wrapped: Deno.AtomicOperation = new Proxy(op, {
            get(t, p) {
              if (p === "commit") {
                return async () => {
                  if (left <= 0) throw new Error("process crashed");
                  const res = await t.commit();
                  if (res.ok) left--;
                  return res;
                };
              }
              const v = Reflect.get(t, p, t);
              return typeof v === "function" ? (...args: unknown[]) => (v.apply(t, args), wrapped) : v;
            },
          });
          return wrapped;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

// ── schedule ──────────────────────────────────────────────────────────────────────────────────

Deno.test("[session] scheduleSession writes session, indexes, zero seats and session.scheduled in one commit", async () => {
  const { kv, engine, clock, course } = await setup();
  const location = await putLocation(kv);
  const instructor = await putUser(kv, { roles: ["instructor"] });
  const actor = staff("spring schedule");
  const s = await engine.scheduleSession(input(course.id, location.id, instructor.id, { capacity: 12 }), actor);
  assert.equal(s.status, "scheduled");
  assert.equal(s.createdAt, new Date(T0).toISOString());
  const stored = await kv.get<Session>(keys.session(s.id));
  assert.deepEqual(stored.value, s);
  for (const key of sessionIndexKeys(s)) {
    const entry = (await kv.get<SessionIndexEntry>(key)).value;
    assert.equal(entry?.status, "scheduled", String(key[0]));
    assert.equal(entry?.id, s.id);
  }
  assert.deepEqual(await seats(kv, s.id), { confirmed: 0, holds: 0, waiting: 0 });
  const events = await rawEvents(kv);
  assert.deepEqual(events.map((e) => e.type), ["session.scheduled"]);
  const [e] = events;
  assert.equal(e.versionstamp, stored.versionstamp, "event and session in one commit");
  assert.equal(e.sessionId, s.id);
  assert.equal(e.learnerId, null);
  assert.equal(e.reason, "spring schedule");
  assert.equal(e.correlationId, actor.correlationId);
  assert.deepEqual(e.data, {
    courseId: course.id,
    startsAt: s.startsAt,
    endsAt: s.endsAt,
    timeZone: "America/New_York",
    mode: "in_person",
    locationId: location.id,
    joinUrl: null,
    capacity: 12,
    instructorId: instructor.id,
    waitlistEnabled: true,
  });
  // It takes holds at once.
  const [a] = await putUsers(kv, 1);
  await engine.placeHold(s.id, a.id, self(a.id));
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[session] scheduleSession: no session and no event unless it commits (validation, references, id, store)", async () => {
  const { kv, engine, course } = await setup();
  const location = await putLocation(kv);
  const instructor = await putUser(kv, { roles: ["instructor"] });
  const ok = input(course.id, location.id, instructor.id);
  const missing = "01JZZZZZZZZZZZZZZZZZZZZZZZ";
  assert.deepEqual(
    await invalid(engine.scheduleSession({ ...ok, capacity: 0, endsAt: ok.startsAt }, staff())),
    ["capacity", "endsAt"],
  );
  assert.deepEqual(await invalid(engine.scheduleSession({ ...ok, locationId: null }, staff())), ["locationId"]);
  assert.deepEqual(
    await invalid(
      engine.scheduleSession({ ...ok, courseId: missing, locationId: missing, instructorId: missing }, staff()),
    ),
    ["courseId", "locationId", "instructorId"],
  );
  assert.deepEqual(await invalid(engine.scheduleSession({ ...ok, status: "cancelled" }, staff())), ["status"]);
  await rejects(engine.scheduleSession(ok, self(instructor.id)), 403, "forbidden");
  // A store that fails the commit: the error surfaces and nothing is written.
  const refusing = new BookingEngine(crashesAfter(kv, 0), { holdMinutes: 15 });
  await assert.rejects(refusing.scheduleSession(ok, staff()), /process crashed/);
  assert.deepEqual(await listValues(kv, ["sessions"]), []);
  assert.deepEqual(await listValues(kv, ["seats"]), []);
  assert.deepEqual(await rawEvents(kv), []);
  // Same id twice: the second is refused and writes no event.
  const s = await engine.scheduleSession(ok, staff());
  await rejects(engine.scheduleSession({ ...ok, id: s.id, capacity: 3 }, staff()), 409, "session_exists");
  assert.equal((await kv.get<Session>(keys.session(s.id))).value!.capacity, 10);
  assert.deepEqual((await rawEvents(kv)).map((e) => e.type), ["session.scheduled"]);
  // An instructor (staff) may schedule.
  await engine.scheduleSession(ok, { userId: instructor.id, roles: ["instructor"], origin: "api", correlationId: "c" });
  assert.equal((await rawEvents(kv)).length, 2);
  await teardown(kv);
});

// ── update ────────────────────────────────────────────────────────────────────────────────────

Deno.test("[session] updateSession moves index keys and writes session.updated with the changed fields only", async () => {
  const { kv, engine, clock, session: s } = await world(10);
  const other = await putLocation(kv, { name: "Dallas Training Center", timeZone: "America/Chicago" });
  const teacher = await putUser(kv, { roles: ["instructor"] });
  clock.advance(MINUTE);
  const startsAt = new Date(Date.parse(s.startsAt) + 24 * HOUR).toISOString();
  const endsAt = new Date(Date.parse(s.endsAt) + 24 * HOUR).toISOString();
  const actor = staff("room change");
  const after = await engine.updateSession(s.id, {
    startsAt,
    endsAt,
    locationId: other.id,
    instructorId: teacher.id,
    timeZone: "America/Chicago",
    capacity: 10, // unchanged: not reported
  }, actor);
  assert.equal(after.updatedAt, clock.now().toISOString());
  assert.deepEqual((await kv.get<Session>(keys.session(s.id))).value, after);
  for (const key of sessionIndexKeys(s)) assert.equal((await kv.get(key)).value, null, `old ${String(key[0])} gone`);
  for (const key of sessionIndexKeys(after)) {
    assert.equal((await kv.get<SessionIndexEntry>(key)).value?.locationId, other.id, `new ${String(key[0])}`);
  }
  const events = await rawEvents(kv);
  assert.deepEqual(events.map((e) => e.type), ["session.scheduled", "session.updated"]);
  assert.deepEqual(events[1].data.changes, {
    startsAt: { from: s.startsAt, to: startsAt },
    endsAt: { from: s.endsAt, to: endsAt },
    locationId: { from: s.locationId, to: other.id },
    instructorId: { from: s.instructorId, to: teacher.id },
    timeZone: { from: "America/New_York", to: "America/Chicago" },
  });
  assert.equal(events[1].reason, "room change");
  assert.equal(events[1].versionstamp, (await kv.get(keys.session(s.id))).versionstamp);
  // A patch that changes nothing: same session back, nothing written.
  const stamp = (await kv.get(keys.session(s.id))).versionstamp;
  assert.deepEqual(await engine.updateSession(s.id, { capacity: 10, locationId: other.id }, staff()), after);
  assert.equal((await kv.get(keys.session(s.id))).versionstamp, stamp);
  assert.equal((await rawEvents(kv)).length, 2);
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[session] updateSession refusals: learner, unknown session, bad values, unknown reference, status, cancelled", async () => {
  const { kv, engine, session: s, instructor } = await world(10);
  await rejects(engine.updateSession(s.id, { capacity: 5 }, self(instructor.id)), 403, "forbidden");
  await rejects(engine.updateSession("01JZZZZZZZZZZZZZZZZZZZZZZZ", { capacity: 5 }, staff()), 404, "session_not_found");
  assert.deepEqual(await invalid(engine.updateSession(s.id, { capacity: 10_001 }, staff())), ["capacity"]);
  assert.deepEqual(await invalid(engine.updateSession(s.id, { endsAt: s.startsAt }, staff())), ["endsAt"]);
  assert.deepEqual(await invalid(engine.updateSession(s.id, { mode: "hybrid" }, staff())), ["joinUrl"]);
  assert.deepEqual(
    await invalid(engine.updateSession(s.id, { locationId: "01JZZZZZZZZZZZZZZZZZZZZZZZ" }, staff())),
    ["locationId"],
  );
  assert.deepEqual(await invalid(engine.updateSession(s.id, { status: "cancelled" }, staff())), ["status"]);
  assert.deepEqual((await rawEvents(kv)).map((e) => e.type), ["session.scheduled"]);
  await engine.cancelSession(s.id, staff());
  await rejects(engine.updateSession(s.id, { capacity: 5 }, staff()), 409, "session_cancelled");
  await teardown(kv);
});

Deno.test("[session] updateSession: capacity below the seats taken now → 409, nothing changes; lapsed holds do not count", async () => {
  const { kv, engine, clock, session: s } = await world(5);
  const [a, b, c, e] = await putUsers(kv, 4);
  await book(engine, s.id, a.id);
  await book(engine, s.id, b.id);
  await engine.placeHold(s.id, e.id, self(e.id));
  clock.advance(10 * MINUTE);
  await engine.placeHold(s.id, c.id, self(c.id));
  clock.advance(6 * MINUTE); // e's hold lapsed (not cleaned up): taken = 2 bookings + c's hold
  const before = await kv.get(keys.session(s.id));
  const seatsBefore = await kv.get(keys.seats(s.id));
  const nEvents = (await rawEvents(kv)).length;
  const err = await rejects(engine.updateSession(s.id, { capacity: 2 }, staff()), 409, "capacity_below_taken");
  assert.deepEqual(err.details, { taken: 3, requested: 2 });
  assert.equal((await kv.get(keys.session(s.id))).versionstamp, before.versionstamp);
  assert.equal((await kv.get(keys.seats(s.id))).versionstamp, seatsBefore.versionstamp);
  assert.equal((await rawEvents(kv)).length, nEvents);
  const after = await engine.updateSession(s.id, { capacity: 3 }, staff());
  assert.equal(after.capacity, 3);
  const [d] = await putUsers(kv, 1);
  await rejects(engine.placeHold(s.id, d.id, self(d.id)), 409, "session_full");
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[session] updateSession: raising capacity offers the new seats to the waitlist in the same commit", async () => {
  const { kv, engine, clock, session: s } = await world(2);
  const [a, b, c, d, e, f] = await putUsers(kv, 6);
  await book(engine, s.id, a.id);
  await book(engine, s.id, b.id);
  for (const u of [c, d, e]) await engine.joinWaitlist(s.id, u.id, self(u.id));
  const nEvents = (await rawEvents(kv)).length;
  await engine.updateSession(s.id, { capacity: 4 }, staff("bigger room"));
  const events = (await rawEvents(kv)).slice(nEvents);
  assert.deepEqual(events.map((x) => x.type), ["session.updated", "waitlist.offered", "waitlist.offered"]);
  assert.equal(new Set(events.map((x) => x.versionstamp)).size, 1, "one commit");
  assert.deepEqual(events.slice(1).map((x) => x.learnerId), [c.id, d.id]);
  assert.deepEqual(events[0].data.changes, { capacity: { from: 2, to: 4 } });
  assert.equal((await kv.get<{ kind: string }>(keys.place(s.id, c.id))).value?.kind, "offer");
  assert.equal(await engine.waitlistPosition(s.id, e.id), 1);
  // A newcomer does not get a seat: the two new ones are offered.
  await rejects(engine.placeHold(s.id, f.id, self(f.id)), 409, "session_full");
  // Open offers count as taken.
  const err = await rejects(engine.updateSession(s.id, { capacity: 3 }, staff()), 409, "capacity_below_taken");
  assert.deepEqual(err.details, { taken: 4, requested: 3 });
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[session] storm: 50 concurrent holds and capacity cuts on another engine never overfill", async () => {
  for (let round = 0; round < 6; round++) {
    const random = rng(4242 + round);
    const { kv, engine, clock, session: s } = await world(40);
    const other = new BookingEngine(kv, { holdMinutes: 15, now: clock.now });
    const learners = await putUsers(kv, 50);
    let done = false;
    const violations: string[] = [];
    const sampler = (async () => {
      while (!done) {
        // Capacity first, then seats: a cut only lands when taken fits it, and taken only falls after.
        const session = (await kv.get<Session>(keys.session(s.id))).value!;
        const a = (await getAvailability(kv, [session], clock.now())).get(s.id)!;
        if (a.taken > a.capacity) violations.push(`taken ${a.taken} of ${a.capacity}`);
        await new Promise((r) => setTimeout(r, 0));
      }
    })();
    const outcomes = { held: 0, full: 0, cuts: 0, refusedCuts: 0 };
    const holds = learners.map(async (l) => {
      await new Promise((r) => setTimeout(r, random() * 20));
      const eng = random() < 0.5 ? engine : other;
      try {
        const { hold } = await eng.placeHold(s.id, l.id, self(l.id));
        outcomes.held++;
        const r = random();
        if (r < 0.4) await eng.confirmHold(hold.id, self(l.id));
        else if (r < 0.7) {
          await new Promise((r) => setTimeout(r, random() * 5));
          await eng.releaseHold(hold.id, self(l.id));
        }
      } catch (err) {
        if (!(err instanceof DomainError) || !["session_full", "busy"].includes(err.code)) throw err;
        outcomes.full++;
      }
    });
    const cuts = (async () => {
      for (const capacity of [36, 30, 26, 22, 18, 14]) {
        await new Promise((r) => setTimeout(r, random() * 6));
        try {
          await other.updateSession(s.id, { capacity }, staff());
          outcomes.cuts++;
        } catch (err) {
          if (!(err instanceof DomainError) || !["capacity_below_taken", "busy"].includes(err.code)) throw err;
          outcomes.refusedCuts++;
        }
      }
    })();
    await Promise.all([...holds, cuts]);
    done = true;
    await sampler;
    assert.deepEqual(violations, []);
    const final = (await kv.get<Session>(keys.session(s.id))).value!;
    const doc = await seats(kv, s.id);
    assert.ok(doc.confirmed + doc.holds <= final.capacity, `${doc.confirmed + doc.holds} of ${final.capacity}`);
    assert.ok(outcomes.held > 0, JSON.stringify(outcomes));
    assert.equal(outcomes.cuts + outcomes.refusedCuts, 6);
    const report = await checkConsistency(kv, clock.now());
    assert.deepEqual(report.problems, [], JSON.stringify(outcomes));
    const updates = ofType(await rawEvents(kv), "session.updated");
    assert.equal(updates.length, outcomes.cuts);
    await teardown(kv);
  }
});

// ── cancel ────────────────────────────────────────────────────────────────────────────────────

/** Nothing of a cancelled session is left live anywhere. */
async function assertCleared(kv: Deno.Kv, clock: Clock, sessionId: string): Promise<void> {
  assert.deepEqual(await seats(kv, sessionId), { confirmed: 0, holds: 0, waiting: 0 });
  assert.deepEqual(await listValues(kv, keys.placesPrefix(sessionId)), []);
  assert.deepEqual(await listValues(kv, keys.holdsBySessionPrefix(sessionId)), []);
  assert.deepEqual(await listValues(kv, keys.waitlistPrefix(sessionId)), []);
  const holds = (await listValues<Hold>(kv, ["holds"])).filter((h) => h.sessionId === sessionId);
  assert.deepEqual(holds.filter((h) => h.status === "active"), []);
  const bookings = (await listValues<Booking>(kv, ["bookings"])).filter((b) => b.sessionId === sessionId);
  assert.deepEqual(bookings.filter((b) => b.status === "confirmed"), []);
  const byLearner = (await listValues<WaitlistEntry>(kv, ["waitlist_by_learner"])).filter((w) =>
    w.sessionId === sessionId
  );
  assert.deepEqual(byLearner, []);
  const session = (await kv.get<Session>(keys.session(sessionId))).value!;
  assert.equal(session.status, "cancelled");
  assert.equal((await kv.get(keys.sessionCancelPending(sessionId))).value, null, "no cancel pending");
  for (const key of sessionIndexKeys(session)) {
    assert.equal((await kv.get<SessionIndexEntry>(key)).value?.status, "cancelled", String(key[0]));
  }
  await assertConsistent(kv, clock.now());
}

Deno.test("[session] cancelSession clears bookings, holds, offers and the waitlist, with exactly one event each", async () => {
  const { kv, engine, clock, session: s } = await world(5);
  const [a, b, c, d, e, f, g, h] = await putUsers(kv, 8);
  const ba = await book(engine, s.id, a.id);
  const bb = await book(engine, s.id, b.id);
  const bh = await book(engine, s.id, h.id);
  const { hold: he } = await engine.placeHold(s.id, e.id, self(e.id));
  clock.advance(10 * MINUTE);
  const { hold: hc } = await engine.placeHold(s.id, c.id, self(c.id));
  for (const u of [d, f, g]) await engine.joinWaitlist(s.id, u.id, self(u.id));
  await engine.cancelBooking(bh.id, self(h.id)); // d gets an offer
  const offer = (await kv.get<{ kind: string; id: string }>(keys.place(s.id, d.id))).value!;
  assert.equal(offer.kind, "offer");
  clock.advance(6 * MINUTE); // e's hold lapsed, not cleaned up
  const nBefore = (await rawEvents(kv)).length;
  const actor = staff("instructor ill");
  const result = await engine.cancelSession(s.id, actor);
  assert.equal(result.session.status, "cancelled");
  assert.deepEqual(
    { ...result, session: undefined },
    { session: undefined, cancelledBookings: 2, releasedHolds: 2, expiredHolds: 1, removedWaitlist: 2 },
  );
  const events = (await rawEvents(kv)).slice(nBefore);
  const count = (t: EventType) => ofType(events, t).length;
  assert.equal(events.length, 8);
  assert.equal(count("booking.cancelled"), 2);
  assert.equal(count("hold.released"), 2);
  assert.equal(count("hold.expired"), 1);
  assert.equal(count("waitlist.left"), 2);
  assert.equal(count("session.cancelled"), 1);
  assert.equal(events.at(-1)!.type, "session.cancelled", "session.cancelled comes last");
  assert.equal(events.at(-1)!.learnerId, null);
  for (const ev of events) {
    assert.equal(ev.reason, "instructor ill", ev.type);
    assert.equal(ev.correlationId, actor.correlationId, ev.type);
  }
  assert.deepEqual(
    new Set(ofType(events, "booking.cancelled").map((x) => x.data.bookingId)),
    new Set([ba.id, bb.id]),
  );
  for (const x of ofType(events, "booking.cancelled")) {
    assert.equal(x.data.bySessionCancel, true);
    assert.equal(x.data.late, false);
  }
  assert.deepEqual(new Set(ofType(events, "hold.released").map((x) => x.data.holdId)), new Set([hc.id, offer.id]));
  assert.equal(ofType(events, "hold.expired")[0].data.holdId, he.id);
  assert.deepEqual(new Set(ofType(events, "waitlist.left").map((x) => x.learnerId)), new Set([f.id, g.id]));
  assert.equal(count("waitlist.offered"), 0, "no offer is made on the way out");
  const cancelled = (await kv.get<Booking>(keys.booking(ba.id))).value!;
  assert.equal(cancelled.cancelReason, "instructor ill");
  assert.equal(cancelled.lateCancel, false);
  assert.equal(cancelled.audit.at(-1)!.action, "session_cancelled");
  await assertCleared(kv, clock, s.id);
  // Done is done: 409 for a second run, and the session takes nothing new.
  await rejects(engine.cancelSession(s.id, actor), 409, "session_cancelled");
  await rejects(engine.placeHold(s.id, a.id, self(a.id)), 409, "session_cancelled");
  await rejects(engine.joinWaitlist(s.id, a.id, self(a.id)), 409, "session_cancelled");
  await rejects(engine.cancelSession(s.id, self(a.id)), 403, "forbidden");
  assert.equal((await rawEvents(kv)).length, nBefore + 8);
  await teardown(kv);
});

Deno.test("[session] cancelSession of an empty session is one commit; unknown session is 404", async () => {
  const { kv, engine, clock, session: s } = await world(5);
  const result = await engine.cancelSession(s.id, staff());
  assert.deepEqual([result.cancelledBookings, result.releasedHolds, result.removedWaitlist], [0, 0, 0]);
  assert.deepEqual((await rawEvents(kv)).map((e) => e.type), ["session.scheduled", "session.cancelled"]);
  await assertCleared(kv, clock, s.id);
  await rejects(engine.cancelSession("01JZZZZZZZZZZZZZZZZZZZZZZZ", staff()), 404, "session_not_found");
  await teardown(kv);
});

Deno.test("[session] cancelSession of 450 bookings, 70 holds and 100 waiting commits in batches, each with its events", async () => {
  const { kv, engine, clock, session: s } = await world(520, {
    mode: "online",
    locationId: null,
    joinUrl: "https://meet.example.com/big",
  });
  const learners = await putUsers(kv, 620);
  const booked = await Promise.all(learners.slice(0, 450).map((l) => book(engine, s.id, l.id)));
  const held = await Promise.all(learners.slice(450, 520).map((l) => engine.placeHold(s.id, l.id, self(l.id))));
  for (const l of learners.slice(520)) await engine.joinWaitlist(s.id, l.id, self(l.id));
  assert.deepEqual(await seats(kv, s.id), { confirmed: 450, holds: 70, waiting: 100 });
  const nBefore = (await rawEvents(kv)).length;
  const commitsBefore = engine.lanes.stats.commits;
  const result = await engine.cancelSession(s.id, staff("venue closed"));
  assert.deepEqual(
    [result.cancelledBookings, result.releasedHolds, result.expiredHolds, result.removedWaitlist],
    [450, 70, 0, 100],
  );
  const events = (await rawEvents(kv)).slice(nBefore);
  assert.equal(events.length, 450 + 70 + 100 + 1);
  assert.equal(ofType(events, "booking.cancelled").length, 450);
  assert.equal(ofType(events, "hold.released").length, 70);
  assert.equal(ofType(events, "waitlist.left").length, 100);
  assert.equal(events.at(-1)!.type, "session.cancelled");
  const commits = new Set(events.map((e) => e.versionstamp));
  assert.ok(commits.size >= 4, `${commits.size} commits`);
  assert.equal(engine.lanes.stats.commits - commitsBefore, commits.size);
  // Each batch's events sit in the same commit as its changes.
  const byBooking = new Map(ofType(events, "booking.cancelled").map((e) => [e.data.bookingId, e.versionstamp]));
  for (const b of booked) {
    const stored = await kv.get<Booking>(keys.booking(b.id));
    assert.equal(stored.value!.status, "cancelled");
    assert.equal(stored.versionstamp, byBooking.get(b.id), `booking ${b.id}`);
  }
  const byHold = new Map(ofType(events, "hold.released").map((e) => [e.data.holdId, e.versionstamp]));
  for (const { hold } of held) assert.equal((await kv.get(keys.hold(hold.id))).versionstamp, byHold.get(hold.id));
  const marker = await kv.get(keys.sessionsByCourse(s.courseId, s.startsAt, s.id));
  assert.equal(marker.versionstamp, events.at(-1)!.versionstamp, "index entries flip with session.cancelled");
  await assertCleared(kv, clock, s.id);
  await teardown(kv);
});

Deno.test("[session] cancelSession that dies midway finishes on a re-run, with every event exactly once", async () => {
  const { kv, clock, engine, session: s } = await world(300);
  const learners = await putUsers(kv, 300);
  await Promise.all(learners.slice(0, 280).map((l) => book(engine, s.id, l.id)));
  await Promise.all(learners.slice(280).map((l) => engine.placeHold(s.id, l.id, self(l.id))));
  const nBefore = (await rawEvents(kv)).length;
  // The status change and one cleanup step commit; then the process dies.
  const dying = new BookingEngine(crashesAfter(kv, 2), { holdMinutes: 15, now: clock.now });
  await assert.rejects(dying.cancelSession(s.id, staff("flood")), /process crashed/);
  const partial = (await rawEvents(kv)).slice(nBefore);
  assert.ok(partial.length > 0 && !partial.some((e) => e.type === "session.cancelled"), `${partial.length} events`);
  assert.equal((await kv.get<Session>(keys.session(s.id))).value!.status, "cancelled");
  const [late] = await putUsers(kv, 1);
  await rejects(engine.placeHold(s.id, late.id, self(late.id)), 409, "session_cancelled");
  // Counters and indexes agree, but the half-done cancel is named.
  assert.deepEqual(await problemCodes(kv, clock.now()), ["cancelled_session_live"]);
  // The re-run finishes the job and reports what it did.
  const result = await engine.cancelSession(s.id, staff("flood"));
  const events = (await rawEvents(kv)).slice(nBefore);
  assert.equal(ofType(events, "booking.cancelled").length, 280);
  assert.equal(ofType(events, "hold.released").length, 20);
  assert.equal(ofType(events, "session.cancelled").length, 1);
  assert.equal(new Set(events.map((e) => e.data.bookingId ?? e.data.holdId ?? e.type)).size, events.length);
  assert.equal(result.cancelledBookings + result.releasedHolds, 300 - (partial.length));
  await assertCleared(kv, clock, s.id);
  await rejects(engine.cancelSession(s.id, staff()), 409, "session_cancelled");
  await teardown(kv);
});

/** 150 bookings, 50 holds and 10 waiting learners in a full session of 200. */
async function crowd(kv: Deno.Kv, engine: BookingEngine, sessionId: string) {
  const learners = await putUsers(kv, 210);
  const booked = await Promise.all(learners.slice(0, 150).map((l) => book(engine, sessionId, l.id)));
  const held = await Promise.all(learners.slice(150, 200).map((l) => engine.placeHold(sessionId, l.id, self(l.id))));
  for (const l of learners.slice(200)) await engine.joinWaitlist(sessionId, l.id, self(l.id));
  assert.deepEqual(await seats(kv, sessionId), { confirmed: 150, holds: 50, waiting: 10 });
  return { booked, holds: held.map((h) => h.hold), waiting: learners.slice(200) };
}

/**
 * Every place of the crowd ended by the cancel exactly once: one booking.cancelled per booking
 * (and one session_cancelled audit line), one hold.released or hold.expired per hold, one
 * waitlist.left per waiting learner, then one session.cancelled, last.
 */
async function assertEndedOnce(
  kv: Deno.Kv,
  events: CommittedEvent[],
  c: Awaited<ReturnType<typeof crowd>>,
): Promise<void> {
  const ids = (type: EventType, field: string) => ofType(events, type).map((e) => e.data[field]);
  const cancelled = ids("booking.cancelled", "bookingId");
  assert.equal(cancelled.length, c.booked.length);
  assert.deepEqual(new Set(cancelled), new Set(c.booked.map((b) => b.id)));
  const ended = [...ids("hold.released", "holdId"), ...ids("hold.expired", "holdId")];
  assert.equal(ended.length, c.holds.length);
  assert.deepEqual(new Set(ended), new Set(c.holds.map((h) => h.id)));
  const left = ofType(events, "waitlist.left").map((e) => e.learnerId);
  assert.equal(left.length, c.waiting.length);
  assert.deepEqual(new Set(left), new Set(c.waiting.map((l) => l.id)));
  assert.equal(ofType(events, "session.cancelled").length, 1);
  assert.equal(events.at(-1)!.type, "session.cancelled");
  for (const b of c.booked) {
    const stored = (await kv.get<Booking>(keys.booking(b.id))).value!;
    assert.equal(stored.audit.filter((a) => a.action === "session_cancelled").length, 1, b.id);
  }
}

Deno.test("[session] a cancel cut short after its first step is named by the check and finished by resumeSessionCancels", async () => {
  const { kv, clock, engine, session: s } = await world(200);
  const c = await crowd(kv, engine, s.id);
  const nBefore = (await rawEvents(kv)).length;
  const actor = staff("trainer ill");
  // The status change (with the pending marker) and one cleanup step commit; then the process dies.
  const dying = new BookingEngine(crashesAfter(kv, 2), { holdMinutes: 15, now: clock.now });
  await assert.rejects(dying.cancelSession(s.id, actor), /process crashed/);
  const partial = (await rawEvents(kv)).slice(nBefore);
  assert.ok(partial.length > 0 && !partial.some((e) => e.type === "session.cancelled"), `${partial.length} events`);
  assert.equal((await kv.get<Session>(keys.session(s.id))).value!.status, "cancelled");
  const marker = (await kv.get<PendingSessionCancel>(keys.sessionCancelPending(s.id))).value!;
  assert.deepEqual(marker, { sessionId: s.id, startedAt: clock.now().toISOString(), actor });
  assert.ok((await seats(kv, s.id)).confirmed === 150, "the bookings are still confirmed");

  // The check names the half-done cancel (and says the app will finish it)...
  const report = await checkConsistency(kv, clock.now());
  assert.deepEqual(report.problems.map((p) => p.code), ["cancelled_session_live"]);
  assert.equal(report.problems[0].sessionId, s.id);
  assert.match(report.problems[0].message, /150 confirmed booking\(s\).*pending since/);
  // ...and, once it has been pending for STALLED_CANCEL_MS, calls it stalled too.
  clock.advance(STALLED_CANCEL_MS - 1);
  assert.deepEqual(await problemCodes(kv, clock.now()), ["cancelled_session_live"]);
  clock.advance(1);
  assert.deepEqual(await problemCodes(kv, clock.now()), ["cancelled_session_live", "session_cancel_stalled"]);

  // A periodic run leaves alone cancels younger than its minimum age; the startup run takes all.
  const skipped = await engine.resumeSessionCancels({ minAgeMs: STALLED_CANCEL_MS + MINUTE });
  assert.deepEqual(skipped, { finished: [], failed: [] });
  assert.equal((await rawEvents(kv)).length, nBefore + partial.length);
  const resumed = await engine.resumeSessionCancels();
  assert.deepEqual(resumed.failed, []);
  assert.equal(resumed.finished.length, 1);
  const r = resumed.finished[0];
  assert.equal(r.session.id, s.id);
  assert.equal(r.cancelledBookings, 150);
  assert.equal(r.releasedHolds + r.expiredHolds + r.removedWaitlist + r.cancelledBookings, 210 - partial.length);

  const events = (await rawEvents(kv)).slice(nBefore);
  await assertEndedOnce(kv, events, c);
  // The resumed steps act in the name of whoever asked for the cancel.
  for (const ev of events.filter((e) => e.type !== "hold.expired")) {
    assert.equal(ev.reason, "trainer ill", ev.type);
    assert.equal(ev.correlationId, actor.correlationId, ev.type);
  }
  await assertCleared(kv, clock, s.id);
  // Nothing is left to resume, and done is done.
  assert.deepEqual(await engine.resumeSessionCancels(), { finished: [], failed: [] });
  assert.equal((await rawEvents(kv)).length, nBefore + events.length);
  await rejects(engine.cancelSession(s.id, staff()), 409, "session_cancelled");
  await teardown(kv);
});

Deno.test("[session] the startup resume finishes a cancel even when this process's clock runs behind its marker", async () => {
  const { kv, clock, engine, session: s } = await world(20);
  const learners = await putUsers(kv, 3);
  for (const l of learners) await book(engine, s.id, l.id);
  const dying = new BookingEngine(crashesAfter(kv, 1), { holdMinutes: 15, now: clock.now });
  await assert.rejects(dying.cancelSession(s.id, staff("trainer ill")), /process crashed/);
  // The restarted process's clock is 10 minutes behind the one that wrote the marker.
  const behind = new BookingEngine(kv, { holdMinutes: 15, now: () => new Date(clock.now().getTime() - 10 * MINUTE) });
  assert.deepEqual(await behind.resumeSessionCancels({ minAgeMs: 0 }), { finished: [], failed: [] });
  const resumed = await behind.resumeSessionCancels();
  assert.equal(resumed.finished.length, 1);
  assert.equal(resumed.finished[0].cancelledBookings, 3);
  await teardown(kv);
});

Deno.test("[session] a cancel begun before pending markers existed is listed when re-posted; orphan markers go", async () => {
  const { kv, clock, engine, session: s } = await world(20);
  const learners = await putUsers(kv, 3);
  for (const l of learners) await book(engine, s.id, l.id);
  // Status flipped by an old build's first step: no marker, nothing resumes it, the check names it.
  await kv.set(keys.session(s.id), { ...s, status: "cancelled" });
  assert.deepEqual(await engine.resumeSessionCancels(), { finished: [], failed: [] });
  const [problem] = (await checkConsistency(kv, clock.now())).problems;
  assert.equal(problem.code, "cancelled_session_live");
  assert.match(problem.message, /no cancel is pending: cancel the session again/);
  // Re-posting lists it (then finishes it).
  const dying = new BookingEngine(crashesAfter(kv, 1), { holdMinutes: 15, now: clock.now });
  await assert.rejects(dying.cancelSession(s.id, staff("again")), /process crashed/);
  assert.equal((await kv.get<PendingSessionCancel>(keys.sessionCancelPending(s.id))).value?.actor.reason, "again");
  const resumed = await engine.resumeSessionCancels();
  assert.equal(resumed.finished[0]?.cancelledBookings, 3);
  await assertCleared(kv, clock, s.id);
  // A marker whose session is gone is dropped.
  await kv.set(keys.sessionCancelPending("01JZZZZZZZZZZZZZZZZZZZZZZZ"), {
    sessionId: "01JZZZZZZZZZZZZZZZZZZZZZZZ",
    startedAt: clock.now().toISOString(),
    actor: staff(),
  });
  assert.deepEqual(await engine.resumeSessionCancels(), { finished: [], failed: [] });
  assert.deepEqual(await listValues(kv, keys.sessionCancelsPendingPrefix()), []);
  await teardown(kv);
});

Deno.test("[session] a cancel cut short with nothing left but its last step is called stalled, then finished", async () => {
  const { kv, clock, engine, session: s } = await world(20);
  // The first commit of a cancel of an empty session, and nothing after it.
  const dying = new BookingEngine(crashesAfter(kv, 1), { holdMinutes: 15, now: clock.now });
  await assert.rejects(dying.cancelSession(s.id, staff("no-one came")), /process crashed/);
  assert.deepEqual((await rawEvents(kv)).map((e) => e.type), ["session.scheduled"]);
  // No place is live, so only the pending marker's age tells: fine while fresh, stalled when old.
  assert.deepEqual(await problemCodes(kv, clock.now()), []);
  clock.advance(STALLED_CANCEL_MS);
  const [problem] = (await checkConsistency(kv, clock.now())).problems;
  assert.equal(problem.code, "session_cancel_stalled");
  assert.deepEqual(problem.key, keys.sessionCancelPending(s.id));
  assert.match(problem.message, /10 min ago/);
  const resumed = await engine.resumeSessionCancels({ minAgeMs: MINUTE });
  assert.equal(resumed.finished.length, 1);
  assert.deepEqual((await rawEvents(kv)).map((e) => [e.type, e.reason]), [
    ["session.scheduled", null],
    ["session.cancelled", "no-one came"],
  ]);
  await assertCleared(kv, clock, s.id);
  await teardown(kv);
});

Deno.test("[session] two resumers and the cancel itself, on three store handles at once, end each place once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cancel-race-" });
  try {
    for (const scenario of ["two resumers after a crash", "two resumers racing the cancel"] as const) {
      const path = `${dir}/${scenario.replaceAll(" ", "-")}.kv`;
      const { kv, clock, engine, session: s } = await world(200, {}, path);
      const c = await crowd(kv, engine, s.id);
      const nBefore = (await rawEvents(kv)).length;
      const handles = [await Deno.openKv(path), await Deno.openKv(path)];
      const [b, c2] = handles.map((h) => new BookingEngine(h, { holdMinutes: 15, now: clock.now }));
      const actor = staff("race");
      const runs: Promise<unknown>[] = [];
      if (scenario === "two resumers after a crash") {
        const dying = new BookingEngine(crashesAfter(kv, 1), { holdMinutes: 15, now: clock.now });
        await assert.rejects(dying.cancelSession(s.id, actor), /process crashed/);
        for (const h of [kv, ...handles]) {
          assert.ok((await h.get(keys.sessionCancelPending(s.id))).value, "the crash left the cancel pending");
        }
      } else {
        // The cancel pauses before each step, so the resumers join it midway.
        const slow = new BookingEngine(kv, { holdMinutes: 15, now: clock.now, cancelStepPauseMs: 2 });
        runs.push(slow.cancelSession(s.id, actor));
        while (!(await kv.get(keys.sessionCancelPending(s.id))).value) await new Promise((r) => setTimeout(r, 1));
      }
      runs.push(b.resumeSessionCancels(), c2.resumeSessionCancels());
      const outcomes = await Promise.allSettled(runs);
      // Under this much contention a run may give up with 503 busy (the next minute's run carries
      // on); any other failure is a bug.
      const errors = [
        ...outcomes.flatMap((o) => o.status === "rejected" ? [o.reason] : []),
        ...outcomes.flatMap((o) =>
          o.status === "fulfilled" && o.value && "failed" in (o.value as object)
            ? (o.value as { failed: { error: unknown }[] }).failed.map((f) => f.error)
            : []
        ),
      ];
      for (const err of errors) assert.ok(err instanceof DomainError && err.code === "busy", String(err));
      if (!errors.length) {
        // Each run reports only what it did: the reports add up to the crowd, counted once.
        const reports = outcomes.flatMap((o) => {
          const v = (o as PromiseFulfilledResult<CancelSessionResult | ResumeCancelsResult>).value;
          return "finished" in v ? v.finished : [v];
        });
        const sum = (f: (r: CancelSessionResult) => number) => reports.reduce((n, r) => n + f(r), 0);
        assert.equal(sum((r) => r.cancelledBookings), 150, scenario);
        assert.equal(sum((r) => r.releasedHolds + r.expiredHolds), 50, scenario);
        assert.equal(sum((r) => r.removedWaitlist), 10, scenario);
      }
      while ((await kv.get(keys.sessionCancelPending(s.id))).value) await engine.resumeSessionCancels();
      const events = (await rawEvents(kv)).slice(nBefore);
      await assertEndedOnce(kv, events, c);
      assert.equal(events.length, 150 + 50 + 10 + 1, scenario);
      await assertCleared(kv, clock, s.id);
      for (const h of handles) h.close();
      await teardown(kv);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[session] holds, confirms and joins racing cancelSession on two engines never outlive it", async () => {
  const EXPECTED = new Set([
    "session_cancelled",
    "session_full",
    "seats_available",
    "hold_released",
    "hold_not_active",
    "already_holding",
    "already_waitlisted",
    "busy",
  ]);
  for (let round = 0; round < 8; round++) {
    const random = rng(777 + round);
    const { kv, engine, clock, session: s } = await world(9);
    const other = new BookingEngine(kv, { holdMinutes: 15, now: clock.now });
    const learners = await putUsers(kv, 60);
    for (const l of learners.slice(0, 6)) await book(engine, s.id, l.id);
    const unexpected: unknown[] = [];
    const guard = async (p: () => Promise<unknown>) => {
      try {
        await p();
      } catch (err) {
        if (!(err instanceof DomainError && EXPECTED.has(err.code))) unexpected.push(err);
      }
    };
    const flows = learners.slice(6).map(async (l) => {
      await new Promise((r) => setTimeout(r, random() * 30));
      const eng = random() < 0.5 ? engine : other;
      await guard(async () => {
        try {
          const { hold } = await eng.placeHold(s.id, l.id, self(l.id));
          if (random() < 0.6) await eng.confirmHold(hold.id, self(l.id));
        } catch (err) {
          if (err instanceof DomainError && err.code === "session_full") {
            await eng.joinWaitlist(s.id, l.id, self(l.id));
          } else throw err;
        }
      });
    });
    const cancel = (async () => {
      await new Promise((r) => setTimeout(r, 8 + random() * 12));
      return await (random() < 0.5 ? engine : other).cancelSession(s.id, staff("storm"));
    })();
    const [result] = await Promise.all([cancel, ...flows]);
    assert.deepEqual(unexpected, []);
    // Later arrivals are refused.
    const [late] = await putUsers(kv, 1);
    await rejects(other.placeHold(s.id, late.id, self(late.id)), 409, "session_cancelled");
    await assertCleared(kv, clock, s.id);
    // Every hold that ever existed ended exactly once; every booking was cancelled once.
    const events = await rawEvents(kv);
    const holds = (await listValues<Hold>(kv, ["holds"])).filter((h) => h.sessionId === s.id);
    const ends = [...ofType(events, "hold.released"), ...ofType(events, "hold.expired")].map((e) => e.data.holdId);
    const confirmedHolds = ofType(events, "booking.confirmed").map((e) => e.data.holdId);
    assert.equal(new Set([...ends, ...confirmedHolds]).size, ends.length + confirmedHolds.length);
    assert.deepEqual(new Set([...ends, ...confirmedHolds]), new Set(holds.map((h) => h.id)));
    const bookings = (await listValues<Booking>(kv, ["bookings"])).filter((b) => b.sessionId === s.id);
    assert.equal(ofType(events, "booking.cancelled").length, bookings.length);
    assert.equal(ofType(events, "session.cancelled").length, 1);
    assert.equal(events.at(-1)!.type, "session.cancelled");
    assert.ok(result.cancelledBookings >= 6);
    await teardown(kv);
  }
});
