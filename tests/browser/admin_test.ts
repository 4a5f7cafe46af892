/**
 * The staff pages in real Chromium at 375×812 and 1280×800, axe at 0 violations on each: an admin
 * creates a course with a prerequisite, schedules a session of it, a learner (who completed the
 * prerequisite) books it, the admin changes it and cancels it, and the audit trail shows each step.
 * Screenshots go to tests/artifacts/admin-<step>-<width>.png.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { listUsersWithRole } from "../../lib/admin/sessions.ts";
import { zonedParts } from "../../lib/domain/mod.ts";
import { createUser, listCourses, listDealers, listLocations } from "../../lib/store/mod.ts";
import { launchBrowser } from "../fresh/browser.ts";
import { startTestApp } from "../app_fixture.ts";
import { devSignInCookie, sessionCookieOf } from "../page_client.ts";
import { checkAxe } from "./axe.ts";

const ARTIFACTS = new URL("../artifacts/", import.meta.url);
const VIEWPORTS = [
  { name: "375", viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true },
  { name: "1280", viewport: { width: 1280, height: 800 }, isMobile: false, hasTouch: false },
];
const two = (n: number) => String(n).padStart(2, "0");

Deno.test({
  name: "[browser] staff pages at 375 and 1280: course with prerequisite, session, booking, edit, cancel, audit; axe 0",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const t = await startTestApp({ serve: true });
    const browser = await launchBrowser();
    try {
      const kv = t.services.kv;
      const base = (await listCourses(kv)).find((c) => c.prerequisiteCourseIds.length === 0)!;
      const location = (await listLocations(kv))[0];
      const [instructor] = await listUsersWithRole(kv, "instructor");
      const admin = await createUser(kv, { email: "browser-admin@example.com", name: "Ada Admin", roles: ["admin"] });
      const learner = await createUser(kv, {
        email: "browser-learner@example.com",
        name: "Lee Learner",
        roles: ["learner"],
        completedCourses: [{ courseId: base.id, completedAt: "2025-01-02T03:04:05.000Z" }],
      });
      const dealerAdmin = await createUser(kv, {
        email: "browser-dealer@example.com",
        name: "Dee Dealer",
        roles: ["dealer_admin"],
        dealerId: (await listDealers(kv))[0].id,
      });
      const day = zonedParts(new Date(Date.now() + 12 * 86_400_000), location.timeZone);
      const date = `${day.year}-${two(day.month)}-${two(day.day)}`;
      for (const [i, vp] of VIEWPORTS.entries()) {
        const options = { viewport: vp.viewport, isMobile: vp.isMobile, hasTouch: vp.hasTouch, deviceScaleFactor: 1 };
        const staff = await browser.newContext(options);
        await staff.addCookies([sessionCookieOf(await devSignInCookie(kv, admin.id), t.baseUrl)]);
        const page = await staff.newPage();
        const errors: string[] = [];
        const watch = (p: Page) => {
          p.on("pageerror", (e) => errors.push(String(e)));
          p.on("response", (r) => r.status() >= 400 && errors.push(`${r.status()} ${r.url()}`));
        };
        watch(page);
        const shot = (p: Page, step: string) =>
          p.screenshot({ path: new URL(`admin-${step}-${vp.name}.png`, ARTIFACTS).pathname, fullPage: true });
        /** axe at 0 violations, and at 375 px no horizontal scrolling. */
        const checkPage = async (p: Page, name: string) => {
          await checkAxe(p, name);
          const width = await p.evaluate(() => document.documentElement.scrollWidth);
          assert.ok(width <= vp.viewport.width, `${name}: no horizontal scrolling (scrollWidth ${width})`);
        };
        const click = (p: Page, selector: string) => vp.hasTouch ? p.locator(selector).tap() : p.click(selector);

        // 1. The staff home, reached from the header.
        await page.goto(`${t.baseUrl}/`);
        await Promise.all([page.waitForURL(/\/admin$/), click(page, "[data-testid=staff-link]")]);
        await checkPage(page, `/admin @${vp.name}`);
        await shot(page, "home");

        // The other staff pages: axe and no horizontal scrolling.
        for (const path of ["/admin/rules", "/admin/locations", "/admin/people?q=a", "/admin/sessions"]) {
          await page.goto(`${t.baseUrl}${path}`);
          await checkPage(page, `${path} @${vp.name}`);
        }

        // 2. A course with a prerequisite.
        await page.goto(`${t.baseUrl}/admin`);
        await Promise.all([page.waitForURL(/\/admin\/courses$/), click(page, "[data-testid=link-courses]")]);
        const code = `BRW-${300 + i}`;
        await page.fill("#code", code);
        await page.fill("#title", `Browser course ${vp.name}`);
        await page.fill("#summary", "Made in the browser test.");
        await page.fill("#durationMinutes", "120");
        await page.check(`#pre-${base.id}`);
        await checkPage(page, `/admin/courses @${vp.name}`);
        await Promise.all([page.waitForURL(/done=added/), click(page, "main form[method=post] button[type=submit]")]);
        assert.match(await page.getByTestId("notice").innerText(), /Course added/);
        const course = (await listCourses(kv)).find((c) => c.code === code)!;
        assert.deepEqual(course.prerequisiteCourseIds, [base.id]);
        await shot(page, "course");

        // 3. A session of it, times typed in the center's zone.
        await page.goto(`${t.baseUrl}/admin/sessions/new`);
        await page.selectOption("#course", course.id);
        await page.selectOption("#mode", "in_person");
        await page.selectOption("#location", location.id);
        await page.fill("#date", date);
        await page.fill("#start", "10:00");
        await page.fill("#end", "12:00");
        await page.fill("#capacity", "4");
        await page.selectOption("#instructor", instructor.id);
        await page.fill("#reason", "browser test");
        await checkPage(page, `/admin/sessions/new @${vp.name}`);
        await Promise.all([page.waitForURL(/done=created/), click(page, "main form[method=post] button[type=submit]")]);
        const sessionId = new URL(page.url()).pathname.split("/").pop()!;
        await checkPage(page, `/admin/sessions/{id} @${vp.name}`);
        await shot(page, "session");

        // 4. The learner books it.
        const learnerContext = await browser.newContext(options);
        await learnerContext.addCookies([sessionCookieOf(await devSignInCookie(kv, learner.id), t.baseUrl)]);
        const lp = await learnerContext.newPage();
        watch(lp);
        await lp.goto(`${t.baseUrl}/sessions/${sessionId}`);
        await checkPage(lp, `/sessions/{id} @${vp.name}`);
        await Promise.all([lp.waitForURL(/\/holds\//), click(lp, "button:has-text('Hold my seat')")]);
        await Promise.all([lp.waitForURL(/\/bookings\//), click(lp, "button:has-text('Book this seat')")]);
        const bookingId = new URL(lp.url()).pathname.split("/").pop()!;
        await learnerContext.close();

        // 5. An edit: more seats, with a reason.
        await page.goto(`${t.baseUrl}/admin/sessions/${sessionId}`);
        assert.match(await page.getByTestId("seats").innerText(), /^1 of 4 seats taken/);
        await page.fill("#capacity", "6");
        await page.fill("#reason", "bigger room");
        await Promise.all([page.waitForURL(/done=saved/), click(page, "form:has(input[value=save]) button")]);
        assert.match(await page.getByTestId("notice").innerText(), /Changes saved/);
        await checkPage(page, `/admin/sessions/{id} saved @${vp.name}`);

        // 6. A cancel, with a reason: the booking goes with it.
        await page.fill("#cancelReason", "trainer ill");
        await Promise.all([page.waitForURL(/done=cancelled/), click(page, "form:has(input[value=cancel]) button")]);
        assert.match(await page.getByTestId("seats").innerText(), /Cancelled/);
        await shot(page, "cancelled");

        // 7. The audit trail shows each step; the booking's own history too.
        await page.goto(`${t.baseUrl}/admin/audit?session=${sessionId}`);
        const types = await page.locator("[data-testid=audit] > li").evaluateAll((els) =>
          els.map((e) => e.getAttribute("data-type"))
        );
        assert.deepEqual(types, [
          "session.cancelled",
          "booking.cancelled",
          "session.updated",
          "booking.confirmed",
          "hold.placed",
          "session.scheduled",
        ]);
        assert.match(await page.locator("[data-testid=audit] > li").nth(2).innerText(), /capacity 4 → 6/);
        await checkPage(page, `/admin/audit @${vp.name}`);
        await shot(page, "audit");
        await page.goto(`${t.baseUrl}/bookings/${bookingId}`);
        await page.getByRole("heading", { name: "Booking of Lee Learner" }).waitFor();
        assert.equal(await page.locator("[data-testid=audit] > li").count(), 3);
        await checkPage(page, `/bookings/{id} as admin @${vp.name}`);
        await shot(page, "booking");
        // The dealer admin's page.
        const dealerContext = await browser.newContext(options);
        await dealerContext.addCookies([sessionCookieOf(await devSignInCookie(kv, dealerAdmin.id), t.baseUrl)]);
        const dp = await dealerContext.newPage();
        watch(dp);
        await dp.goto(`${t.baseUrl}/`);
        await Promise.all([dp.waitForURL(/\/dealer$/), click(dp, "[data-testid=staff-link]")]);
        await checkPage(dp, `/dealer @${vp.name}`);
        await shot(dp, "dealer");
        await dealerContext.close();
        assert.deepEqual(errors.filter((e) => !e.includes("/dealer/reports")), []);
        await staff.close();
      }
    } finally {
      await browser.close();
      await t.close();
    }
  },
});
