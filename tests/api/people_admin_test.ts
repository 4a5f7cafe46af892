import assert from "node:assert/strict";
import { API_OPERATIONS } from "../../lib/api/mod.ts";
import { keys } from "../../lib/store/keys.ts";
import { ApiClient, type Body } from "./client.ts";
import { startApiFixture } from "./fixture.ts";

Deno.test("[api] POST /users provisions and updates by email; tokens are shown once and stored hashed", async () => {
  const f = await startApiFixture();
  try {
    const loc = await f.location();
    const course = await f.courseWithoutPrerequisites();
    const created = await f.admin.post<Body>("/api/v1/users", {
      email: "  New.Hire@Example.com ",
      name: "New Hire",
      preferredLocationId: loc.id,
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.created, true);
    assert.equal(created.body.user.email, "new.hire@example.com");
    assert.deepEqual(created.body.user.roles, ["learner"]);
    const updated = await f.admin.post<Body>("/api/v1/users", {
      email: "new.hire@example.com",
      name: "New Hire",
      roles: ["learner", "instructor"],
      completedCourses: [{ courseId: course.id, completedAt: "2026-01-02T03:04:05.000Z" }],
    });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.user.id, created.body.user.id);
    assert.deepEqual(updated.body.user.roles, ["learner", "instructor"]);
    assert.equal(updated.body.user.preferredLocationId, loc.id, "fields left out are kept");
    assert.equal(updated.body.user.completedCourses.length, 1);

    const badRef = await f.admin.post<Body>("/api/v1/users", {
      email: "x@example.com",
      name: "X",
      managerId: "01JZZZZZZZZZZZZZZZZZZZZZZZ",
    });
    assert.equal(badRef.status, 400);
    assert.equal(badRef.body.details.issues[0].path, "body.managerId");

    const minted = await f.admin.post<Body>(`/api/v1/users/${created.body.user.id}/tokens`, { label: "phone" });
    assert.equal(minted.status, 201);
    assert.equal(minted.headers.get("cache-control"), "no-store");
    const token = minted.body.token as string;
    assert.match(token, new RegExp(`^tbk_${created.body.user.id}\\.[A-Za-z0-9_-]{43}$`));
    const me = await new ApiClient(f.app, token).get<Body>("/api/v1/me");
    assert.equal(me.status, 200);
    assert.equal(me.body.user.email, "new.hire@example.com");
    assert.equal(me.body.via, "token");
    // Only the hash is in KV: no stored value anywhere contains the token.
    for await (const e of f.services.kv.list({ prefix: keys.apiTokensByUserPrefix(created.body.user.id) })) {
      assert.ok(!JSON.stringify(e.value).includes(token));
    }
    for await (const e of f.services.kv.list({ prefix: ["api_tokens"] })) {
      assert.ok(!JSON.stringify(e.value).includes(token) && !JSON.stringify(e.key).includes(token));
    }
    const learnerTries = await new ApiClient(f.app, token).post<Body>("/api/v1/users", { email: "a@b.co", name: "A" });
    assert.equal(learnerTries.status, 403);
  } finally {
    await f.close();
  }
});

Deno.test("[api] events replay in commit order with a cursor; admin only; a bad cursor is 400", async () => {
  const f = await startApiFixture();
  try {
    const people = await f.learners(4);
    const s = await f.session({ capacity: 10 });
    const start = await f.admin.get<Body>("/api/v1/events?limit=1000");
    let cursor = start.body.nextCursor as string | null;
    for (const p of people) assert.equal((await p.api.post("/api/v1/holds", { sessionId: s.id })).status, 201);
    const seen: Body[] = [];
    for (let i = 0; i < 10; i++) {
      const page = await f.admin.get<Body>(
        `/api/v1/events?limit=3${cursor ? `&after=${encodeURIComponent(cursor)}` : ""}`,
      );
      assert.equal(page.status, 200);
      seen.push(...page.body.events);
      if (page.body.events.length === 0) break;
      cursor = page.body.nextCursor;
    }
    const mine = seen.filter((e) => e.sessionId === s.id);
    assert.equal(mine.length, 4);
    assert.deepEqual(mine.map((e) => e.learnerId), people.map((p) => p.user.id));
    for (const e of mine) {
      assert.equal(e.type, "hold.placed");
      assert.match(e.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(e.origin, "api");
      assert.ok(e.occurredAt && e.correlationId && e.actor);
    }
    const bad = await f.admin.get<Body>("/api/v1/events?after=nope");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, "invalid_cursor");
    assert.equal((await people[0].api.get("/api/v1/events")).status, 403);
  } finally {
    await f.close();
  }
});

Deno.test("[api] consistency report is clean on the demo store and finds a broken counter", async () => {
  const f = await startApiFixture();
  try {
    const ok = await f.admin.get<Body>("/api/v1/admin/consistency");
    assert.equal(ok.status, 200);
    assert.equal(ok.body.ok, true);
    assert.ok(ok.body.sessions >= 600);
    const s = await f.session({ capacity: 4 });
    await f.services.kv.set(keys.seats(s.id), { confirmed: 2, holds: 0, waiting: 0 });
    const broken = await f.admin.get<Body>("/api/v1/admin/consistency");
    assert.equal(broken.body.ok, false);
    assert.ok(broken.body.problems.some((p: Body) => p.sessionId === s.id && p.code === "seats_confirmed_mismatch"));
  } finally {
    await f.close();
  }
});

Deno.test("[api] openapi.json documents every operation and the docs page renders it", async () => {
  const f = await startApiFixture();
  try {
    const res = await f.anonymous.get<Body>("/api/openapi.json");
    assert.equal(res.status, 200);
    const doc = res.body;
    assert.equal(doc.openapi, "3.1.0");
    const listed = Object.entries(doc.paths as Body).flatMap(([p, methods]) =>
      Object.keys(methods as Body).map((m) => `${m} ${p}`)
    );
    assert.deepEqual(listed.sort(), API_OPERATIONS.map((o) => `${o.method} ${o.path}`).sort());
    for (const op of API_OPERATIONS) {
      const d = doc.paths[op.path][op.method];
      assert.ok(d.responses["400"] && d.responses["500"], op.operationId);
      if (op.access !== "public") assert.ok(d.responses["401"], op.operationId);
      if (op.body) assert.ok(d.requestBody.content["application/json"].schema, op.operationId);
    }
    const hold = doc.paths["/v1/holds"].post;
    assert.deepEqual(hold.requestBody.content["application/json"].schema.required, ["sessionId"]);
    assert.equal(hold.requestBody.content["application/json"].schema.additionalProperties, false);
    assert.ok(hold.parameters.some((p: Body) => p.name === "Idempotency-Key" && p.in === "header"));
    const html = await f.app.fetch(new Request("http://test/api/docs"));
    assert.equal(html.status, 200);
    const text = await html.text();
    for (const op of API_OPERATIONS) assert.ok(text.includes(`id="${op.operationId}"`), op.operationId);
  } finally {
    await f.close();
  }
});

Deno.test("[api] GET /me/bookings lists the caller's live holds, bookings and waitlist positions", async () => {
  const f = await startApiFixture();
  try {
    const [ann, bob] = await f.learners(2);
    const s1 = await f.session({ capacity: 3 });
    const s2 = await f.session({ capacity: 1 });
    const h1 = await ann.api.post<Body>("/api/v1/holds", { sessionId: s1.id });
    await ann.api.post("/api/v1/bookings", { holdId: h1.body.hold.id });
    await bob.api.post("/api/v1/holds", { sessionId: s2.id });
    await ann.api.post("/api/v1/waitlist", { sessionId: s2.id });
    const mine = await ann.api.get<Body>("/api/v1/me/bookings");
    assert.equal(mine.status, 200);
    const text = JSON.stringify(mine.body);
    assert.ok(text.includes(s1.id) && text.includes(s2.id), text);
    const theirs = await bob.api.get<Body>("/api/v1/me/bookings");
    assert.ok(JSON.stringify(theirs.body).includes(s2.id));
    assert.ok(!JSON.stringify(theirs.body).includes(s1.id));
  } finally {
    await f.close();
  }
});
