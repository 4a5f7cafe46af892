/** checkConsistency: clean on a healthy store, and names each kind of damage done to one by hand. */
import assert from "node:assert/strict";
import { checkConsistency, type ProblemCode } from "./consistency.ts";
import type { BookingEngine } from "./engine.ts";
import { keys } from "../store/keys.ts";
import type { Booking, Hold, LearnerHolds, SeatDoc, Session } from "./model.ts";
import { newId } from "../domain/mod.ts";
import { type Clock, putSession, putUsers, self, setup, teardown } from "../../tests/booking/test_fixtures.ts";

/** A store with a booking, a hold, an offer and a waiting learner in one session (capacity 3). */
async function healthy(): Promise<{
  kv: Deno.Kv;
  engine: BookingEngine;
  clock: Clock;
  s: Session;
  booking: Booking;
  hold: Hold;
  offer: Hold;
  learners: string[];
}> {
  const { kv, engine, clock, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 3 });
  const users = (await putUsers(kv, 6)).map((u) => u.id);
  const [a, b, c, d, e, f] = users;
  const { hold: ha } = await engine.placeHold(s.id, a, self(a));
  const { booking } = await engine.confirmHold(ha.id, self(a));
  const { hold } = await engine.placeHold(s.id, b, self(b));
  const { hold: hc } = await engine.placeHold(s.id, c, self(c));
  const { booking: bc } = await engine.confirmHold(hc.id, self(c));
  await engine.joinWaitlist(s.id, d, self(d));
  await engine.joinWaitlist(s.id, e, self(e));
  await engine.cancelBooking(bc.id, self(c)); // → offer to d, e keeps waiting
  const offer = (await kv.get<Hold>(keys.hold((await kv.get<{ id: string }>(keys.place(s.id, d))).value!.id))).value!;
  assert.equal(offer.kind, "offer");
  return { kv, engine, clock, s, booking, hold, offer, learners: [a, b, c, d, e, f] };
}

async function codes(kv: Deno.Kv, clock: Clock): Promise<ProblemCode[]> {
  return [...new Set((await checkConsistency(kv, clock.now())).problems.map((p) => p.code))].sort();
}

Deno.test("[booking] consistency: a healthy store has no problems and every session is counted", async () => {
  const { kv, clock, s } = await healthy();
  await putSession(kv, s.courseId, { capacity: 1 });
  const report = await checkConsistency(kv, clock.now());
  assert.deepEqual(report, { sessions: 2, problems: [] });
  // Expired holds still indexed are fine (cleanup pending), and so is their cleanup.
  clock.advance(30 * 60_000);
  assert.deepEqual((await checkConsistency(kv, clock.now())).problems, []);
  await teardown(kv);
});

Deno.test("[booking] consistency: wrong seat counters are named", async () => {
  const { kv, clock, s } = await healthy();
  const seats = (await kv.get<SeatDoc>(keys.seats(s.id))).value!;
  assert.deepEqual(seats, { confirmed: 1, holds: 2, waiting: 1 });
  await kv.set(keys.seats(s.id), { confirmed: 2, holds: 1, waiting: 0 });
  const report = await checkConsistency(kv, clock.now());
  assert.deepEqual(report.problems.map((p) => p.code).sort(), [
    "seats_confirmed_mismatch",
    "seats_holds_mismatch",
    "seats_waiting_mismatch",
  ]);
  assert.ok(report.problems.every((p) => p.sessionId === s.id));
  assert.match(report.problems.find((p) => p.code === "seats_confirmed_mismatch")!.message, /is 2 but 1/);
  await teardown(kv);
});

Deno.test("[booking] consistency: overbooking and two live places for one learner are named", async () => {
  const { kv, clock, s, booking, learners } = await healthy();
  const f = learners[5];
  // Two extra confirmed bookings written behind the engine's back (counters and indexes kept right).
  for (const learnerId of [f, booking.learnerId]) {
    const extra: Booking = { ...booking, id: newId(), learnerId };
    const seats = (await kv.get<SeatDoc>(keys.seats(s.id))).value!;
    await kv.atomic()
      .set(keys.booking(extra.id), extra)
      .set(keys.bookingBySession(s.id, extra.id), extra.id)
      .set(keys.bookingByLearner(learnerId, extra.id), extra.id)
      .set(keys.place(s.id, learnerId), { kind: "booking", id: extra.id })
      .set(keys.seats(s.id), { ...seats, confirmed: seats.confirmed + 1 })
      .commit();
  }
  const problems = (await checkConsistency(kv, clock.now())).problems;
  assert.deepEqual([...new Set(problems.map((p) => p.code))].sort(), [
    "over_capacity",
    "place_missing",
    "two_live_places",
  ]);
  assert.match(
    problems.find((p) => p.code === "over_capacity")!.message,
    /5 seats are taken in a session of capacity 3/,
  );
  assert.equal(problems.find((p) => p.code === "two_live_places")!.learnerId, booking.learnerId);
  await teardown(kv);
});

Deno.test("[booking] consistency: missing and stray place keys are named", async () => {
  const { kv, clock, s, hold, learners } = await healthy();
  await kv.delete(keys.place(s.id, hold.learnerId));
  await kv.set(keys.place(s.id, learners[5]), { kind: "booking", id: newId() });
  assert.deepEqual(await codes(kv, clock), ["place_missing", "place_orphan"]);
  await teardown(kv);
});

Deno.test("[booking] consistency: hold indexes that disagree with the holds are named", async () => {
  const { kv, clock, s, hold } = await healthy();
  const ms = Date.parse(hold.expiresAt);
  await kv.delete(keys.holdBySession(s.id, ms, hold.id));
  assert.deepEqual(await codes(kv, clock), ["hold_index_missing"]);
  await kv.set(keys.holdBySession(s.id, ms, hold.id), hold.id);
  await kv.delete(keys.holdByExpiry(ms, hold.id));
  await kv.set(keys.holdByExpiry(ms + 1, newId()), { holdId: newId(), sessionId: s.id });
  assert.deepEqual(await codes(kv, clock), ["hold_index_missing", "hold_index_orphan"]);
  await teardown(kv);
});

Deno.test("[booking] consistency: booking indexes that disagree with the bookings are named", async () => {
  const { kv, clock, s, booking } = await healthy();
  await kv.delete(keys.bookingByLearner(booking.learnerId, booking.id));
  await kv.set(keys.bookingBySession(s.id, newId()), "nope");
  assert.deepEqual(await codes(kv, clock), ["booking_index_missing", "booking_index_orphan"]);
  await teardown(kv);
});

Deno.test("[booking] consistency: waitlist_by_learner and learner_holds mismatches are named", async () => {
  const { kv, clock, s, offer, hold, learners } = await healthy();
  await kv.delete(keys.waitlistByLearner(offer.learnerId, s.id));
  await kv.set(keys.waitlistByLearner(learners[5], s.id), { status: "waiting" });
  await kv.set(keys.learnerHolds(hold.learnerId), { items: [] } satisfies LearnerHolds);
  assert.deepEqual(await codes(kv, clock), ["learner_holds_mismatch", "waitlist_index_mismatch"]);
  await teardown(kv);
});

Deno.test("[booking] consistency: a queued entry that is not waiting is named", async () => {
  const { kv, clock, s, learners } = await healthy();
  const e = learners[4];
  const entry = (await kv.get<{ joinedAt: string }>(keys.waitlistByLearner(e, s.id))).value!;
  const key = keys.waitlistEntry(s.id, entry.joinedAt, e);
  await kv.set(key, { ...(await kv.get<object>(key)).value, status: "left" });
  const problems = (await checkConsistency(kv, clock.now())).problems;
  assert.deepEqual(problems.map((p) => [p.code, p.learnerId]), [["waitlist_index_mismatch", e]]);
  await teardown(kv);
});

Deno.test("[booking] consistency: more than 3 live holds for a learner and records of unknown sessions are named", async () => {
  const { kv, engine, clock, course } = await setup();
  const [a] = await putUsers(kv, 1);
  const holds: Hold[] = [];
  for (let i = 0; i < 3; i++) {
    const s = await putSession(kv, course.id, { capacity: 2, startsInHours: 100 + i });
    holds.push((await engine.placeHold(s.id, a.id, self(a.id))).hold);
  }
  assert.deepEqual(await codes(kv, clock), []);
  // A fourth hold copied in by hand (with everything the engine would have written).
  const s4 = await putSession(kv, course.id, { capacity: 2, startsInHours: 200 });
  const h4: Hold = { ...holds[0], id: newId(), sessionId: s4.id };
  const ms = Date.parse(h4.expiresAt);
  const doc = (await kv.get<LearnerHolds>(keys.learnerHolds(a.id))).value!;
  await kv.atomic()
    .set(keys.hold(h4.id), h4)
    .set(keys.holdBySession(s4.id, ms, h4.id), h4.id)
    .set(keys.holdByExpiry(ms, h4.id), { holdId: h4.id, sessionId: s4.id })
    .set(keys.place(s4.id, a.id), { kind: "hold", id: h4.id, expiresAtMs: ms })
    .set(keys.seats(s4.id), { confirmed: 0, holds: 1, waiting: 0 })
    .set(keys.learnerHolds(a.id), {
      items: [...doc.items, { holdId: h4.id, sessionId: s4.id, kind: "hold", expiresAtMs: ms }],
    })
    .commit();
  assert.deepEqual(await codes(kv, clock), ["too_many_holds"]);
  await kv.delete(keys.session(s4.id));
  assert.ok((await codes(kv, clock)).includes("session_missing"));
  await teardown(kv);
});
