/**
 * Real Chromium at 375 px: /me/profile (save, then a refused value with its sentence beside the field)
 * and a full session's page listing ranked alternatives before any attempt, one tap holding one.
 * axe-core (WCAG 2.1 A/AA) at 0 violations on each state. Screenshots go to tests/artifacts/.
 */
import assert from "node:assert/strict";
import type { Hold, User } from "../../lib/domain/mod.ts";
import { keys } from "../../lib/store/keys.ts";
import { fillSession } from "../app_fixture.ts";
import { checkAxe } from "./axe.ts";
import { browserTest, PHONE } from "./harness.ts";
import { sessionWithAlternatives } from "./sessions.ts";

const ARTIFACTS = new URL("../artifacts/", import.meta.url);

browserTest(
  "[browser] /me/profile and a full session's alternatives at 375 px: one tap holds; axe clean",
  async (t, browser) => {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const kv = t.services.kv;
    const learnerId = (await kv.get<string>(keys.userByEmail("learner@example.com"))).value!;
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));

    await page.goto(`${t.baseUrl}/me/profile`);
    await Promise.all([
      page.waitForURL(/\/dev\/sign-in/),
      page.getByRole("link", { name: "Sign in to set your preferences" }).click(),
    ]);
    await page.fill("#email", "learner@example.com");
    await Promise.all([
      page.waitForURL(/\/me\/profile$/),
      page.locator("form:has(#email) button[type=submit]").click(),
    ]);
    await checkAxe(page, "profile 375");

    const label = await page.locator("#location option").nth(1).textContent();
    await page.getByLabel("Preferred training location").selectOption({ label: label! });
    await page.getByLabel("Tuesday").check();
    await page.getByLabel("Mornings (before 12:00)").check();
    await Promise.all([page.waitForURL(/saved=1/), page.getByRole("button", { name: "Save preferences" }).click()]);
    await page.getByText("Saved.").waitFor();
    await checkAxe(page, "profile saved 375");
    const saved = (await kv.get<User>(keys.user(learnerId))).value!;
    assert.ok(saved.preferredLocationId);
    assert.deepEqual(saved.preferredTimes, { weekdays: [2], dayParts: ["morning"] });

    // A location that is not ours (as a stale page would send): refused, the sentence beside the field.
    await page.locator("#location option").nth(1).evaluate((o) =>
      (o as HTMLOptionElement).value = "01JZZZZZZZZZZZZZZZZZZZZZZZ"
    );
    await page.locator("#location").selectOption({ index: 1 });
    await Promise.all([page.waitForLoadState(), page.getByRole("button", { name: "Save preferences" }).click()]);
    await page.locator("#location-problem").waitFor();
    assert.equal(await page.getByLabel("Tuesday").isChecked(), true, "input kept");
    await checkAxe(page, "profile refused 375");
    await page.screenshot({ path: new URL("profile-375.png", ARTIFACTS).pathname, fullPage: true });

    const fullId = await sessionWithAlternatives(t);
    await fillSession(t, fullId);
    await page.goto(`${t.baseUrl}/sessions/${fullId}`);
    const list = page.locator("[data-testid=full-alternatives]");
    await list.waitFor();
    const cards = list.locator("[data-testid=alternative]");
    const n = await cards.count();
    assert.ok(n >= 1 && n <= 3, `${n} alternatives`);
    assert.match(
      (await cards.first().locator("[data-testid=alternative-reason]").textContent())!,
      / · in \d+ (day|days|hour|hours)$/,
    );
    await checkAxe(page, "full session alternatives 375");
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `no sideways scroll at 375 px (${width})`);
    await page.screenshot({ path: new URL("full-session-alternatives-375.png", ARTIFACTS).pathname, fullPage: true });
    await Promise.all([
      page.waitForURL(/\/holds\//),
      cards.first().getByRole("button", { name: "Hold this seat" }).click(),
    ]);
    const holdId = page.url().split("/holds/")[1].split(/[?#]/)[0];
    assert.equal((await kv.get<Hold>(keys.hold(holdId))).value!.alternativeOf, fullId);
    assert.deepEqual(errors, []);
    await context.close();
  },
);
