/** Who is turned away from the admin-only operations pages (/admin/calcom, /admin/notifications), and how. */
import assert from "node:assert/strict";
import { getNotifySettings } from "../../lib/notify/manage.ts";
import { DEMO_EMAILS } from "../../lib/seed/build_people.ts";
import { startTestApp, type TestApp } from "../app_fixture.ts";
import { devCookie, getPage, PAGE_BASE } from "../page_client.ts";

/** A form post to `path` with the given extra headers. */
async function post(t: TestApp, path: string, cookie: string, headers: Record<string, string>) {
  const res = await t.app.fetch(
    new Request(`${PAGE_BASE}${path}`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams({ intent: "pause" }).toString(),
    }),
  );
  return { res, text: await res.text() };
}

Deno.test("[admin-pages] /admin/calcom and /admin/notifications: signed out sign in first, learners get 403, cross-site posts are refused even for admins", async () => {
  const t = await startTestApp();
  try {
    const admin = await devCookie(t, DEMO_EMAILS.admin);
    const learner = await devCookie(t, DEMO_EMAILS.learner);
    for (const path of ["/admin/calcom", "/admin/notifications"]) {
      const out = await t.app.fetch(new Request(`${PAGE_BASE}${path}`, { redirect: "manual" }));
      await out.body?.cancel();
      assert.equal(out.status, 303, `${path} signed out`);
      assert.equal(out.headers.get("location"), `/dev/sign-in?next=${encodeURIComponent(path)}`);
      assert.equal((await getPage(t, path, learner)).res.status, 403, `${path} as a learner`);
      assert.equal((await post(t, path, learner, { origin: PAGE_BASE })).res.status, 403, `${path} post as a learner`);
      assert.equal((await getPage(t, path, admin)).res.status, 200, `${path} as an admin`);
      const crossSite: Record<string, string>[] = [
        { origin: "https://evil.example" },
        { origin: PAGE_BASE, "sec-fetch-site": "cross-site" },
      ];
      for (const headers of crossSite) {
        const refused = await post(t, path, admin, headers);
        assert.equal(refused.res.status, 403, `${path} ${JSON.stringify(headers)}`);
        assert.equal(refused.text, "Cross-site form refused.");
      }
    }
    assert.equal((await getNotifySettings(t.services.kv)).paused, false, "no refused post paused sending");
    const paused = await post(t, "/admin/notifications", admin, { origin: PAGE_BASE });
    assert.equal(paused.res.status, 303, "the same post from this site goes through");
    assert.equal((await getNotifySettings(t.services.kv)).paused, true);
  } finally {
    await t.close();
  }
});
