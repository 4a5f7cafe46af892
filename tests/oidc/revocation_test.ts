/**
 * Revocation across instances: two `main.ts` processes on one KV file. Signing out everywhere, or
 * deactivating a user, through one instance ends the sessions on the other at its next request
 * (sessions are read from KV on every request; no instance caches them).
 */
import assert from "node:assert/strict";
import { httpJson, spawnApp } from "../kafka/relay_fixture.ts";

const ADMIN = "admin-token-for-revocation-test-0123";

async function devSignIn(baseUrl: string, email: string): Promise<string> {
  const res = await fetch(`${baseUrl}/dev/sign-in`, {
    method: "POST",
    redirect: "manual",
    headers: { origin: baseUrl, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ email, next: "/" }),
  });
  assert.equal(res.status, 303, await res.text());
  return res.headers.getSetCookie().find((c) => c.startsWith("tb_session="))!.split(";")[0];
}

async function meStatus(baseUrl: string, cookie: string): Promise<number> {
  const res = await fetch(`${baseUrl}/api/v1/me`, { headers: { cookie } });
  await res.body?.cancel();
  return res.status;
}

Deno.test({
  name: "[auth] sign out everywhere or deactivation through one instance: the other refuses the cookie at once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const env = {
      HOST: "127.0.0.1",
      DENO_KV_PATH: `${dir}/app.kv`,
      WORKER: "0",
      DEV_LOGIN: "1",
      ADMIN_TOKEN: ADMIN,
    };
    const a = await spawnApp(env);
    const b = await spawnApp({ ...env, SEED_DEMO: "0" });
    try {
      // Sign out everywhere on A: both sessions (made on A and on B) stop working on B.
      const onA = await devSignIn(a.baseUrl, "learner@example.com");
      const onB = await devSignIn(b.baseUrl, "learner@example.com");
      assert.deepEqual([await meStatus(b.baseUrl, onA), await meStatus(a.baseUrl, onB)], [200, 200], "shared KV");
      const out = await fetch(`${a.baseUrl}/auth/sign-out`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie: onA, origin: a.baseUrl, "content-type": "application/x-www-form-urlencoded" },
        body: "everywhere=1",
      });
      await out.body?.cancel();
      assert.equal(out.status, 303);
      assert.deepEqual([await meStatus(b.baseUrl, onA), await meStatus(b.baseUrl, onB)], [401, 401]);

      // Deactivate through B's API: A refuses the user's sessions at the next request.
      const first = await devSignIn(a.baseUrl, "manager@example.com");
      const second = await devSignIn(a.baseUrl, "manager@example.com");
      assert.equal(await meStatus(a.baseUrl, first), 200);
      const me = await fetch(`${a.baseUrl}/api/v1/me`, { headers: { cookie: first } }).then((r) => r.json());
      const done = await httpJson(b.baseUrl, "POST", `/api/v1/users/${me.user.id}/deactivate`, ADMIN);
      assert.equal(done.status, 200);
      assert.equal(done.body.sessionsEnded, 2);
      assert.deepEqual([await meStatus(a.baseUrl, first), await meStatus(a.baseUrl, second)], [401, 401]);
      const page = await fetch(`${a.baseUrl}/me/schedule`, { headers: { cookie: first }, redirect: "manual" });
      assert.ok(!(await page.text()).includes(me.user.name), "the page shows nobody signed in");
      // And a new dev sign-in as the deactivated user is refused with a sentence.
      const again = await fetch(`${a.baseUrl}/dev/sign-in`, {
        method: "POST",
        headers: { origin: a.baseUrl, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ email: "manager@example.com" }),
      });
      assert.equal(again.status, 422);
      assert.match(await again.text(), /deactivated/);
      const unknown = await httpJson(b.baseUrl, "POST", `/api/v1/users/01ARZ3NDEKTSV4RRFFQ69G5FAV/deactivate`, ADMIN);
      assert.equal(unknown.status, 404);
    } finally {
      await a.kill("SIGTERM");
      await b.kill("SIGTERM");
      await Deno.remove(dir, { recursive: true });
    }
  },
});
