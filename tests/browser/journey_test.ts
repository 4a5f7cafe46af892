/**
 * The learner's journey in real Chromium at phone size: sign in, hold a seat, watch the countdown,
 * book, download the calendar file. axe-core (WCAG 2.1 A/AA) checks every page on the way.
 * Screenshots go to tests/artifacts/ (ignored by git).
 */
import assert from "node:assert/strict";
import { launchBrowser } from "../fresh/browser.ts";
import { startTestApp } from "../app_fixture.ts";
import { openSession } from "./sessions.ts";
import { checkAxe } from "./axe.ts";

const ARTIFACTS = new URL("../artifacts/", import.meta.url);

Deno.test({
  name: "[browser] phone: sign in, hold a seat, countdown ticks, book, download the .ics; axe clean",
  sanitizeResources: false, // Chromium's pipes close asynchronously after browser.close().
  sanitizeOps: false,
  async fn() {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const t = await startTestApp({ serve: true });
    const browser = await launchBrowser();
    try {
      const sessionId = await openSession(t);
      const context = await browser.newContext({
        viewport: { width: 375, height: 812 },
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
        acceptDownloads: true,
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      page.on("response", (r) => r.status() >= 400 && errors.push(`${r.status()} ${r.url()}`));

      // Signed out, the session's action is a sign-in link that comes back.
      await page.goto(`${t.baseUrl}/sessions/${sessionId}`);
      await page.getByRole("link", { name: "Sign in to hold a seat" }).tap();
      await page.waitForURL(/\/dev\/sign-in/);
      await page.fill("#email", "learner@example.com");
      await Promise.all([
        page.waitForURL(new RegExp(`/sessions/${sessionId}$`)),
        page.locator("form:has(#email) button[type=submit]").tap(),
      ]);
      await checkAxe(page, "session detail");
      await page.screenshot({ path: new URL("journey-session-375.png", ARTIFACTS).pathname, fullPage: true });

      await Promise.all([page.waitForURL(/\/holds\//), page.getByRole("button", { name: "Hold my seat" }).tap()]);
      const remaining = page.getByTestId("hold-remaining");
      await remaining.waitFor();
      const first = await remaining.textContent();
      assert.match(first ?? "", /^1[45]:\d\d$/);
      await page.waitForFunction(
        (before) => document.querySelector("[data-testid=hold-remaining]")?.textContent !== before,
        first,
        { timeout: 2000 },
      );
      await checkAxe(page, "hold page");
      await page.screenshot({ path: new URL("journey-hold-375.png", ARTIFACTS).pathname, fullPage: true });

      await Promise.all([page.waitForURL(/\/bookings\//), page.getByRole("button", { name: "Book this seat" }).tap()]);
      await page.getByRole("heading", { name: "You're booked" }).waitFor();
      await checkAxe(page, "booking confirmation");
      await page.screenshot({ path: new URL("journey-booked-375.png", ARTIFACTS).pathname, fullPage: true });

      const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("ics").tap()]);
      assert.match(download.suggestedFilename(), /\.ics$/);
      const path = await download.path();
      const ics = await Deno.readTextFile(path);
      assert.match(ics, /BEGIN:VEVENT/);
      assert.deepEqual(errors, []);
      await context.close();
    } finally {
      await browser.close();
      await t.close();
    }
  },
});
