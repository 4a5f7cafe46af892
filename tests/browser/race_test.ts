/**
 * The last seat in real Chromium: two learners tap "Hold my seat" at the same moment, exactly one
 * gets the hold and the other the full page with alternatives, while the LiveSeats island on a
 * third phone follows over server-sent events. Then a hold left to expire: the countdown reaches
 * zero and the seat comes back on the detail page without any KV write (the stream's timer).
 * axe-core (WCAG 2.1 A/AA) checks the detail page with the live island. Screenshots: tests/artifacts/race-*.png.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { getAvailability } from "../../lib/booking/availability.ts";
import type { User } from "../../lib/domain/user.ts";
import { createSession, listSessions } from "../../lib/store/mod.ts";
import { launchBrowser } from "../fresh/browser.ts";
import { startTestApp, type TestApp } from "../app_fixture.ts";
import { repeatsCourse } from "../repeat_free.ts";
import { checkAxe } from "./axe.ts";

const ARTIFACTS = new URL("../artifacts/", import.meta.url);
const LEARNER = "learner@example.com";

/**
 * A new one-seat session copied from an upcoming session (with at least 2 seats left, so there is
 * an alternative) of a course without prerequisites.
 */
async function lastSeatSession(t: TestApp): Promise<string> {
  const other = await otherLearner(t);
  const { sessions } = await listSessions(t.services.kv, {
    from: new Date(Date.now() + 2 * 86_400_000).toISOString(),
    limit: 100,
  });
  const avail = await getAvailability(t.services.kv, sessions);
  for (const s of sessions) {
    const c = (await t.services.kv.get<{ prerequisiteCourseIds: string[] }>(["courses", s.courseId])).value!;
    if (c.prerequisiteCourseIds.length || avail.get(s.id)!.seatsLeft < 2 || s.status !== "scheduled") continue;
    // Neither learner may be asked "book anyway?" for the copy (a new session of the same course).
    const copy = { ...s, id: "01JZZZZZZZZZZZZZZZZZZZZZZZ" };
    if (await repeatsCourse(t, copy, LEARNER) || await repeatsCourse(t, copy, other)) continue;
    const { id: _id, createdAt: _c, updatedAt: _u, ...rest } = s;
    const startsAt = new Date(Date.parse(s.startsAt) + 86_400_000).toISOString();
    const endsAt = new Date(Date.parse(s.endsAt) + 86_400_000).toISOString();
    return (await createSession(t.services.kv, { ...rest, startsAt, endsAt, capacity: 1 })).id;
  }
  throw new Error("no upcoming session without prerequisites");
}

/** Another learner's email, besides the demo learner. */
async function otherLearner(t: TestApp): Promise<string> {
  for await (const e of t.services.kv.list<User>({ prefix: ["users"] })) {
    if (e.value.roles.includes("learner") && e.value.email !== LEARNER) return e.value.email;
  }
  throw new Error("no second learner");
}

async function phone(browser: Browser, errors: string[]): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 375, height: 812 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(String(e)));
  return page;
}

async function signIn(page: Page, t: TestApp, email: string, next: string): Promise<void> {
  await page.goto(`${t.baseUrl}/dev/sign-in?next=${encodeURIComponent(next)}`);
  await page.fill("#email", email);
  await Promise.all([
    page.waitForURL((u) => u.pathname === next),
    page.locator("form:has(#email) button[type=submit]").tap(),
  ]);
}

/** Waits until the page's LiveSeats island received its first event over the stream. */
async function liveSeats(page: Page) {
  const seats = page.getByTestId("live-seats");
  await page.locator("[data-testid=live-seats][data-live=on]").waitFor({ timeout: 5000 });
  return seats;
}

async function waitForSeats(page: Page, pattern: RegExp, timeout: number): Promise<void> {
  await page.waitForFunction(
    ([source, flags]) =>
      new RegExp(source, flags).test(document.querySelector("[data-testid=live-seats]")?.textContent ?? ""),
    [pattern.source, pattern.flags] as const,
    { timeout },
  );
}

Deno.test({
  name: "[browser] race: two learners tap Hold on the last seat at once: one hold, one full page; live seats follow",
  sanitizeResources: false, // Chromium's pipes close asynchronously after browser.close().
  sanitizeOps: false,
  async fn() {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const t = await startTestApp({ serve: true });
    const browser = await launchBrowser();
    try {
      const sessionId = await lastSeatSession(t);
      const here = `/sessions/${sessionId}`;
      const errors: string[] = [];

      // A third phone, signed out, just watches the seats.
      const observer = await phone(browser, errors);
      await observer.goto(`${t.baseUrl}${here}`);
      assert.equal(await (await liveSeats(observer)).textContent(), "1 seat left");
      await checkAxe(observer, "session detail with live seats");

      const a = await phone(browser, errors);
      const b = await phone(browser, errors);
      await signIn(a, t, LEARNER, here);
      await signIn(b, t, await otherLearner(t), here);
      await Promise.all([liveSeats(a), liveSeats(b)]);

      const started = performance.now();
      await Promise.all([
        a.getByRole("button", { name: "Hold my seat" }).tap(),
        b.getByRole("button", { name: "Hold my seat" }).tap(),
      ]);
      // Each phone ends on the hold page or on the full page.
      const landed = (p: Page) =>
        p.getByTestId("hold-remaining").or(p.getByText("the last seat was just taken")).waitFor({ timeout: 10_000 });
      await Promise.all([landed(a), landed(b)]);
      const onHold = [a, b].filter((p) => new URL(p.url()).pathname.startsWith("/holds/"));
      assert.equal(onHold.length, 1, `exactly one hold: ${a.url()} ${b.url()}`);
      const winner = onHold[0];
      const loser = winner === a ? b : a;
      assert.equal(new URL(loser.url()).pathname, here);

      await winner.getByTestId("hold-remaining").waitFor();
      await loser.getByText("the last seat was just taken").waitFor();
      assert.ok(
        await loser.getByRole("button", { name: "Join waitlist" }).count() +
            await loser.getByRole("button", { name: /Hold/ }).count() > 0,
        "the full page offers alternatives or the waitlist",
      );
      const loserSeats = await liveSeats(loser);
      assert.match(await loserSeats.textContent() ?? "", /^Full/);
      assert.equal(await loserSeats.getAttribute("data-left"), "0");

      // The watching phone heard it over the stream, without reloading.
      await waitForSeats(observer, /^Full/, 3000);
      console.log(
        `race settled and the observer showed Full ${Math.round(performance.now() - started)} ms after the taps`,
      );

      await winner.screenshot({ path: new URL("race-winner-375.png", ARTIFACTS).pathname, fullPage: true });
      await loser.screenshot({ path: new URL("race-loser-375.png", ARTIFACTS).pathname, fullPage: true });
      await observer.screenshot({ path: new URL("race-observer-375.png", ARTIFACTS).pathname, fullPage: true });
      await checkAxe(loser, "full page with live seats");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await t.close();
    }
  },
});

Deno.test({
  name: "[browser] race: a hold left to expire: countdown hits zero, the seat comes back live without a write",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const t = await startTestApp({ serve: true, env: { HOLD_MINUTES: "0.05" } }); // 3 s holds
    const browser = await launchBrowser();
    try {
      const sessionId = await lastSeatSession(t);
      const here = `/sessions/${sessionId}`;
      const errors: string[] = [];
      const observer = await phone(browser, errors);
      await observer.goto(`${t.baseUrl}${here}`);
      assert.equal(await (await liveSeats(observer)).textContent(), "1 seat left");

      const learner = await phone(browser, errors);
      await signIn(learner, t, LEARNER, here);
      await Promise.all([learner.waitForURL(/\/holds\//), learner.getByRole("button", { name: "Hold my seat" }).tap()]);
      const held = performance.now();
      await learner.getByTestId("hold-remaining").waitFor();
      await waitForSeats(observer, /^Full/, 3000);
      await observer.screenshot({ path: new URL("race-held-375.png", ARTIFACTS).pathname, fullPage: true });

      // No queue listener or sweep runs in the test app: nothing writes when the hold lapses.
      const expired = learner.locator("[data-testid=hold-countdown] p:not(.sr-only)", {
        hasText: "Your hold expired.",
      });
      await expired.waitFor({ timeout: 6000 });
      const link = learner.getByRole("link", { name: "See this session and other dates" });
      assert.equal(await link.getAttribute("href"), here);
      await learner.screenshot({ path: new URL("race-expired-375.png", ARTIFACTS).pathname, fullPage: true });

      await waitForSeats(observer, /^1 seat left$/, 4000);
      console.log(`the seat was back on the observer ${Math.round(performance.now() - held)} ms after the hold`);
      await observer.screenshot({ path: new URL("race-back-375.png", ARTIFACTS).pathname, fullPage: true });
      await checkAxe(observer, "session detail after expiry");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await t.close();
    }
  },
});
