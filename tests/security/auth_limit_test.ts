/**
 * Abuse limits on failed authentication (lib/http/failure_limit.ts): bad bearer tokens, unknown
 * dev sign-in emails and bad webhook signatures from one address are slowed, then refused 429 with
 * Retry-After; a valid credential from the same address still works, other addresses are not
 * affected, and the lock ends with the window. The clock and the pause are replaced (no sleeping).
 */
import assert from "node:assert/strict";
import { mintToken } from "../../lib/auth/tokens.ts";
import { AUTH_FAILURES, useFailureLimitHooks } from "../../lib/http/failure_limit.ts";
import { createUser } from "../../lib/store/mod.ts";
import { startTestApp, type TestApp } from "../app_fixture.ts";
import { signWebhook } from "../calcom/webhooks.ts";

const SECRET = "limit-test-webhook-secret-0123";

/** Serve info as Deno.serve passes it (Hono's `env`). */
const from = (hostname: string) => ({ remoteAddr: { transport: "tcp", hostname, port: 40000 } });

async function withLimitedApp(fn: (t: TestApp, clock: { now: number; pauses: number[] }) => Promise<void>) {
  const t = await startTestApp({ env: { CALCOM_WEBHOOK_SECRET: SECRET } });
  const clock = { now: Date.parse("2030-03-04T10:00:00Z"), pauses: [] as number[] };
  useFailureLimitHooks(t.services.kv, {
    now: () => clock.now,
    sleep: (ms) => {
      clock.pauses.push(ms);
      return Promise.resolve();
    },
  });
  try {
    await fn(t, clock);
  } finally {
    await t.close();
  }
}

const expectedPauses = () =>
  Array.from({ length: AUTH_FAILURES.limit }, (_, i) => i + 1)
    .filter((n) => n > AUTH_FAILURES.slowAfter)
    .map((n) => Math.min(AUTH_FAILURES.maxDelayMs, (n - AUTH_FAILURES.slowAfter) * 200));

Deno.test("[limits] bad bearer tokens: slowed, then 429 with Retry-After; a valid token and other addresses still work", async () => {
  await withLimitedApp(async (t, clock) => {
    const user = await createUser(t.services.kv, {
      email: "limit-bearer@example.com",
      name: "Limit",
      roles: ["learner"],
    });
    const { token } = await mintToken(t.services.kv, user.id);
    const me = (bearer: string, ip: string) =>
      t.app.request("/api/v1/me", { headers: { authorization: `Bearer ${bearer}` } }, from(ip));

    for (let i = 0; i < AUTH_FAILURES.limit; i++) {
      const res = await me(`wrong-token-${i}`, "203.0.113.7");
      assert.equal(res.status, 401, `failure ${i + 1}`);
      await res.body?.cancel();
    }
    assert.deepEqual(clock.pauses, expectedPauses(), "failures past the threshold are slowed");
    clock.now += 15_000;
    const refused = await me("wrong-token-x", "203.0.113.7");
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get("retry-after"), "45");
    assert.equal((await refused.json()).error, "too_many_failures");

    const valid = await me(token, "203.0.113.7");
    assert.equal(valid.status, 200, "a valid token is never locked out");
    assert.equal((await valid.json()).user.id, user.id);
    const elsewhere = await me("wrong-token-y", "198.51.100.9");
    assert.equal(elsewhere.status, 401, "another address has its own count");
    await elsewhere.body?.cancel();

    clock.now += 46_000;
    const later = await me("wrong-token-z", "203.0.113.7");
    assert.equal(later.status, 401, "the lock ends with the window");
    await later.body?.cancel();
  });
});

Deno.test("[limits] dev sign-in with unknown emails: 429 after the limit; a registered email still signs in", async () => {
  await withLimitedApp(async (t) => {
    const signIn = (email: string, ip: string) =>
      t.app.request("/dev/sign-in", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://localhost" },
        body: new URLSearchParams({ email, next: "/" }).toString(),
        redirect: "manual",
      }, from(ip));
    for (let i = 0; i < AUTH_FAILURES.limit; i++) {
      const res = await signIn(`nobody-${i}@example.com`, "203.0.113.8");
      assert.equal(res.status, 422, `failure ${i + 1}`);
      await res.body?.cancel();
    }
    const refused = await signIn("nobody-else@example.com", "203.0.113.8");
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get("retry-after")) > 0);
    assert.match(await refused.text(), /Too many failed authentication attempts/);

    await createUser(t.services.kv, { email: "limit-real@example.com", name: "Real", roles: ["learner"] });
    const ok = await signIn("limit-real@example.com", "203.0.113.8");
    assert.equal(ok.status, 303, "a registered email is not locked out");
    assert.match(ok.headers.get("set-cookie") ?? "", /tb_session=/);
    const elsewhere = await signIn("nobody-else@example.com", "192.0.2.44");
    assert.equal(elsewhere.status, 422);
    await elsewhere.body?.cancel();
  });
});

Deno.test("[limits] webhook signature failures: 429 after the limit; a correctly signed delivery is still taken", async () => {
  await withLimitedApp(async (t) => {
    const envelope = { triggerEvent: "PING", createdAt: new Date().toISOString(), payload: {} };
    const signed = await signWebhook(SECRET, envelope);
    const post = (headers: Record<string, string>, ip: string) =>
      t.app.request("/api/webhooks/calcom/booking", { method: "POST", headers, body: signed.body }, from(ip));
    const forged = { ...signed.headers, "X-Cal-Signature-256": "0".repeat(64) };
    for (let i = 0; i < AUTH_FAILURES.limit; i++) {
      const res = await post(forged, "203.0.113.9");
      assert.equal(res.status, 401, `failure ${i + 1}`);
      await res.body?.cancel();
    }
    const refused = await post(forged, "203.0.113.9");
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get("retry-after")) > 0);
    assert.equal((await refused.json()).error, "too_many_failures");
    const genuine = await post(signed.headers, "203.0.113.9");
    assert.ok(![401, 429].includes(genuine.status), `a signed delivery is checked, not locked out: ${genuine.status}`);
    await genuine.body?.cancel();
  });
});
