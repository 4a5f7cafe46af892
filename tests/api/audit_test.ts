/** The audit trail over the API and its pages: search by every filter, a booking's history, who may see what. */
import assert from "node:assert/strict";
import { type Body } from "./client.ts";
import { startApiFixture } from "./fixture.ts";
import { devSignInCookie, getPage } from "../page_client.ts";

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

Deno.test("[audit] every booking change is found by learner, session, course, booking, origin, actor and date", async () => {
  const f = await startApiFixture();
  try {
    const [learner, other] = await f.learners(2);
    const [staff] = await f.learners(1, ["admin"]);
    const session = await f.session({ capacity: 5 });
    const hold = await learner.api.post<Body>("/api/v1/holds", { sessionId: session.id });
    assert.equal(hold.status, 201);
    const booked = await learner.api.post<Body>("/api/v1/bookings", { holdId: hold.body.hold.id });
    assert.equal(booked.status, 201);
    const bookingId = booked.body.booking.id;
    // Someone else's change in the same session: the learner filter must leave it out.
    assert.equal((await other.api.post("/api/v1/holds", { sessionId: session.id })).status, 201);
    const cancelled = await staff.api.post<Body>(`/api/v1/bookings/${bookingId}/cancel`, { reason: "moved to March" });
    assert.equal(cancelled.status, 200);

    const search = async (q: string) => {
      const r = await staff.api.get<Body>(`/api/v1/admin/audit?${q}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.entries as Body[];
    };
    const mine = await search(`learner=${learner.user.id}`);
    assert.deepEqual(mine.map((e) => e.type), ["booking.cancelled", "booking.confirmed", "hold.placed"]);
    const cancel = mine[0];
    assert.equal(cancel.actor.userId, staff.user.id);
    assert.equal(cancel.origin, "admin", "an admin's API call");
    assert.equal(cancel.reason, "moved to March");
    assert.ok(cancel.correlationId);

    const inSession = await search(`session=${session.id}`);
    // The session was made by the store directly (no scheduled event): the two learners' changes.
    assert.deepEqual(
      inSession.map((e) => e.type).sort(),
      ["booking.cancelled", "booking.confirmed", "hold.placed", "hold.placed"],
    );
    const inCourse = await search(`course=${session.courseId}&learner=${learner.user.id}`);
    assert.equal(inCourse.length, 3);
    const byBooking = await search(`booking=${bookingId}`);
    assert.deepEqual(byBooking.map((e) => e.type), ["booking.cancelled", "booking.confirmed"]);
    const byActor = await search(`actor=${staff.user.id}`);
    assert.deepEqual(byActor.map((e) => e.type), ["booking.cancelled"]);
    const byLearnerActor = await search(`actor=${learner.user.id}&session=${session.id}`);
    assert.deepEqual(byLearnerActor.map((e) => e.type), ["booking.confirmed", "hold.placed"]);
    assert.equal((await search(`origin=web&session=${session.id}`)).length, 0);
    assert.equal((await search(`origin=api&session=${session.id}`)).length, 3);
    assert.deepEqual((await search(`origin=admin&session=${session.id}`)).map((e) => e.type), ["booking.cancelled"]);

    // Event keys carry the wall-clock commit time: today's date finds them, an earlier range does not.
    const now = Date.now();
    const today = await search(`learner=${learner.user.id}&from=${day(now - 86_400_000)}&to=${day(now + 86_400_000)}`);
    assert.equal(today.length, 3);
    const before = await search(
      `learner=${learner.user.id}&from=${day(now - 10 * 86_400_000)}&to=${day(now - 2 * 86_400_000)}`,
    );
    assert.equal(before.length, 0);
    const limited = await search(`learner=${learner.user.id}&limit=2`);
    assert.deepEqual(limited.map((e) => e.type), ["booking.cancelled", "booking.confirmed"]);
  } finally {
    await f.close();
  }
});

Deno.test("[audit] a booking's history: its owner and admins; others 403, unknown 404, bad filters 400", async () => {
  const f = await startApiFixture();
  try {
    const [learner, other] = await f.learners(2);
    const session = await f.session();
    const hold = await learner.api.post<Body>("/api/v1/holds", { sessionId: session.id });
    const booked = await learner.api.post<Body>("/api/v1/bookings", { holdId: hold.body.hold.id });
    const id = booked.body.booking.id;
    const own = await learner.api.get<Body>(`/api/v1/bookings/${id}/history`);
    assert.equal(own.status, 200);
    assert.deepEqual(own.body.history.map((e: Body) => e.type), ["hold.placed", "booking.confirmed"]);
    assert.equal((await f.admin.get(`/api/v1/bookings/${id}/history`)).status, 200);
    assert.equal((await other.api.get(`/api/v1/bookings/${id}/history`)).status, 403);
    assert.equal((await f.admin.get(`/api/v1/bookings/01JZZZZZZZZZZZZZZZZZZZZZZZ/history`)).status, 404);
    assert.equal((await learner.api.get(`/api/v1/admin/audit`)).status, 403);
    const backwards = await f.admin.get<Body>("/api/v1/admin/audit?from=2026-03-02&to=2026-03-01");
    assert.equal(backwards.status, 400);
    assert.equal(backwards.body.details.issues[0].path, "query.to");
    assert.equal((await f.admin.get("/api/v1/admin/audit?origin=moon")).status, 400);
    assert.equal((await f.admin.get("/api/v1/admin/audit?learner=nobody")).status, 400);
  } finally {
    await f.close();
  }
});

Deno.test("[audit] pages: an admin sees any booking with its history; the audit search keeps bad input with its error", async () => {
  const f = await startApiFixture();
  try {
    const [learner, other] = await f.learners(2);
    const [staff] = await f.learners(1, ["admin"]);
    const session = await f.session();
    const hold = await learner.api.post<Body>("/api/v1/holds", { sessionId: session.id });
    const booked = await learner.api.post<Body>("/api/v1/bookings", { holdId: hold.body.hold.id });
    const id = booked.body.booking.id;
    const adminCookie = await devSignInCookie(f.services.kv, staff.user.id);
    const page = await getPage(f, `/bookings/${id}`, adminCookie);
    assert.equal(page.res.status, 200, "admins open any booking (it was 404)");
    assert.match(page.text, new RegExp(`Booking of ${learner.user.name}`));
    assert.match(page.text, /data-type="hold.placed"/);
    assert.match(page.text, /data-type="booking.confirmed"/);
    const otherCookie = await devSignInCookie(f.services.kv, other.user.id);
    assert.equal((await getPage(f, `/bookings/${id}`, otherCookie)).res.status, 404);
    const ownCookie = await devSignInCookie(f.services.kv, learner.user.id);
    const own = await getPage(f, `/bookings/${id}`, ownCookie);
    assert.equal(own.res.status, 200);
    assert.match(own.text, /You're booked/);

    const search = await getPage(f, `/admin/audit?learner=${encodeURIComponent(learner.user.email)}`, adminCookie);
    assert.equal(search.res.status, 200);
    assert.equal((search.text.match(/data-type="/g) ?? []).length, 2);
    const bad = await getPage(f, "/admin/audit?learner=nobody%40example.com&from=2026-13-01", adminCookie);
    assert.equal(bad.res.status, 400);
    assert.match(bad.text, /data-testid="error-learner"[^>]*>Nobody has the email nobody@example.com\./);
    assert.match(bad.text, /data-testid="error-from"/);
    assert.match(bad.text, /value="nobody@example.com"/, "what was typed is kept");
    assert.doesNotMatch(bad.text, /data-testid="audit"/, "no search ran");
    assert.equal((await getPage(f, "/admin/audit", ownCookie)).res.status, 403);
  } finally {
    await f.close();
  }
});

Deno.test("[admin] the staff home links every staff page; the header links it for admins and /dealer for dealer admins", async () => {
  const f = await startApiFixture();
  try {
    const [learner] = await f.learners(1);
    const [staff] = await f.learners(1, ["admin"]);
    const [dealerAdmin] = await f.learners(1, ["dealer_admin"]);
    const adminCookie = await devSignInCookie(f.services.kv, staff.user.id);
    const home = await getPage(f, "/admin", adminCookie);
    assert.equal(home.res.status, 200);
    for (
      const href of ["/admin/sessions", "/admin/audit", "/admin/reports", "/admin/calcom", "/admin/dead-letters"]
    ) {
      assert.ok(home.text.includes(`href="${href}"`), `links ${href}`);
    }
    assert.match(home.text, /data-testid="staff-link"[^>]*>Staff</);
    const learnerCookie = await devSignInCookie(f.services.kv, learner.user.id);
    const learnerHome = await getPage(f, "/", learnerCookie);
    assert.doesNotMatch(learnerHome.text, /data-testid="staff-link"/);
    assert.match(learnerHome.text, /href="\/me\/notifications"[^>]*data-testid="notifications-link"/);
    assert.doesNotMatch((await getPage(f, "/")).text, /notifications-link/, "signed out: no Notifications link");
    assert.equal((await getPage(f, "/admin", learnerCookie)).res.status, 403);
    const dealerCookie = await devSignInCookie(f.services.kv, dealerAdmin.user.id);
    const dealerHome = await getPage(f, "/", dealerCookie);
    assert.match(dealerHome.text, /href="\/dealer"[^>]*data-testid="staff-link"/);
    assert.equal((await getPage(f, "/admin", dealerCookie)).res.status, 403);
  } finally {
    await f.close();
  }
});

Deno.test("[audit] a booking without events (imported, demo data) shows the audit lines of its record", async () => {
  const f = await startApiFixture();
  try {
    let bookingId = "";
    for await (const e of f.services.kv.list<Body>({ prefix: ["bookings"] }, { limit: 1 })) bookingId = e.value.id;
    assert.ok(bookingId, "the demo data has bookings");
    const r = await f.admin.get<Body>(`/api/v1/bookings/${bookingId}/history`);
    assert.equal(r.status, 200);
    const record = (await f.services.kv.get<Body>(["bookings", bookingId])).value!;
    assert.deepEqual(
      r.body.history.map((e: Body) => [e.type, e.occurredAt, e.data.fromRecord]),
      record.audit.map((a: Body) => [`booking.${a.action}`, a.at, true]),
    );
  } finally {
    await f.close();
  }
});
