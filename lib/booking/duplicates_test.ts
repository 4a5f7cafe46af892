/** The warning before repeating a course: booked elsewhere, completed, and what does not count. */
import assert from "node:assert/strict";
import { DomainError } from "./errors.ts";
import { findCourseDuplicate, isCompletionValid } from "./duplicates.ts";
import { addDays, addMonths, localDate } from "../compliance/dates.ts";
import { zonedWallTimeToUtc } from "../domain/zoned_time.ts";
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

Deno.test("[duplicates] a completion counts until its certification expires, by the compliance date rule", async () => {
  const { kv, clock } = await setup();
  const course = await putCourse(kv, { code: "CRT-120", certificationValidMonths: 12 });
  const s = await putSession(kv, course.id, { startsInHours: 48 });
  const zone = "America/Chicago";
  // Completed at noon Chicago time on the local date 12 months and one day before today: the
  // certification's last valid day was yesterday, so it no longer warns.
  const today = localDate(clock.now(), zone);
  const noon = (date: string) => zonedWallTimeToUtc({ ...ymd(date), hour: 12, minute: 0 }, zone).toISOString();
  const expired = await putUser(kv, {
    completedCourses: [{ courseId: course.id, completedAt: noon(addMonths(addDays(today, -1), -12)) }],
  });
  assert.equal(isCompletionValid(course, expired.completedCourses[0].completedAt, clock.now(), zone), false);
  assert.equal(await findCourseDuplicate(kv, expired, s, course, clock.now(), zone), null);
  // Completed 12 months ago to the day: today is the last valid day, so it still warns.
  const completedAt = noon(addMonths(today, -12));
  const valid = await putUser(kv, { completedCourses: [{ courseId: course.id, completedAt }] });
  assert.equal(isCompletionValid(course, completedAt, clock.now(), zone), true);
  assert.deepEqual(await findCourseDuplicate(kv, valid, s, course, clock.now(), zone), {
    reason: "completed",
    completedAt,
  });
  // A course that grants no certification never lapses.
  const once = await putCourse(kv, { code: "ONC-100" });
  assert.equal(isCompletionValid(once, "2001-01-01T12:00:00.000Z", clock.now(), zone), true);
  // A recertification counts: the last completion decides.
  const renewed = await putUser(kv, {
    completedCourses: [
      { courseId: course.id, completedAt: noon(addMonths(today, -30)) },
      { courseId: course.id, completedAt: noon(addMonths(today, -2)) },
    ],
  });
  assert.equal((await findCourseDuplicate(kv, renewed, s, course, clock.now(), zone))?.reason, "completed");
  await teardown(kv);
});

function ymd(date: string): { year: number; month: number; day: number } {
  const [year, month, day] = date.split("-").map(Number);
  return { year, month, day };
}
