/**
 * The Content-Security-Policy in real Chromium: the learner's journey (home → session → sign in →
 * hold → book → My schedule) runs with islands, the countdown and the service worker, and produces
 * no violation (no `securitypolicyviolation` event, no console CSP error, no report at
 * /api/csp-report). A control at the end injects an inline script without the nonce: Chromium
 * blocks it and its report reaches the counter, so the zero above is a real zero.
 */
import assert from "node:assert/strict";
import { cspReportCount } from "../../lib/http/csp_report.ts";
import { browserTest } from "./harness.ts";
import { openSession } from "./sessions.ts";

declare global {
  // Set by the init script in the page: the CSP violations the browser reported there.
  var __cspViolations: string[];
}

browserTest(
  "[browser] CSP: the journey home → session → hold → book → schedule has 0 violations; a nonce-less script is blocked and reported",
  async (t, browser) => {
    const sessionId = await openSession(t);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript(() => {
      globalThis.__cspViolations = [];
      document.addEventListener("securitypolicyviolation", (e) => {
        globalThis.__cspViolations.push(`${e.effectiveDirective} ${e.blockedURI}`);
      });
    });
    const page = await context.newPage();
    const consoleCsp: string[] = [];
    page.on("console", (m) => /Content Security Policy/i.test(m.text()) && consoleCsp.push(m.text()));
    const violations = async (where: string) => {
      const seen = await page.evaluate(() => globalThis.__cspViolations);
      assert.deepEqual(seen, [], `${where}: CSP violations`);
    };

    await page.goto(`${t.baseUrl}/`);
    await page.locator(`a[href="/sessions/${sessionId}"]`).first().waitFor({ state: "attached" }).catch(() => {});
    await violations("home");
    await page.goto(`${t.baseUrl}/sessions/${sessionId}`);
    await page.getByRole("link", { name: "Sign in to hold a seat" }).click();
    await page.waitForURL(/\/dev\/sign-in/);
    await page.fill("#email", "learner@example.com");
    await Promise.all([
      page.waitForURL(new RegExp(`/sessions/${sessionId}$`)),
      page.locator("form:has(#email) button[type=submit]").click(),
    ]);
    await violations("session");
    await Promise.all([page.waitForURL(/\/holds\//), page.getByRole("button", { name: "Hold my seat" }).click()]);
    const remaining = page.getByTestId("hold-remaining");
    const first = await remaining.textContent();
    // The countdown island runs: its module script was allowed by the nonce.
    await page.waitForFunction(
      (before) => document.querySelector("[data-testid=hold-remaining]")?.textContent !== before,
      first,
      { timeout: 5000 },
    );
    await violations("hold");
    await Promise.all([
      page.waitForURL(/\/bookings\//),
      page.getByRole("button", { name: "Book this seat" }).click(),
    ]);
    await page.getByRole("heading", { name: "You're booked" }).waitFor();
    await violations("booking");
    await page.goto(`${t.baseUrl}/me/schedule`);
    await page.getByRole("heading", { name: "My schedule", level: 1 }).waitFor();
    // The service worker registration is an inline script: it runs only with the nonce.
    const active = await page.evaluate(() =>
      Promise.race([
        navigator.serviceWorker.ready.then((r) => !!r.active),
        new Promise<boolean>((r) => setTimeout(() => r(false), 5000)),
      ])
    );
    assert.equal(active, true, "the service worker is registered and active");
    await violations("schedule");
    assert.deepEqual(consoleCsp, [], "no CSP errors in the console");
    assert.equal(await cspReportCount(t.services.kv), 0, "no CSP report reached the server");

    // Control: an inline script without the nonce is blocked, and reported.
    const ran = await page.evaluate(() => {
      const s = document.createElement("script");
      s.textContent = "window.__injected = true";
      document.body.appendChild(s);
      return (window as unknown as { __injected?: boolean }).__injected === true;
    });
    assert.equal(ran, false, "an inline script without the nonce does not run");
    await page.waitForFunction(() => globalThis.__cspViolations.length > 0, null, { timeout: 5000 });
    for (let i = 0; i < 50 && await cspReportCount(t.services.kv) === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(await cspReportCount(t.services.kv) >= 1, "the violation was reported to /api/csp-report");
    await context.close();
  },
);

browserTest(
  "[browser] CSP: in dev mode the live reload snippet runs (its nonce) and connects, with no violation",
  async (t, browser) => {
    const context = await browser.newContext();
    await context.addInitScript(() => {
      globalThis.__cspViolations = [];
      document.addEventListener(
        "securitypolicyviolation",
        (e) => globalThis.__cspViolations.push(e.effectiveDirective),
      );
    });
    const page = await context.newPage();
    const alive = page.waitForRequest((r) => r.url().endsWith("/_frsh/alive"), { timeout: 10_000 });
    await page.goto(`${t.baseUrl}/`);
    await alive;
    assert.deepEqual(await page.evaluate(() => globalThis.__cspViolations), []);
    assert.equal(await cspReportCount(t.services.kv), 0);
    await context.close();
  },
  { dev: true },
);
