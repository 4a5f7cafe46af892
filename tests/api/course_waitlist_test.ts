/** POST/DELETE /v1/course-waitlist and GET /v1/me/course-waitlist: join, offer, accept, leave, bad input. */
import assert from "node:assert/strict";
import { zonedParts } from "../../lib/domain/zoned_time.ts";
import type { Body } from "./client.ts";
import { startApiFixture } from "./fixture.ts";
import { createCourse } from "../../lib/store/courses.ts";

function newCourse(kv: Deno.Kv, code: string) {
  return createCourse(kv, {
    code,
    title: `Course-wide waitlist ${code}`,
    summary: "Any date that suits me.",
    topic: "safety",
    programType: "onboarding",
    durationMinutes: 120,
  });
}

/** A session's start as the calendar date in its own time zone (what the window compares), at any hour. */
const day = (s: { startsAt: string; timeZone: string }) => {
  const p = zonedParts(new Date(s.startsAt), s.timeZone);
  return `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
};

Deno.test("[api] course waitlist: join, the first freed seat is offered, accepting it ends the entry", async () => {
  const f = await startApiFixture();
  try {
    const [a, b] = await f.learners(2);
    const course = await newCourse(f.services.kv, "CWL-101");
    const s1 = await f.session({ capacity: 1, course, startsInHours: 300 });
    const s2 = await f.session({ capacity: 1, course, startsInHours: 330 });
    const bookings: string[] = [];
    for (const s of [s1, s2]) {
      const hold = await a.api.post<Body>("/api/v1/holds", { sessionId: s.id, confirmDuplicate: true });
      assert.equal(hold.status, 201, JSON.stringify(hold.body));
      const booked = await a.api.post<Body>("/api/v1/bookings", { holdId: hold.body.hold.id });
      bookings.push(booked.body.booking.id);
    }
    const join = await b.api.post<Body>("/api/v1/course-waitlist", {
      courseId: course.id,
      from: day(s1),
      to: day(s2),
    });
    assert.equal(join.status, 201, JSON.stringify(join.body));
    assert.deepEqual(join.body.sessions.map((s: Body) => [s.sessionId, s.status]), [
      [s1.id, "waiting"],
      [s2.id, "waiting"],
    ]);
    const again = await b.api.post<Body>("/api/v1/course-waitlist", { courseId: course.id });
    assert.equal(again.status, 409);
    assert.equal(again.body.error, "already_on_course_waitlist");
    const mine = await b.api.get<Body>("/api/v1/me/course-waitlist");
    assert.equal(mine.status, 200);
    assert.deepEqual(mine.body.entries.map((e: Body) => e.entry.courseId), [course.id]);

    const cancelled = await a.api.post<Body>(`/api/v1/bookings/${bookings[1]}/cancel`, {});
    assert.equal(cancelled.status, 200);
    const offered = (await b.api.get<Body>("/api/v1/me/course-waitlist")).body.entries[0];
    assert.equal(offered.entry.offer.sessionId, s2.id);
    const places = await b.api.get<Body>("/api/v1/me/bookings");
    assert.deepEqual(places.body.holds.map((h: Body) => [h.kind, h.sessionId, h.courseEntryId]), [
      ["offer", s2.id, offered.entry.id],
    ]);
    assert.deepEqual(places.body.waitlist.map((w: Body) => w.entry.sessionId), [s1.id], "still waiting on s1");
    const booked = await b.api.post<Body>("/api/v1/bookings", { holdId: offered.entry.offer.holdId });
    assert.equal(booked.status, 201, JSON.stringify(booked.body));
    assert.deepEqual((await b.api.get<Body>("/api/v1/me/course-waitlist")).body.entries, []);
    const left = await b.api.delete<Body>(`/api/v1/course-waitlist/${course.id}`);
    assert.equal(left.status, 404);
    assert.equal(left.body.error, "not_on_course_waitlist");
  } finally {
    await f.close();
  }
});

Deno.test("[api] course waitlist: a bad window is 400, an unknown course 404, leaving works, the admin token has none", async () => {
  const f = await startApiFixture();
  try {
    const [a, b] = await f.learners(2);
    const course = await newCourse(f.services.kv, "CWL-102");
    const s = await f.session({ capacity: 1, course, startsInHours: 300 });
    const backwards = await b.api.post<Body>("/api/v1/course-waitlist", {
      courseId: course.id,
      from: "2030-02-10",
      to: "2030-02-01",
    });
    assert.equal(backwards.status, 400);
    assert.deepEqual(backwards.body.details.issues.map((i: Body) => i.path), ["body.to"]);
    const notADate = await b.api.post<Body>("/api/v1/course-waitlist", { courseId: course.id, from: "2030-02-30" });
    assert.equal(notADate.status, 400);
    const extra = await b.api.post<Body>("/api/v1/course-waitlist", { courseId: course.id, everything: true });
    assert.equal(extra.status, 400);
    const unknown = await b.api.post<Body>("/api/v1/course-waitlist", { courseId: "01JZZZZZZZZZZZZZZZZZZZZZZZ" });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, "course_not_found");
    const admin = await f.admin.post<Body>("/api/v1/course-waitlist", { courseId: course.id });
    assert.equal(admin.status, 400);
    assert.equal(admin.body.error, "learner_required");

    const hold = await a.api.post<Body>("/api/v1/holds", { sessionId: s.id });
    await a.api.post<Body>("/api/v1/bookings", { holdId: hold.body.hold.id });
    assert.equal((await b.api.post<Body>("/api/v1/course-waitlist", { courseId: course.id })).status, 201);
    const left = await b.api.delete<Body>(`/api/v1/course-waitlist/${course.id}`);
    assert.equal(left.status, 200);
    assert.deepEqual(left.body, { courseId: course.id, left: true });
    const place = await b.api.get<Body>("/api/v1/me/bookings");
    assert.deepEqual(place.body.waitlist, [], "its places went with it");
  } finally {
    await f.close();
  }
});
