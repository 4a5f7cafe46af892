/** The booking rules one by one: happy paths and every error code, on a hand-moved clock. */
import assert from "node:assert/strict";
import { getAvailability } from "./availability.ts";
import { checkConsistency } from "./consistency.ts";
import { BookingEngine } from "./engine.ts";
import { DomainError } from "./errors.ts";
import { type AnyEventType, type CommittedEvent, listEvents } from "./events.ts";
import { hashRequest } from "./idempotency.ts";
import { keys } from "../store/keys.ts";
import type { Booking, Hold, SeatDoc, Session } from "./model.ts";
import { offerExpiry } from "./session_tx.ts";
import { createHoldSweep } from "../worker/mod.ts";
import {
  admin,
  HOUR,
  MINUTE,
  putCourse,
  putLocation,
  putSession,
  putUser,
  putUsers,
  self,
  setup,
  T0,
  teardown,
} from "../../tests/booking/test_fixtures.ts";

/** Every event, in commit order. */
async function allEvents(kv: Deno.Kv): Promise<CommittedEvent[]> {
  const out: CommittedEvent[] = [];
  let after: string | null = null;
  for (;;) {
    const page: { events: CommittedEvent[]; nextCursor: string | null } = await listEvents(kv, { after, limit: 50 });
    if (!page.events.length) return out;
    out.push(...page.events);
    after = page.nextCursor;
  }
}

async function types(kv: Deno.Kv): Promise<AnyEventType[]> {
  return (await allEvents(kv)).map((e) => e.type);
}

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

async function assertConsistent(kv: Deno.Kv, now: Date): Promise<void> {
  const report = await checkConsistency(kv, now);
  assert.deepEqual(report.problems, []);
}

async function seats(kv: Deno.Kv, sessionId: string): Promise<SeatDoc> {
  return (await kv.get<SeatDoc>(keys.seats(sessionId))).value!;
}

Deno.test("[booking] placeHold takes one seat for holdMinutes and writes hold.placed", async () => {
  const { kv, engine, clock, course } = await setup({ holdMinutes: 15 });
  const s = await putSession(kv, course.id, { capacity: 2 });
  const [a] = await putUsers(kv, 1);
  const { hold, replayed } = await engine.placeHold(s.id, a.id, self(a.id));
  assert.equal(replayed, false);
  assert.equal(hold.status, "active");
  assert.equal(hold.kind, "hold");
  assert.equal(Date.parse(hold.expiresAt), T0 + 15 * MINUTE);
  assert.deepEqual(await seats(kv, s.id), { confirmed: 0, holds: 1, waiting: 0 });
  const avail = (await getAvailability(kv, [s], clock.now())).get(s.id)!;
  assert.equal(avail.taken, 1);
  assert.equal(avail.seatsLeft, 1);
  const events = await allEvents(kv);
  assert.deepEqual(events.map((e) => e.type), ["hold.placed"]);
  assert.equal(events[0].data.holdId, hold.id);
  assert.equal(events[0].learnerId, a.id);
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[booking] an expired hold stops counting the moment it expires, before cleanup", async () => {
  const { kv, engine, clock, course } = await setup({ holdMinutes: 15 });
  const s = await putSession(kv, course.id, { capacity: 1 });
  const [a, b] = await putUsers(kv, 2);
  const { hold } = await engine.placeHold(s.id, a.id, self(a.id));
  await rejects(engine.placeHold(s.id, b.id, self(b.id)), 409, "session_full");
  clock.advance(15 * MINUTE - 1);
  await rejects(engine.placeHold(s.id, b.id, self(b.id)), 409, "session_full");
  clock.advance(1); // exactly expiresAt: gone
  assert.equal((await getAvailability(kv, [s], clock.now())).get(s.id)!.seatsLeft, 1);
  const { hold: hb } = await engine.placeHold(s.id, b.id, self(b.id));
  assert.equal(hb.status, "active");
  // A's hold is still a record (not cleaned) but no longer counts.
  assert.equal((await kv.get<Hold>(keys.hold(hold.id))).value!.status, "active");
  assert.deepEqual(await seats(kv, s.id), { confirmed: 0, holds: 2, waiting: 0 });
  await assertConsistent(kv, clock.now());
  // A cannot confirm it any more: 410 with alternatives.
  const err = await rejects(engine.confirmHold(hold.id, self(a.id)), 410, "hold_expired");
  assert.ok(Array.isArray((err.details as { alternatives: unknown[] }).alternatives));
  await teardown(kv);
});

Deno.test("[booking] expired holds are released by expireHold and the cron sweep, each with hold.expired", async () => {
  const { kv, engine, clock, course } = await setup({ holdMinutes: 15 });
  const s = await putSession(kv, course.id, { capacity: 5 });
  const users = await putUsers(kv, 3);
  const holds: Hold[] = [];
  for (const u of users) holds.push((await engine.placeHold(s.id, u.id, self(u.id))).hold);
  assert.equal(await engine.expireHold(holds[0].id), null, "not due yet: no-op");
  assert.equal(await engine.sweepExpiredHolds(), 0);
  clock.advance(15 * MINUTE);
  const expired = await engine.expireHold(holds[0].id);
  assert.equal(expired?.status, "expired");
  assert.equal(await engine.expireHold(holds[0].id), null, "second delivery is a no-op");
  assert.equal(await engine.sweepExpiredHolds(), 2);
  assert.equal(await engine.sweepExpiredHolds(), 0);
  assert.deepEqual(await seats(kv, s.id), { confirmed: 0, holds: 0, waiting: 0 });
  const evs = await allEvents(kv);
  assert.equal(evs.filter((e) => e.type === "hold.expired").length, 3);
  assert.deepEqual(
    new Set(evs.filter((e) => e.type === "hold.expired").map((e) => e.data.holdId)),
    new Set(holds.map((h) => h.id)),
  );
  for (const h of holds) assert.equal((await kv.get(keys.place(s.id, h.learnerId))).value, null);
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

/** The store as KV Connect or Deno Deploy offers it: no queues (an atomic op with an enqueue throws). */
function withoutQueues(kv: Deno.Kv): Deno.Kv {
  const refuse = () => {
    throw new TypeError("Enqueue operations are not supported in KV Connect");
  };
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "enqueue" || prop === "listenQueue") return refuse;
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          return new Proxy(op, {
            get(o, p) {
              if (p === "enqueue") return refuse;
              const v = Reflect.get(o, p);
              return typeof v === "function" ? v.bind(o) : v;
            },
          });
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

Deno.test("[booking] on a store without queues the hold sweep releases a lapsed hold: seat, hold.expired and the waitlist offer", async () => {
  const { kv: raw, clock, course } = await setup();
  const kv = withoutQueues(raw);
  const engine = new BookingEngine(kv, { holdMinutes: 15, now: clock.now });
  const s = await putSession(kv, course.id, { capacity: 1 });
  const [a, b] = await putUsers(kv, 2);
  const { hold } = await engine.placeHold(s.id, a.id, self(a.id));
  await engine.joinWaitlist(s.id, b.id, self(b.id));
  const sweep = createHoldSweep(engine, { maxIdleMs: 20, log: () => {} });
  sweep.start();
  try {
    // Not due yet: the sweep leaves it alone.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await kv.get<Hold>(keys.hold(hold.id))).value!.status, "active");
    clock.advance(15 * MINUTE);
    let status = "active";
    for (let i = 0; i < 250 && status === "active"; i++) {
      await new Promise((r) => setTimeout(r, 20));
      status = (await kv.get<Hold>(keys.hold(hold.id))).value!.status;
    }
    assert.equal(status, "expired");
  } finally {
    await sweep.stop();
  }
  const seen = await types(kv);
  assert.deepEqual(seen.slice(0, 2), ["hold.placed", "waitlist.joined"]);
  // The expiry and the offer it frees commit together.
  assert.deepEqual(seen.slice(2).sort(), ["hold.expired", "waitlist.offered"]);
  const offer = (await kv.get<{ kind: string; id: string }>(keys.place(s.id, b.id))).value!;
  assert.equal(offer.kind, "offer");
  await assertConsistent(kv, clock.now());
  raw.close();
});

Deno.test("[booking] one live place per learner per session (hold, booking, waitlist, offer)", async () => {
  const { kv, engine, clock, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 1 });
  const [a, b, c] = await putUsers(kv, 3);
  const { hold } = await engine.placeHold(s.id, a.id, self(a.id));
  await rejects(engine.placeHold(s.id, a.id, self(a.id)), 409, "already_holding");
  await rejects(engine.joinWaitlist(s.id, a.id, self(a.id)), 409, "already_holding");
  await engine.confirmHold(hold.id, self(a.id));
  await rejects(engine.placeHold(s.id, a.id, self(a.id)), 409, "already_booked");
  await engine.joinWaitlist(s.id, b.id, self(b.id));
  await rejects(engine.joinWaitlist(s.id, b.id, self(b.id)), 409, "already_waitlisted");
  await rejects(engine.placeHold(s.id, b.id, self(b.id)), 409, "already_waitlisted");
  await engine.joinWaitlist(s.id, c.id, self(c.id));
  // Someone else may not act for a learner.
  await rejects(engine.placeHold(s.id, c.id, self(b.id)), 403, "forbidden");
  const [booking] = await bookingsOf(kv, a.id);
  await engine.cancelBooking(booking.id, self(a.id));
  await rejects(engine.placeHold(s.id, b.id, self(b.id)), 409, "offer_pending");
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

async function bookingsOf(kv: Deno.Kv, learnerId: string): Promise<Booking[]> {
  const out: Booking[] = [];
  for await (const e of kv.list<string>({ prefix: ["bookings_by_learner", learnerId] })) {
    out.push((await kv.get<Booking>(keys.booking(e.value))).value!);
  }
  return out;
}

Deno.test("[booking] at most 3 active holds per learner (429); expired holds and offers do not count", async () => {
  const { kv, engine, clock, course } = await setup();
  const sessions: Session[] = [];
  for (let i = 0; i < 6; i++) sessions.push(await putSession(kv, course.id, { capacity: 1, startsInHours: 100 + i }));
  const [a, b] = await putUsers(kv, 2);
  for (let i = 0; i < 3; i++) await engine.placeHold(sessions[i].id, a.id, self(a.id));
  await rejects(engine.placeHold(sessions[3].id, a.id, self(a.id)), 429, "too_many_holds");
  // Concurrent attempts on three other sessions: none gets through.
  const burst = await Promise.allSettled([3, 4, 5].map((i) => engine.placeHold(sessions[i].id, a.id, self(a.id))));
  assert.ok(burst.every((r) => r.status === "rejected" && (r.reason as DomainError).status === 429));
  clock.advance(15 * MINUTE); // all three expire (not cleaned up)
  for (let i = 3; i < 6; i++) await engine.placeHold(sessions[i].id, a.id, self(a.id));
  // An offer on top of three holds is fine.
  const full = sessions[0];
  const { hold: hb } = await engine.placeHold(full.id, b.id, self(b.id));
  await engine.confirmHold(hb.id, self(b.id));
  await engine.joinWaitlist(full.id, a.id, self(a.id));
  const [booking] = await bookingsOf(kv, b.id);
  await engine.cancelBooking(booking.id, self(b.id));
  const place = (await kv.get<{ kind: string }>(keys.place(full.id, a.id))).value;
  assert.equal(place?.kind, "offer");
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[booking] concurrent holds over the 3-hold limit across sessions: at most 3 succeed", async () => {
  const { kv, engine, clock, course } = await setup();
  const sessions: Session[] = [];
  for (let i = 0; i < 8; i++) sessions.push(await putSession(kv, course.id, { capacity: 4, startsInHours: 100 + i }));
  const [a] = await putUsers(kv, 1);
  const results = await Promise.allSettled(sessions.map((s) => engine.placeHold(s.id, a.id, self(a.id))));
  assert.equal(results.filter((r) => r.status === "fulfilled").length, 3);
  for (const r of results) if (r.status === "rejected") assert.equal((r.reason as DomainError).code, "too_many_holds");
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[booking] capacity counts holds, bookings and open offers; full is 409 with alternatives and waitlistOpen", async () => {
  const { kv, engine, clock, course } = await setup();
  const near = await putLocation(kv, { name: "Near", lat: 33.78, lng: -84.38 });
  const far = await putLocation(kv, { name: "Far", lat: 39.74, lng: -104.99, timeZone: "America/Denver" });
  const inPerson = (locationId: string) => ({ mode: "in_person" as const, locationId, joinUrl: null });
  const s = await putSession(kv, course.id, { capacity: 3, startsInHours: 50, ...inPerson(near.id) });
  // Five other sessions of the course, one full, one cancelled, one started.
  const later = await putSession(kv, course.id, { capacity: 5, startsInHours: 200, ...inPerson(near.id) });
  const sameDayFar = await putSession(kv, course.id, { capacity: 5, startsInHours: 72, ...inPerson(far.id) });
  const sameDayNear = await putSession(kv, course.id, { capacity: 5, startsInHours: 73, ...inPerson(near.id) });
  const fullOther = await putSession(kv, course.id, { capacity: 1, startsInHours: 60 });
  await putSession(kv, course.id, { capacity: 5, startsInHours: 80, status: "cancelled" });
  await putSession(kv, course.id, { capacity: 5, startsInHours: -1 });
  const otherCourse = await putCourse(kv, { code: "SAL-200", title: "Sales" });
  await putSession(kv, otherCourse.id, { capacity: 5, startsInHours: 60 });
  const [a, b, c, d, e, f] = await putUsers(kv, 6);
  await engine.placeHold(fullOther.id, f.id, self(f.id));
  const { hold: ha } = await engine.placeHold(s.id, a.id, self(a.id));
  await engine.confirmHold(ha.id, self(a.id)); // booking
  await engine.placeHold(s.id, b.id, self(b.id)); // hold
  const { hold: hc } = await engine.placeHold(s.id, c.id, self(c.id));
  await engine.confirmHold(hc.id, self(c.id));
  await engine.joinWaitlist(s.id, d.id, self(d.id));
  const [bc] = await bookingsOf(kv, c.id);
  await engine.cancelBooking(bc.id, self(c.id)); // seat → offer to d
  assert.equal((await kv.get<{ kind: string }>(keys.place(s.id, d.id))).value?.kind, "offer");
  const before = await types(kv);
  const err = await rejects(engine.placeHold(s.id, e.id, self(e.id)), 409, "session_full");
  assert.deepEqual(await types(kv), [...before, "alternatives.offered"], "a rejected hold records only the offer");
  const details = err.details as { waitlistOpen: boolean; alternatives: { sessionId: string; seatsLeft: number }[] };
  assert.equal(details.waitlistOpen, true);
  assert.ok(details.alternatives.length <= 3);
  // Ranked by the combined score (lib/booking/ranking.ts): the near session 5 days later now beats the far
  // (about 1,950 km) one of the same day; the same-topic course SAL-200 ranks below all three.
  assert.deepEqual(details.alternatives.map((x) => x.sessionId), [sameDayNear.id, later.id, sameDayFar.id]);
  for (const alt of details.alternatives) assert.ok(alt.seatsLeft > 0);
  const avail = (await getAvailability(kv, [s], clock.now())).get(s.id)!;
  assert.deepEqual([avail.taken, avail.seatsLeft, avail.state], [3, 0, "waitlist"]);
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[booking] confirm turns the learner's own unexpired hold into a booking; every refusal code", async () => {
  const { kv, engine, clock, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 2, startsInHours: 10 });
  const [a, b, c] = await putUsers(kv, 3);
  const { hold } = await engine.placeHold(s.id, a.id, self(a.id));
  await rejects(engine.confirmHold(hold.id, self(b.id)), 403, "forbidden");
  await rejects(engine.confirmHold("01JZZZZZZZZZZZZZZZZZZZZZZZ", self(a.id)), 404, "hold_not_found");
  const { booking, replayed } = await engine.confirmHold(hold.id, self(a.id));
  assert.equal(replayed, false);
  assert.equal(booking.status, "confirmed");
  assert.equal(booking.holdId, hold.id);
  assert.equal((await kv.get<Hold>(keys.hold(hold.id))).value!.status, "confirmed");
  assert.deepEqual(await seats(kv, s.id), { confirmed: 1, holds: 0, waiting: 0 });
  await rejects(engine.confirmHold(hold.id, self(a.id)), 409, "hold_already_confirmed");
  const { hold: hb } = await engine.placeHold(s.id, b.id, self(b.id));
  await engine.releaseHold(hb.id, self(b.id));
  await rejects(engine.confirmHold(hb.id, self(b.id)), 410, "hold_released");
  await rejects(engine.releaseHold(hb.id, self(b.id)), 409, "hold_not_active");
  const { hold: hc } = await engine.placeHold(s.id, c.id, self(c.id));
  clock.advance(15 * MINUTE);
  const err = await rejects(engine.confirmHold(hc.id, self(c.id)), 410, "hold_expired");
  assert.equal((err.details as { expiredAt: string }).expiredAt, hc.expiresAt);
  assert.ok("alternatives" in (err.details as object));
  // Releasing an expired hold reports it expired (and cleans it up).
  assert.equal((await engine.releaseHold(hc.id, self(c.id))).status, "expired");
  // Once the session started, nothing can be held or confirmed.
  const { hold: hc2 } = await engine.placeHold(s.id, c.id, self(c.id));
  clock.advance(10 * HOUR);
  await rejects(engine.confirmHold(hc2.id, self(c.id)), 410, "hold_expired");
  await rejects(engine.placeHold(s.id, b.id, self(b.id)), 409, "session_started");
  assert.deepEqual(await types(kv), [
    "hold.placed",
    "booking.confirmed",
    "hold.placed",
    "hold.released",
    "hold.placed",
    "hold.expired",
    "hold.placed",
  ]);
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[booking] cancel frees the seat; late after the course cut-off (default 24 h)", async () => {
  const { kv, engine, clock, course } = await setup();
  const strict = await putCourse(kv, { code: "SAF-102", title: "Strict", lateCancelCutoffHours: 72 });
  const s = await putSession(kv, course.id, { capacity: 1, startsInHours: 48 });
  const t = await putSession(kv, strict.id, { capacity: 1, startsInHours: 48 });
  const [a, b] = await putUsers(kv, 2);
  const book = async (sessionId: string, learnerId: string) => {
    const { hold } = await engine.placeHold(sessionId, learnerId, self(learnerId));
    return (await engine.confirmHold(hold.id, self(learnerId))).booking;
  };
  const b1 = await book(s.id, a.id);
  await rejects(engine.cancelBooking(b1.id, self(b.id)), 403, "forbidden");
  const c1 = await engine.cancelBooking(b1.id, self(a.id));
  assert.equal(c1.status, "cancelled");
  assert.equal(c1.lateCancel, false, "48 h before start is not late with a 24 h cut-off");
  await rejects(engine.cancelBooking(b1.id, self(a.id)), 409, "booking_not_active");
  assert.deepEqual(await seats(kv, s.id), { confirmed: 0, holds: 0, waiting: 0 });
  const b2 = await book(s.id, b.id); // the seat is free again
  const t1 = await book(t.id, a.id);
  assert.equal((await engine.cancelBooking(t1.id, self(a.id))).lateCancel, true, "48 h < 72 h cut-off: late");
  clock.advance(24 * HOUR + 1);
  const c2 = await engine.cancelBooking(b2.id, self(b.id));
  assert.equal(c2.lateCancel, true, "less than 24 h before start: late");
  const evs = (await allEvents(kv)).filter((e) => e.type === "booking.cancelled");
  assert.deepEqual(evs.map((e) => e.data.late), [false, true, true]);
  assert.deepEqual(evs.map((e) => e.data.cutoffHours), [24, 72, 24]);
  // After the start only staff may cancel.
  const b3 = await book(s.id, a.id);
  clock.advance(24 * HOUR);
  await rejects(engine.cancelBooking(b3.id, self(a.id)), 409, "session_started");
  assert.equal((await engine.cancelBooking(b3.id, admin())).status, "cancelled");
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[booking] reschedule is all-or-nothing: a full target moves nothing and records only the offer of alternatives", async () => {
  const { kv, engine, clock, course } = await setup();
  const from = await putSession(kv, course.id, { capacity: 2, startsInHours: 100 });
  const to = await putSession(kv, course.id, { capacity: 1, startsInHours: 120 });
  const other = await putSession(kv, (await putCourse(kv, { code: "SAL-100" })).id, { capacity: 5 });
  const [a, b, c] = await putUsers(kv, 3);
  const book = async (sessionId: string, learnerId: string) => {
    const { hold } = await engine.placeHold(sessionId, learnerId, self(learnerId));
    return (await engine.confirmHold(hold.id, self(learnerId))).booking;
  };
  const ba = await book(from.id, a.id);
  const bb = await book(to.id, b.id);
  await rejects(engine.rescheduleBooking(ba.id, from.id, self(a.id)), 422, "same_session");
  await rejects(engine.rescheduleBooking(ba.id, other.id, self(a.id)), 422, "different_course");
  await rejects(engine.rescheduleBooking(ba.id, to.id, self(b.id)), 403, "forbidden");
  // The first refusal records the offer of its alternatives (the reports' acceptance rate), and nothing else.
  const typesBefore = await types(kv);
  const first = await rejects(engine.rescheduleBooking(ba.id, to.id, self(a.id)), 409, "session_full");
  const offered = (first.details as { alternatives: unknown[] }).alternatives.length;
  assert.deepEqual(await types(kv), [...typesBefore, ...(offered ? ["alternatives.offered"] : [])]);
  // The same refusal again within 24 h writes nothing at all.
  const snapshot = await dump(kv);
  const err = await rejects(engine.rescheduleBooking(ba.id, to.id, self(a.id)), 409, "session_full");
  assert.ok("alternatives" in (err.details as object));
  assert.deepEqual(await dump(kv), snapshot, "a refused reschedule changes nothing");
  // Free the target: now it moves, in one commit with one event.
  await engine.cancelBooking(bb.id, self(b.id));
  const { booking, previous } = await engine.rescheduleBooking(ba.id, to.id, self(a.id));
  assert.equal(booking.sessionId, to.id);
  assert.equal(booking.registration, ba.registration);
  assert.equal(booking.rescheduledFromBookingId, ba.id);
  assert.equal(previous.status, "cancelled");
  assert.equal(previous.rescheduledToBookingId, booking.id);
  assert.deepEqual(await seats(kv, from.id), { confirmed: 0, holds: 0, waiting: 0 });
  assert.deepEqual(await seats(kv, to.id), { confirmed: 1, holds: 0, waiting: 0 });
  await rejects(engine.rescheduleBooking(ba.id, to.id, self(a.id)), 409, "booking_not_active");
  // c can now take a's old seat.
  await book(from.id, c.id);
  const evs = await allEvents(kv);
  assert.equal(evs.filter((e) => e.type === "booking.rescheduled").length, 1);
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

async function dump(kv: Deno.Kv): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: [] })) out.push(JSON.stringify([e.key, e.value, e.versionstamp]));
  return out;
}

Deno.test("[booking] waitlist is FIFO; a freed seat becomes a 24 h / 2 h offer that passes on when it lapses", async () => {
  const { kv, engine, clock, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 1, startsInHours: 24 * 5 });
  const [a, b, c, d, e] = await putUsers(kv, 5);
  const { hold } = await engine.placeHold(s.id, a.id, self(a.id));
  const { booking } = await engine.confirmHold(hold.id, self(a.id));
  for (const u of [b, c, d]) {
    await engine.joinWaitlist(s.id, u.id, self(u.id));
    clock.advance(1000);
  }
  assert.equal(await engine.waitlistPosition(s.id, b.id), 1);
  assert.equal(await engine.waitlistPosition(s.id, d.id), 3);
  assert.equal(await engine.waitlistPosition(s.id, e.id), null);
  await engine.cancelBooking(booking.id, self(a.id));
  // b's offer: 24 h (session is 5 days away).
  const placeB = (await kv.get<{ kind: string; id: string; expiresAtMs: number }>(keys.place(s.id, b.id))).value!;
  assert.equal(placeB.kind, "offer");
  assert.equal(placeB.expiresAtMs, clock.ms + 24 * HOUR);
  assert.equal(await engine.waitlistPosition(s.id, c.id), 1);
  await rejects(engine.placeHold(s.id, e.id, self(e.id)), 409, "session_full");
  // b lets it lapse: c gets it (the expiry message, or the sweep, passes it on).
  clock.advance(24 * HOUR);
  assert.equal(await engine.sweepExpiredHolds(), 1);
  const placeC = (await kv.get<{ kind: string; id: string; expiresAtMs: number }>(keys.place(s.id, c.id))).value!;
  assert.equal(placeC.kind, "offer");
  assert.equal((await kv.get(keys.place(s.id, b.id))).value, null);
  // c's offer lapses too; c then tries to leave: the offer is expired (not released) and c hears
  // they are no longer on the list. d gets the seat; the session is now within 48 h → 2 h offer.
  clock.advance(50 * HOUR); // session starts in 5 d − 3 s − 74 h ≈ 46 h
  await rejects(engine.leaveWaitlist(s.id, c.id, self(c.id)), 404, "not_on_waitlist");
  assert.equal((await kv.get<Hold>(keys.hold(placeC.id))).value!.status, "expired");
  const placeD = (await kv.get<{ kind: string; id: string; expiresAtMs: number }>(keys.place(s.id, d.id))).value!;
  assert.equal(placeD.kind, "offer");
  assert.equal(placeD.expiresAtMs, clock.ms + 2 * HOUR);
  const { booking: bd } = await engine.confirmHold(placeD.id, self(d.id));
  assert.equal(bd.holdId, placeD.id);
  await rejects(engine.leaveWaitlist(s.id, d.id, self(d.id)), 404, "not_on_waitlist");
  const evs = await allEvents(kv);
  assert.deepEqual(evs.filter((x) => x.type === "waitlist.offered").map((x) => x.learnerId), [b.id, c.id, d.id]);
  assert.deepEqual(evs.filter((x) => x.type === "booking.confirmed").map((x) => x.data.viaOffer), [false, true]);
  assert.deepEqual(evs.filter((x) => x.type === "hold.expired").map((x) => x.learnerId), [b.id, c.id]);
  assert.equal(evs.filter((x) => x.type === "hold.released").length, 0);
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[booking] offer expiry: 24 h, 2 h within 48 h of the start, never past the start", () => {
  const start = T0 + 10 * 24 * HOUR;
  assert.equal(offerExpiry(T0, start), T0 + 24 * HOUR);
  assert.equal(offerExpiry(start - 48 * HOUR, start), start - 46 * HOUR);
  assert.equal(offerExpiry(start - 49 * HOUR, start), start - 25 * HOUR);
  assert.equal(offerExpiry(start - HOUR, start), start);
});

Deno.test("[booking] waitlist refusals: seats available, waitlist disabled, not on it, session started", async () => {
  const { kv, engine, clock, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 1, startsInHours: 5 });
  const closed = await putSession(kv, course.id, { capacity: 1, waitlistEnabled: false });
  const [a, b, c] = await putUsers(kv, 3);
  await rejects(engine.joinWaitlist(s.id, a.id, self(a.id)), 409, "seats_available");
  await engine.placeHold(s.id, a.id, self(a.id));
  await engine.placeHold(closed.id, a.id, self(a.id));
  const full = await rejects(engine.placeHold(closed.id, b.id, self(b.id)), 409, "session_full");
  assert.equal((full.details as { waitlistOpen: boolean }).waitlistOpen, false);
  await rejects(engine.joinWaitlist(closed.id, b.id, self(b.id)), 409, "waitlist_closed");
  await rejects(engine.leaveWaitlist(s.id, b.id, self(b.id)), 404, "not_on_waitlist");
  await rejects(engine.joinWaitlist(s.id, b.id, self(c.id)), 403, "forbidden");
  await engine.joinWaitlist(s.id, b.id, self(b.id));
  await engine.leaveWaitlist(s.id, b.id, self(b.id));
  assert.equal(await engine.waitlistPosition(s.id, b.id), null);
  clock.advance(5 * HOUR);
  await rejects(engine.joinWaitlist(s.id, c.id, self(c.id)), 409, "session_started");
  assert.deepEqual(await types(kv), ["hold.placed", "hold.placed", "waitlist.joined", "waitlist.left"]);
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[booking] missing prerequisites → 422 naming them", async () => {
  const { kv, engine, clock, course } = await setup();
  const basics = await putCourse(kv, { code: "SAF-001", title: "Safety Basics" });
  const ppe = await putCourse(kv, { code: "SAF-002", title: "PPE Essentials" });
  const advanced = await putCourse(kv, {
    code: "SAF-301",
    title: "Advanced Safety",
    prerequisiteCourseIds: [basics.id, ppe.id],
  });
  const s = await putSession(kv, advanced.id, { capacity: 1 });
  const novice = await putUser(kv);
  const half = await putUser(kv, {
    completedCourses: [{ courseId: basics.id, completedAt: new Date(T0).toISOString() }],
  });
  const done = await putUser(kv, {
    completedCourses: [basics.id, ppe.id].map((courseId) => ({ courseId, completedAt: new Date(T0).toISOString() })),
  });
  const e1 = await rejects(engine.placeHold(s.id, novice.id, self(novice.id)), 422, "prerequisites_missing");
  assert.match(e1.message, /Safety Basics/);
  assert.match(e1.message, /PPE Essentials/);
  assert.deepEqual((e1.details as { missing: unknown }).missing, [
    { courseId: basics.id, title: "Safety Basics" },
    { courseId: ppe.id, title: "PPE Essentials" },
  ]);
  const e2 = await rejects(engine.placeHold(s.id, half.id, self(half.id)), 422, "prerequisites_missing");
  assert.deepEqual((e2.details as { missing: unknown }).missing, [{ courseId: ppe.id, title: "PPE Essentials" }]);
  await engine.placeHold(s.id, done.id, self(done.id));
  // The waitlist is no back door: a learner who could not hold a seat cannot queue for one.
  await rejects(engine.joinWaitlist(s.id, novice.id, self(novice.id)), 422, "prerequisites_missing");
  assert.deepEqual(await types(kv), ["hold.placed"]);
  void course;
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[booking] a session moved to a course with prerequisites refuses the next hold at once on the engine that moved it", async () => {
  const { kv, engine, clock, course } = await setup();
  const basics = await putCourse(kv, { code: "SAF-001", title: "Safety Basics" });
  const advanced = await putCourse(kv, {
    code: "SAF-301",
    title: "Advanced Safety",
    prerequisiteCourseIds: [basics.id],
  });
  const s = await putSession(kv, course.id, { capacity: 5 });
  const [first, novice] = [await putUser(kv), await putUser(kv)];
  // The first hold reads the session before its lane (and keeps it for SESSION_CACHE_MS).
  await engine.placeHold(s.id, first.id, self(first.id));
  await engine.updateSession(s.id, { courseId: advanced.id }, admin());
  const e = await rejects(engine.placeHold(s.id, novice.id, self(novice.id)), 422, "prerequisites_missing");
  assert.deepEqual((e.details as { missing: unknown }).missing, [{ courseId: basics.id, title: "Safety Basics" }]);
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[booking] Idempotency-Key: same key and body → first result; another body → 422", async () => {
  const { kv, engine, clock, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 5 });
  const t = await putSession(kv, course.id, { capacity: 5, startsInHours: 300 });
  const [a] = await putUsers(kv, 1);
  const idem = async (key: string, body: string) => ({
    scope: a.id,
    key,
    bodyHash: await hashRequest(["POST", "/api/v1/holds", body]),
  });
  const k1 = await idem("k1", JSON.stringify({ sessionId: s.id }));
  const first = await engine.placeHold(s.id, a.id, self(a.id), k1);
  const again = await engine.placeHold(s.id, a.id, self(a.id), k1);
  assert.equal(again.replayed, true);
  assert.deepEqual(again.hold, first.hold);
  const other = await idem("k1", JSON.stringify({ sessionId: t.id }));
  await rejects(engine.placeHold(t.id, a.id, self(a.id), other), 422, "idempotency_key_reused");
  // Concurrent retries of one request: one hold, every caller gets it.
  const k2 = await idem("k2", JSON.stringify({ sessionId: t.id }));
  const burst = await Promise.all(Array.from({ length: 8 }, () => engine.placeHold(t.id, a.id, self(a.id), k2)));
  assert.equal(new Set(burst.map((r) => r.hold.id)).size, 1);
  assert.equal(burst.filter((r) => !r.replayed).length, 1);
  // Confirm and reschedule replay too.
  const kc = await idem("k3", "confirm");
  const c1 = await engine.confirmHold(first.hold.id, self(a.id), kc);
  const c2 = await engine.confirmHold(first.hold.id, self(a.id), kc);
  assert.equal(c2.replayed, true);
  assert.deepEqual(c2.booking, c1.booking);
  await rejects(
    engine.confirmHold(first.hold.id, self(a.id), await idem("k3", "other")),
    422,
    "idempotency_key_reused",
  );
  const u = await putSession(kv, course.id, { capacity: 5, startsInHours: 400 });
  const kr = await idem("k4", "reschedule");
  const r1 = await engine.rescheduleBooking(c1.booking.id, u.id, self(a.id), kr);
  const r2 = await engine.rescheduleBooking(c1.booking.id, u.id, self(a.id), kr);
  assert.equal(r2.replayed, true);
  assert.deepEqual(r2.booking, r1.booking);
  assert.deepEqual(await types(kv), ["hold.placed", "hold.placed", "booking.confirmed", "booking.rescheduled"]);
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[booking] waitlist order is join order even when learners join in the same millisecond", async () => {
  const { kv, engine, clock, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 1 });
  const users = await putUsers(kv, 8);
  const [a, ...queue] = users;
  const { hold } = await engine.placeHold(s.id, a.id, self(a.id));
  const { booking } = await engine.confirmHold(hold.id, self(a.id));
  // Newest user ids first, so id order disagrees with join order; the clock does not move.
  const order = [...queue].reverse();
  for (const u of order) await engine.joinWaitlist(s.id, u.id, self(u.id));
  for (const [i, u] of order.entries()) assert.equal(await engine.waitlistPosition(s.id, u.id), i + 1);
  await engine.cancelBooking(booking.id, self(a.id));
  assert.equal((await kv.get<{ kind: string }>(keys.place(s.id, order[0].id))).value?.kind, "offer");
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[booking] a seat freed by an expiring hold goes to the waitlist, not to a newcomer", async () => {
  const { kv, engine, clock, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 1 });
  const [a, b, c] = await putUsers(kv, 3);
  await engine.placeHold(s.id, a.id, self(a.id));
  await engine.joinWaitlist(s.id, b.id, self(b.id));
  clock.advance(15 * MINUTE); // a's hold lapses; no cleanup has run yet
  await rejects(engine.placeHold(s.id, c.id, self(c.id)), 409, "session_full");
  assert.equal((await kv.get<{ kind: string }>(keys.place(s.id, b.id))).value?.kind, "offer");
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[booking] waitlist joins racing a cancel: the freed seat goes to the first to join", async () => {
  const { kv, engine, clock, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 1 });
  const [a, b, c] = await putUsers(kv, 3);
  const { hold } = await engine.placeHold(s.id, a.id, self(a.id));
  const { booking } = await engine.confirmHold(hold.id, self(a.id));
  // All three reach the lane together: b and c join, and a cancels. Which join reaches the lane
  // first depends on their reads before it, so "first" is the order of the commit's joined events.
  await Promise.all([
    engine.joinWaitlist(s.id, b.id, self(b.id)),
    engine.joinWaitlist(s.id, c.id, self(c.id)),
    engine.cancelBooking(booking.id, self(a.id)),
  ]);
  const joins = (await allEvents(kv)).filter((e) => e.type === "waitlist.joined").map((e) => e.learnerId);
  assert.deepEqual([...joins].sort(), [b.id, c.id].sort());
  const [first, second] = joins as [string, string];
  assert.equal((await kv.get<{ kind: string }>(keys.place(s.id, first))).value?.kind, "offer");
  assert.equal(await engine.waitlistPosition(s.id, second), 1);
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[booking] staff may act for a learner; engines on one store share rules", async () => {
  const { kv, engine, clock, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 1 });
  const [a] = await putUsers(kv, 1);
  const { hold } = await engine.placeHold(s.id, a.id, admin());
  const other = new BookingEngine(kv, { holdMinutes: 15, now: clock.now });
  const { booking } = await other.confirmHold(hold.id, admin());
  assert.equal(booking.learnerId, a.id);
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[booking] reschedule out of a full session offers the freed seat to its waitlist in the same commit", async () => {
  const { kv, engine, clock, course } = await setup();
  const from = await putSession(kv, course.id, { capacity: 1, startsInHours: 100 });
  const to = await putSession(kv, course.id, { capacity: 1, startsInHours: 200 });
  const [a, b] = await putUsers(kv, 2);
  const { hold } = await engine.placeHold(from.id, a.id, self(a.id));
  const { booking } = await engine.confirmHold(hold.id, self(a.id));
  await engine.joinWaitlist(from.id, b.id, self(b.id));
  const before = (await allEvents(kv)).length;
  await engine.rescheduleBooking(booking.id, to.id, self(a.id));
  const evs = (await allEvents(kv)).slice(before);
  assert.deepEqual(evs.map((e) => e.type), ["booking.rescheduled", "waitlist.offered"]);
  assert.equal(evs[0].versionstamp, evs[1].versionstamp, "one atomic commit");
  assert.equal(evs[1].learnerId, b.id);
  assert.equal(evs[1].origin, "system");
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[booking] a cancelled session takes no holds and no waitlist joins", async () => {
  const { kv, engine, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 1, status: "cancelled" });
  const [a] = await putUsers(kv, 1);
  await rejects(engine.placeHold(s.id, a.id, self(a.id)), 409, "session_cancelled");
  await rejects(engine.joinWaitlist(s.id, a.id, self(a.id)), 409, "session_cancelled");
  await rejects(engine.placeHold("01JZZZZZZZZZZZZZZZZZZZZZZZ", a.id, self(a.id)), 404, "session_not_found");
  await rejects(engine.placeHold(s.id, "01JZZZZZZZZZZZZZZZZZZZZZZZ", admin()), 404, "user_not_found");
  assert.deepEqual(await types(kv), []);
  await teardown(kv);
});

Deno.test("[booking] a seat freed earlier in the same lane batch goes to the waitlist head, not to a newcomer", async () => {
  const { kv, engine, clock, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 1 });
  const [a, b, c] = await putUsers(kv, 3);
  const { hold } = await engine.placeHold(s.id, a.id, self(a.id));
  const { booking } = await engine.confirmHold(hold.id, self(a.id));
  await engine.joinWaitlist(s.id, b.id, self(b.id));
  // Keep the lane busy so the cancel and the newcomer's hold queue up into one batch, in that order.
  const busy = engine.lanes.run(s.id, self(a.id), () => new Promise((r) => setTimeout(r, 40)));
  const cancel = engine.cancelBooking(booking.id, self(a.id));
  await new Promise((r) => setTimeout(r, 10));
  const newcomer = engine.placeHold(s.id, c.id, self(c.id));
  await Promise.all([busy, cancel]);
  await rejects(newcomer, 409, "session_full");
  assert.equal((await kv.get<{ kind: string }>(keys.place(s.id, b.id))).value?.kind, "offer");
  assert.equal((await kv.get(keys.place(s.id, c.id))).value, null);
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[booking] alternatives leave out sessions where the learner already has a live place", async () => {
  const { kv, engine, clock, course } = await setup();
  const full = await putSession(kv, course.id, { capacity: 1, startsInHours: 24 });
  const [lapsedS, heldS, bookedS, waitS, freeS] = await Promise.all(
    [48, 72, 96, 120, 144].map((h) => putSession(kv, course.id, { capacity: 3, startsInHours: h })),
  );
  const [me, other] = await putUsers(kv, 2);
  await engine.confirmHold((await engine.placeHold(full.id, other.id, self(other.id))).hold.id, self(other.id));
  await engine.placeHold(lapsedS.id, me.id, self(me.id));
  clock.advance(10 * MINUTE);
  await engine.placeHold(heldS.id, me.id, self(me.id));
  const { hold } = await engine.placeHold(bookedS.id, me.id, self(me.id));
  await engine.confirmHold(hold.id, self(me.id));
  // A waitlist place in a session with seats (a raw place key: the engine would not queue me there).
  await kv.set(keys.place(waitS.id, me.id), { kind: "waitlist", id: new Date(T0).toISOString() });
  clock.advance(6 * MINUTE); // the hold on lapsedS has lapsed (not cleaned up): that session is fair game
  const err = await rejects(engine.placeHold(full.id, me.id, self(me.id)), 409, "session_full");
  const ids = (err.details as { alternatives: { sessionId: string }[] }).alternatives.map((a) => a.sessionId);
  assert.deepEqual(ids, [lapsedS.id, freeS.id]);
  await teardown(kv);
});

Deno.test("[booking] leaving after the offer lapsed: 404 not_on_waitlist, before and after cleanup; hold.expired once", async () => {
  const { kv, engine, clock, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 1 });
  const [a, b, c] = await putUsers(kv, 3);
  const { hold } = await engine.placeHold(s.id, a.id, self(a.id));
  const { booking } = await engine.confirmHold(hold.id, self(a.id));
  await engine.joinWaitlist(s.id, b.id, self(b.id));
  await engine.joinWaitlist(s.id, c.id, self(c.id));
  await engine.cancelBooking(booking.id, self(a.id));
  const offer = (await kv.get<{ kind: string; id: string }>(keys.place(s.id, b.id))).value!;
  assert.equal(offer.kind, "offer");
  clock.advance(24 * HOUR); // b's offer lapses; nothing has cleaned it up yet
  const err = await rejects(engine.leaveWaitlist(s.id, b.id, self(b.id)), 404, "not_on_waitlist");
  assert.match(err.message, /lapsed/);
  assert.equal((await kv.get<Hold>(keys.hold(offer.id))).value!.status, "expired");
  // Same answer once it is cleaned up; the seat went to c.
  await rejects(engine.leaveWaitlist(s.id, b.id, self(b.id)), 404, "not_on_waitlist");
  assert.equal((await kv.get<{ kind: string }>(keys.place(s.id, c.id))).value?.kind, "offer");
  const evs = await allEvents(kv);
  assert.deepEqual(evs.filter((e) => e.type === "hold.expired").map((e) => e.data.holdId), [offer.id]);
  assert.equal(evs.filter((e) => e.type === "hold.released" || e.type === "waitlist.left").length, 0);
  await assertConsistent(kv, clock.now());
  await teardown(kv);
});

Deno.test("[booking] listLearnerPlaces: live holds and offers, every booking, waitlist positions; lapsed holds left out", async () => {
  const { kv, engine, clock, course } = await setup();
  const [s1, s2, s3, s4, s5] = await Promise.all(
    [48, 72, 96, 120, 144].map((h) => putSession(kv, course.id, { capacity: 1, startsInHours: h })),
  );
  const [me, x, y] = await putUsers(kv, 3);
  // s1: my hold will lapse; s2: my live hold; s3: booked then cancelled, s4: booked.
  await engine.placeHold(s1.id, me.id, self(me.id));
  clock.advance(10 * MINUTE);
  const { hold: live } = await engine.placeHold(s2.id, me.id, self(me.id));
  const b3 =
    (await engine.confirmHold((await engine.placeHold(s3.id, me.id, self(me.id))).hold.id, self(me.id))).booking;
  await engine.cancelBooking(b3.id, self(me.id));
  clock.advance(1000);
  const b4 =
    (await engine.confirmHold((await engine.placeHold(s4.id, me.id, self(me.id))).hold.id, self(me.id))).booking;
  // s5: x books, y then I queue: I am second.
  await engine.confirmHold((await engine.placeHold(s5.id, x.id, self(x.id))).hold.id, self(x.id));
  await engine.joinWaitlist(s5.id, y.id, self(y.id));
  await engine.joinWaitlist(s5.id, me.id, self(me.id));
  clock.advance(6 * MINUTE); // s1 hold lapsed
  const places = await engine.listLearnerPlaces(me.id);
  assert.deepEqual(places.holds.map((h) => h.id), [live.id]);
  assert.equal(places.holds[0].expiresAt, live.expiresAt);
  assert.deepEqual(places.bookings.map((b) => [b.id, b.status]), [[b4.id, "confirmed"], [b3.id, "cancelled"]]);
  assert.deepEqual(places.waitlist.map((w) => [w.entry.sessionId, w.position]), [[s5.id, 2]]);
  // y leaves: I move up. An offer shows among the holds, not on the waitlist.
  await engine.leaveWaitlist(s5.id, y.id, self(y.id));
  assert.deepEqual((await engine.listLearnerPlaces(me.id)).waitlist.map((w) => w.position), [1]);
  const xb = (await engine.listLearnerPlaces(x.id)).bookings[0];
  await engine.cancelBooking(xb.id, self(x.id));
  const after = await engine.listLearnerPlaces(me.id);
  assert.deepEqual(after.waitlist, []);
  assert.deepEqual(after.holds.map((h) => [h.sessionId, h.kind]), [[s2.id, "hold"], [s5.id, "offer"]]);
  assert.deepEqual(await engine.listLearnerPlaces(y.id), { holds: [], bookings: [], waitlist: [] });
  await teardown(kv);
});
