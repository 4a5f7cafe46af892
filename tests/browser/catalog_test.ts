/**
 * The catalog in real Chromium at phone size: sessions listed, filters submitted through the
 * form, a detail page whose island shows the learner's own time zone. Screenshots go to
 * tests/artifacts/ (ignored by git).
 */
import assert from "node:assert/strict";
import { launchBrowser } from "../fresh/browser.ts";
import { startTestApp } from "../app_fixture.ts";

const ARTIFACTS = new URL("../artifacts/", import.meta.url);

Deno.test({
  name: "[browser] phone: home lists sessions, location filter works, detail shows local time",
  sanitizeResources: false, // Chromium's pipes close asynchronously after browser.close().
  sanitizeOps: false,
  async fn() {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const t = await startTestApp({ serve: true });
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({
        viewport: { width: 375, height: 812 },
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
        timezoneId: "Asia/Tokyo",
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      page.on("response", (r) => r.status() >= 400 && errors.push(`${r.status()} ${r.url()}`));

      await page.goto(`${t.baseUrl}/`);
      const cards = page.locator('ul[aria-label="Sessions"] > li');
      assert.ok(await cards.count() >= 10, "home shows a page of sessions");
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(overflow <= 375, `no horizontal scrolling at 375 px (scrollWidth ${overflow})`);
      await page.screenshot({ path: new URL("catalog-home-375.png", ARTIFACTS).pathname, fullPage: false });

      // Pick the second real location in the select and submit the form.
      const option = page.locator("#location option").nth(2);
      const value = await option.getAttribute("value");
      const label = (await option.textContent())!;
      const locationName = label.replace(/\s*\(.*\)$/, "");
      await page.selectOption("#location", value!);
      await Promise.all([page.waitForURL(/location=/), page.click("button[type=submit]")]);
      assert.ok(page.url().includes(`location=${value}`));
      const filtered = await cards.allTextContents();
      assert.ok(filtered.length > 0, "the location has sessions");
      for (const text of filtered) assert.ok(text.includes(locationName), `card at ${locationName}: ${text}`);
      await page.screenshot({ path: new URL("catalog-filtered-375.png", ARTIFACTS).pathname });

      await cards.first().locator("a").click();
      await page.waitForURL(/\/sessions\//);
      await page.getByTestId("local-time").waitFor({ timeout: 5000 });
      assert.match(await page.getByTestId("local-time").textContent() ?? "", /Your time: .*GMT\+9/);
      await page.screenshot({ path: new URL("session-detail-375.png", ARTIFACTS).pathname, fullPage: true });
      assert.deepEqual(errors, []);
      await context.close();
    } finally {
      await browser.close();
      await t.close();
    }
  },
});
