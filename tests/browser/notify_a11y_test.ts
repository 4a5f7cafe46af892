/** axe-core (WCAG 2.1 A and AA) on the notification pages at 375×812 and 1280×800. */
import assert from "node:assert/strict";
import { signUnsubscribe } from "../../lib/notify/manage.ts";
import { DEMO_EMAILS } from "../../lib/seed/build_people.ts";
import { axeViolations } from "./axe.ts";
import { browserTest, openSignedIn, VIEWPORTS } from "./harness.ts";

browserTest("[a11y] the notification pages have 0 axe violations at 375 and 1280", async (t, browser) => {
  const id = async (email: string) => (await t.services.kv.get<string>(["users_by_email", email])).value!;
  const learner = await id(DEMO_EMAILS.learner);
  const admin = await id(DEMO_EMAILS.admin);
  const token = await signUnsubscribe(t.services.kv, learner, "reminder");
  const pages = [
    { name: "my notifications", path: "/me/notifications", as: learner, expect: /Your last messages/ },
    { name: "bad zone", path: "/me/notifications", as: learner, form: "Mars/Base", expect: /Choose a time zone/ },
    { name: "unsubscribe", path: `/notifications/unsubscribe?t=${encodeURIComponent(token)}`, as: learner },
    { name: "admin notifications", path: "/admin/notifications", as: admin, expect: /dead letters/ },
  ];
  const failures: string[] = [];
  for (const vp of VIEWPORTS) {
    for (const p of pages) {
      const { context, page, res } = await openSignedIn(browser, t, vp, p.as, p.path);
      assert.equal(res?.status(), 200, `${p.name} at ${vp.name}`);
      if (p.form) {
        await page.fill("#timeZone", p.form);
        await Promise.all([
          page.waitForLoadState("load"),
          page.click("form[action='/me/notifications'] button[type=submit]"),
        ]);
      }
      if (p.expect) assert.match(await page.locator("main").innerText(), p.expect, p.name);
      for (const v of await axeViolations(page)) failures.push(`${p.name} @${vp.name}: ${v}`);
      await context.close();
    }
  }
  assert.deepEqual(failures, []);
});
