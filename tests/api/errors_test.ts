import assert from "node:assert/strict";
import fc from "fast-check";
import { MAX_BODY_BYTES } from "../../lib/api/operation.ts";
import type { Body } from "./client.ts";
import { startApiFixture } from "./fixture.ts";
import { devSignInCookie } from "../page_client.ts";

Deno.test("[api] bad input gets a clear 4xx with {error, message, details}", async () => {
  const f = await startApiFixture();
  try {
    const [ann] = await f.learners(1);
    const s = await f.session();
    const cases: [string, () => Promise<{ status: number; body: Body }>, number, string][] = [
      ["malformed JSON", () => ann.api.post("/api/v1/holds", "{not json"), 400, "malformed_json"],
      ["wrong type", () => ann.api.post("/api/v1/holds", { sessionId: 42 }), 400, "invalid_request"],
      ["unknown field", () => ann.api.post("/api/v1/holds", { sessionId: s.id, seats: 2 }), 400, "invalid_request"],
      ["array body", () => ann.api.post("/api/v1/holds", [s.id]), 400, "invalid_request"],
      ["missing body", () => ann.api.post("/api/v1/holds"), 400, "missing_body"],
      [
        "huge body",
        () => ann.api.post("/api/v1/holds", { sessionId: s.id, pad: "x".repeat(MAX_BODY_BYTES) }),
        413,
        "payload_too_large",
      ],
      [
        "not JSON media type",
        () =>
          ann.api.post("/api/v1/holds", `sessionId=${s.id}`, { "content-type": "application/x-www-form-urlencoded" }),
        415,
        "unsupported_media_type",
      ],
      ["bad id in path", () => ann.api.get("/api/v1/holds/not-an-id"), 400, "invalid_request"],
      ["unknown id", () => ann.api.get("/api/v1/bookings/01JZZZZZZZZZZZZZZZZZZZZZZZ"), 404, "booking_not_found"],
      [
        "unknown session",
        () => ann.api.post("/api/v1/holds", { sessionId: "01JZZZZZZZZZZZZZZZZZZZZZZZ" }),
        404,
        "session_not_found",
      ],
      ["unknown query parameter", () => ann.api.get("/api/v1/sessions?colour=red"), 400, "invalid_request"],
      ["bad filter value", () => ann.api.get("/api/v1/sessions?topic=astrology"), 400, "invalid_request"],
      ["bad cursor", () => ann.api.get("/api/v1/sessions?cursor=%%%"), 400, "invalid_request"],
      ["bad limit", () => ann.api.get("/api/v1/sessions?limit=0"), 400, "invalid_request"],
      ["no credentials", () => f.anonymous.post("/api/v1/holds", { sessionId: s.id }), 401, "unauthenticated"],
      ["bad token", () => ann.api.as("tbk_nope").post("/api/v1/holds", { sessionId: s.id }), 401, "invalid_token"],
      ["learner on admin route", () => ann.api.get("/api/v1/events"), 403, "forbidden"],
      ["unknown endpoint", () => ann.api.get("/api/v1/nothing-here"), 404, "not_found"],
      ["wrong method", () => ann.api.request("PUT", "/api/v1/holds", {}), 405, "method_not_allowed"],
      [
        "bad idempotency key",
        () => ann.api.post("/api/v1/holds", { sessionId: s.id }, { "idempotency-key": "a b" }),
        400,
        "invalid_idempotency_key",
      ],
    ];
    for (const [name, call, status, code] of cases) {
      const res = await call();
      assert.equal(res.status, status, `${name}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error, code, name);
      assert.equal(typeof res.body.message, "string", name);
      assert.ok(res.body.message.length > 5, name);
    }
    const typed = await ann.api.post<Body>("/api/v1/holds", { sessionId: 42 });
    assert.deepEqual(typed.body.details.issues.map((i: Body) => i.path), ["body.sessionId"]);
    // Nothing was written by any of the refused requests.
    const view = await f.anonymous.get<Body>(`/api/v1/sessions/${s.id}`);
    assert.equal(view.body.seats.taken, 0);
  } finally {
    await f.close();
  }
});

Deno.test("[api] random bodies and paths never produce a 5xx", async () => {
  const f = await startApiFixture();
  try {
    const [ann] = await f.learners(1);
    const paths = [
      "/api/v1/holds",
      "/api/v1/bookings",
      "/api/v1/waitlist",
      "/api/v1/sessions",
      "/api/v1/users",
      "/api/v1/bookings/01JZZZZZZZZZZZZZZZZZZZZZZZ/cancel",
      "/api/v1/bookings/01JZZZZZZZZZZZZZZZZZZZZZZZ/reschedule",
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.oneof(fc.json(), fc.string(), fc.object().map((o) => JSON.stringify(o))),
        fc.boolean(),
        async (path, body, admin) => {
          // ApiClient throws on any 5xx and on a body that breaks the error contract.
          const res = await (admin ? f.admin : ann.api).post(path, body);
          return res.status >= 200 && res.status < 500;
        },
      ),
      { numRuns: 150 },
    );
  } finally {
    await f.close();
  }
});

Deno.test("[api] a cookie-authenticated write from another site is refused", async () => {
  const f = await startApiFixture();
  try {
    const [ann] = await f.learners(1);
    const s = await f.session();
    const cookie = await devSignInCookie(f.services.kv, ann.user.id);
    const viaCookie = ann.api.as(null);
    const cross = await viaCookie.post<Body>("/api/v1/holds", { sessionId: s.id }, {
      cookie,
      origin: "https://evil.example",
    });
    assert.equal(cross.status, 403);
    assert.equal(cross.body.error, "cross_site_request");
    const same = await viaCookie.post<Body>("/api/v1/holds", { sessionId: s.id }, { cookie, origin: "http://test" });
    assert.equal(same.status, 201);
    assert.equal(same.body.hold.origin, "web");
  } finally {
    await f.close();
  }
});

Deno.test("[api] the dev sign-in cookie is ignored when DEV_LOGIN is off", async () => {
  const f = await startApiFixture({ DEV_LOGIN: "0" });
  try {
    const [ann] = await f.learners(1);
    const res = await f.anonymous.get<Body>("/api/v1/me", {
      cookie: await devSignInCookie(f.services.kv, ann.user.id),
    });
    assert.equal(res.status, 401);
    const page = await f.app.fetch(new Request("http://test/dev/sign-in"));
    assert.equal(page.status, 404);
    await page.body?.cancel();
  } finally {
    await f.close();
  }
});

Deno.test("[api] a wrong method is answered 405 with the methods of the most literal matching resource", async () => {
  const f = await startApiFixture();
  try {
    const s = await f.session();
    const allow = async (path: string) => {
      const res = await f.app.fetch(new Request(`http://localhost${path}`, { method: "OPTIONS" }));
      await res.body?.cancel();
      return [res.status, res.headers.get("allow")];
    };
    // `/attendance/close` also fits `/attendance/{learnerId}` (PUT), which is another resource.
    assert.deepEqual(await allow(`/api/v1/sessions/${s.id}/attendance/close`), [405, "POST"]);
    assert.deepEqual(await allow(`/api/v1/sessions/${s.id}/attendance/audit`), [405, "GET"]);
    assert.deepEqual(await allow(`/api/v1/sessions/${s.id}/attendance/marks/01JZZZZZZZZZZZZZZZZZZZZZZZ`), [405, "PUT"]);
  } finally {
    await f.close();
  }
});
