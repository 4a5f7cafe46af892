/**
 * axe-core (WCAG 2.1 A and AA) on every page at 375×812 and 1280×800, plus a keyboard check on the
 * session page: Tab reaches the primary action, its focus is visible, Enter submits it.
 */
import assert from "node:assert/strict";
import { getAvailability } from "../../lib/booking/availability.ts";
import type { Actor } from "../../lib/booking/events.ts";
import { listSessions } from "../../lib/store/mod.ts";
import type { TestApp } from "../app_fixture.ts";
import { repeatsCourse } from "../repeat_free.ts";
import type { Course, Session } from "../../lib/domain/mod.ts";
import { keys } from "../../lib/store/keys.ts";
import { axeViolations } from "./axe.ts";
import { browserTest, VIEWPORTS } from "./harness.ts";
import { seedCourseWaitlistDemo } from "../../lib/seed/course_waitlist.ts";
import { devSignInCookie, sessionCookieOf } from "../page_client.ts";

interface Fixture {
  learnerId: string;
  open: string[];
  full: string;
  holdId: string;
  bookingId: string;
}

/** Open sessions (no prerequisites, seats left), a full one with a waitlist, a hold and a booking of the learner. */
async function prepare(t: TestApp, withPlaces: boolean): Promise<Fixture> {
  const learnerId = (await t.services.kv.get<string>(keys.userByEmail("learner@example.com"))).value!;
  // My schedule's "Any date that suits me" section (the full session below is one the learner is not waiting on).
  if (withPlaces) await seedCourseWaitlistDemo(t.services.engine);
  // Enough upcoming sessions for four of different courses (two pages of the listing).
  const from = new Date(t.services.engine.now().getTime() + 3 * 86_400_000).toISOString();
  const first = await listSessions(t.services.kv, { from, limit: 200 });
  const more = first.nextCursor
    ? (await listSessions(t.services.kv, { from, limit: 200, cursor: first.nextCursor })).sessions
    : [];
  const sessions = [...first.sessions, ...more];
  const avail = await getAvailability(t.services.kv, sessions);
  const places = await t.services.engine.listLearnerPlaces(learnerId);
  const taken = new Set([
    ...places.bookings.map((b) => b.sessionId),
    ...places.holds.map((h) => h.sessionId),
    ...places.waitlist.map((w) => w.entry.sessionId),
  ]);
  const candidates: Session[] = [];
  let full = "";
  for (const s of sessions) {
    const a = avail.get(s.id)!;
    const c = (await t.services.kv.get<Course>(keys.course(s.courseId))).value!;
    if (!full && a.seatsLeft === 0 && s.waitlistEnabled && a.state !== "cancelled" && !taken.has(s.id)) full = s.id;
    // None repeating a course of the learner: that page asks "book anyway?" (tested on its own).
    if (!c.prerequisiteCourseIds.length && a.seatsLeft >= 2 && !taken.has(s.id) && !await repeatsCourse(t, s)) {
      candidates.push(s);
    }
  }
  // open[1] gets booked below: open[0] and open[3], whose "Hold my seat" is used, are of other courses.
  const booked1 = candidates[0];
  const others = candidates.filter((s) => s.courseId !== booked1?.courseId);
  const rest = candidates.filter((s) => s !== booked1 && s !== others[0] && s !== others[1]);
  const open = [others[0], booked1, rest[0] ?? others[2], others[1]].filter(Boolean).map((s) => s.id);
  assert.ok(full, "the demo catalog has a full session with a waitlist");
  assert.equal(open.length, 4, "the demo catalog has open sessions");
  const actor: Actor = { userId: learnerId, origin: "web", correlationId: crypto.randomUUID(), reason: "test" };
  if (!withPlaces) return { learnerId, open, full, holdId: "", bookingId: "" };
  const booked = await t.services.engine.placeHold(open[1], learnerId, actor);
  const bookingId = (await t.services.engine.confirmHold(booked.hold.id, actor)).booking.id;
  const { hold } = await t.services.engine.placeHold(open[2], learnerId, actor);
  return { learnerId, open, full, holdId: hold.id, bookingId };
}

browserTest("[a11y] every page has 0 axe violations (WCAG 2.1 A/AA) at 375 and 1280", async (t, browser) => {
  const f = await prepare(t, true);
  const pages = [
    { name: "home", path: "/" },
    { name: "home with filters", path: "/?q=safety&location=online&from=2020-01-01&to=not-a-date" },
    { name: "session detail", path: `/sessions/${f.open[0]}` },
    { name: "session detail full", path: `/sessions/${f.full}`, expect: /alternative|waitlist/i },
    { name: "hold page", path: `/holds/${f.holdId}` },
    { name: "booking page", path: `/bookings/${f.bookingId}` },
    { name: "my schedule", path: "/me/schedule", expect: /Any date that suits me/ },
    { name: "cancel confirmation", path: `/me/schedule?confirm=cancel&booking=${f.bookingId}` },
    { name: "dev sign-in", path: "/dev/sign-in" },
    { name: "404 page", path: "/no-such-page", status: 404 },
    { name: "api docs", path: "/api/docs" },
  ];
  const failures: string[] = [];
  for (const vp of VIEWPORTS) {
    const context = await browser.newContext({
      viewport: vp.viewport,
      isMobile: vp.isMobile,
      hasTouch: vp.hasTouch,
    });
    await context.addCookies([sessionCookieOf(await devSignInCookie(t.services.kv, f.learnerId), t.baseUrl)]);
    const page = await context.newPage();
    for (const p of pages) {
      const res = await page.goto(`${t.baseUrl}${p.path}`, { waitUntil: "load" });
      assert.equal(res?.status(), p.status ?? 200, `${p.name} at ${vp.name}`);
      assert.equal(new URL(page.url()).pathname, p.path.split("?")[0], `${p.name} was redirected`);
      if (p.expect) assert.match(await page.locator("main").innerText(), p.expect, p.name);
      const violations = await axeViolations(page);
      for (const v of violations) failures.push(`${p.name} @${vp.name}: ${v}`);
      const anyDate = page.locator("summary", { hasText: "Any date that suits me" });
      if (p.name === "session detail full") {
        assert.equal(await anyDate.count(), 1, "a full session offers any date");
        await anyDate.click();
        for (const v of await axeViolations(page)) {
          failures.push(`${p.name} (any-date form open) @${vp.name}: ${v}`);
        }
      }
    }
    await context.close();
  }
  console.error(`axe: ${pages.length} pages × ${VIEWPORTS.length} viewports, ${failures.length} violations`);
  assert.deepEqual(failures, []);
});

browserTest(
  "[a11y] keyboard: Tab reaches the session's primary action, focus is visible, Enter holds the seat",
  async (t, browser) => {
    const f = await prepare(t, false);
    for (const vp of VIEWPORTS) {
      const context = await browser.newContext({ viewport: vp.viewport });
      await context.addCookies([sessionCookieOf(await devSignInCookie(t.services.kv, f.learnerId), t.baseUrl)]);
      const page = await context.newPage();
      const sessionId = vp.name === "375" ? f.open[0] : f.open[3];
      await page.goto(`${t.baseUrl}/sessions/${sessionId}`);
      let reached = false;
      for (let i = 0; i < 40 && !reached; i++) {
        await page.keyboard.press("Tab");
        reached = await page.evaluate(() => document.activeElement?.textContent?.trim() === "Hold my seat");
      }
      assert.ok(reached, `Tab reaches "Hold my seat" at ${vp.name}`);
      const focus = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        const s = getComputedStyle(el);
        return {
          focusVisible: el.matches(":focus-visible"),
          outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0,
          ring: s.boxShadow !== "none" && s.boxShadow !== "",
          detail: `${s.outlineStyle} ${s.outlineWidth} / ${s.boxShadow}`,
        };
      });
      assert.ok(focus.focusVisible, "the focused button matches :focus-visible");
      assert.ok(focus.outline || focus.ring, `focus is visible (outline or ring): ${focus.detail}`);
      await Promise.all([page.waitForURL(/\/holds\//), page.keyboard.press("Enter")]);
      await page.getByTestId("hold-remaining").waitFor();
      await context.close();
    }
  },
);
