import assert from "node:assert/strict";
import { mintToken } from "../../lib/auth/tokens.ts";
import { createSession, createUser, listCourses, updateSession } from "../../lib/store/mod.ts";
import { ApiClient, type Body } from "./client.ts";
import { startApiFixture } from "./fixture.ts";
import { devSignInCookie, PAGE_BASE } from "../page_client.ts";

const MINUTE = 60_000;

Deno.test("[api] online: join inside the window, heartbeat, leave, rejoin; participants; outside 409; not booked 403; page /join redirects", async () => {
  const f = await startApiFixture();
  try {
    const kv = f.services.kv;
    const course = (await listCourses(kv)).find((c) => c.prerequisiteCourseIds.length === 0)!;
    const instructor = await createUser(kv, {
      email: `on-${Date.now()}@example.com`,
      name: "On Line",
      roles: ["instructor"],
    });
    const start = Date.now() + 5 * MINUTE;
    const session = await createSession(kv, {
      courseId: course.id,
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + 60 * MINUTE).toISOString(),
      timeZone: "Europe/Berlin",
      mode: "online",
      joinUrl: "https://meet.example.com/online-test",
      capacity: 5,
      instructorId: instructor.id,
    });
    const [ann, bob] = await f.learners(2);
    const hold = await ann.api.post<Body>("/api/v1/holds", { sessionId: session.id });
    await ann.api.post<Body>("/api/v1/bookings", { holdId: hold.body.hold.id });
    const url = `/api/v1/sessions/${session.id}`;

    const strangers = await bob.api.post<Body>(`${url}/join`);
    assert.deepEqual([strangers.status, strangers.body.error], [403, "not_booked"]);
    const joined = await ann.api.post<Body>(`${url}/join`);
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    assert.deepEqual(joined.body, { url: "https://meet.example.com/online-test", recorded: true, joinCount: 1 });
    const beat = await ann.api.post<Body>(`${url}/presence/heartbeat`);
    assert.deepEqual([beat.status, beat.body.ignored, beat.body.participants], [200, null, 1]);
    const notJoined = await bob.api.post<Body>(`${url}/presence/heartbeat`);
    assert.equal(notJoined.body.ignored, "not_joined");
    assert.deepEqual((await ann.api.post<Body>(`${url}/presence/leave`)).body, { left: true });
    assert.deepEqual((await ann.api.post<Body>(`${url}/presence/leave`)).body, { left: false });
    assert.equal((await ann.api.post<Body>(`${url}/presence/heartbeat`)).body.participants, 0);
    assert.equal((await ann.api.post<Body>(`${url}/join`)).body.joinCount, 2, "a rejoin counts");
    const { token } = await mintToken(kv, instructor.id);
    const roster = await new ApiClient(f.app, token).get<Body>(`${url}/roster`);
    assert.equal(roster.body.counts.participants, 1);
    assert.equal(roster.body.rows[0].online.joinCount, 2);

    // The page redirects a booked learner to the meeting; a stranger gets 403 with a link to book.
    const res = await f.app.fetch(
      new Request(`${PAGE_BASE}/sessions/${session.id}/join`, {
        headers: { cookie: await devSignInCookie(kv, ann.user.id) },
      }),
    );
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "https://meet.example.com/online-test");
    const refused = await f.app.fetch(
      new Request(`${PAGE_BASE}/sessions/${session.id}/join`, {
        headers: { cookie: await devSignInCookie(kv, bob.user.id) },
      }),
    );
    assert.equal(refused.status, 403);
    const text = await refused.text();
    assert.ok(text.includes("Book a seat") && !text.includes("online-test"), text);

    // After the end: the join is refused with the time, and a heartbeat is ignored.
    await updateSession(kv, session.id, {
      startsAt: new Date(Date.now() - 70 * MINUTE).toISOString(),
      endsAt: new Date(Date.now() - 10 * MINUTE).toISOString(),
    });
    const late = await ann.api.post<Body>(`${url}/join`);
    assert.deepEqual([late.status, late.body.error], [409, "outside_window"]);
    assert.equal((await ann.api.post<Body>(`${url}/presence/heartbeat`)).body.ignored, "session_ended");
    const closedPage = await f.app.fetch(
      new Request(`${PAGE_BASE}/sessions/${session.id}/join`, {
        headers: { cookie: await devSignInCookie(kv, ann.user.id) },
      }),
    );
    assert.equal(closedPage.status, 409);
    assert.match(await closedPage.text(), /This session has ended; the meeting is closed\. It can be joined from/);
  } finally {
    await f.close();
  }
});

Deno.test("[api] RSVP: confirmed, tentative, declined with counts on the roster; declining with release offers the seat to the waitlist", async () => {
  const f = await startApiFixture();
  try {
    const kv = f.services.kv;
    const course = (await listCourses(kv)).find((c) => c.prerequisiteCourseIds.length === 0)!;
    const instructor = await createUser(kv, {
      email: `rsvp-${Date.now()}@example.com`,
      name: "R",
      roles: ["instructor"],
    });
    const start = Date.now() + 48 * 60 * MINUTE;
    const session = await createSession(kv, {
      courseId: course.id,
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + 60 * MINUTE).toISOString(),
      timeZone: "Europe/Berlin",
      mode: "online",
      joinUrl: "https://meet.example.com/rsvp-test",
      capacity: 3,
      instructorId: instructor.id,
    });
    const [ann, bob, cem, dee] = await f.learners(4);
    for (const l of [ann, bob, cem]) {
      const hold = await l.api.post<Body>("/api/v1/holds", { sessionId: session.id });
      await l.api.post<Body>("/api/v1/bookings", { holdId: hold.body.hold.id });
    }
    assert.equal((await dee.api.post<Body>("/api/v1/waitlist", { sessionId: session.id })).status, 201);
    const url = `/api/v1/sessions/${session.id}/rsvp`;
    assert.equal((await ann.api.request<Body>("PUT", url, { status: "confirmed" })).status, 200);
    assert.equal((await bob.api.request<Body>("PUT", url, { status: "tentative" })).status, 200);
    const bad = await cem.api.request<Body>("PUT", url, { status: "confirmed", releaseSeat: true });
    assert.deepEqual([bad.status, bad.body.error], [422, "release_needs_decline"]);
    const notBooked = await dee.api.request<Body>("PUT", url, { status: "confirmed" });
    assert.deepEqual([notBooked.status, notBooked.body.error], [404, "not_booked"]);
    const other = await ann.api.request<Body>("PUT", url, { status: "declined", learnerId: bob.user.id });
    assert.equal(other.status, 403);
    const { token } = await mintToken(kv, instructor.id);
    const teacher = new ApiClient(f.app, token);
    const declined = await cem.api.request<Body>("PUT", url, { status: "declined" });
    assert.deepEqual([declined.status, declined.body.released], [200, false]);
    let roster = await teacher.get<Body>(`/api/v1/sessions/${session.id}/roster`);
    assert.deepEqual(
      [roster.body.counts.confirmed, roster.body.counts.tentative, roster.body.counts.declined],
      [1, 1, 1],
    );
    const released = await cem.api.request<Body>("PUT", url, { status: "declined", releaseSeat: true });
    assert.deepEqual([released.status, released.body.released], [200, true]);
    roster = await teacher.get<Body>(`/api/v1/sessions/${session.id}/roster`);
    assert.equal(roster.body.counts.booked, 2);
    const places = await f.services.engine.listLearnerPlaces(dee.user.id);
    assert.deepEqual(
      places.holds.map((h) => [h.sessionId, h.kind]),
      [[session.id, "offer"]],
      "the waitlist got the seat",
    );
  } finally {
    await f.close();
  }
});
