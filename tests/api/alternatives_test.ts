/** Alternatives through the API: ranked list, recorded offer, acceptance by a hold naming it; bad input. */
import assert from "node:assert/strict";
import { listEvents } from "../../lib/booking/events.ts";
import type { Body } from "./client.ts";
import { startApiFixture } from "./fixture.ts";

Deno.test("[api] GET alternatives ranks for the caller, records the offer; a hold naming it within 24 h is an acceptance", async () => {
  const f = await startApiFixture();
  try {
    const [a, b] = await f.learners(2);
    const course = await f.courseWithoutPrerequisites();
    const full = await f.session({ capacity: 1, course });
    const best = await f.session({ capacity: 5, course, startsInHours: 3, locationId: full.locationId! });
    assert.equal((await a.api.post("/api/v1/holds", { sessionId: full.id })).status, 201);
    const listed = await b.api.get<Body>(`/api/v1/sessions/${full.id}/alternatives`);
    assert.equal(listed.status, 200);
    const alts = listed.body.alternatives as Body[];
    assert.ok(alts.length >= 1 && alts.length <= 3);
    assert.equal(alts[0].sessionId, best.id);
    assert.deepEqual(alts[0].reasons.slice(0, 2), ["same course", "under 1 km away"]);
    for (let i = 1; i < alts.length; i++) assert.ok(alts[i - 1].score >= alts[i].score, "best first");
    const { events } = await listEvents(f.services.kv, { limit: 1000 });
    const offered = events.filter((e) => e.type === "alternatives.offered" && e.learnerId === b.user.id);
    assert.equal(offered.length, 1);
    assert.equal(offered[0].data.shownOn, "api");

    const held = await b.api.post<Body>("/api/v1/holds", { sessionId: best.id, alternativeOf: full.id });
    assert.equal(held.status, 201);
    assert.equal(held.body.hold.alternativeOf, full.id);
    const booked = await b.api.post<Body>("/api/v1/bookings", { holdId: held.body.hold.id });
    assert.equal(booked.status, 201);
    assert.equal(booked.body.booking.alternativeOf, full.id);
  } finally {
    await f.close();
  }
});

Deno.test("[api] a 409 full refusal records its alternatives as offered once; a hold naming one is an acceptance", async () => {
  const f = await startApiFixture();
  try {
    const [a, b] = await f.learners(2);
    const course = await f.courseWithoutPrerequisites();
    const full = await f.session({ capacity: 1, course });
    const other = await f.session({ capacity: 5, course, startsInHours: 3, locationId: full.locationId! });
    assert.equal((await a.api.post("/api/v1/holds", { sessionId: full.id })).status, 201);
    for (let i = 0; i < 2; i++) {
      const refused = await b.api.post<Body>("/api/v1/holds", { sessionId: full.id });
      assert.equal(refused.status, 409);
      assert.ok((refused.body.details.alternatives as Body[]).some((x) => x.sessionId === other.id));
    }
    const { events } = await listEvents(f.services.kv, { limit: 1000 });
    const offered = events.filter((e) => e.type === "alternatives.offered" && e.learnerId === b.user.id);
    assert.equal(offered.length, 1, "two identical refusals within 24 h are one offer");
    assert.equal(offered[0].data.shownOn, "refusal");
    const held = await b.api.post<Body>("/api/v1/holds", { sessionId: other.id, alternativeOf: full.id });
    assert.equal(held.status, 201);
    assert.equal(held.body.hold.alternativeOf, full.id);
  } finally {
    await f.close();
  }
});

Deno.test("[api] alternatives: unknown session 404, another learner 403, a malformed alternativeOf 400", async () => {
  const f = await startApiFixture();
  try {
    const [a, b] = await f.learners(2);
    const s = await f.session({ capacity: 2 });
    const missing = await a.api.get<Body>("/api/v1/sessions/01JZZZZZZZZZZZZZZZZZZZZZZZ/alternatives");
    assert.equal(missing.status, 404);
    const other = await a.api.get<Body>(`/api/v1/sessions/${s.id}/alternatives?learnerId=${b.user.id}`);
    assert.equal(other.status, 403);
    const bad = await a.api.post<Body>("/api/v1/holds", { sessionId: s.id, alternativeOf: "not-an-id" });
    assert.equal(bad.status, 400);
    assert.ok(bad.body.details.issues.some((i: Body) => String(i.path).includes("alternativeOf")));
  } finally {
    await f.close();
  }
});

Deno.test("[api] a second session of a booked course is 409 duplicate_course until confirmDuplicate: true", async () => {
  const f = await startApiFixture();
  try {
    const [a] = await f.learners(1);
    const course = await f.courseWithoutPrerequisites();
    const first = await f.session({ capacity: 5, course, startsInHours: 30 });
    const second = await f.session({ capacity: 5, course, startsInHours: 80 });
    const held = await a.api.post<Body>("/api/v1/holds", { sessionId: first.id });
    assert.equal((await a.api.post<Body>("/api/v1/bookings", { holdId: held.body.hold.id })).status, 201);
    const warned = await a.api.post<Body>("/api/v1/holds", { sessionId: second.id });
    assert.equal(warned.status, 409);
    assert.equal(warned.body.error, "duplicate_course");
    assert.equal(warned.body.details.reason, "booked");
    assert.equal(warned.body.details.sessionId, first.id);
    // Staff holding for someone else are not asked.
    const third = await f.session({ capacity: 5, course, startsInHours: 120 });
    const byAdmin = await f.admin.post<Body>("/api/v1/holds", { sessionId: third.id, learnerId: a.user.id });
    assert.equal(byAdmin.status, 201);
    const anyway = await a.api.post<Body>("/api/v1/holds", { sessionId: second.id, confirmDuplicate: true });
    assert.equal(anyway.status, 201);
    const badFlag = await a.api.post<Body>("/api/v1/holds", { sessionId: second.id, confirmDuplicate: "yes" });
    assert.equal(badFlag.status, 400);
  } finally {
    await f.close();
  }
});
