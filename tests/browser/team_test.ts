/**
 * /team and /dealer/compliance in real Chromium at 375 px: axe 0 violations (sub-teams closed and
 * open), no sideways scrolling of the page, the overdue filter without JavaScript, and one tap from
 * a gap to a booking for the person.
 */
import assert from "node:assert/strict";
import { axeViolations } from "./axe.ts";
import { browserTest, PHONE } from "./harness.ts";
import { devSignInCookie, sessionCookieOf } from "../page_client.ts";

browserTest(
  "[team] /team at 375 px: axe 0, filters, sub-teams, and one tap books a recommended session",
  async (t, browser) => {
    const kv = t.services.kv;
    const managerId = (await kv.get<string>(["users_by_email", "manager@example.com"])).value!;
    const context = await browser.newContext(PHONE);
    await context.addCookies([sessionCookieOf(await devSignInCookie(kv, managerId), t.baseUrl)]);
    const page = await context.newPage();
    const failures: string[] = [];

    const res = await page.goto(`${t.baseUrl}/team`, { waitUntil: "load" });
    assert.equal(res?.status(), 200);
    assert.ok(await page.getByTestId("matrix-row").count() > 10, "the team's rows");
    assert.match(await page.locator("main").innerText(), /Taylor Brooks/);
    const subTeams = page.getByTestId("sub-team");
    assert.equal(await subTeams.count(), 2, "two team leads with people below them");
    for (const v of await axeViolations(page)) failures.push(`/team: ${v}`);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `the page does not scroll sideways (${width} px); the matrix scrolls in its region`);

    await subTeams.first().locator("summary").click();
    assert.ok(await subTeams.first().getByTestId("matrix-row").first().isVisible(), "the sub-team opens");
    for (const v of await axeViolations(page)) failures.push(`/team (sub-team open): ${v}`);

    // Filter without JavaScript: a GET form.
    await page.selectOption("select[name=filter]", "overdue");
    await Promise.all([page.waitForURL(/filter=overdue/), page.getByRole("button", { name: "Apply" }).click()]);
    const rows = await page.getByTestId("matrix-row").allTextContents();
    assert.ok(rows.length > 0, "someone on the demo team is overdue");
    for (const r of rows.filter((r) => !/Overdue/.test(r))) {
      // A team lead stays only as the heading of their people who match; the direct table may show them.
      assert.ok(/Jordan Avery|Casey Morgan/.test(r), `only overdue people are listed: ${r}`);
    }
    for (const v of await axeViolations(page)) failures.push(`/team?filter=overdue: ${v}`);

    // One tap from a gap: book the first recommended session for that person.
    await page.goto(`${t.baseUrl}/team`, { waitUntil: "load" });
    const first = page.getByTestId("recommended").first();
    const label = await first.getByRole("button").innerText();
    await Promise.all([page.waitForURL(/done=booked/), first.getByRole("button").click()]);
    assert.match(await page.getByRole("status").innerText(), /Booked/);
    assert.match(label, /^Book for /);
    for (const v of await axeViolations(page)) failures.push(`/team?done=booked: ${v}`);

    // The dealer admin's view of the whole dealer.
    const dealerAdminId = (await kv.get<string>(["users_by_email", "dealer.admin@example.com"])).value!;
    {
      const c2 = await browser.newContext(PHONE);
      await c2.addCookies([sessionCookieOf(await devSignInCookie(kv, dealerAdminId), t.baseUrl)]);
      const p2 = await c2.newPage();
      const r2 = await p2.goto(`${t.baseUrl}/dealer/compliance?filter=expiring`, { waitUntil: "load" });
      assert.equal(r2?.status(), 200);
      assert.ok(await p2.getByTestId("matrix-row").count() > 0, "the dealer has people with expiring training");
      for (const v of await axeViolations(p2)) failures.push(`/dealer/compliance: ${v}`);
      await c2.close();
    }
    await context.close();
    assert.deepEqual(failures, []);
  },
);
