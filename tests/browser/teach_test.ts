/**
 * The instructor's roster in real Chromium at phone and desktop size: the instructor opens the
 * roster; a learner on another page books and appears live; the learner checks in by code; the
 * instructor marks and (the clock moved past the end) closes; the learner's completed course now
 * unlocks the course that required it. axe (WCAG 2.1 A/AA) on every new page; JS per page ≤ 15 KB
 * gzip. Screenshots go to tests/artifacts/.
 */
import assert from "node:assert/strict";
import type { Course } from "../../lib/domain/mod.ts";
import { createCourse, createSession, createUser, listCourses, listLocations } from "../../lib/store/mod.ts";
import { launchBrowser } from "../fresh/browser.ts";
import { startTestApp } from "../app_fixture.ts";
import { devSignInCookie, sessionCookieOf } from "../page_client.ts";
import { checkAxe } from "./axe.ts";
import { VIEWPORTS } from "./harness.ts";
import { JS_BUDGET_GZIP, scriptMeter } from "./script_meter.ts";

const ARTIFACTS = new URL("../artifacts/", import.meta.url);
const HOUR = 3_600_000;

Deno.test({
  name:
    "[browser] roster at 375 and 1280: a learner books and appears live, checks in by code, marks, close; completion unlocks the next course; axe clean",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    let offset = 0;
    const t = await startTestApp({ serve: true, now: () => new Date(Date.now() + offset) });
    const browser = await launchBrowser();
    const weights: Record<string, number> = {};
    try {
      const kv = t.services.kv;
      const location = (await listLocations(kv))[0];
      const topic = (await listCourses(kv))[0];
      for (const vp of VIEWPORTS) {
        offset = 0;
        const tag = `${vp.name}-${crypto.randomUUID().slice(0, 4)}`;
        const base: Course = await createCourse(kv, {
          code: `RST-${vp.name === "375" ? 101 : 102}`,
          title: `Roster Basics ${vp.name}`,
          summary: "The course completed in class.",
          topic: topic.topic,
          programType: topic.programType,
          durationMinutes: 120,
        });
        const next = await createCourse(kv, {
          code: `RST-${vp.name === "375" ? 201 : 202}`,
          title: `Roster Advanced ${vp.name}`,
          summary: "Requires the basics.",
          topic: topic.topic,
          programType: topic.programType,
          durationMinutes: 120,
          prerequisiteCourseIds: [base.id],
        });
        const instructor = await createUser(kv, {
          email: `ida-${tag}@example.com`,
          name: "Ida Teach",
          roles: ["instructor"],
        });
        const learner = await createUser(kv, {
          email: `lou-${tag}@example.com`,
          name: `Lou Learner ${vp.name}`,
          roles: ["learner"],
        });
        const start = Date.now() + 10 * 60_000;
        const mk = (courseId: string, at: number) =>
          createSession(kv, {
            courseId,
            startsAt: new Date(at).toISOString(),
            endsAt: new Date(at + 2 * HOUR).toISOString(),
            timeZone: location.timeZone,
            mode: "in_person",
            locationId: location.id,
            capacity: 8,
            instructorId: instructor.id,
          });
        const session = await mk(base.id, start);
        const later = await mk(next.id, start + 72 * HOUR);

        const options = { viewport: vp.viewport, isMobile: vp.isMobile, hasTouch: vp.hasTouch };
        const teacherCtx = await browser.newContext(options);
        await teacherCtx.addCookies([sessionCookieOf(await devSignInCookie(kv, instructor.id), t.baseUrl)]);
        const learnerCtx = await browser.newContext(options);
        await learnerCtx.addCookies([sessionCookieOf(await devSignInCookie(kv, learner.id), t.baseUrl)]);
        const teacher = await teacherCtx.newPage();
        const lou = await learnerCtx.newPage();
        const errors: string[] = [];
        teacher.on("pageerror", (e) => errors.push(String(e)));
        lou.on("pageerror", (e) => errors.push(String(e)));
        const meter = scriptMeter(teacher);

        // The instructor's home, then the roster.
        await teacher.goto(`${t.baseUrl}/teach`);
        await checkAxe(teacher, `/teach at ${vp.name}`);
        weights["/teach"] = Math.max(weights["/teach"] ?? 0, await meter.take());
        await Promise.all([
          teacher.waitForURL(new RegExp(`/teach/sessions/${session.id}$`)),
          teacher.getByRole("link", { name: base.title }).click(),
        ]);
        await teacher.locator("[data-testid=live-roster][data-live=on]").waitFor();
        weights["/teach/sessions/{id}"] = Math.max(weights["/teach/sessions/{id}"] ?? 0, await meter.take());
        assert.equal(await teacher.locator("[data-learner]").count(), 0);
        await checkAxe(teacher, `roster at ${vp.name}`);
        const code = (await teacher.locator("[data-testid=checkin-code]").textContent())!.trim();
        assert.match(code, /^[A-Z0-9]{6}$/);

        // The learner books on the session page; the roster shows them without a reload.
        await lou.goto(`${t.baseUrl}/sessions/${session.id}`);
        await Promise.all([lou.waitForURL(/\/holds\//), lou.getByRole("button", { name: "Hold my seat" }).click()]);
        await Promise.all([
          lou.waitForURL(/\/bookings\//),
          lou.getByRole("button", { name: "Book this seat" }).click(),
        ]);
        const row = teacher.locator(`[data-learner="${learner.id}"]`);
        await row.waitFor();
        assert.ok((await row.textContent())!.includes("Not marked"));

        // Self check-in by typing the code.
        await lou.goto(`${t.baseUrl}/sessions/${session.id}/check-in`);
        await checkAxe(lou, `check-in at ${vp.name}`);
        await lou.fill("#code", "WRONG1");
        await lou.getByRole("button", { name: "Check in" }).click();
        await lou.locator("[data-testid=problem]").waitFor();
        assert.equal(await lou.inputValue("#code"), "WRONG1", "the input is kept");
        await checkAxe(lou, `check-in with an error at ${vp.name}`);
        await lou.fill("#code", code.toLowerCase());
        await lou.getByRole("button", { name: "Check in" }).click();
        await lou.locator("[data-testid=checked-in]").waitFor();
        await row.locator("text=Marked present").waitFor();

        // The instructor corrects the mark to late.
        await Promise.all([
          teacher.waitForURL(/done=marked/),
          row.getByRole("button", { name: "Late" }).click(),
        ]);
        await teacher.locator(`[data-learner="${learner.id}"] >> text=Marked late`).waitFor();
        await teacher.screenshot({ path: new URL(`teach-roster-${vp.name}.png`, ARTIFACTS).pathname, fullPage: true });

        // Three hours later the session has ended: close.
        offset = 3 * HOUR;
        await teacher.reload();
        await Promise.all([
          teacher.waitForURL(/done=closed/),
          teacher.getByRole("button", { name: "Close attendance" }).click(),
        ]);
        const closed = (await teacher.locator("[data-testid=closed]").textContent())!;
        assert.match(closed, /1 completed/);
        await checkAxe(teacher, `closed roster at ${vp.name}`);

        // The learner's course now unlocks the one that requires it.
        await lou.goto(`${t.baseUrl}/sessions/${later.id}`);
        const prereq = (await lou.locator("[data-testid=prerequisites]").textContent())!;
        assert.ok(prereq.includes(": completed"), prereq);
        await lou.getByRole("button", { name: "Hold my seat" }).waitFor();
        assert.deepEqual(errors, []);
        await teacherCtx.close();
        await learnerCtx.close();
      }
      console.error(`JS per instructor page (gzip): ${JSON.stringify(weights)}`);
      for (const [page, bytes] of Object.entries(weights)) assert.ok(bytes <= JS_BUDGET_GZIP, `${page}: ${bytes} B`);
      assert.ok(weights["/teach/sessions/{id}"] > 0, "the roster ships its island");
    } finally {
      await browser.close();
      await t.close();
    }
  },
});
