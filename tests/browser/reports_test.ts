/**
 * The reports pages in real Chromium at 375×812 and 1280×800: axe (WCAG 2.1 A/AA) finds nothing,
 * nothing overflows the phone's width, the charts and tables are there, and the GET filter form works
 * without JavaScript.
 */
import assert from "node:assert/strict";
import { axeViolations } from "./axe.ts";
import { browserTest, openSignedIn, VIEWPORTS } from "./harness.ts";
import { devSignInCookie, sessionCookieOf } from "../page_client.ts";
import { seedReportHistory } from "../../lib/seed/report_history.ts";
import { listDealers, listUsersByDealer } from "../../lib/store/mod.ts";
import type { User } from "../../lib/domain/mod.ts";

browserTest(
  "[reports browser] /admin/reports and /dealer/reports: 0 axe violations at 375 and 1280, filters without JS",
  async (t, browser) => {
    const { kv } = t.services;
    assert.equal(await seedReportHistory(kv), true);
    const users = (await Array.fromAsync(kv.list<User>({ prefix: ["users"] }))).map((e) => e.value);
    const admin = users.find((u) => u.roles.includes("admin"))!;
    const [dealer] = await listDealers(kv);
    const dealerAdmin = (await listUsersByDealer(kv, dealer.id)).find((u) => u.roles.includes("dealer_admin"))!;
    const pages = [
      { name: "admin reports", path: "/admin/reports", who: admin.id, status: 200 },
      { name: "admin reports, one dealer", path: `/admin/reports?dealerId=${dealer.id}`, who: admin.id, status: 200 },
      { name: "admin reports, bad filters", path: "/admin/reports?from=2026-13-40", who: admin.id, status: 400 },
      { name: "dealer reports", path: "/dealer/reports", who: dealerAdmin.id, status: 200 },
    ];
    const failures: string[] = [];
    for (const vp of VIEWPORTS) {
      for (const p of pages) {
        const { context, page, res } = await openSignedIn(browser, t, vp, p.who, p.path, { javaScriptEnabled: false });
        assert.equal(res?.status(), p.status, `${p.name} at ${vp.name}`);
        if (p.status === 200) {
          assert.ok(await page.locator("svg[role=img]").count() >= 9, `${p.name}: charts`);
          assert.equal(await page.locator("table").count(), 7, `${p.name}: tables`);
        }
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= vp.viewport.width, `${p.name} @${vp.name} overflows: ${width}px`);
        // axe needs script: a second context with JavaScript on, same page.
        const scripted = await openSignedIn(browser, t, vp, p.who, p.path);
        for (const v of await axeViolations(scripted.page)) failures.push(`${p.name} @${vp.name}: ${v}`);
        await scripted.context.close();
        await context.close();
      }
    }
    assert.deepEqual(failures, []);

    // The filter form is a plain GET form: choose a topic and submit, JavaScript off.
    const context = await browser.newContext({ viewport: VIEWPORTS[0].viewport, javaScriptEnabled: false });
    await context.addCookies([sessionCookieOf(await devSignInCookie(kv, admin.id), t.baseUrl)]);
    const page = await context.newPage();
    await page.goto(`${t.baseUrl}/admin/reports`);
    const topic = await page.locator("#f-topic option").nth(1).getAttribute("value");
    await page.selectOption("#f-topic", topic!);
    await Promise.all([page.waitForURL(/topic=/), page.getByRole("button", { name: "Show reports" }).click()]);
    assert.equal(new URL(page.url()).searchParams.get("topic"), topic);
    assert.equal(await page.locator("#f-topic").inputValue(), topic);
    await context.close();
  },
);
