import assert from "node:assert/strict";
import { mintToken } from "../../lib/auth/tokens.ts";
import type { Session } from "../../lib/domain/mod.ts";
import { createCourse, getUser, updateSession } from "../../lib/store/mod.ts";
import { ApiClient, type Body } from "./client.ts";
import { type ApiFixture, startApiFixture } from "./fixture.ts";

const MINUTE = 60_000;

/** A session starting in 10 minutes (inside the check-in window) with `n` booked learners and its instructor's client. */
async function booked(f: ApiFixture, n: number, course?: Parameters<ApiFixture["session"]>[0]) {
  const session = await f.session({ startsInHours: 10 / 60, ...course });
  const learners = await f.learners(n);
  for (const l of learners) {
    const hold = await l.api.post<Body>("/api/v1/holds", { sessionId: session.id });
    assert.equal(hold.status, 201, JSON.stringify(hold.body));
    const booking = await l.api.post<Body>("/api/v1/bookings", { holdId: hold.body.hold.id });
    assert.equal(booking.status, 201);
  }
  const { token } = await mintToken(f.services.kv, session.instructorId);
  return { session, learners, teacher: new ApiClient(f.app, token) };
}

/** Moves a session so that it ended `minutesAgo` minutes ago (bookings stay). */
async function endSession(f: ApiFixture, session: Session, minutesAgo: number): Promise<void> {
  const end = Date.now() - minutesAgo * MINUTE;
  await updateSession(f.services.kv, session.id, {
    startsAt: new Date(end - 120 * MINUTE).toISOString(),
    endsAt: new Date(end).toISOString(),
  });
}

Deno.test("[api] roster: the session's instructor and admins only; learners, dealer, prerequisites and a check-in code", async () => {
  const f = await startApiFixture();
  try {
    const { session, learners, teacher } = await booked(f, 2);
    const roster = await teacher.get<Body>(`/api/v1/sessions/${session.id}/roster`);
    assert.equal(roster.status, 200, JSON.stringify(roster.body));
    assert.deepEqual(roster.body.rows.map((r: Body) => r.learnerId).sort(), learners.map((l) => l.user.id).sort());
    assert.equal(roster.body.attendance.state, "open");
    assert.equal(roster.body.phase, "scheduled");
    assert.match(roster.body.checkInCode, /^[2-9A-Z]{6}$/);
    assert.match(roster.body.completionRule, /30 minutes or 50 %/);
    assert.equal((await f.admin.get(`/api/v1/sessions/${session.id}/roster`)).status, 200);
    const [otherTeacher] = await f.learners(1, ["instructor"]);
    assert.equal((await otherTeacher.api.get(`/api/v1/sessions/${session.id}/roster`)).status, 403);
    assert.equal((await learners[0].api.get(`/api/v1/sessions/${session.id}/roster`)).status, 403);
    assert.equal((await f.anonymous.get(`/api/v1/sessions/${session.id}/roster`)).status, 401);
    const teaching = await teacher.get<Body>("/api/v1/me/teaching");
    assert.equal(teaching.status, 200);
    assert.deepEqual(teaching.body.upcoming.map((r: Body) => [r.id, r.taken]), [[session.id, 2]]);
  } finally {
    await f.close();
  }
});

Deno.test("[api] marks: bad input 400, not on the roster 404, stale 409 with the current record, two staff at once: one 200, one 409", async () => {
  const f = await startApiFixture();
  try {
    const { session, learners, teacher } = await booked(f, 1);
    const path = (id: string) => `/api/v1/sessions/${session.id}/attendance/marks/${id}`;
    const id = learners[0].user.id;
    const bad = await teacher.request<Body>("PUT", path(id), { mark: "asleep", expectedRevision: 0 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, "invalid_request");
    const [stranger] = await f.learners(1);
    const missing = await teacher.request<Body>("PUT", path(stranger.user.id), {
      mark: "present",
      expectedRevision: 0,
    });
    assert.deepEqual([missing.status, missing.body.error], [404, "not_on_roster"]);

    const results = await Promise.all([
      teacher.request<Body>("PUT", path(id), { mark: "present", expectedRevision: 0 }),
      f.admin.request<Body>("PUT", path(id), { mark: "absent", expectedRevision: 0 }),
    ]);
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 409]);
    const winner = results.find((r) => r.status === 200)!;
    const loser = results.find((r) => r.status === 409)!;
    assert.equal(loser.body.error, "stale_mark");
    assert.deepEqual(loser.body.details.current, winner.body, "the loser gets the current state");
    // The loser retries against the current revision: accepted, nothing lost.
    const retry = await f.admin.request<Body>("PUT", path(id), {
      mark: "late",
      expectedRevision: loser.body.details.current.revision,
    });
    assert.equal(retry.status, 200);
    assert.equal(retry.body.revision, 2);
    const audit = await teacher.get<Body>(`/api/v1/sessions/${session.id}/attendance/audit`);
    // The refusal is audited after the winning mark committed; the retry last.
    assert.deepEqual(audit.body.entries.map((e: Body) => e.action), ["mark", "refused_stale", "mark"]);
    assert.equal(audit.body.entries.length, 3);
  } finally {
    await f.close();
  }
});

Deno.test("[api] a mark outside the window is 409 naming the window; self check-in: wrong code 403, not booked 403, once, expired 410", async () => {
  const f = await startApiFixture();
  try {
    const early = await f.session({ startsInHours: 3 });
    const [ann] = await f.learners(1);
    const hold = await ann.api.post<Body>("/api/v1/holds", { sessionId: early.id });
    await ann.api.post<Body>("/api/v1/bookings", { holdId: hold.body.hold.id });
    const out = await f.admin.request<Body>("PUT", `/api/v1/sessions/${early.id}/attendance/marks/${ann.user.id}`, {
      mark: "present",
      expectedRevision: 0,
    });
    assert.equal(out.status, 409);
    assert.equal(out.body.error, "outside_window");
    assert.ok(out.body.message.includes(out.body.details.window.opensAt), out.body.message);
    const tooEarly = await ann.api.post<Body>(`/api/v1/sessions/${early.id}/check-in`, { code: "ABCDEF" });
    assert.deepEqual([tooEarly.status, tooEarly.body.error], [409, "outside_window"]);

    const { session, learners, teacher } = await booked(f, 1);
    const code = (await teacher.get<Body>(`/api/v1/sessions/${session.id}/roster`)).body.checkInCode as string;
    const url = `/api/v1/sessions/${session.id}/check-in`;
    const wrong = await learners[0].api.post<Body>(url, { code: code === "222222" ? "333333" : "222222" });
    assert.deepEqual([wrong.status, wrong.body.error], [403, "wrong_code"]);
    const [stranger] = await f.learners(1);
    const notBooked = await stranger.api.post<Body>(url, { code });
    assert.deepEqual([notBooked.status, notBooked.body.error], [403, "not_booked"]);
    const ok = await learners[0].api.post<Body>(url, { code: code.toLowerCase() });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual([ok.body.mark, ok.body.source], ["present", "self_check_in"]);
    const again = await learners[0].api.post<Body>(url, { code });
    assert.deepEqual([again.status, again.body.error], [409, "already_checked_in"]);
    await endSession(f, session, 1);
    const expired = await learners[0].api.post<Body>(url, { code });
    assert.deepEqual([expired.status, expired.body.error], [410, "code_expired"]);
  } finally {
    await f.close();
  }
});

Deno.test("[api] close: not before the end; completed learners' course unlocks the course requiring it; never marked → no-show", async () => {
  const f = await startApiFixture();
  try {
    const kv = f.services.kv;
    const base = await createCourse(kv, {
      code: "ATT-101",
      title: "Attendance Basics",
      summary: "A course to complete.",
      topic: "safety",
      programType: "onboarding",
      durationMinutes: 120,
    });
    const next = await createCourse(kv, {
      code: "ATT-201",
      title: "Attendance Advanced",
      summary: "Requires the basics.",
      topic: "safety",
      programType: "onboarding",
      durationMinutes: 120,
      prerequisiteCourseIds: [base.id],
    });
    const { session, learners, teacher } = await booked(f, 2, { course: base });
    const [done, missed] = learners;
    const nextSession = await f.session({ course: next, startsInHours: 48 });
    const blocked = await done.api.post<Body>("/api/v1/holds", { sessionId: nextSession.id });
    assert.deepEqual([blocked.status, blocked.body.error], [422, "prerequisites_missing"]);

    const early = await teacher.post<Body>(`/api/v1/sessions/${session.id}/attendance/close`);
    assert.deepEqual([early.status, early.body.error], [409, "session_not_ended"]);
    await endSession(f, session, 5);
    // A mark after the end (a correction): checked in at the start.
    const marked = await teacher.request<Body>(
      "PUT",
      `/api/v1/sessions/${session.id}/attendance/marks/${done.user.id}`,
      {
        mark: "present",
        expectedRevision: 0,
      },
    );
    assert.equal(marked.status, 200);
    assert.equal(marked.body.checkInAt, (await f.services.kv.get<Session>(["sessions", session.id])).value!.startsAt);
    const closed = await teacher.post<Body>(`/api/v1/sessions/${session.id}/attendance/close`);
    assert.equal(closed.status, 200, JSON.stringify(closed.body));
    assert.deepEqual(closed.body.counts, { completed: 1, attended: 0, no_show: 1, excused: 0 });
    const twice = await teacher.post<Body>(`/api/v1/sessions/${session.id}/attendance/close`);
    assert.deepEqual([twice.status, twice.body.error], [409, "attendance_closed"]);
    assert.deepEqual((await getUser(kv, done.user.id))!.completedCourses.map((c) => c.courseId), [base.id]);
    assert.deepEqual((await getUser(kv, missed.user.id))!.completedCourses, []);
    const unlocked = await done.api.post<Body>("/api/v1/holds", { sessionId: nextSession.id });
    assert.equal(unlocked.status, 201, JSON.stringify(unlocked.body));
    const stillBlocked = await missed.api.post<Body>("/api/v1/holds", { sessionId: nextSession.id });
    assert.equal(stillBlocked.status, 422);
    const roster = await teacher.get<Body>(`/api/v1/sessions/${session.id}/roster`);
    assert.equal(roster.body.attendance.state, "closed");
    assert.deepEqual(
      roster.body.rows.map((r: Body) => [r.learnerId, r.outcome]).sort(),
      [[done.user.id, "completed"], [missed.user.id, "no_show"]].sort(),
    );
  } finally {
    await f.close();
  }
});
