/**
 * /admin/dead-letters in real Chromium at 375×812 and 1280×800: reached from /admin, every list
 * shown, a Kafka dead letter requeued with the button; axe 0 and no sideways scrolling before and
 * after. Screenshots: tests/artifacts/dead-letters-<width>.png.
 */
import assert from "node:assert/strict";
import { flagForReview } from "../../lib/calcom/sync_store.ts";
import { keys } from "../../lib/store/keys.ts";
import { createUser } from "../../lib/store/mod.ts";
import { launchBrowser } from "../fresh/browser.ts";
import { startTestApp } from "../app_fixture.ts";
import { devSignInCookie, sessionCookieOf } from "../page_client.ts";
import { axeViolations } from "./axe.ts";
import { deadLetterOf } from "../admin/dead_letters_fixture.ts";

const ARTIFACTS = new URL("../artifacts/", import.meta.url);
const VIEWPORTS = [
  { name: "375", viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true },
  { name: "1280", viewport: { width: 1280, height: 800 }, isMobile: false, hasTouch: false },
];

Deno.test({
  name: "[browser] dead letters at 375 and 1280: from /admin, every list, a Kafka dead letter requeued; axe 0",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const t = await startTestApp({ serve: true });
    const browser = await launchBrowser();
    try {
      const kv = t.services.kv;
      const admin = await createUser(kv, { email: "dl-admin@example.com", name: "Ada Admin", roles: ["admin"] });
      for (const [i, vp] of VIEWPORTS.entries()) {
        const key = `01JKAFKA00000000000000000${i}`;
        await kv.set(
          keys.deadLetter(key),
          deadLetterOf(
            key,
            "2026-03-02T10:00:00.000Z",
            `Kafka refused it: MESSAGE_TOO_LARGE ${"a-very-long-unbroken-reason-".repeat(6)}`,
            "nlj.learning.booking",
          ),
        );
        await flagForReview(kv, {
          kind: "sync_failed",
          tenant: "main",
          bookingId: `b${i}`,
          sessionId: "s1",
          calBookingUid: null,
          email: null,
          code: "calcom_refused",
          message: "Cal.com answered 500 three times",
        });
        const context = await browser.newContext({
          viewport: vp.viewport,
          isMobile: vp.isMobile,
          hasTouch: vp.hasTouch,
          deviceScaleFactor: 1,
        });
        await context.addCookies([sessionCookieOf(await devSignInCookie(kv, admin.id), t.baseUrl)]);
        const page = await context.newPage();
        const click = (selector: string) => vp.hasTouch ? page.locator(selector).tap() : page.click(selector);
        const check = async (name: string) => {
          assert.deepEqual(await axeViolations(page), [], `axe on ${name} @${vp.name}`);
          const width = await page.evaluate(() => document.documentElement.scrollWidth);
          assert.ok(width <= vp.viewport.width, `${name} @${vp.name}: no sideways scrolling (scrollWidth ${width})`);
        };
        await page.goto(`${t.baseUrl}/admin`);
        await Promise.all([page.waitForURL(/\/admin\/dead-letters$/), click("[data-testid=link-dead-letters]")]);
        await check("/admin/dead-letters");
        assert.match(await page.getByTestId("count-kafka").innerText(), /^1 entry;/);
        assert.match(await page.getByTestId("count-calcom_review").innerText(), /entr/);
        assert.match(await page.getByTestId("count-notifications").innerText(), /entr|Empty/);
        await page.screenshot({ path: new URL(`dead-letters-${vp.name}.png`, ARTIFACTS).pathname, fullPage: true });
        await Promise.all([
          page.waitForURL(/done=requeued/),
          click("section#kafka button, [aria-labelledby=kafka] button"),
        ]);
        assert.match(await page.getByTestId("notice").innerText(), /Back in the relay's outbox/);
        assert.equal(await page.getByTestId("count-kafka").innerText(), "Empty.");
        await check("/admin/dead-letters requeued");
        assert.ok((await kv.get(keys.outboxEntry("kafka", "s1", key))).value, "in the outbox");
        await Promise.all([page.waitForURL(/\/admin\/calcom#review$/), click("[data-testid=link-calcom_review]")]);
        await context.close();
      }
    } finally {
      await browser.close();
      await t.close();
    }
  },
});
