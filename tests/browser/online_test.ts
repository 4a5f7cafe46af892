/**
 * Online sessions and recordings in real Chromium at phone and desktop size: the booked learner's
 * session page (join button, completion rule, participant count, RSVP), the join page refusing a
 * learner who did not book, and the recording player; axe clean, JS per page ≤ 15 KB gzip.
 */
import assert from "node:assert/strict";
import type { Actor } from "../../lib/booking/events.ts";
import { addRecording } from "../../lib/attendance/recording.ts";
import { createSession, createUser, listCourses } from "../../lib/store/mod.ts";
import { launchBrowser } from "../fresh/browser.ts";
import { startTestApp } from "../app_fixture.ts";
import { devSignInCookie, sessionCookieOf } from "../page_client.ts";
import { checkAxe } from "./axe.ts";
import { VIEWPORTS } from "./harness.ts";
import { JS_BUDGET_GZIP, scriptMeter } from "./script_meter.ts";

const HOUR = 3_600_000;

Deno.test({
  name:
    "[browser] online session page (join, rule, participants, RSVP), join refusal and recording player at 375 and 1280; axe clean",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    let offset = 0;
    const t = await startTestApp({ serve: true, now: () => new Date(Date.now() + offset) });
    const browser = await launchBrowser();
    const weights: Record<string, number> = {};
    try {
      const kv = t.services.kv;
      const course = (await listCourses(kv)).find((c) => c.prerequisiteCourseIds.length === 0)!;
      for (const vp of VIEWPORTS) {
        offset = 0;
        const tag = `${vp.name}-${crypto.randomUUID().slice(0, 6)}`;
        const instructor = await createUser(kv, {
          email: `on-${tag}@example.com`,
          name: "On Teach",
          roles: ["instructor"],
        });
        const learner = await createUser(kv, {
          email: `ol-${tag}@example.com`,
          name: "Ola Online",
          roles: ["learner"],
        });
        const stranger = await createUser(kv, {
          email: `os-${tag}@example.com`,
          name: "Sam Stranger",
          roles: ["learner"],
        });
        const start = Date.now() + 5 * 60_000;
        const session = await createSession(kv, {
          courseId: course.id,
          startsAt: new Date(start).toISOString(),
          endsAt: new Date(start + HOUR).toISOString(),
          timeZone: "America/Chicago",
          mode: "online",
          joinUrl: "https://meet.example.com/browser-online",
          capacity: 6,
          instructorId: instructor.id,
        });
        const me: Actor = { userId: learner.id, roles: ["learner"], origin: "web", correlationId: tag };
        const { hold } = await t.services.engine.placeHold(session.id, learner.id, me);
        await t.services.engine.confirmHold(hold.id, me);

        const options = { viewport: vp.viewport, isMobile: vp.isMobile, hasTouch: vp.hasTouch };
        const ctx = await browser.newContext(options);
        await ctx.addCookies([sessionCookieOf(await devSignInCookie(kv, learner.id), t.baseUrl)]);
        const page = await ctx.newPage();
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(String(e)));
        const meter = scriptMeter(page);
        await page.goto(`${t.baseUrl}/sessions/${session.id}`);
        await page.getByRole("link", { name: "Join the meeting now" }).waitFor();
        assert.equal(
          await page.getByRole("link", { name: "Join the meeting now" }).getAttribute("href"),
          `/sessions/${session.id}/join`,
        );
        await page.locator("[data-testid=participants]").waitFor();
        weights["/sessions/{id} (online)"] = Math.max(weights["/sessions/{id} (online)"] ?? 0, await meter.take());
        await checkAxe(page, `online session page at ${vp.name}`);
        await page.getByLabel("Maybe").check();
        await Promise.all([
          page.waitForURL(/rsvp=tentative/),
          page.getByRole("button", { name: "Save my answer" }).click(),
        ]);
        assert.equal(await page.getByLabel("Maybe").isChecked(), true);

        const other = await browser.newContext(options);
        await other.addCookies([sessionCookieOf(await devSignInCookie(kv, stranger.id), t.baseUrl)]);
        const sp = await other.newPage();
        const res = await sp.goto(`${t.baseUrl}/sessions/${session.id}/join`);
        assert.equal(res?.status(), 403);
        await sp.getByRole("link", { name: "Book a seat" }).waitFor();
        await checkAxe(sp, `join refusal at ${vp.name}`);

        // After the session: a recording to watch.
        offset = 2 * HOUR;
        const staff: Actor = { userId: instructor.id, roles: ["instructor"], origin: "web", correlationId: tag };
        await addRecording(
          kv,
          { sessionId: session.id, url: `${t.baseUrl}/favicon.svg`, durationSeconds: 600 },
          staff,
          t.services.engine.now(),
        );
        await page.goto(`${t.baseUrl}/sessions/${session.id}`);
        await page.getByRole("link", { name: "Watch the recording" }).waitFor();
        await meter.take();
        await Promise.all([
          page.waitForURL(/\/recording$/),
          page.getByRole("link", { name: "Watch the recording" }).click(),
        ]);
        await page.locator("[data-testid=watched]").waitFor();
        assert.match((await page.locator("[data-testid=watched]").textContent())!, /Watched 0 %/);
        await checkAxe(page, `recording player at ${vp.name}`);
        weights["/sessions/{id}/recording"] = Math.max(weights["/sessions/{id}/recording"] ?? 0, await meter.take());
        assert.deepEqual(errors, []);
        await ctx.close();
        await other.close();
      }
      console.error(`JS per page (gzip): ${JSON.stringify(weights)}`);
      for (const [p, bytes] of Object.entries(weights)) assert.ok(bytes <= JS_BUDGET_GZIP, `${p}: ${bytes} B`);
    } finally {
      await browser.close();
      await t.close();
    }
  },
});
