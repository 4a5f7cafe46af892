/**
 * "My schedule" in real Chromium at phone and desktop size: sign in, cancel a booking in two taps,
 * then go offline and reload: the service worker shows the saved schedule with a notice.
 * axe-core (WCAG 2.1 A/AA) checks the schedule. Screenshots go to tests/artifacts/.
 */
import assert from "node:assert/strict";
import { getAvailability } from "../../lib/booking/availability.ts";
import type { Actor } from "../../lib/booking/events.ts";
import { listSessions } from "../../lib/store/mod.ts";
import { launchBrowser } from "../fresh/browser.ts";
import { startTestApp, type TestApp } from "../app_fixture.ts";
import { checkAxe } from "./axe.ts";

const ARTIFACTS = new URL("../artifacts/", import.meta.url);

/** Books `count` upcoming sessions (courses without prerequisites) for the learner via the engine. */
async function bookSome(t: TestApp, learnerId: string, count: number, movable = false): Promise<string[]> {
  const { sessions } = await listSessions(t.services.kv, {
    from: new Date(Date.now() + 3 * 86_400_000).toISOString(),
    limit: 200,
  });
  const avail = await getAvailability(t.services.kv, sessions);
  const places = await t.services.engine.listLearnerPlaces(learnerId);
  const taken = new Set(places.bookings.map((b) => b.sessionId));
  const ids: string[] = [];
  for (const s of sessions) {
    const c = (await t.services.kv.get<{ prerequisiteCourseIds: string[] }>(["courses", s.courseId])).value!;
    if (c.prerequisiteCourseIds.length || avail.get(s.id)!.seatsLeft < 2 || taken.has(s.id)) continue;
    // Movable: another session of the course has seats and no place of this learner.
    const other = (o: typeof s) =>
      o.id !== s.id && o.courseId === s.courseId && avail.get(o.id)!.seatsLeft >= 2 && !taken.has(o.id);
    if (movable && !sessions.some(other)) continue;
    const actor: Actor = { userId: learnerId, origin: "web", correlationId: crypto.randomUUID(), reason: "test" };
    const { hold } = await t.services.engine.placeHold(s.id, learnerId, actor);
    ids.push((await t.services.engine.confirmHold(hold.id, actor)).booking.id);
    if (ids.length === count) return ids;
  }
  throw new Error("not enough open sessions");
}

const VIEWPORTS = [
  { name: "375", viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true },
  { name: "1280", viewport: { width: 1280, height: 800 }, isMobile: false, hasTouch: false },
];

Deno.test({
  name:
    "[browser] my schedule: cancel and change date in two taps, offline reload shows the saved copy; axe clean at 375 and 1280",
  sanitizeResources: false, // Chromium's pipes close asynchronously after browser.close().
  sanitizeOps: false,
  async fn() {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const t = await startTestApp({ serve: true });
    const browser = await launchBrowser();
    try {
      const learnerId = (await t.services.kv.get<string>(["users_by_email", "learner@example.com"])).value!;
      for (const vp of VIEWPORTS) {
        const [bookingId] = await bookSome(t, learnerId, 1);
        const [movableId] = await bookSome(t, learnerId, 1, true);
        const context = await browser.newContext({
          viewport: vp.viewport,
          isMobile: vp.isMobile,
          hasTouch: vp.hasTouch,
        });
        const page = await context.newPage();
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(String(e)));

        await page.goto(`${t.baseUrl}/me/schedule`);
        await Promise.all([
          page.waitForURL(/\/dev\/sign-in/),
          page.getByRole("link", { name: "Sign in to see your schedule" }).click(),
        ]);
        await page.fill("#email", "learner@example.com");
        await Promise.all([
          page.waitForURL(/\/me\/schedule$/),
          page.locator("form:has(#email) button[type=submit]").click(),
        ]);
        const row = page.locator(`[data-testid=upcoming-booking]:has(a[href="/bookings/${bookingId}"])`);
        await row.waitFor();
        await checkAxe(page, `schedule ${vp.name}`);
        await page.screenshot({ path: new URL(`schedule-${vp.name}.png`, ARTIFACTS).pathname, fullPage: true });

        // Cancel: the first tap asks, the second cancels.
        await Promise.all([page.waitForURL(/confirm=cancel/), row.getByRole("link", { name: "Cancel" }).click()]);
        await page.getByRole("button", { name: "Yes, cancel my booking" }).waitFor();
        await checkAxe(page, `cancel confirmation ${vp.name}`);
        await Promise.all([
          page.waitForURL(/done=cancelled/),
          page.getByRole("button", { name: "Yes, cancel my booking" }).click(),
        ]);
        await page.getByTestId("notice").getByText(/^Cancelled\./).waitFor();
        assert.equal(await row.count(), 0, "the cancelled booking is gone from Upcoming");

        // Change date in two taps: "Change date", then one of the listed dates.
        const movable = page.locator(`[data-testid=upcoming-booking]:has(a[href="/bookings/${movableId}"])`);
        await Promise.all([page.waitForURL(/change=/), movable.getByRole("link", { name: "Change date" }).click()]);
        await page.getByTestId("reschedule-target").first().waitFor();
        await checkAxe(page, `change date ${vp.name}`);
        await Promise.all([
          page.waitForURL(/done=rescheduled/),
          page.getByTestId("reschedule-target").first().getByRole("button", { name: "Move to this date" }).click(),
        ]);
        await page.getByTestId("notice").getByText(/^Moved\./).waitFor();
        assert.equal(await movable.count(), 0, "the old date is gone from Upcoming");

        // Offline: once the service worker controls the page, a reload without network shows the saved copy.
        await page.goto(`${t.baseUrl}/me/schedule`);
        await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
        await page.reload();
        assert.ok(await page.evaluate(() => !!navigator.serviceWorker.controller), "the service worker controls");
        await page.waitForTimeout(200); // the network-first response is saved in the background
        await context.setOffline(true);
        await page.reload();
        const note = page.getByTestId("offline-note");
        await note.waitFor();
        assert.match((await note.textContent()) ?? "", /You're offline: showing your schedule as of \d\d:\d\d/);
        await page.getByRole("heading", { name: "My schedule", level: 1 }).waitFor();
        await checkAxe(page, `offline schedule ${vp.name}`);
        await page.screenshot({
          path: new URL(`schedule-offline-${vp.name}.png`, ARTIFACTS).pathname,
          fullPage: true,
        });
        assert.deepEqual(errors, []);
        await context.close();
      }
    } finally {
      await browser.close();
      await t.close();
    }
  },
});
