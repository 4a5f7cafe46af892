/**
 * Inputs an outside probe answered with 5xx: each gets its 4xx with `{error, message, details}`
 * now (or a normal answer where the input is fine but unusual).
 */
import assert from "node:assert/strict";
import { encodeSessionCursor } from "../../lib/store/mod.ts";
import type { Body } from "./client.ts";
import { startApiFixture } from "./fixture.ts";

const HUGE_ID = "A".repeat(3000);

/** The issue paths of a 400 answer. */
function issuePaths(body: Body): string[] {
  return (body.details?.issues ?? []).map((i: Body) => i.path);
}

Deno.test("[api] session list: a cursor it did not make is a 400 invalid_request", async () => {
  const f = await startApiFixture();
  try {
    const res = await f.anonymous.get<Body>("/api/v1/sessions?cursor=garbage");
    assert.deepEqual([res.status, res.body.error], [400, "invalid_request"]);
    assert.deepEqual(issuePaths(res.body), ["query.cursor"]);
  } finally {
    await f.close();
  }
});

Deno.test("[api] session list: a location that is neither an id nor online is a 400 invalid_request", async () => {
  const f = await startApiFixture();
  try {
    const res = await f.anonymous.get<Body>("/api/v1/sessions?location=bogus");
    assert.deepEqual([res.status, res.body.error], [400, "invalid_request"]);
    assert.deepEqual(issuePaths(res.body), ["query.location"]);
  } finally {
    await f.close();
  }
});

Deno.test("[api] session list: a `to` before the default `from` (today) is a 400 invalid_request", async () => {
  const f = await startApiFixture();
  try {
    const res = await f.anonymous.get<Body>("/api/v1/sessions?to=2020-01-01");
    assert.deepEqual([res.status, res.body.error], [400, "invalid_request"]);
    assert.match(res.body.message, /`to` is in the past/);
    assert.deepEqual(issuePaths(res.body), ["query.to"]);
    const before = await f.anonymous.get<Body>("/api/v1/sessions?from=2030-02-01&to=2030-01-01");
    assert.deepEqual([before.status, before.body.error], [400, "invalid_request"]);
  } finally {
    await f.close();
  }
});

Deno.test("[api] session list: a well-formed cursor past `to` is an empty page, not an error", async () => {
  const f = await startApiFixture();
  try {
    const to = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    const cursor = encodeSessionCursor({ startsAt: "9999-01-01T00:00:00.000Z", id: "01ARZ3NDEKTSV4RRFFQ69G5FAV" });
    const res = await f.anonymous.get<Body>(`/api/v1/sessions?to=${to}&cursor=${cursor}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { sessions: [], nextCursor: null });
  } finally {
    await f.close();
  }
});

Deno.test("[api] a malformed session cookie counts as no credentials", async () => {
  const f = await startApiFixture();
  try {
    const s = await f.session();
    const cookie = { cookie: "tb_session=%" };
    const list = await f.anonymous.request<Body>("GET", "/api/v1/sessions?limit=1", undefined, cookie);
    assert.equal(list.status, 200);
    assert.equal(list.body.sessions.length, 1);
    const hold = await f.anonymous.request<Body>("POST", "/api/v1/holds", { sessionId: s.id }, cookie);
    assert.deepEqual([hold.status, hold.body.error], [401, "unauthenticated"]);
  } finally {
    await f.close();
  }
});

Deno.test("[api] PATCH a session with an unparsable endsAt is a 400 invalid_request", async () => {
  const f = await startApiFixture();
  try {
    const s = await f.session();
    const res = await f.admin.request<Body>("PATCH", `/api/v1/sessions/${s.id}`, { endsAt: "x" });
    assert.deepEqual([res.status, res.body.error], [400, "invalid_request"]);
    assert.deepEqual(issuePaths(res.body), ["body.endsAt"]);
  } finally {
    await f.close();
  }
});

Deno.test("[api] POST a session with an empty startsAt is a 400 invalid_request", async () => {
  const f = await startApiFixture();
  try {
    const course = await f.courseWithoutPrerequisites();
    const location = await f.location();
    const [instructor] = await f.learners(1, ["instructor"]);
    const res = await f.admin.post<Body>("/api/v1/sessions", {
      courseId: course.id,
      startsAt: "",
      mode: "in_person",
      locationId: location.id,
      capacity: 5,
      instructorId: instructor.user.id,
    });
    assert.deepEqual([res.status, res.body.error], [400, "invalid_request"]);
    assert.deepEqual(issuePaths(res.body), ["body.startsAt"]);
  } finally {
    await f.close();
  }
});

Deno.test("[api] POST a user with completedAt 'yesterday' is a 400 invalid_request", async () => {
  const f = await startApiFixture();
  try {
    const course = await f.courseWithoutPrerequisites();
    const res = await f.admin.post<Body>("/api/v1/users", {
      email: `completed-${crypto.randomUUID()}@example.com`,
      name: "Pat Example",
      completedCourses: [{ courseId: course.id, completedAt: "yesterday" }],
    });
    assert.deepEqual([res.status, res.body.error], [400, "invalid_request"]);
    assert.deepEqual(issuePaths(res.body), ["body.completedCourses.0.completedAt"]);
  } finally {
    await f.close();
  }
});

Deno.test("[api] a 3,000-character id in a path is a 400 invalid_request, never a 5xx", async () => {
  const f = await startApiFixture();
  try {
    const [ann] = await f.learners(1);
    for (const path of [`/api/v1/sessions/${HUGE_ID}`, `/api/v1/holds/${HUGE_ID}`, `/api/v1/bookings/${HUGE_ID}`]) {
      const res = await ann.api.get<Body>(path);
      assert.deepEqual([res.status, res.body.error], [400, "invalid_request"], path.slice(0, 20));
      assert.deepEqual(issuePaths(res.body), ["params.id"]);
    }
  } finally {
    await f.close();
  }
});
