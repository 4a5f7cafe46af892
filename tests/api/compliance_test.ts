import assert from "node:assert/strict";
import { mintToken } from "../../lib/auth/tokens.ts";
import { runComplianceScan } from "../../lib/compliance/scan.ts";
import type { Role } from "../../lib/domain/mod.ts";
import { readComplianceOutbox } from "../../lib/store/compliance.ts";
import { createUser, listDealers } from "../../lib/store/mod.ts";
import { ApiClient, type Body } from "./client.ts";
import { type ApiFixture, startApiFixture } from "./fixture.ts";

let seq = 0;
async function person(f: ApiFixture, roles: Role[], links: { managerId?: string; dealerId?: string } = {}) {
  const user = await createUser(f.services.kv, {
    email: `compliance-${++seq}-${Date.now()}@example.com`,
    name: `Person ${seq}`,
    roles,
    ...links,
  });
  return { user, api: new ApiClient(f.app, (await mintToken(f.services.kv, user.id)).token) };
}

/** A calendar date `days` from the app's now, in the compliance time zone. */
function dateIn(f: ApiFixture, days: number): string {
  const at = new Date(f.services.engine.now().getTime() + days * 86_400_000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: f.services.config.compliance.timeZone }).format(at);
}

Deno.test("[api] assignments: own team and dealer only (403), no past due date (400), known courses (404)", async () => {
  const f = await startApiFixture();
  try {
    const [dealerA, dealerB] = await listDealers(f.services.kv);
    const boss = await person(f, ["manager"]);
    const manager = await person(f, ["manager"], { managerId: boss.user.id, dealerId: dealerA.id });
    const report = await person(f, ["learner"], { managerId: manager.user.id, dealerId: dealerA.id });
    const stranger = await person(f, ["learner"], { dealerId: dealerB.id });
    const dealerAdmin = await person(f, ["dealer_admin"], { dealerId: dealerA.id });
    const course = await f.courseWithoutPrerequisites();
    const body = (learnerId: string, dueOn = dateIn(f, 30)) => ({ learnerId, courseId: course.id, dueOn, note: "Q1" });

    const ok = await manager.api.post<Body>("/api/v1/team/assignments", body(report.user.id));
    assert.equal(ok.status, 201);
    assert.equal(ok.body.assignedBy, manager.user.id);
    // The manager's manager reaches one level below their direct reports.
    assert.equal((await boss.api.post<Body>("/api/v1/team/assignments", body(report.user.id))).status, 201);

    const outside = await manager.api.post<Body>("/api/v1/team/assignments", body(stranger.user.id));
    assert.equal(outside.status, 403);
    assert.equal(outside.body.error, "forbidden");
    const past = await manager.api.post<Body>("/api/v1/team/assignments", body(report.user.id, dateIn(f, -1)));
    assert.equal(past.status, 400);
    assert.equal(past.body.error, "due_date_past");
    const unknown = await manager.api.post<Body>("/api/v1/team/assignments", {
      ...body(report.user.id),
      courseId: "01JZZZZZZZZZZZZZZZZZZZZZZZ",
    });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, "course_not_found");
    const badDate = await manager.api.post<Body>("/api/v1/team/assignments", body(report.user.id, "2027-02-30"));
    assert.equal(badDate.status, 400);
    assert.equal(badDate.body.details.issues[0].path, "body.dueOn");

    const own = `/api/v1/dealers/${dealerA.id}/assignments`;
    assert.equal((await dealerAdmin.api.post<Body>(own, body(report.user.id))).status, 201);
    assert.equal((await dealerAdmin.api.post<Body>(own, body(stranger.user.id))).status, 403);
    const other = await dealerAdmin.api.post<Body>(`/api/v1/dealers/${dealerB.id}/assignments`, body(stranger.user.id));
    assert.equal(other.status, 403);

    const events = (await readComplianceOutbox(f.services.kv, 1000)).filter((e) => e.learnerId === report.user.id);
    assert.deepEqual(events.map((e) => e.type), ["assignment.created", "assignment.created", "assignment.created"]);
  } finally {
    await f.close();
  }
});

Deno.test("[api] requirements: admins any, dealer admins their dealer only; unknown course 404", async () => {
  const f = await startApiFixture();
  try {
    const [dealerA, dealerB] = await listDealers(f.services.kv);
    const dealerAdmin = await person(f, ["dealer_admin"], { dealerId: dealerA.id });
    const course = await f.courseWithoutPrerequisites();
    const own = await dealerAdmin.api.post<Body>("/api/v1/requirements", {
      courseId: course.id,
      dealerIds: [dealerA.id],
      periodMonths: 12,
    });
    assert.equal(own.status, 201);
    assert.equal(own.body.periodMonths, 12);
    for (const wide of [{ dealerIds: [dealerB.id] }, { dealerIds: [dealerA.id], roles: ["learner"] }]) {
      const r = await dealerAdmin.api.post<Body>("/api/v1/requirements", { courseId: course.id, ...wide });
      assert.equal(r.status, 403, JSON.stringify(wide));
    }
    const none = await f.admin.post<Body>("/api/v1/requirements", { courseId: course.id });
    assert.equal(none.status, 400, "names no audience");
    const unknown = await f.admin.post<Body>("/api/v1/requirements", {
      courseId: "01JZZZZZZZZZZZZZZZZZZZZZZZ",
      roles: ["learner"],
    });
    assert.equal(unknown.status, 404);
    const listed = await dealerAdmin.api.get<Body>("/api/v1/requirements");
    assert.ok(listed.body.requirements.some((r: Body) => r.id === own.body.id));
    assert.equal((await dealerAdmin.api.delete<Body>(`/api/v1/requirements/${own.body.id}`)).status, 204);
    assert.equal((await dealerAdmin.api.delete<Body>(`/api/v1/requirements/${own.body.id}`)).status, 404);
  } finally {
    await f.close();
  }
});

Deno.test("[api] a manager books a recommended session for a report: booked; cancelled, back to a gap", async () => {
  const f = await startApiFixture();
  try {
    const manager = await person(f, ["manager"]);
    const report = await person(f, ["learner"], { managerId: manager.user.id });
    const stranger = await person(f, ["learner"]);
    const course = await f.courseWithoutPrerequisites();
    const session = await f.session({ course, startsInHours: 24 * 5 });
    assert.equal(
      (await manager.api.post<Body>("/api/v1/team/assignments", {
        learnerId: report.user.id,
        courseId: course.id,
        dueOn: dateIn(f, 10),
      })).status,
      201,
    );
    await runComplianceScan(f.services.kv, { now: f.services.engine.now(), settings: f.services.config.compliance });
    const team = await manager.api.get<Body>(`/api/v1/team/compliance`);
    assert.equal(team.status, 200);
    const row = team.body.rows.find((r: Body) => r.person.id === report.user.id);
    assert.equal(row.cells.find((c: Body) => c.courseId === course.id).state, "missing");
    const gap = row.gaps.find((g: Body) => g.courseId === course.id);
    assert.ok(gap.sessions.some((s: Body) => s.sessionId === session.id), "the open session is recommended");
    assert.ok(gap.sessions.length <= 3);

    const refused = await manager.api.post<Body>("/api/v1/team/bookings", {
      learnerId: stranger.user.id,
      sessionId: session.id,
    });
    assert.equal(refused.status, 403);
    const booked = await manager.api.post<Body>("/api/v1/team/bookings", {
      learnerId: report.user.id,
      sessionId: session.id,
    });
    assert.equal(booked.status, 201);
    assert.equal(booked.body.learnerId, report.user.id);
    const mine = await report.api.get<Body>("/api/v1/me/compliance");
    const cell = mine.body.cells.find((c: Body) => c.courseId === course.id);
    assert.equal(cell.state, "booked");
    assert.equal(cell.seat.sessionId, session.id);
    assert.equal(cell.seat.late, false);

    assert.equal((await report.api.post<Body>(`/api/v1/bookings/${booked.body.id}/cancel`, {})).status, 200);
    const after = await report.api.get<Body>("/api/v1/me/compliance");
    assert.equal(after.body.cells.find((c: Body) => c.courseId === course.id).state, "missing");
    const overdueOnly = await manager.api.get<Body>("/api/v1/team/compliance?filter=overdue");
    assert.deepEqual(overdueOnly.body.rows, [], "nothing is overdue yet");
    assert.equal((await manager.api.get<Body>("/api/v1/team/compliance?filter=late")).status, 400);
  } finally {
    await f.close();
  }
});
