/** The warning before repeating a course: booked elsewhere, completed, and what does not count. */
import assert from "node:assert/strict";
import { DomainError } from "./errors.ts";
import { findCourseDuplicate } from "./duplicates.ts";
import { HOUR, putCourse, putSession, putUser, self, setup, T0, teardown } from "../../tests/booking/test_fixtures.ts";

Deno.test("[duplicates] a confirmed seat in another live session of the course warns; cancelled or ended ones do not", async () => {
  const { kv, engine, clock, course } = await setup();
  const learner = await putUser(kv);
  const first = await putSession(kv, course.id, { startsInHours: 48 });
  const second = await putSession(kv, course.id, { startsInHours: 96 });
  const other = await putSession(kv, (await putCourse(kv, { code: "SAL-101" })).id, { startsInHours: 48 });
  assert.equal(await findCourseDuplicate(kv, learner, second, course, clock.now()), null);
  const { hold } = await engine.placeHold(first.id, learner.id, self(learner.id));
  assert.equal(await findCourseDuplicate(kv, learner, second, course, clock.now()), null, "a hold is not a booking");
  const { booking } = await engine.confirmHold(hold.id, self(learner.id));
  assert.deepEqual(await findCourseDuplicate(kv, learner, second, course, clock.now()), {
    reason: "booked",
    bookingId: booking.id,
    sessionId: first.id,
    startsAt: first.startsAt,
    timeZone: first.timeZone,
  });
  assert.equal(await findCourseDuplicate(kv, learner, other, null, clock.now()), null, "another course");
  assert.equal(await findCourseDuplicate(kv, learner, first, course, clock.now()), null, "the same session");
  // Once that session has ended it no longer counts (only a completion would).
  clock.advance(48 * HOUR + 2 * HOUR + 1);
  assert.equal(await findCourseDuplicate(kv, learner, second, course, clock.now()), null);
  clock.ms = T0;
  await engine.cancelBooking(booking.id, self(learner.id));
  assert.equal(await findCourseDuplicate(kv, learner, second, course, clock.now()), null);
  await teardown(kv);
});

Deno.test("[duplicates] a completed course warns; placeHold refuses with duplicate_course only when asked to warn", async () => {
  const { kv, engine, clock, course } = await setup();
  const completedAt = new Date(T0 - 30 * 24 * HOUR).toISOString();
  const learner = await putUser(kv, { completedCourses: [{ courseId: course.id, completedAt }] });
  const s = await putSession(kv, course.id);
  assert.deepEqual(await findCourseDuplicate(kv, learner, s, course, clock.now()), {
    reason: "completed",
    completedAt,
  });
  const refused = await engine.placeHold(s.id, learner.id, self(learner.id), undefined, { warnDuplicate: true })
    .then(() => null, (e) => e);
  assert.ok(refused instanceof DomainError);
  assert.equal(refused.status, 409);
  assert.equal(refused.code, "duplicate_course");
  assert.deepEqual(refused.details, { reason: "completed", completedAt });
  const anyway = await engine.placeHold(s.id, learner.id, self(learner.id), undefined, { warnDuplicate: false });
  assert.equal(anyway.hold.status, "active");
  await teardown(kv);
});

Deno.test("[duplicates] a full session says full first; the warning comes only when a seat could be had", async () => {
  const { kv, engine, course } = await setup();
  const completedAt = new Date(T0 - 24 * HOUR).toISOString();
  const learner = await putUser(kv, { completedCourses: [{ courseId: course.id, completedAt }] });
  const taker = await putUser(kv);
  const full = await putSession(kv, course.id, { capacity: 1 });
  await engine.placeHold(full.id, taker.id, self(taker.id));
  const err = await engine.placeHold(full.id, learner.id, self(learner.id), undefined, { warnDuplicate: true })
    .then(() => null, (e) => e);
  assert.equal(err?.code, "session_full");
  await teardown(kv);
});
