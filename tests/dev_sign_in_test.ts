import assert from "node:assert/strict";
import { startTestApp } from "./app_fixture.ts";
import { devSignInCookie } from "./page_client.ts";
import { createPageSession } from "../lib/auth/sessions.ts";

function form(fields: Record<string, string>, origin = "http://test"): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin },
    body: new URLSearchParams(fields).toString(),
  };
}

Deno.test("[pages] dev sign-in: pick a demo person, the header shows them, sign out clears it", async () => {
  const t = await startTestApp();
  try {
    const page = await t.app.fetch(new Request("http://test/dev/sign-in"));
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.ok(html.includes("learner@example.com") && html.includes("admin@example.com"));

    const signIn = await t.app.fetch(
      new Request("http://test/dev/sign-in", form({ email: "learner@example.com", next: "/sessions/x" })),
    );
    assert.equal(signIn.status, 303);
    assert.equal(signIn.headers.get("location"), "/sessions/x");
    const cookie = signIn.headers.get("set-cookie") ?? "";
    assert.match(cookie, /^tb_session=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
    const home = await t.app.fetch(new Request("http://test/", { headers: { cookie: cookie.split(";")[0] } }));
    const homeHtml = await home.text();
    const learner = await t.services.kv.get<string>(["users_by_email", "learner@example.com"]);
    const user = (await t.services.kv.get<{ name: string }>(["users", learner.value!])).value!;
    assert.ok(homeHtml.includes(user.name), "header names the signed-in user");

    const signOut = form({ action: "sign-out" });
    signOut.headers = { ...signOut.headers, cookie: cookie.split(";")[0] };
    const out = await t.app.fetch(new Request("http://test/dev/sign-in", signOut));
    assert.equal(out.status, 303);
    assert.match(out.headers.get("set-cookie") ?? "", /^tb_session=; .*Max-Age=0/);
    const after = await t.app.fetch(new Request("http://test/", { headers: { cookie: cookie.split(";")[0] } }));
    assert.ok(!(await after.text()).includes(user.name), "the ended session no longer signs anyone in");
  } finally {
    await t.close();
  }
});

Deno.test("[pages] dev sign-in keeps the typed email on failure and never redirects off-site", async () => {
  const t = await startTestApp();
  try {
    const miss = await t.app.fetch(new Request("http://test/dev/sign-in", form({ email: "ghost@example.com" })));
    assert.equal(miss.status, 422);
    const html = await miss.text();
    assert.ok(html.includes('value="ghost@example.com"'));
    assert.ok(html.includes("No one with the email ghost@example.com is registered."));
    const offsite = await t.app.fetch(
      new Request("http://test/dev/sign-in", form({ email: "learner@example.com", next: "//evil.example/x" })),
    );
    assert.equal(offsite.headers.get("location"), "/");
    const cross = await t.app.fetch(
      new Request("http://test/dev/sign-in", form({ email: "learner@example.com" }, "https://evil.example")),
    );
    assert.equal(cross.status, 403);
    await cross.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("[pages] dev sign-in rotates the session id, and 'Sign out on every device' ends every session of the user", async () => {
  const t = await startTestApp();
  try {
    const signIn = async (cookie?: string) => {
      const init = form({ email: "learner@example.com", next: "/" });
      if (cookie) init.headers = { ...init.headers, cookie };
      const res = await t.app.fetch(new Request("http://test/dev/sign-in", init));
      return res.headers.get("set-cookie")!.split(";")[0];
    };
    const status = async (cookie: string) => {
      const res = await t.app.fetch(new Request("http://test/api/v1/me", { headers: { cookie } }));
      await res.body?.cancel();
      return res.status;
    };
    const phone = await signIn();
    const laptop = await signIn();
    const rotated = await signIn(laptop);
    assert.notEqual(rotated, laptop);
    assert.deepEqual([await status(phone), await status(laptop), await status(rotated)], [200, 401, 200]);
    const schedule = await t.app.fetch(new Request("http://test/me/schedule", { headers: { cookie: phone } }));
    assert.match(
      await schedule.text(),
      /action="\/auth\/sign-out"[^]*name="everywhere" value="1"[^]*Sign out on every device/,
    );
    const out = await t.app.fetch(
      new Request("http://test/auth/sign-out", {
        method: "POST",
        headers: { cookie: rotated, origin: "http://test", "content-type": "application/x-www-form-urlencoded" },
        body: "everywhere=1",
      }),
    );
    assert.equal(out.status, 303);
    assert.equal(out.headers.get("location"), "/", "no identity provider: home");
    assert.deepEqual([await status(phone), await status(rotated)], [401, 401]);
  } finally {
    await t.close();
  }
});

Deno.test("[pages] in production dev sign-in is a 404 and sessions it made earlier are refused", async () => {
  const prod = await startTestApp({ env: { APP_ENV: "production" } });
  try {
    // A dev session left in the store from before the switch to production.
    const admin = (await prod.services.kv.get<string>(["users_by_email", "admin@example.com"])).value!;
    const cookie = await devSignInCookie(prod.services.kv, admin);
    const page = await prod.app.fetch(new Request("http://test/dev/sign-in"));
    assert.equal(page.status, 404);
    await page.body?.cancel();
    const post = await prod.app.fetch(new Request("http://test/dev/sign-in", form({ email: "admin@example.com" })));
    assert.equal(post.status, 404);
    await post.body?.cancel();
    const me = await prod.app.fetch(new Request("http://test/api/v1/me", { headers: { cookie } }));
    assert.equal(me.status, 401, "a dev session is nobody in production");
    await me.body?.cancel();
    const home = await prod.app.fetch(new Request("http://test/", { headers: { cookie } }));
    const html = await home.text();
    assert.ok(!/href="\/(dev|auth)\/sign-in/.test(html), "no sign-in link without SSO configured");
  } finally {
    await prod.close();
  }
});

Deno.test("[pages] a bare user id, a value signed with another key or an expired session: 401 and signed-out pages, nothing written", async () => {
  const t = await startTestApp();
  try {
    const kv = t.services.kv;
    const admin = (await kv.get<string>(["users_by_email", "admin@example.com"])).value!;
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode("not-our-key"),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const mac = btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.sign("HMAC", key, enc(admin)))));
    const expired = await createPageSession(kv, admin, {
      via: "dev",
      absoluteMs: 7 * 24 * 3_600_000,
      now: () => Date.now() - 9 * 3_600_000, // idle longer than the 8 h default
    });
    const count = async () => {
      let n = 0;
      for await (const _ of kv.list({ prefix: ["users"] })) n++;
      for await (const _ of kv.list({ prefix: ["auth_sessions"] })) n++;
      return n;
    };
    const before = await count();
    for (
      const cookie of [
        `tb_dev_user=${admin}`,
        `tb_session=${admin}`,
        `tb_session=${encodeURIComponent(`${admin}.${mac}`)}`,
        `tb_dev_user=${encodeURIComponent(`${admin}.${mac}`)}`,
        `tb_session=${expired}`,
      ]
    ) {
      const me = await t.app.fetch(new Request("http://test/api/v1/me", { headers: { cookie } }));
      assert.equal(me.status, 401, cookie);
      assert.equal((await me.json()).error, "unauthenticated");
      const page = await t.app.fetch(
        new Request("http://test/admin/calcom", { headers: { cookie }, redirect: "manual" }),
      );
      assert.equal(page.status, 303, `${cookie}: sent to sign in`);
      await page.body?.cancel();
    }
    assert.equal(await count(), before - 1, "nothing written; only the expired session was deleted");
  } finally {
    await t.close();
  }
});

function enc(s: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(s) as Uint8Array<ArrayBuffer>;
}
