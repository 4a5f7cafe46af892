/**
 * Cal.com operations over HTTP, each response checked against the OpenAPI schema by ApiClient:
 * a booking's sync status, the manual-review queue, sync figures, tenants (never leaking a key or
 * secret, in responses or logs), `/api/calcom/health` against the emulator, and the admin page.
 */
import assert from "node:assert/strict";
import {
  flagForReview,
  getReviewItem,
  getSyncState,
  pendingState,
  saveSeatLink,
  syncReviewId,
  type SyncState,
  updateSyncState,
} from "../../lib/calcom/sync_store.ts";
import { clearCalcomHealthCache } from "../../lib/calcom/health.ts";
import { getTenant } from "../../lib/calcom/tenants.ts";
import { newId } from "../../lib/domain/ids.ts";
import { startCalcomEmulator } from "../calcom/emulator.ts";
import { loadContract } from "../calcom/fixture.ts";
import { mintToken } from "../../lib/auth/tokens.ts";
import { ApiClient, type Body } from "./client.ts";
import { type ApiFixture, type Learner, startApiFixture } from "./fixture.ts";
import { devSignInCookie } from "../page_client.ts";

/** A confirmed booking of `who`, made through the API. */
async function book(f: ApiFixture, who: Learner): Promise<{ id: string; sessionId: string; instructorId: string }> {
  const s = await f.session({ capacity: 5 });
  // Many bookings of one learner come round to a course again: confirm that (duplicate_course otherwise).
  const hold = await who.api.post<Body>("/api/v1/holds", { sessionId: s.id, confirmDuplicate: true });
  assert.equal(hold.status, 201);
  const booking = await who.api.post<Body>("/api/v1/bookings", { holdId: hold.body.hold.id });
  assert.equal(booking.status, 201);
  return { id: booking.body.booking.id, sessionId: s.id, instructorId: s.instructorId };
}

/** Writes a sync state for a booking (as the outbound runner would). */
async function seedState(
  kv: Deno.Kv,
  b: { id: string; sessionId: string },
  patch: Partial<SyncState>,
): Promise<SyncState> {
  const base = pendingState(null, {
    bookingId: b.id,
    sessionId: b.sessionId,
    tenant: "default",
    origin: "web",
    nowMs: Date.now() - 60_000,
  });
  return (await updateSyncState(kv, b.id, () => ({ ...base, ...patch })))!;
}

async function failedBooking(f: ApiFixture, who: Learner) {
  const b = await book(f, who);
  const at = new Date().toISOString();
  await seedState(f.services.kv, b, {
    status: "failed",
    attempts: 4,
    lastAttemptAt: at,
    nextAttemptAt: null,
    errorCode: "HTTP_500",
    errorMessage: "Cal.com answered 500 four times",
    requiresManualReview: true,
    flaggedAt: at,
  });
  const item = await flagForReview(f.services.kv, {
    id: syncReviewId(b.id),
    kind: "sync_failed",
    tenant: "default",
    bookingId: b.id,
    sessionId: b.sessionId,
    calBookingUid: null,
    email: null,
    code: "HTTP_500",
    message: "Cal.com answered 500 four times",
  });
  return { booking: b, item };
}

function conflictItem(kv: Deno.Kv, flaggedAt = new Date().toISOString()) {
  return flagForReview(kv, {
    kind: "calcom_conflict",
    tenant: "default",
    bookingId: null,
    sessionId: null,
    calBookingUid: "cal-uid-123",
    email: "walk.in@example.com",
    code: "session_full",
    message: "A Cal.com seat for a session that is already full",
    flaggedAt,
  });
}

Deno.test("[calcom-api] sync-status: owner, the session's instructor and admins see the state and seat; others 403; unknown 404; never queued → sync null", async () => {
  const f = await startApiFixture();
  try {
    const [ann, bob] = await f.learners(2);
    const [coach] = await f.learners(1, ["instructor"]);
    const b = await book(f, ann);
    await seedState(f.services.kv, b, {
      status: "synced",
      attempts: 1,
      syncedAt: new Date().toISOString(),
      verifiedAt: new Date().toISOString(),
      nextAttemptAt: null,
      latencyMs: 420,
    });
    await saveSeatLink(f.services.kv, {
      bookingId: b.id,
      sessionId: b.sessionId,
      tenant: "default",
      eventTypeId: 77,
      calBookingUid: "cal-parent-uid",
      seatUid: "seat-uid-1",
      email: ann.user.email,
      status: "active",
      createdBy: "ours",
      linkedAt: new Date().toISOString(),
    });
    const mine = await ann.api.get<Body>(`/api/v1/bookings/${b.id}/sync-status`);
    assert.equal(mine.status, 200);
    assert.equal(mine.body.sync.status, "synced");
    assert.equal(mine.body.sync.latencyMs, 420);
    assert.equal(mine.body.sync.requiresManualReview, false);
    assert.equal(mine.body.seat.calBookingUid, "cal-parent-uid");
    assert.equal(mine.body.seat.seatUid, "seat-uid-1");
    assert.equal(mine.body.message, null);
    const elsewhere = await coach.api.get<Body>(`/api/v1/bookings/${b.id}/sync-status`);
    assert.equal(elsewhere.status, 403, "an instructor of another session may not look");
    const teacher = new ApiClient(f.app, (await mintToken(f.services.kv, b.instructorId)).token);
    assert.equal(
      (await teacher.get(`/api/v1/bookings/${b.id}/sync-status`)).status,
      200,
      "the session's instructor may",
    );
    assert.equal((await f.admin.get(`/api/v1/bookings/${b.id}/sync-status`)).status, 200);
    const other = await bob.api.get<Body>(`/api/v1/bookings/${b.id}/sync-status`);
    assert.equal(other.status, 403);
    assert.equal(other.body.error, "forbidden");
    const unknown = await ann.api.get<Body>(`/api/v1/bookings/${newId()}/sync-status`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, "booking_not_found");
    assert.equal((await f.anonymous.get(`/api/v1/bookings/${b.id}/sync-status`)).status, 401);
    assert.equal((await ann.api.get(`/api/v1/bookings/not-an-id/sync-status`)).status, 400);

    const plain = await book(f, bob);
    const never = await bob.api.get<Body>(`/api/v1/bookings/${plain.id}/sync-status`);
    assert.equal(never.status, 200);
    assert.equal(never.body.sync, null);
    assert.equal(never.body.seat, null);
    assert.match(never.body.message, /not been queued/);
  } finally {
    await f.close();
  }
});

Deno.test("[calcom-api] review queue: list newest first, retry a failed sync (202 pending), conflicts are not retryable", async () => {
  const f = await startApiFixture();
  try {
    const [ann] = await f.learners(1);
    const conflict = await conflictItem(f.services.kv, new Date(Date.now() - 3_600_000).toISOString());
    const { booking, item } = await failedBooking(f, ann);

    const list = await f.admin.get<Body>("/api/v1/admin/calcom/review?status=open");
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.items.map((i: Body) => i.id), [item.id, conflict.id], "newest first");
    assert.equal((await f.admin.get<Body>("/api/v1/admin/calcom/review?status=resolved")).body.items.length, 0);
    assert.equal((await f.admin.get<Body>("/api/v1/admin/calcom/review")).body.items.length, 2);
    assert.equal((await f.admin.get("/api/v1/admin/calcom/review?status=closed")).status, 400);
    assert.equal((await ann.api.get("/api/v1/admin/calcom/review")).status, 403, "admins only");

    const retried = await f.admin.post<Body>(`/api/v1/admin/calcom/review/${item.id}/retry`);
    assert.equal(retried.status, 202);
    assert.equal(retried.body.sync.status, "pending");
    assert.equal(retried.body.sync.attempts, 0);
    assert.equal(retried.body.sync.requiresManualReview, false);
    assert.ok(retried.body.sync.nextAttemptAt);
    assert.equal(retried.body.item.id, item.id);
    assert.equal((await getSyncState(f.services.kv, booking.id))!.status, "pending");

    const refused = await f.admin.post<Body>(`/api/v1/admin/calcom/review/${conflict.id}/retry`);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error, "not_retryable");
    assert.match(refused.body.message, /resolved with a comment/);
    const unknown = await f.admin.post<Body>(`/api/v1/admin/calcom/review/${newId()}/retry`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, "review_item_not_found");
    assert.equal((await ann.api.post(`/api/v1/admin/calcom/review/${item.id}/retry`)).status, 403);
  } finally {
    await f.close();
  }
});

Deno.test("[calcom-api] review queue: resolve needs a comment (400 JSON), stores it with who resolved, then 409", async () => {
  const f = await startApiFixture();
  try {
    const [ann] = await f.learners(1);
    const { booking, item } = await failedBooking(f, ann);
    const path = `/api/v1/admin/calcom/review/${item.id}/resolve`;
    for (
      const bad of [{}, { comment: "" }, { comment: "   " }, { comment: "x".repeat(501) }, { comment: "ok", x: 1 }]
    ) {
      const res = await f.admin.post<Body>(path, bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.equal(res.body.error, "invalid_request");
      assert.equal(typeof res.body.message, "string");
    }
    const noBody = await f.admin.post<Body>(path);
    assert.equal(noBody.status, 400);
    assert.equal(noBody.body.error, "missing_body");
    assert.equal((await getReviewItem(f.services.kv, item.id))!.status, "open", "nothing changed");

    const done = await f.admin.post<Body>(path, { comment: "  Re-created the seat on Cal.com by hand.  " });
    assert.equal(done.status, 200);
    assert.equal(done.body.item.status, "resolved");
    assert.equal(done.body.item.comment, "Re-created the seat on Cal.com by hand.");
    assert.equal(done.body.item.resolvedBy, "admin_token");
    assert.ok(done.body.item.resolvedAt);
    assert.equal((await getSyncState(f.services.kv, booking.id))!.requiresManualReview, false, "flag cleared");
    const resolved = await f.admin.get<Body>("/api/v1/admin/calcom/review?status=resolved");
    assert.deepEqual(resolved.body.items.map((i: Body) => i.id), [item.id]);
    const again = await f.admin.post<Body>(path, { comment: "twice" });
    assert.equal(again.status, 409);
    assert.equal(again.body.error, "review_item_resolved");
    const retryResolved = await f.admin.post<Body>(`/api/v1/admin/calcom/review/${item.id}/retry`);
    assert.equal(retryResolved.status, 409);
    const unknown = await f.admin.post<Body>(`/api/v1/admin/calcom/review/${newId()}/resolve`, { comment: "x" });
    assert.equal(unknown.status, 404);
    assert.equal((await f.admin.post(`/api/v1/admin/calcom/review/bad%20id/resolve`, { comment: "x" })).status, 400);
  } finally {
    await f.close();
  }
});

Deno.test("[calcom-api] sync figures count each status, flagged bookings, open items and latency percentiles", async () => {
  const f = await startApiFixture();
  try {
    const [ann] = await f.learners(1);
    const kv = f.services.kv;
    const empty = await f.admin.get<Body>("/api/v1/admin/calcom/sync");
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body.latencyMs, { p50: null, p95: null, max: null, samples: 0 });
    for (const latencyMs of [100, 200, 300, 400]) {
      await seedState(kv, await book(f, ann), {
        status: "synced",
        latencyMs,
        nextAttemptAt: null,
        syncedAt: new Date().toISOString(),
      });
    }
    await failedBooking(f, ann);
    await seedState(kv, await book(f, ann), {});
    await seedState(kv, await book(f, ann), { status: "skipped", nextAttemptAt: null, note: "not mirrored" });
    await conflictItem(kv);
    const figures = await f.admin.get<Body>("/api/v1/admin/calcom/sync");
    assert.equal(figures.status, 200);
    assert.deepEqual(
      { ...figures.body, latencyMs: undefined },
      {
        total: 7,
        synced: 4,
        failed: 1,
        pending: 1,
        skipped: 1,
        flagged: 1,
        openReviewItems: 2,
        latencyMs: undefined,
      },
    );
    assert.equal(figures.body.latencyMs.p50, 300);
    assert.equal(figures.body.latencyMs.p95, 400);
    assert.equal(figures.body.latencyMs.max, 400);
    assert.equal(figures.body.latencyMs.samples, 4);
    assert.equal((await ann.api.get("/api/v1/admin/calcom/sync")).status, 403);
  } finally {
    await f.close();
  }
});

Deno.test("[calcom-api] tenants: create, update keeping secrets, list, refuse default and bad input, delete; secrets never leak", async () => {
  const KEY = "cal_live_super_secret_key_0001";
  const SECRET = "whsec_super_secret_0002";
  const NEW_KEY = "cal_live_rotated_key_0003";
  const logged: string[] = [];
  const saved = { ...console };
  for (const m of ["log", "info", "warn", "error", "debug"] as const) {
    console[m] = (...args: unknown[]) =>
      logged.push(args.map((a) => a instanceof Error ? a.stack : String(a)).join(" "));
  }
  const f = await startApiFixture({ CALCOM_API_URL: "https://api.cal.example", CALCOM_API_KEY: "cal_env_key_0004" });
  const bodies: string[] = [];
  const keep = <T extends { body: unknown }>(r: T) => (bodies.push(JSON.stringify(r.body)), r);
  try {
    const [ann] = await f.learners(1);
    const path = "/api/v1/admin/calcom/tenants/acme";
    const created = keep(
      await f.admin.request<Body>("PUT", path, {
        baseUrl: "https://cal.acme.example",
        apiKey: KEY,
        webhookSecret: SECRET,
        locationIds: ["online"],
        eventTypeIds: [11, 12, 11],
      }),
    );
    assert.equal(created.status, 201);
    assert.equal(created.body.created, true);
    assert.deepEqual(created.body.tenant, {
      slug: "acme",
      baseUrl: "https://cal.acme.example",
      hasApiKey: true,
      hasWebhookSecret: true,
      eventTypeIds: [11, 12],
      locationIds: ["online"],
      source: "store",
    });
    assert.equal(created.headers.get("cache-control"), "no-store");

    const updated = keep(await f.admin.request<Body>("PUT", path, { baseUrl: "https://cal2.acme.example" }));
    assert.equal(updated.status, 200);
    assert.equal(updated.body.created, false);
    assert.equal(updated.body.tenant.hasApiKey, true, "an omitted key is kept");
    assert.deepEqual(updated.body.tenant.locationIds, ["online"], "omitted lists are kept");
    const stored = await getTenant(f.services.kv, "acme");
    assert.equal(stored!.apiKey, KEY);
    assert.equal(stored!.webhookSecret, SECRET);
    assert.equal(stored!.baseUrl, "https://cal2.acme.example");

    keep(await f.admin.request<Body>("PUT", path, { baseUrl: "https://cal2.acme.example", apiKey: NEW_KEY }));
    assert.equal((await getTenant(f.services.kv, "acme"))!.apiKey, NEW_KEY);
    const cleared = keep(
      await f.admin.request<Body>("PUT", path, { baseUrl: "https://cal2.acme.example", webhookSecret: null }),
    );
    assert.equal(cleared.body.tenant.hasWebhookSecret, false, "null removes the secret");

    const list = keep(await f.admin.get<Body>("/api/v1/admin/calcom/tenants"));
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.tenants.map((t: Body) => [t.slug, t.source, t.hasApiKey]), [
      ["default", "environment", true],
      ["acme", "store", true],
    ]);

    const reserved = keep(
      await f.admin.request<Body>("PUT", "/api/v1/admin/calcom/tenants/default", {
        baseUrl: "https://x.example",
        apiKey: KEY,
      }),
    );
    assert.equal(reserved.status, 409);
    assert.equal(reserved.body.error, "tenant_env_configured");
    assert.match(reserved.body.message, /CALCOM_API_KEY/);
    const bad: [string, unknown][] = [
      [path, { baseUrl: "not a url", apiKey: KEY }],
      [path, { baseUrl: "ftp://cal.example", apiKey: KEY }],
      [path, { baseUrl: `https://user:${KEY}@cal.example` }],
      [path, { baseUrl: "https://cal.example", apiKey: "" }],
      [path, { baseUrl: "https://cal.example", eventTypeIds: [-1] }],
      [path, { baseUrl: "https://cal.example", apiKey: KEY, extra: SECRET }],
      [path, { apiKey: KEY }],
      ["/api/v1/admin/calcom/tenants/Bad_Slug", { baseUrl: "https://cal.example", apiKey: KEY }],
    ];
    for (const [p, body] of bad) {
      const res = keep(await f.admin.request<Body>("PUT", p, body));
      assert.equal(res.status, 400, `${p} ${JSON.stringify(body).replaceAll(KEY, "<key>")}`);
      assert.equal(res.body.error, "invalid_request");
    }
    assert.equal(
      (await getTenant(f.services.kv, "acme"))!.baseUrl,
      "https://cal2.acme.example",
      "refusals change nothing",
    );
    assert.equal(keep(await ann.api.request<Body>("PUT", path, { baseUrl: "https://x.example" })).status, 403);
    assert.equal(keep(await ann.api.get<Body>("/api/v1/admin/calcom/tenants")).status, 403);

    assert.equal(keep(await f.admin.delete<Body>("/api/v1/admin/calcom/tenants/default")).status, 409);
    const removed = await f.admin.delete(path);
    assert.equal(removed.status, 204);
    assert.equal(await getTenant(f.services.kv, "acme"), null);
    const gone = keep(await f.admin.delete<Body>(path));
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error, "tenant_not_found");
    const openapi = keep(await f.anonymous.get<Body>("/api/openapi.json"));
    assert.ok(openapi.body.paths["/v1/admin/calcom/tenants/{slug}"].put, "documented as PUT");

    for (const text of [...bodies, ...logged]) {
      for (const secret of [KEY, SECRET, NEW_KEY, "cal_env_key_0004"]) {
        assert.ok(!text.includes(secret), `a response or log line contains a secret: ${text.slice(0, 200)}`);
      }
    }
  } finally {
    Object.assign(console, saved);
    await f.close();
  }
});

Deno.test("[calcom-api] /api/calcom/health for admins: reachable with authOk, a wrong key authOk false, a down Cal.com unreachable", async () => {
  const contract = await loadContract();
  const good = startCalcomEmulator({ contract });
  const down = startCalcomEmulator({ contract });
  const f = await startApiFixture({ CALCOM_API_URL: good.url, CALCOM_API_KEY: good.apiKey });
  try {
    await down.down();
    const put = (slug: string, baseUrl: string, apiKey: string) =>
      f.admin.request<Body>("PUT", `/api/v1/admin/calcom/tenants/${slug}`, {
        baseUrl,
        apiKey,
        webhookSecret: "s3cr3t",
      });
    assert.equal((await put("wrong-key", good.url, "cal_live_wrong_0005")).status, 201);
    assert.equal((await put("offline", down.url, down.apiKey)).status, 201);
    const health = await f.admin.get<Body>("/api/calcom/health");
    assert.equal(health.status, 200);
    assert.equal(health.body.status, "degraded", "a tenant is down");
    assert.ok(health.body.relay, "the relay fields stay");
    assert.equal(health.body.kafkaConfigured, false);
    const by = Object.fromEntries(health.body.calcom.tenants.map((t: Body) => [t.slug, t]));
    assert.equal(by.default.reachable, true);
    assert.equal(by.default.authOk, true);
    assert.equal(by["wrong-key"].reachable, true);
    assert.equal(by["wrong-key"].authOk, false);
    assert.equal(by.offline.reachable, false);
    assert.equal(by.offline.authOk, null);
    assert.equal(by.offline.error, "NETWORK_ERROR");
    assert.equal(health.body.calcom.ok, false);
    assert.equal(typeof health.body.calcom.sync.total, "number");
    const text = JSON.stringify(health.body);
    for (const s of [good.apiKey, "cal_live_wrong_0005", "s3cr3t", down.apiKey]) assert.ok(!text.includes(s));
    assert.equal(good.requestCount({ method: "GET", path: "/v2/me" }), 2, "one check per tenant");
    const again = await f.admin.get<Body>("/api/calcom/health");
    assert.equal(again.body.calcom.tenants.length, 3);
    assert.equal(good.requestCount({ method: "GET", path: "/v2/me" }), 2, "reused within 30 s");
    assert.deepEqual(good.violations, [], "exchanges that break Cal.com's OpenAPI contract");
  } finally {
    await f.close();
    await good.close();
    await down.close();
  }
});

Deno.test("[calcom-api] /api/calcom/health tells anonymous and non-admin callers a bare status only", async () => {
  const contract = await loadContract();
  const good = startCalcomEmulator({ contract });
  const f = await startApiFixture({ CALCOM_API_URL: good.url, CALCOM_API_KEY: good.apiKey });
  try {
    const [ann] = await f.learners(1);
    const [coach] = await f.learners(1, ["instructor"]);
    const [boss] = await f.learners(1, ["admin"]);
    const put = await f.admin.request("PUT", "/api/v1/admin/calcom/tenants/secret-dealer", {
      baseUrl: good.url,
      apiKey: good.apiKey,
      webhookSecret: "s3cr3t",
    });
    assert.equal(put.status, 201);
    for (const [who, api] of [["anonymous", f.anonymous], ["learner", ann.api], ["instructor", coach.api]] as const) {
      const res = await api.get<Body>("/api/calcom/health");
      assert.equal(res.status, 200, who);
      assert.deepEqual(res.body, { status: "ok" }, who);
      assert.ok(!JSON.stringify(res.body).includes("secret-dealer"), who);
    }
    for (const api of [f.admin, boss.api]) {
      const full = await api.get<Body>("/api/calcom/health");
      assert.equal(full.body.status, "ok");
      assert.deepEqual(full.body.calcom.tenants.map((t: Body) => t.slug).sort(), ["default", "secret-dealer"]);
      assert.equal(typeof full.body.calcom.sync.total, "number");
    }
    await good.down();
    clearCalcomHealthCache(f.services.kv);
    assert.deepEqual((await f.anonymous.get<Body>("/api/calcom/health")).body, { status: "degraded" });
  } finally {
    await f.close();
    await good.close();
  }
});

// ── the admin page ──────────────────────────────────────────────────────

const BASE = "http://test";

async function page(
  f: ApiFixture,
  method: "GET" | "POST",
  path: string,
  cookie?: string,
  form?: Record<string, string>,
) {
  const headers: Record<string, string> = cookie ? { cookie } : {};
  if (form) Object.assign(headers, { origin: BASE, "content-type": "application/x-www-form-urlencoded" });
  const res = await f.app.fetch(
    new Request(`${BASE}${path}`, { method, headers, body: form ? new URLSearchParams(form).toString() : undefined }),
  );
  return { res, text: (await res.text()).replaceAll("&#39;", "'") };
}

Deno.test("[calcom-page] /admin/calcom shows figures, tenants and open items to admins; learners get 403, visitors sign in", async () => {
  const f = await startApiFixture();
  try {
    const [ann] = await f.learners(1);
    const [boss] = await f.learners(1, ["admin"]);
    const { item } = await failedBooking(f, ann);
    const conflict = await conflictItem(f.services.kv);
    const admin = await devSignInCookie(f.services.kv, boss.user.id);

    const view = await page(f, "GET", "/admin/calcom", admin);
    assert.equal(view.res.status, 200);
    assert.match(view.text, /<h1[^>]*>Cal.com sync<\/h1>/);
    assert.match(view.text, /Open review items \(2\)/);
    assert.ok(view.text.includes("Cal.com answered 500 four times"));
    assert.ok(view.text.includes("A Cal.com seat for a session that is already full"));
    assert.match(view.text, /data-testid="figure-failed"[^]*?<dd[^>]*>1<\/dd>/);
    assert.match(view.text, /data-testid="tenant"[^]*?default/);
    const retryForms = view.text.match(/name="intent" value="retry"/g) ?? [];
    assert.equal(retryForms.length, 1, "only the failed sync has a Retry button");
    assert.ok(view.text.includes(`for="comment-${conflict.id}"`), "the comment box is labelled");
    assert.match(view.text, new RegExp(`<textarea id="comment-${item.id}" name="comment" required`));
    assert.ok(!/<script[^>]*src=/.test(view.text), "no JavaScript");

    const learner = await page(f, "GET", "/admin/calcom", await devSignInCookie(f.services.kv, ann.user.id));
    assert.equal(learner.res.status, 403);
    assert.ok(!learner.text.includes("Cal.com answered 500"), "nothing of the queue shows");
    const visitor = await page(f, "GET", "/admin/calcom");
    assert.equal(visitor.res.status, 303);
    assert.equal(visitor.res.headers.get("location"), "/dev/sign-in?next=%2Fadmin%2Fcalcom");
  } finally {
    await f.close();
  }
});

Deno.test("[calcom-page] resolve and retry post to the page and redirect with a notice; a blank comment or a stranger is refused", async () => {
  const f = await startApiFixture();
  try {
    const [ann] = await f.learners(1);
    const [boss] = await f.learners(1, ["admin"]);
    const { booking, item } = await failedBooking(f, ann);
    const conflict = await conflictItem(f.services.kv);
    const admin = await devSignInCookie(f.services.kv, boss.user.id);

    const blank = await page(f, "POST", "/admin/calcom", admin, { intent: "resolve", id: item.id, comment: "  " });
    assert.equal(blank.res.status, 400);
    assert.match(blank.text, /role="alert"[^>]*>[^<]*Write a comment/);
    assert.equal((await getReviewItem(f.services.kv, item.id))!.status, "open");

    const retried = await page(f, "POST", "/admin/calcom", admin, { intent: "retry", id: item.id });
    assert.equal(retried.res.status, 303);
    assert.equal(retried.res.headers.get("location"), "/admin/calcom?done=retried");
    assert.equal((await getSyncState(f.services.kv, booking.id))!.status, "pending");
    const notRetryable = await page(f, "POST", "/admin/calcom", admin, { intent: "retry", id: conflict.id });
    assert.equal(notRetryable.res.status, 409);
    assert.match(notRetryable.text, /cannot be retried/);

    const stranger = await page(f, "POST", "/admin/calcom", await devSignInCookie(f.services.kv, ann.user.id), {
      intent: "resolve",
      id: conflict.id,
      comment: "not mine to resolve",
    });
    assert.equal(stranger.res.status, 403);
    const crossSite = await f.app.fetch(
      new Request(`${BASE}/admin/calcom`, {
        method: "POST",
        headers: { cookie: admin, origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ intent: "resolve", id: conflict.id, comment: "x" }).toString(),
      }),
    );
    assert.equal(crossSite.status, 403);
    await crossSite.body?.cancel();
    assert.equal((await getReviewItem(f.services.kv, conflict.id))!.status, "open");

    const resolved = await page(f, "POST", "/admin/calcom", admin, {
      intent: "resolve",
      id: conflict.id,
      comment: "Moved the walk-in to next week's session.",
    });
    assert.equal(resolved.res.status, 303);
    assert.equal(resolved.res.headers.get("location"), "/admin/calcom?done=resolved");
    const stored = (await getReviewItem(f.services.kv, conflict.id))!;
    assert.equal(stored.status, "resolved");
    assert.equal(stored.comment, "Moved the walk-in to next week's session.");
    assert.equal(stored.resolvedBy, boss.user.id);
    const after = await page(f, "GET", "/admin/calcom?done=resolved", admin);
    assert.match(after.text, /role="status"[^>]*>Marked resolved/);
    assert.match(after.text, /Open review items \(1\)/);
  } finally {
    await f.close();
  }
});
