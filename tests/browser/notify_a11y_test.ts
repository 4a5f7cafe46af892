/** axe-core (WCAG 2.1 A and AA) on the notification pages at 375×812 and 1280×800. */
import assert from "node:assert/strict";
import { signUnsubscribe } from "../../lib/notify/manage.ts";
import { DEMO_EMAILS } from "../../lib/seed/build_people.ts";
import { launchBrowser } from "../fresh/browser.ts";
import { startTestApp } from "../app_fixture.ts";
import { axeViolations } from "./axe.ts";
import { devSignInCookie, sessionCookieOf } from "../page_client.ts";

const VIEWPORTS = [
  { name: "375", viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true },
  { name: "1280", viewport: { width: 1280, height: 800 }, isMobile: false, hasTouch: false },
];

Deno.test({
  name: "[a11y] the notification pages have 0 axe violations at 375 and 1280",
  sanitizeResources: false, // Chromium's pipes close asynchronously after browser.close().
  sanitizeOps: false,
  async fn() {
    const t = await startTestApp({ serve: true });
    const browser = await launchBrowser();
    try {
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
          const context = await browser.newContext({
            viewport: vp.viewport,
            isMobile: vp.isMobile,
            hasTouch: vp.hasTouch,
          });
          await context.addCookies([sessionCookieOf(await devSignInCookie(t.services.kv, p.as), t.baseUrl)]);
          const page = await context.newPage();
          const res = await page.goto(`${t.baseUrl}${p.path}`, { waitUntil: "load" });
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
    } finally {
      await browser.close();
      await t.close();
    }
  },
});
