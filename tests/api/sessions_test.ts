import assert from "node:assert/strict";
import { checkConsistency } from "../../lib/booking/consistency.ts";
import { listEvents } from "../../lib/booking/events.ts";
import { localDate } from "../../lib/catalog/format.ts";
import type { Body } from "./client.ts";
import { startApiFixture } from "./fixture.ts";

Deno.test("[api] GET /sessions pages through the catalog with filters; GET /sessions/{id} has seats", async () => {
  const f = await startApiFixture();
  try {
    const first = await f.anonymous.get<Body>("/api/v1/sessions?limit=10");
    assert.equal(first.status, 200);
    assert.equal(first.body.sessions.length, 10);
    const second = await f.anonymous.get<Body>(`/api/v1/sessions?limit=10&cursor=${first.body.nextCursor}`);
    const ids = new Set([...first.body.sessions, ...second.body.sessions].map((s: Body) => s.session.id));
    assert.equal(ids.size, 20, "pages do not overlap");
    const starts = [...first.body.sessions, ...second.body.sessions].map((s: Body) => s.session.startsAt);
    assert.deepEqual(starts, [...starts].sort());

    const loc = await f.location();
    const atLoc = await f.anonymous.get<Body>(`/api/v1/sessions?location=${loc.id}&limit=50`);
    assert.ok(atLoc.body.sessions.length > 0);
    assert.ok(atLoc.body.sessions.every((s: Body) => s.session.locationId === loc.id));
    const online = await f.anonymous.get<Body>("/api/v1/sessions?location=online&limit=20");
    assert.ok(online.body.sessions.every((s: Body) => s.session.locationId === null));
    const safety = await f.anonymous.get<Body>("/api/v1/sessions?topic=safety&limit=20");
    assert.ok(safety.body.sessions.every((s: Body) => s.course.topic === "safety"));

    const one = first.body.sessions[0];
    const detail = await f.anonymous.get<Body>(`/api/v1/sessions/${one.session.id}`);
    assert.equal(detail.status, 200);
    assert.equal(detail.body.seats.capacity, one.session.capacity);
    assert.equal(detail.body.seats.left, detail.body.seats.capacity - detail.body.seats.taken);
    assert.equal(typeof detail.body.seats.waiting, "number");
    assert.ok(Array.isArray(detail.body.prerequisites));
  } finally {
    await f.close();
  }
});

Deno.test("[api] GET /slots lists a hub's sessions on its local date", async () => {
  const f = await startApiFixture();
  try {
    const loc = await f.location();
    const some = await f.anonymous.get<Body>(`/api/v1/sessions?location=${loc.id}&limit=1`);
    const s = some.body.sessions[0].session;
    const date = localDate(s.startsAt, loc.timeZone);
    const res = await f.anonymous.get<Body>(`/api/v1/slots?hub=${loc.id}&date=${date}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.timeZone, loc.timeZone);
    assert.ok(res.body.slots.some((x: Body) => x.sessionId === s.id));
    for (const slot of res.body.slots) assert.equal(localDate(slot.startsAt, loc.timeZone), date);
    assert.equal((await f.anonymous.get(`/api/v1/slots?hub=${loc.id}&date=2026-02-30`)).status, 400);
    assert.equal((await f.anonymous.get(`/api/v1/slots?hub=01JZZZZZZZZZZZZZZZZZZZZZZZ&date=${date}`)).status, 404);
  } finally {
    await f.close();
  }
});

Deno.test("[api] staff schedule, update and cancel sessions; events follow; learners cannot", async () => {
  const f = await startApiFixture();
  try {
    const [ann, bob, cat, dan] = await f.learners(4);
    const [teacher, other] = await f.learners(2, ["instructor"]);
    const course = await f.courseWithoutPrerequisites();
    const loc = await f.location();
    const startsAt = new Date(Date.now() + 5 * 86_400_000).toISOString();
    const body = { courseId: course.id, startsAt, mode: "in_person", locationId: loc.id, capacity: 2 };
    assert.equal((await ann.api.post("/api/v1/sessions", body)).status, 403);
    const past = await teacher.api.post<Body>("/api/v1/sessions", { ...body, startsAt: "2020-01-01T10:00:00.000Z" });
    assert.equal(past.status, 400);
    assert.equal(past.body.details.issues[0].path, "body.startsAt");
    const forOther = await teacher.api.post<Body>("/api/v1/sessions", { ...body, instructorId: other.user.id });
    assert.equal(forOther.status, 403);
    const created = await teacher.api.post<Body>("/api/v1/sessions", body);
    assert.equal(created.status, 201);
    const s = created.body.session;
    assert.equal(s.instructorId, teacher.user.id);
    assert.equal(s.timeZone, loc.timeZone);
    assert.equal(Date.parse(s.endsAt) - Date.parse(s.startsAt), course.durationMinutes * 60_000);

    // Two bookings fill it; a third learner waits.
    for (const p of [ann, bob]) {
      const h = await p.api.post<Body>("/api/v1/holds", { sessionId: s.id });
      assert.equal((await p.api.post("/api/v1/bookings", { holdId: h.body.hold.id })).status, 201);
    }
    assert.equal((await cat.api.post("/api/v1/waitlist", { sessionId: s.id })).status, 201);
    const below = await teacher.api.patch<Body>(`/api/v1/sessions/${s.id}`, { capacity: 1 });
    assert.equal(below.status, 409);
    assert.equal(below.body.error, "capacity_below_taken");
    assert.equal((await other.api.patch(`/api/v1/sessions/${s.id}`, { capacity: 3 })).status, 403);
    const raised = await teacher.api.patch<Body>(`/api/v1/sessions/${s.id}`, { capacity: 3, reason: "Bigger room" });
    assert.equal(raised.status, 200);
    assert.equal(raised.body.session.capacity, 3);
    const catsPlaces = await cat.api.get<Body>("/api/v1/me/bookings");
    assert.ok(JSON.stringify(catsPlaces.body).includes('"offer"'), "the new seat is offered to the waitlist");
    assert.equal((await dan.api.post("/api/v1/holds", { sessionId: s.id })).status, 409);

    const cancelled = await f.admin.post<Body>(`/api/v1/sessions/${s.id}/cancel`, { reason: "Instructor ill" });
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.session.status, "cancelled");
    assert.equal(cancelled.body.cancelledBookings, 2);
    assert.equal(cancelled.body.releasedHolds, 1);
    const after = await f.anonymous.get<Body>(`/api/v1/sessions/${s.id}`);
    assert.equal(after.body.seats.taken, 0);
    assert.equal(after.body.seats.state, "cancelled");
    assert.equal((await dan.api.post<Body>("/api/v1/holds", { sessionId: s.id })).body.error, "session_cancelled");

    const { events } = await listEvents(f.services.kv, { limit: 5000 });
    const types = events.filter((e) => e.sessionId === s.id).map((e) => e.type);
    assert.equal(types[0], "session.scheduled");
    assert.ok(types.includes("session.updated"));
    assert.equal(types.at(-1), "session.cancelled");
    assert.equal(types.filter((t) => t === "booking.cancelled").length, 2);
    const upd = events.find((e) => e.sessionId === s.id && e.type === "session.updated")!;
    assert.equal(upd.reason, "Bigger room");
    assert.deepEqual((upd.data.changes as Body).capacity, { from: 2, to: 3 });
    assert.deepEqual((await checkConsistency(f.services.kv)).problems, []);
  } finally {
    await f.close();
  }
});
