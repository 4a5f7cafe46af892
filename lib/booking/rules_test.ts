/** The admins' rules where the engine applies them: waitlist offer windows, the rules cache's defaults. */
import assert from "node:assert/strict";
import { keys } from "../store/keys.ts";
import type { Hold } from "./model.ts";
import { defaultRules, effectiveRules, loadGlobalRules, type Rules, saveCourseRules, saveRules } from "./rules.ts";
import { offerExpiry } from "./session_tx.ts";
import {
  admin,
  HOUR,
  putCourse,
  putSession,
  putUsers,
  self,
  setup,
  T0,
  teardown,
} from "../../tests/booking/test_fixtures.ts";
import type { BookingEngine } from "./engine.ts";

/** The offer a learner holds in a session (fails when there is none). */
async function offerOf(kv: Deno.Kv, sessionId: string, learnerId: string): Promise<Hold> {
  const place = (await kv.get<{ kind: string; id: string }>(keys.place(sessionId, learnerId))).value;
  assert.equal(place?.kind, "offer", "the learner holds an offer");
  return (await kv.get<Hold>(keys.hold(place!.id))).value!;
}

/** Books every seat of a session and queues `waiting` learners; returns the bookings and the queue. */
async function fillAndQueue(engine: BookingEngine, sessionId: string, seats: number, waiting: number) {
  const users = await putUsers(engine.kv, seats + waiting);
  const bookings = [];
  for (const u of users.slice(0, seats)) {
    const { hold } = await engine.placeHold(sessionId, u.id, self(u.id));
    bookings.push((await engine.confirmHold(hold.id, self(u.id))).booking);
  }
  for (const u of users.slice(seats)) await engine.joinWaitlist(sessionId, u.id, self(u.id));
  return { bookings, queue: users.slice(seats) };
}

function rulesWith(over: Partial<Rules>): Rules {
  return { ...defaultRules(15), ...over };
}

Deno.test("[rules] offer expiry follows the given windows: far from the start, within 48 h, never past the start", () => {
  const start = T0 + 10 * 24 * HOUR;
  const windows = { offerHours: 6, offerHoursNearStart: 1 };
  assert.equal(offerExpiry(T0, start, windows), T0 + 6 * HOUR);
  assert.equal(offerExpiry(start - 48 * HOUR, start, windows), start - 47 * HOUR);
  assert.equal(offerExpiry(start - 30 * 60_000, start, windows), start);
});

Deno.test("[rules] a changed offer window applies to the next offer; an offer already made keeps its expiry", async () => {
  const { kv, engine, clock, course } = await setup();
  try {
    const s = await putSession(kv, course.id, { capacity: 2, startsInHours: 24 * 5 });
    const { bookings, queue: [c, d] } = await fillAndQueue(engine, s.id, 2, 2);
    await saveRules(kv, rulesWith({ offerHours: 10 }), admin(), { now: clock.now() });
    await engine.cancelBooking(bookings[0].id, self(bookings[0].learnerId));
    const first = await offerOf(kv, s.id, c.id);
    assert.equal(Date.parse(first.expiresAt), clock.ms + 10 * HOUR);
    clock.advance(HOUR);
    await saveRules(kv, rulesWith({ offerHours: 30 }), admin(), { now: clock.now() });
    await engine.cancelBooking(bookings[1].id, self(bookings[1].learnerId));
    const second = await offerOf(kv, s.id, d.id);
    assert.equal(Date.parse(second.expiresAt), clock.ms + 30 * HOUR, "the next offer uses the new window");
    assert.equal((await offerOf(kv, s.id, c.id)).expiresAt, first.expiresAt, "the earlier offer keeps its expiry");
    const events = [];
    for await (const e of kv.list<{ type: string; data: { expiresAt: string } }>({ prefix: ["events"] })) {
      if (e.value.type === "waitlist.offered") events.push(e.value.data.expiresAt);
    }
    assert.deepEqual(events.sort(), [first.expiresAt, second.expiresAt].sort(), "the events carry the expiries");
  } finally {
    await teardown(kv);
  }
});

Deno.test("[rules] within 48 h of the start an offer lasts offerHoursNearStart, never past the start", async () => {
  const { kv, engine, clock, course } = await setup();
  try {
    const s = await putSession(kv, course.id, { capacity: 1, startsInHours: 30 });
    const { bookings, queue: [b, c] } = await fillAndQueue(engine, s.id, 1, 2);
    await saveRules(kv, rulesWith({ offerHours: 20, offerHoursNearStart: 5 }), admin(), { now: clock.now() });
    await engine.cancelBooking(bookings[0].id, self(bookings[0].learnerId));
    const offer = await offerOf(kv, s.id, b.id);
    assert.equal(Date.parse(offer.expiresAt), clock.ms + 5 * HOUR);
    // A window longer than the time left ends at the start.
    await saveRules(kv, rulesWith({ offerHours: 20, offerHoursNearStart: 48 }), admin(), { now: clock.now() });
    await engine.releaseHold(offer.id, self(b.id));
    assert.equal((await offerOf(kv, s.id, c.id)).expiresAt, s.startsAt);
  } finally {
    await teardown(kv);
  }
});

Deno.test("[rules] a course's offer windows override the global ones for that course only", async () => {
  const { kv, engine, clock, course } = await setup();
  try {
    const other = await putCourse(kv, { code: "OTH-101", title: "Other" });
    const own = await putSession(kv, course.id, { capacity: 1, startsInHours: 24 * 5 });
    const plain = await putSession(kv, other.id, { capacity: 1, startsInHours: 24 * 5 });
    await saveRules(kv, rulesWith({ offerHours: 10 }), admin(), { now: clock.now() });
    await saveCourseRules(kv, course.id, { offerHours: 3 }, admin(), { now: clock.now() });
    const a = await fillAndQueue(engine, own.id, 1, 1);
    const b = await fillAndQueue(engine, plain.id, 1, 1);
    await engine.cancelBooking(a.bookings[0].id, self(a.bookings[0].learnerId));
    await engine.cancelBooking(b.bookings[0].id, self(b.bookings[0].learnerId));
    assert.equal(Date.parse((await offerOf(kv, own.id, a.queue[0].id)).expiresAt), clock.ms + 3 * HOUR);
    assert.equal(Date.parse((await offerOf(kv, plain.id, b.queue[0].id)).expiresAt), clock.ms + 10 * HOUR);
  } finally {
    await teardown(kv);
  }
});

Deno.test("[rules] the rules cache applies each caller's defaults until rules are saved", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    assert.equal((await effectiveRules(kv, "c1", 5)).holdMinutes, 5);
    assert.equal((await effectiveRules(kv, "c1", { holdMinutes: 20 })).holdMinutes, 20, "not the first caller's");
    assert.deepEqual((await effectiveRules(kv, "c1")).reminderHours, [168, 24, 1]);
    assert.equal((await loadGlobalRules(kv, { checkInWindowMinutes: 45 })).checkInWindowMinutes, 45);
    await saveRules(kv, rulesWith({ holdMinutes: 7, checkInWindowMinutes: 12 }), admin(), { now: new Date(T0) });
    assert.equal((await effectiveRules(kv, "c1", 20)).holdMinutes, 7, "saved rules win over defaults");
    assert.equal((await loadGlobalRules(kv, { checkInWindowMinutes: 45 })).checkInWindowMinutes, 12);
  } finally {
    kv.close();
  }
});
