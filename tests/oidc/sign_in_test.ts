/**
 * OpenID Connect sign-in through a real provider (oidc-provider on loopback), without a browser:
 * users and roles from the ID token, rotation, sign-out through the provider, and every bad
 * callback (wrong state, replayed code, JIT off) answered with a clear page while nothing is written.
 */
import assert from "node:assert/strict";
import {
  APP,
  appGet,
  authorizeAtProvider,
  confirmEndSession,
  countKeys,
  Jar,
  signInAs,
  startOidcRig,
} from "./driver.ts";
import { TEST_ACCOUNTS } from "./provider.ts";
import { devSignInCookie } from "../page_client.ts";
import { createUser } from "../../lib/store/users.ts";

const WATCHED = ["users", "users_by_email", "auth_sessions", "auth_sessions_by_user"];

async function me(t: Parameters<typeof appGet>[0], jar: Jar) {
  const res = await t.app.fetch(new Request(`${APP}/api/v1/me`, { headers: { cookie: jar.header() } }));
  return { status: res.status, body: await res.json() };
}

Deno.test({
  name: "[oidc] each role signs in through the provider: user made from the ID token, roles and dealer from claims",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const rig = await startOidcRig();
    try {
      const kv = rig.t.services.kv;
      const peachtree = (await kv.get<string>(["dealers_by_slug", "peachtree-motors"])).value!;
      for (const [role, account] of Object.entries(TEST_ACCOUNTS)) {
        const jar = new Jar();
        const { res } = await signInAs(rig.t, jar, account.login, "/me/schedule");
        assert.equal(res.status, 303, role);
        assert.equal(res.headers.get("location"), "/me/schedule", role);
        const cookie = res.headers.getSetCookie().find((c) => c.startsWith("tb_session="))!;
        assert.match(cookie, /^tb_session=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Lax; Secure$/, role);
        assert.ok(!jar.cookies.has("tb_oidc_state"), "the state cookie is cleared");
        const { status, body } = await me(rig.t, jar);
        assert.equal(status, 200, role);
        assert.equal(body.via, "session");
        assert.equal(body.user.email, account.email);
        assert.equal(body.user.name, account.name);
        assert.deepEqual(body.roles, [role], `${account.login}'s groups map to ${role}`);
        assert.equal(body.user.dealerId, role === "dealer_admin" ? peachtree : null);
        const home = await appGet(rig.t, jar, "/");
        assert.ok((await home.text()).includes(account.name), "the header names the signed-in user");
      }
      // A second sign-in updates the same user (no duplicate) and issues another session id.
      const before = await countKeys(kv, WATCHED);
      const again = await signInAs(rig.t, new Jar(), "lena");
      assert.equal(again.res.status, 303);
      const after = await countKeys(kv, WATCHED);
      assert.equal(after.users, before.users, "no second user for the same email");
      assert.equal(after.auth_sessions, before.auth_sessions + 1);
    } finally {
      await rig.close();
    }
  },
});

Deno.test({
  name: "[oidc] sign-in rotates the session id: the cookie held before signing in no longer works",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const rig = await startOidcRig();
    try {
      const kv = rig.t.services.kv;
      const learner = (await kv.get<string>(["users_by_email", "learner@example.com"])).value!;
      const old = await devSignInCookie(kv, learner);
      const jar = new Jar();
      jar.cookies.set("tb_session", old.slice("tb_session=".length));
      assert.equal((await me(rig.t, jar)).status, 200, "signed in before");
      const { res } = await signInAs(rig.t, jar, "ada");
      assert.equal(res.status, 303);
      const fresh = jar.cookies.get("tb_session")!;
      assert.notEqual(`tb_session=${fresh}`, old, "a new id");
      assert.equal((await me(rig.t, jar)).body.user.email, "ada@corp.example");
      const oldJar = new Jar();
      oldJar.cookies.set("tb_session", old.slice("tb_session=".length));
      assert.equal((await me(rig.t, oldJar)).status, 401, "the pre-sign-in id is invalid");
    } finally {
      await rig.close();
    }
  },
});

Deno.test({
  name: "[oidc] sign-out ends the session and goes through the provider's end-session endpoint; cross-site is refused",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const rig = await startOidcRig();
    try {
      const jar = new Jar();
      const providerJar = new Jar();
      await signInAs(rig.t, jar, "ivan", "/", providerJar);
      const post = (origin: string) =>
        rig.t.app.fetch(
          new Request(`${APP}/auth/sign-out`, {
            method: "POST",
            headers: { cookie: jar.header(), origin, "content-type": "application/x-www-form-urlencoded" },
            body: "",
          }),
        );
      const cross = await post("https://evil.example");
      assert.equal(cross.status, 403);
      await cross.body?.cancel();
      assert.equal((await me(rig.t, jar)).status, 200, "still signed in");
      const out = await post(APP);
      assert.equal(out.status, 303);
      const to = new URL(out.headers.get("location")!);
      assert.equal(to.origin + to.pathname, `${rig.provider.issuer}/session/end`);
      assert.equal(to.searchParams.get("client_id"), "training-app");
      assert.equal(to.searchParams.get("post_logout_redirect_uri"), `${APP}/`);
      assert.match(out.headers.get("set-cookie")!, /^tb_session=; .*Max-Age=0/);
      assert.equal((await me(rig.t, jar)).status, 401, "the old cookie is refused");
      // The provider ends its own session and sends the browser back to our home page.
      assert.equal(await confirmEndSession(providerJar, to.toString()), `${APP}/`);
      const again = await appGet(rig.t, new Jar(), "/auth/sign-in");
      const next = await fetch(again.headers.get("location")!, {
        redirect: "manual",
        headers: { cookie: providerJar.header() },
      });
      await next.body?.cancel();
      assert.match(next.headers.get("location") ?? "", /\/interaction\//, "the provider asks to log in again");
    } finally {
      await rig.close();
    }
  },
});

Deno.test({
  name:
    "[oidc] a wrong state, another browser, a replayed callback or code, or a provider error: clear page, nothing written",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const rig = await startOidcRig();
    try {
      const kv = rig.t.services.kv;
      // Baseline: one real sign-in, whose callback URL is then replayed.
      const first = await signInAs(rig.t, new Jar(), "mona");
      assert.equal(first.res.status, 303);
      const before = await countKeys(kv, WATCHED);

      const expectPage = async (res: Response, status: number, sentence: RegExp, what: string) => {
        assert.equal(res.status, status, what);
        const html = await res.text();
        assert.match(html, /Sign-in did not work/, what);
        assert.match(html, sentence, what);
        assert.ok(!res.headers.getSetCookie().some((c) => /^tb_session=[0-9a-f]/.test(c)), `${what}: no session`);
      };

      // Wrong state: the callback's state is not the one this browser started.
      const jar = new Jar();
      const start = await appGet(rig.t, jar, "/auth/sign-in?next=/");
      const callback = new URL(await authorizeAtProvider(new Jar(), start.headers.get("location")!, "mona"));
      const wrong = new URL(callback);
      wrong.searchParams.set("state", "forged-state-value");
      await expectPage(await appGet(rig.t, jar, wrong.toString()), 400, /not started in this browser/, "wrong state");
      // The right callback in another browser (no state cookie): refused too (login CSRF).
      await expectPage(
        await appGet(rig.t, new Jar(), callback.toString()),
        400,
        /not started in this browser/,
        "other browser",
      );
      // Replaying a callback that already signed someone in.
      const replayJar = new Jar();
      replayJar.cookies.set("tb_oidc_state", new URL(first.callbackUrl).searchParams.get("state")!);
      await expectPage(await appGet(rig.t, replayJar, first.callbackUrl), 400, /already used or has expired/, "replay");
      // A used code with a fresh, valid state: the provider refuses the code.
      const fresh = new Jar();
      const restart = await appGet(rig.t, fresh, "/auth/sign-in");
      const state = new URL(restart.headers.get("location")!).searchParams.get("state")!;
      const reused = new URL(first.callbackUrl);
      reused.searchParams.set("state", state);
      await expectPage(await appGet(rig.t, fresh, reused.toString()), 401, /did not accept the sign-in code/, "code");
      // The provider reports an error (e.g. the user cancelled).
      await expectPage(
        await appGet(rig.t, jar, `/auth/callback?error=access_denied&state=x`),
        401,
        /did not sign you in \(access_denied\)/,
        "provider error",
      );
      assert.deepEqual(await countKeys(kv, WATCHED), before, "no user and no session written");
    } finally {
      await rig.close();
    }
  },
});

Deno.test({
  name: "[oidc] with OIDC_JIT=0 an unknown user gets a 403 page and nothing is written; a registered user signs in",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const rig = await startOidcRig({ OIDC_JIT: "0" });
    try {
      const kv = rig.t.services.kv;
      const before = await countKeys(kv, WATCHED);
      const { res } = await signInAs(rig.t, new Jar(), "lena");
      assert.equal(res.status, 403);
      const html = await res.text();
      assert.match(html, /No account for lena@corp\.example is registered here/);
      assert.deepEqual(await countKeys(kv, WATCHED), before, "nothing written");
      // Registered beforehand (e.g. by the HR provisioning API): signs in, roles from the claims.
      await createUser(kv, { email: "ivan@corp.example", name: "Ivan (HR)", roles: ["learner"] });
      const jar = new Jar();
      const ok = await signInAs(rig.t, jar, "ivan");
      assert.equal(ok.res.status, 303);
      const who = await me(rig.t, jar);
      assert.deepEqual([who.body.user.name, who.body.roles], ["Ivan Instructor", ["instructor"]]);
    } finally {
      await rig.close();
    }
  },
});

Deno.test({
  name: "[oidc] eight first sign-ins of one person at once make one user and eight sessions",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const rig = await startOidcRig();
    try {
      const kv = rig.t.services.kv;
      const before = await countKeys(kv, WATCHED);
      const jars = Array.from({ length: 8 }, () => new Jar());
      // Each browser gets to the provider's redirect first, then all callbacks hit the app together.
      const callbacks = await Promise.all(jars.map(async (jar) => {
        const start = await appGet(rig.t, jar, "/auth/sign-in");
        return await authorizeAtProvider(new Jar(), start.headers.get("location")!, "dora");
      }));
      const results = await Promise.all(callbacks.map((url, i) => appGet(rig.t, jars[i], url)));
      assert.deepEqual(results.map((r) => r.status), Array(8).fill(303));
      const after = await countKeys(kv, WATCHED);
      assert.equal(after.users, before.users + 1, "one user");
      assert.equal(after.users_by_email, before.users_by_email + 1);
      assert.equal(after.auth_sessions, before.auth_sessions + 8);
      for (const jar of jars) assert.equal((await me(rig.t, jar)).body.user.email, "dora@corp.example");
    } finally {
      await rig.close();
    }
  },
});
