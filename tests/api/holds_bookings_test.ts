import assert from "node:assert/strict";
import { checkConsistency } from "../../lib/booking/consistency.ts";
import { listEvents } from "../../lib/booking/events.ts";
import { listCourses } from "../../lib/store/mod.ts";
import type { Body } from "./client.ts";
import { startApiFixture } from "./fixture.ts";

Deno.test("[api] hold, confirm, read, cancel: the whole path with events and audit", async () => {
  const f = await startApiFixture();
  try {
    const [ann] = await f.learners(1);
    const s = await f.session({ capacity: 3 });
    const hold = await ann.api.post<Body>("/api/v1/holds", { sessionId: s.id });
    assert.equal(hold.status, 201);
    assert.equal(hold.body.hold.learnerId, ann.user.id);
    assert.equal(hold.body.live, true);
    assert.ok(hold.body.secondsLeft > 14 * 60 && hold.body.secondsLeft <= 15 * 60, `${hold.body.secondsLeft}`);
    assert.match(hold.headers.get("x-correlation-id") ?? "", /^[0-9a-f-]{36}$/);

    const seen = await ann.api.get<Body>(`/api/v1/sessions/${s.id}`);
    assert.equal(seen.body.seats.left, 2);

    const booked = await ann.api.post<Body>("/api/v1/bookings", { holdId: hold.body.hold.id });
    assert.equal(booked.status, 201);
    assert.equal(booked.body.booking.status, "confirmed");
    assert.equal(booked.body.booking.origin, "api");

    const got = await ann.api.get<Body>(`/api/v1/bookings/${booked.body.booking.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.booking.id, booked.body.booking.id);

    const cancelled = await ann.api.post<Body>(`/api/v1/bookings/${booked.body.booking.id}/cancel`, {
      reason: "Clashes with a customer visit",
    });
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.booking.status, "cancelled");
    assert.equal(cancelled.body.booking.lateCancel, false);
    assert.equal(cancelled.body.booking.cancelReason, "Clashes with a customer visit");
    const last = cancelled.body.booking.audit.at(-1);
    assert.equal(last.actorId, ann.user.id);
    assert.equal(last.origin, "api");

    const again = await ann.api.post<Body>(`/api/v1/bookings/${booked.body.booking.id}/cancel`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error, "booking_not_active");

    const { events } = await listEvents(f.services.kv, { limit: 1000 });
    const mine = events.filter((e) => e.sessionId === s.id).map((e) => e.type);
    assert.deepEqual(mine, ["hold.placed", "booking.confirmed", "booking.cancelled"]);
    const cancelEvent = events.find((e) => e.sessionId === s.id && e.type === "booking.cancelled")!;
    assert.equal(cancelEvent.reason, "Clashes with a customer visit");
    assert.equal(cancelEvent.correlationId, cancelled.headers.get("x-correlation-id"));
  } finally {
    await f.close();
  }
});

Deno.test("[api] a cancellation inside the cut-off is marked late", async () => {
  const f = await startApiFixture();
  try {
    const [ann] = await f.learners(1);
    const s = await f.session({ capacity: 3, startsInHours: 5 });
    const hold = await ann.api.post<Body>("/api/v1/holds", { sessionId: s.id });
    const booked = await ann.api.post<Body>("/api/v1/bookings", { holdId: hold.body.hold.id });
    const cancelled = await ann.api.post<Body>(`/api/v1/bookings/${booked.body.booking.id}/cancel`, {});
    assert.equal(cancelled.body.booking.lateCancel, true);
  } finally {
    await f.close();
  }
});

Deno.test("[api] a full session answers 409 with alternatives and the waitlist; joining gives a position", async () => {
  const f = await startApiFixture();
  try {
    const [a, b, c] = await f.learners(3);
    const course = await f.courseWithoutPrerequisites();
    const full = await f.session({ capacity: 1, course });
    // Same course, same place and the soonest start: the best alternative by the ranking's weights.
    const other = await f.session({ capacity: 5, course, startsInHours: 2, locationId: full.locationId! });
    assert.equal((await a.api.post("/api/v1/holds", { sessionId: full.id })).status, 201);
    const refused = await b.api.post<Body>("/api/v1/holds", { sessionId: full.id });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error, "session_full");
    assert.equal(refused.body.details.waitlistOpen, true);
    const alternatives = refused.body.details.alternatives as Body[];
    assert.ok(alternatives.length >= 1 && alternatives.length <= 3);
    assert.equal(alternatives[0].sessionId, other.id);
    assert.match(alternatives[0].reason, /^same course · under 1 km away · in 1 hour/);
    assert.ok(alternatives.every((x) => x.seatsLeft > 0 && x.sessionId !== full.id));

    const joined = await b.api.post<Body>("/api/v1/waitlist", { sessionId: full.id });
    assert.equal(joined.status, 201);
    assert.equal(joined.body.position, 1);
    const second = await c.api.post<Body>("/api/v1/waitlist", { sessionId: full.id });
    assert.equal(second.body.position, 2);
    const twice = await c.api.post<Body>("/api/v1/waitlist", { sessionId: full.id });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error, "already_waitlisted");

    const left = await c.api.delete<Body>(`/api/v1/waitlist/${full.id}`);
    assert.equal(left.status, 200);
    const notThere = await c.api.delete<Body>(`/api/v1/waitlist/${full.id}`);
    assert.equal(notThere.status, 404);
  } finally {
    await f.close();
  }
});

Deno.test("[api] Idempotency-Key: a retry returns the first hold; another body with the key is 422", async () => {
  const f = await startApiFixture();
  try {
    const [ann] = await f.learners(1);
    const s1 = await f.session({ capacity: 5 });
    const s2 = await f.session({ capacity: 5 });
    const key = { "idempotency-key": "tap-1" };
    const first = await ann.api.post<Body>("/api/v1/holds", { sessionId: s1.id }, key);
    const retry = await ann.api.post<Body>("/api/v1/holds", { sessionId: s1.id }, key);
    assert.equal(first.status, 201);
    assert.equal(retry.status, 201);
    assert.equal(retry.body.hold.id, first.body.hold.id);
    assert.equal(retry.headers.get("idempotent-replayed"), "true");
    assert.equal(first.headers.get("idempotent-replayed"), null);
    const other = await ann.api.post<Body>("/api/v1/holds", { sessionId: s2.id }, key);
    assert.equal(other.status, 422);
    assert.equal(other.body.error, "idempotency_key_reused");
    const seats = await ann.api.get<Body>(`/api/v1/sessions/${s1.id}`);
    assert.equal(seats.body.seats.taken, 1);
  } finally {
    await f.close();
  }
});

Deno.test("[api] double tap: 20 concurrent identical hold requests make exactly one hold", async () => {
  const f = await startApiFixture();
  try {
    const [ann] = await f.learners(1);
    const s = await f.session({ capacity: 5 });
    const responses = await Promise.all(
      Array.from(
        { length: 20 },
        () => ann.api.post<Body>("/api/v1/holds", { sessionId: s.id }, { "idempotency-key": "k" }),
      ),
    );
    assert.ok(responses.every((r) => r.status === 201), responses.map((r) => r.status).join(","));
    assert.equal(new Set(responses.map((r) => r.body.hold.id)).size, 1);
    assert.equal(responses.filter((r) => r.headers.get("idempotent-replayed") !== "true").length, 1);
    const seats = await ann.api.get<Body>(`/api/v1/sessions/${s.id}`);
    assert.equal(seats.body.seats.taken, 1);
  } finally {
    await f.close();
  }
});

Deno.test("[api] Idempotency-Key on cancel: the retry returns the first response, not a 409", async () => {
  const f = await startApiFixture();
  try {
    const [ann] = await f.learners(1);
    const s = await f.session({ capacity: 5 });
    const hold = await ann.api.post<Body>("/api/v1/holds", { sessionId: s.id });
    const booked = await ann.api.post<Body>("/api/v1/bookings", { holdId: hold.body.hold.id });
    const path = `/api/v1/bookings/${booked.body.booking.id}/cancel`;
    const first = await ann.api.post<Body>(path, { reason: "ill" }, { "idempotency-key": "c1" });
    const retry = await ann.api.post<Body>(path, { reason: "ill" }, { "idempotency-key": "c1" });
    assert.equal(first.status, 200);
    assert.equal(retry.status, 200);
    assert.equal(retry.headers.get("idempotent-replayed"), "true");
    assert.deepEqual(retry.body, first.body);
    const changed = await ann.api.post<Body>(path, { reason: "not ill" }, { "idempotency-key": "c1" });
    assert.equal(changed.status, 422);
  } finally {
    await f.close();
  }
});

Deno.test("[api] race through HTTP: 40 learners, 5 seats: exactly 5 holds, the rest 409 with alternatives", async () => {
  const f = await startApiFixture();
  try {
    const people = await f.learners(40);
    const s = await f.session({ capacity: 5 });
    const res = await Promise.all(people.map((p) => p.api.post<Body>("/api/v1/holds", { sessionId: s.id })));
    const won = res.filter((r) => r.status === 201);
    const lost = res.filter((r) => r.status === 409);
    assert.equal(won.length, 5);
    assert.equal(lost.length, 35);
    assert.ok(lost.every((r) => r.body.error === "session_full" && Array.isArray(r.body.details.alternatives)));
    // Confirm all 5 and cancel 2 at once while 10 others try again: never over capacity.
    const confirms = await Promise.all(
      won.map((r, i) => people[res.indexOf(r)].api.post<Body>("/api/v1/bookings", { holdId: won[i].body.hold.id })),
    );
    assert.ok(confirms.every((r) => r.status === 201));
    const losers = people.filter((_, i) => res[i].status === 409).slice(0, 10);
    const winners = people.filter((_, i) => res[i].status === 201);
    const mixed = await Promise.all([
      ...winners.slice(0, 2).map((p, i) => p.api.post(`/api/v1/bookings/${confirms[i].body.booking.id}/cancel`)),
      ...losers.map((p) => p.api.post<Body>("/api/v1/holds", { sessionId: s.id })),
    ]);
    const newHolds = mixed.slice(2).filter((r) => r.status === 201).length;
    assert.ok(newHolds <= 2, `${newHolds} new holds for 2 freed seats`);
    const report = await checkConsistency(f.services.kv);
    assert.deepEqual(report.problems, []);
    const view = await f.anonymous.get<Body>(`/api/v1/sessions/${s.id}`);
    assert.ok(view.body.seats.taken <= 5);
    assert.equal(view.body.seats.taken, 3 + newHolds);
  } finally {
    await f.close();
  }
});

Deno.test("[api] reschedule moves the booking all or nothing", async () => {
  const f = await startApiFixture();
  try {
    const [ann, bob] = await f.learners(2);
    const course = await f.courseWithoutPrerequisites();
    const from = await f.session({ capacity: 3, course });
    const to = await f.session({ capacity: 1, course, startsInHours: 100 });
    const h = await ann.api.post<Body>("/api/v1/holds", { sessionId: from.id });
    const b = await ann.api.post<Body>("/api/v1/bookings", { holdId: h.body.hold.id });
    const hb = await bob.api.post<Body>("/api/v1/holds", { sessionId: to.id });
    assert.equal(hb.status, 201);
    const full = await ann.api.post<Body>(`/api/v1/bookings/${b.body.booking.id}/reschedule`, { sessionId: to.id });
    assert.equal(full.status, 409);
    assert.equal(full.body.error, "session_full");
    assert.equal((await ann.api.get<Body>(`/api/v1/bookings/${b.body.booking.id}`)).body.booking.status, "confirmed");
    await bob.api.delete(`/api/v1/holds/${hb.body.hold.id}`);
    const moved = await ann.api.post<Body>(`/api/v1/bookings/${b.body.booking.id}/reschedule`, { sessionId: to.id });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.booking.sessionId, to.id);
    assert.equal(moved.body.previous.status, "cancelled");
    assert.equal(moved.body.booking.registration, b.body.booking.registration);
  } finally {
    await f.close();
  }
});

Deno.test("[api] learners cannot touch each other's holds and bookings; staff can", async () => {
  const f = await startApiFixture();
  try {
    const [ann, eve] = await f.learners(2);
    const s = await f.session({ capacity: 3 });
    const h = await ann.api.post<Body>("/api/v1/holds", { sessionId: s.id });
    assert.equal((await eve.api.get(`/api/v1/holds/${h.body.hold.id}`)).status, 403);
    assert.equal((await eve.api.delete(`/api/v1/holds/${h.body.hold.id}`)).status, 403);
    assert.equal((await eve.api.post("/api/v1/bookings", { holdId: h.body.hold.id })).status, 403);
    assert.equal((await eve.api.post("/api/v1/holds", { sessionId: s.id, learnerId: ann.user.id })).status, 403);
    const forAnn = await f.admin.post<Body>("/api/v1/holds", {
      sessionId: (await f.session()).id,
      learnerId: ann.user.id,
    });
    assert.equal(forAnn.status, 201);
    assert.equal(forAnn.body.hold.origin, "admin");
    const noLearner = await f.admin.post<Body>("/api/v1/holds", { sessionId: s.id });
    assert.equal(noLearner.status, 400);
    assert.equal(noLearner.body.error, "learner_required");
  } finally {
    await f.close();
  }
});

Deno.test("[api] a 4th live hold is 429; missing prerequisites are 422 naming them; an expired hold is 410", async () => {
  const f = await startApiFixture({ HOLD_MINUTES: "0.01" });
  try {
    const [ann] = await f.learners(1);
    const sessions = await Promise.all([1, 2, 3, 4].map(() => f.session({ capacity: 5 })));
    for (const s of sessions.slice(0, 3)) {
      assert.equal((await ann.api.post("/api/v1/holds", { sessionId: s.id })).status, 201);
    }
    const fourth = await ann.api.post<Body>("/api/v1/holds", { sessionId: sessions[3].id });
    assert.equal(fourth.status, 429);
    assert.equal(fourth.body.error, "too_many_holds");

    const courses = await listCourses(f.services.kv);
    const advanced = courses.find((c) => c.prerequisiteCourseIds.length > 0)!;
    const pre = await f.session({ capacity: 5, course: advanced });
    const [bob] = await f.learners(1);
    const refused = await bob.api.post<Body>("/api/v1/holds", { sessionId: pre.id });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.error, "prerequisites_missing");
    assert.deepEqual(
      refused.body.details.missing.map((m: Body) => m.courseId).sort(),
      [...advanced.prerequisiteCourseIds].sort(),
    );

    // HOLD_MINUTES = 0.01: the hold lapses after 0.6 s.
    const hold = await bob.api.post<Body>("/api/v1/holds", { sessionId: sessions[0].id });
    assert.equal(hold.status, 201);
    await new Promise((r) => setTimeout(r, 800));
    const view = await bob.api.get<Body>(`/api/v1/holds/${hold.body.hold.id}`);
    assert.equal(view.body.live, false);
    assert.equal(view.body.secondsLeft, 0);
    const late = await bob.api.post<Body>("/api/v1/bookings", { holdId: hold.body.hold.id });
    assert.equal(late.status, 410);
    assert.equal(late.body.error, "hold_expired");
    assert.ok(Array.isArray(late.body.details.alternatives));
  } finally {
    await f.close();
  }
});
