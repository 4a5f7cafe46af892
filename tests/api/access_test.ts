/**
 * Who may act on a learner's place, over HTTP with real tokens: learners on their own places,
 * instructors in the sessions they teach (and nowhere else), admins anywhere. A refusal writes
 * nothing: seats, the hold, the booking and the session's events are checked after each one.
 */
import assert from "node:assert/strict";
import { listEvents } from "../../lib/booking/events.ts";
import type { Body } from "./client.ts";
import { type ApiFixture, type Learner, startApiFixture } from "./fixture.ts";

/** A session scheduled through the API by `teacher` for themself. */
async function teach(f: ApiFixture, teacher: Learner, capacity: number): Promise<string> {
  const course = await f.courseWithoutPrerequisites();
  const loc = await f.location();
  const res = await teacher.api.post<Body>("/api/v1/sessions", {
    courseId: course.id,
    startsAt: new Date(Date.now() + 4 * 86_400_000).toISOString(),
    mode: "in_person",
    locationId: loc.id,
    capacity,
  });
  assert.equal(res.status, 201);
  assert.equal(res.body.session.instructorId, teacher.user.id);
  return res.body.session.id;
}

/** What a refusal must leave untouched: seats taken and the session's events. */
async function snapshot(f: ApiFixture, sessionId: string) {
  const seen = await f.anonymous.get<Body>(`/api/v1/sessions/${sessionId}`);
  const { events } = await listEvents(f.services.kv, { limit: 5000 });
  return { taken: seen.body.seats.taken, events: events.filter((e) => e.sessionId === sessionId).length };
}

function assertForbidden(res: { status: number; body: Body }, what: string): void {
  assert.equal(res.status, 403, `${what}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.error, "forbidden", what);
}

Deno.test("[api] an instructor cannot touch places in another instructor's session, and nothing is written", async () => {
  const f = await startApiFixture();
  try {
    const [ann, bob, cat] = await f.learners(3);
    const [owner, intruder] = await f.learners(2, ["instructor"]);
    const sessionId = await teach(f, owner, 2);
    const full = await teach(f, owner, 1);
    const later = await teach(f, owner, 3);

    const hold = (await ann.api.post<Body>("/api/v1/holds", { sessionId })).body.hold;
    const bobHold = (await bob.api.post<Body>("/api/v1/holds", { sessionId })).body.hold;
    const booking = (await bob.api.post<Body>("/api/v1/bookings", { holdId: bobHold.id })).body.booking;
    // Bob is booked on this course already: he confirms the second date (duplicate_course otherwise).
    assert.equal((await bob.api.post("/api/v1/holds", { sessionId: full, confirmDuplicate: true })).status, 201);
    assert.equal((await cat.api.post("/api/v1/waitlist", { sessionId: full })).status, 201);
    const before = await snapshot(f, sessionId);
    const fullBefore = await snapshot(f, full);
    assert.equal(before.taken, 2);

    const api = intruder.api;
    assertForbidden(await api.post("/api/v1/holds", { sessionId: later, learnerId: cat.user.id }), "hold for");
    assertForbidden(await api.get(`/api/v1/holds/${hold.id}`), "read hold");
    assertForbidden(await api.post("/api/v1/bookings", { holdId: hold.id }), "confirm");
    assertForbidden(await api.delete(`/api/v1/holds/${hold.id}`), "release");
    assertForbidden(await api.get(`/api/v1/bookings/${booking.id}`), "read booking");
    assertForbidden(await api.get(`/api/v1/bookings/${booking.id}/sync-status`), "sync status");
    assertForbidden(await api.post(`/api/v1/bookings/${booking.id}/cancel`, {}), "cancel");
    assertForbidden(await api.post(`/api/v1/bookings/${booking.id}/reschedule`, { sessionId: later }), "reschedule");
    assertForbidden(await api.post("/api/v1/waitlist", { sessionId: full, learnerId: ann.user.id }), "join for");
    assertForbidden(await api.delete(`/api/v1/waitlist/${full}?learnerId=${cat.user.id}`), "leave for");
    assertForbidden(await api.patch(`/api/v1/sessions/${sessionId}`, { capacity: 5 }), "update session");
    assertForbidden(await api.post(`/api/v1/sessions/${sessionId}/cancel`, {}), "cancel session");

    assert.deepEqual(await snapshot(f, sessionId), before, "no seat or event changed");
    assert.deepEqual(await snapshot(f, full), fullBefore);
    assert.deepEqual(await snapshot(f, later), { taken: 0, events: 1 }, "only session.scheduled");
    const holdNow = await ann.api.get<Body>(`/api/v1/holds/${hold.id}`);
    assert.equal(holdNow.body.hold.status, "active");
    const bookingNow = await bob.api.get<Body>(`/api/v1/bookings/${booking.id}`);
    assert.equal(bookingNow.body.booking.status, "confirmed");
    const catPlaces = await cat.api.get<Body>("/api/v1/me/bookings");
    assert.deepEqual(catPlaces.body.waitlist.map((w: Body) => w.entry.sessionId), [full]);
    assert.equal(catPlaces.body.holds.length, 0);

    // In their own sessions and for themself, the intruder is a learner like any other.
    const own = await api.post<Body>("/api/v1/holds", { sessionId });
    assert.equal(own.status, 409, "the two seats are taken, not refused");
    assert.equal(own.body.error, "session_full");
  } finally {
    await f.close();
  }
});

Deno.test("[api] an instructor acts on every learner's place in the sessions they teach", async () => {
  const f = await startApiFixture();
  try {
    const [ann, bob] = await f.learners(2);
    const [teacher] = await f.learners(1, ["instructor"]);
    const sessionId = await teach(f, teacher, 1);
    const second = await teach(f, teacher, 2);
    const api = teacher.api;

    const held = await api.post<Body>("/api/v1/holds", { sessionId, learnerId: ann.user.id });
    assert.equal(held.status, 201);
    assert.equal(held.body.hold.learnerId, ann.user.id);
    assert.equal((await api.get(`/api/v1/holds/${held.body.hold.id}`)).status, 200);
    const booked = await api.post<Body>("/api/v1/bookings", { holdId: held.body.hold.id });
    assert.equal(booked.status, 201);
    assert.equal(booked.body.booking.learnerId, ann.user.id);
    const id = booked.body.booking.id;
    assert.equal((await api.get(`/api/v1/bookings/${id}`)).status, 200);
    assert.equal((await api.get(`/api/v1/bookings/${id}/sync-status`)).status, 200);

    const joined = await api.post<Body>("/api/v1/waitlist", { sessionId, learnerId: bob.user.id });
    assert.equal(joined.status, 201);
    assert.equal(joined.body.entry.learnerId, bob.user.id);
    const left = await api.delete<Body>(`/api/v1/waitlist/${sessionId}?learnerId=${bob.user.id}`);
    assert.equal(left.status, 200);

    const moved = await api.post<Body>(`/api/v1/bookings/${id}/reschedule`, { sessionId: second });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.booking.sessionId, second);
    const cancelled = await api.post<Body>(`/api/v1/bookings/${moved.body.booking.id}/cancel`, { reason: "Ill" });
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.booking.status, "cancelled");
    assert.equal(cancelled.body.booking.audit.at(-1).actorId, teacher.user.id);

    const released = await api.post<Body>("/api/v1/holds", { sessionId, learnerId: bob.user.id });
    assert.equal((await api.delete<Body>(`/api/v1/holds/${released.body.hold.id}`)).body.hold.status, "released");
    assert.equal((await f.anonymous.get<Body>(`/api/v1/sessions/${sessionId}`)).body.seats.taken, 0);
  } finally {
    await f.close();
  }
});

Deno.test("[api] an admin user acts on places in any session; a learner only on their own", async () => {
  const f = await startApiFixture();
  try {
    const [ann, bob] = await f.learners(2);
    const [boss] = await f.learners(1, ["admin"]);
    const s = await f.session({ capacity: 3 });

    const held = await boss.api.post<Body>("/api/v1/holds", { sessionId: s.id, learnerId: ann.user.id });
    assert.equal(held.status, 201);
    assert.equal(held.body.hold.origin, "admin");
    const booked = await boss.api.post<Body>("/api/v1/bookings", { holdId: held.body.hold.id });
    assert.equal(booked.status, 201);
    const id = booked.body.booking.id;
    assert.equal((await boss.api.get(`/api/v1/bookings/${id}`)).status, 200);
    assert.equal((await f.admin.get(`/api/v1/holds/${held.body.hold.id}`)).status, 200, "the admin token too");

    // Bob, a learner, may do all of this for himself but nothing for Ann.
    const before = await snapshot(f, s.id);
    assertForbidden(await bob.api.get(`/api/v1/bookings/${id}`), "read booking");
    assertForbidden(await bob.api.post(`/api/v1/bookings/${id}/cancel`, {}), "cancel");
    assertForbidden(await bob.api.post("/api/v1/holds", { sessionId: s.id, learnerId: ann.user.id }), "hold for");
    assert.deepEqual(await snapshot(f, s.id), before);
    const own = await bob.api.post<Body>("/api/v1/holds", { sessionId: s.id, learnerId: bob.user.id });
    assert.equal(own.status, 201);
    assert.equal((await bob.api.get(`/api/v1/holds/${own.body.hold.id}`)).status, 200);

    const cancelled = await boss.api.post<Body>(`/api/v1/bookings/${id}/cancel`, {});
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.booking.status, "cancelled");
  } finally {
    await f.close();
  }
});
