/**
 * The shared header in real Chromium at 375×812 (and 1280×800): for every kind of signed-in person,
 * the most links at once (Teach, My schedule, Notifications, Staff or Dealer, a long name, Sign
 * out) fit without horizontal scrolling and without two links overlapping; the Notifications link
 * leads to /me/notifications. Screenshots: tests/artifacts/header-<who>-<width>.png.
 */
import assert from "node:assert/strict";
import { createUser, listDealers } from "../../lib/store/mod.ts";
import { launchBrowser } from "../fresh/browser.ts";
import { startTestApp } from "../app_fixture.ts";
import { devSignInCookie, sessionCookieOf } from "../page_client.ts";
import { axeViolations } from "./axe.ts";

const ARTIFACTS = new URL("../artifacts/", import.meta.url);
const VIEWPORTS = [
  { name: "375", viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true },
  { name: "1280", viewport: { width: 1280, height: 800 }, isMobile: false, hasTouch: false },
];

Deno.test({
  name: "[browser] header at 375 and 1280: a Notifications link for everyone signed in, nothing overflows or overlaps",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const t = await startTestApp({ serve: true });
    const browser = await launchBrowser();
    try {
      const kv = t.services.kv;
      const dealerId = (await listDealers(kv))[0].id;
      const person = (slug: string, name: string, roles: string[], extra: Record<string, unknown> = {}) =>
        createUser(kv, { email: `header-${slug}@example.com`, name, roles: roles as never, ...extra });
      const people = [
        await person("learner", "Lee Learner", ["learner"]),
        await person("instructor", "Ida Instructor", ["instructor"]),
        await person("dealer", "Dee Dealer-Administrator", ["dealer_admin"], { dealerId }),
        // The most links at once: Teach and Staff (where an overflow once happened), and a long name.
        await person("admin", "Maximiliana Alexandra Richardson-Whitfield", ["admin", "instructor"]),
      ];
      const failures: string[] = [];
      for (const vp of VIEWPORTS) {
        for (const user of people) {
          const context = await browser.newContext({
            viewport: vp.viewport,
            isMobile: vp.isMobile,
            hasTouch: vp.hasTouch,
            deviceScaleFactor: 1,
          });
          await context.addCookies([sessionCookieOf(await devSignInCookie(kv, user.id), t.baseUrl)]);
          const page = await context.newPage();
          await page.goto(`${t.baseUrl}/`, { waitUntil: "load" });
          const who = `${user.roles.join("+")} @${vp.name}`;
          const boxes = await page.evaluate(() =>
            [...document.querySelectorAll("header nav a, header nav button")].map((el) => {
              const r = el.getBoundingClientRect();
              return {
                text: (el.textContent ?? "").trim(),
                left: r.left,
                right: r.right,
                top: r.top,
                bottom: r.bottom,
              };
            })
          );
          const width = await page.evaluate(() => document.documentElement.scrollWidth);
          if (width > vp.viewport.width) failures.push(`${who}: page scrolls sideways (scrollWidth ${width})`);
          for (const b of boxes) {
            if (b.left < 0 || b.right > vp.viewport.width) failures.push(`${who}: "${b.text}" sticks out`);
          }
          for (let i = 0; i < boxes.length; i++) {
            for (let j = i + 1; j < boxes.length; j++) {
              const [a, b] = [boxes[i], boxes[j]];
              const overlap = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
              if (overlap) failures.push(`${who}: "${a.text}" overlaps "${b.text}"`);
            }
          }
          const texts = boxes.map((b) => b.text);
          assert.ok(texts.includes("Notifications"), `${who}: ${texts.join(" | ")}`);
          if (user.roles.includes("admin")) assert.ok(texts.includes("Teach") && texts.includes("Staff"), who);
          for (const v of await axeViolations(page)) failures.push(`${who}: ${v}`);
          const slug = user.email.split("@")[0];
          await page.screenshot({ path: new URL(`${slug}-${vp.name}.png`, ARTIFACTS).pathname });
          const link = page.getByTestId("notifications-link");
          await Promise.all([
            page.waitForURL(/\/me\/notifications$/),
            vp.hasTouch ? link.tap() : link.click(),
          ]);
          assert.match(await page.locator("h1").innerText(), /notifications/i, who);
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
