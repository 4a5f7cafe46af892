/**
 * Single sign-on in real Chromium at 375 px through a real OpenID provider (oidc-provider on
 * loopback): for each role, sign in on the provider's login and consent pages, land back signed in
 * (the header names the person), open one page the role may use and one it may not, then sign out
 * through the provider's end-session page.
 */
import assert from "node:assert/strict";
import type { Actor } from "../../lib/booking/events.ts";
import { listSessions } from "../../lib/store/mod.ts";
import { launchBrowser } from "../fresh/browser.ts";
import { startOidcRig } from "../oidc/driver.ts";
import { TEST_ACCOUNTS } from "../oidc/provider.ts";

const ARTIFACTS = new URL("../artifacts/", import.meta.url);

Deno.test({
  name:
    "[browser] sign in through the OpenID provider as each role, one allowed and one refused page, sign out (375 px)",
  sanitizeResources: false, // Chromium's pipes close asynchronously after browser.close().
  sanitizeOps: false,
  async fn() {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const rig = await startOidcRig({ DEV_LOGIN: "0" }, { serve: true });
    const browser = await launchBrowser();
    const { t } = rig;
    try {
      // Someone else's hold: holder-only, so the admin's "may not" page (admins may open any booking).
      const learnerId = (await t.services.kv.get<string>(["users_by_email", "learner@example.com"])).value!;
      const { sessions } = await listSessions(t.services.kv, { from: new Date().toISOString(), limit: 50 });
      const actor: Actor = { userId: learnerId, origin: "web", correlationId: crypto.randomUUID(), reason: "test" };
      let othersHold = "";
      for (const s of sessions) {
        try {
          othersHold = (await t.services.engine.placeHold(s.id, learnerId, actor)).hold.id;
          break;
        } catch { /* prerequisites, full or held: try the next */ }
      }
      assert.ok(othersHold, "a hold of the demo learner");

      for (const [role, account] of Object.entries(TEST_ACCOUNTS)) {
        const context = await browser.newContext({
          viewport: { width: 375, height: 812 },
          isMobile: true,
          hasTouch: true,
        });
        const page = await context.newPage();
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(String(e)));

        await page.goto(`${t.baseUrl}/`);
        await page.getByRole("link", { name: "Sign in" }).click();
        await page.waitForURL((u) => u.origin === rig.provider.issuer, { timeout: 30_000 });
        await page.locator('input[name="login"]').fill(account.login);
        await page.locator('input[name="password"]').fill("any password");
        await page.getByRole("button", { name: "Sign-in" }).click();
        await page.getByRole("button", { name: "Continue" }).click();
        await page.waitForURL(`${t.baseUrl}/`, { timeout: 30_000 });
        const header = page.locator("header");
        assert.ok((await header.innerText()).includes(account.name), `${role}: the header names ${account.name}`);
        await page.screenshot({ path: new URL(`sign-in-${role}-375.png`, ARTIFACTS).pathname });

        const allowed = role === "admin" ? "/admin/calcom" : "/me/schedule";
        const refused = role === "admin" ? `/holds/${othersHold}` : "/admin/calcom";
        const yes = await page.goto(`${t.baseUrl}${allowed}`);
        assert.equal(yes!.status(), 200, `${role} may open ${allowed}`);
        assert.ok(!(await page.content()).includes("Sign in to see your schedule"), `${role}: signed in on ${allowed}`);
        const no = await page.goto(`${t.baseUrl}${refused}`);
        assert.equal(no!.status(), role === "admin" ? 404 : 403, `${role} may not open ${refused}`);

        // Sign out: our session ends, then the provider's end-session page signs out there too.
        await page.goto(`${t.baseUrl}/`);
        await page.getByRole("button", { name: "Sign out", exact: true }).click();
        await page.waitForURL((u) => u.origin === rig.provider.issuer, { timeout: 30_000 });
        const confirm = page.getByRole("button", { name: "Yes, sign me out" });
        if (await confirm.count()) await confirm.click();
        await page.waitForURL(`${t.baseUrl}/`, { timeout: 30_000 });
        assert.ok(!(await page.locator("header").innerText()).includes(account.name), `${role}: signed out`);
        const after = await page.goto(`${t.baseUrl}/me/schedule`);
        assert.ok((await after!.text()).includes("Sign in to see your schedule"), `${role}: the session is gone`);
        // The provider's session ended too: signing in again asks for the login.
        await page.goto(`${t.baseUrl}/auth/sign-in`);
        await page.locator('input[name="login"]').waitFor({ timeout: 30_000 });
        assert.deepEqual(errors, [], `${role}: no script errors`);
        await context.close();
      }
    } finally {
      await browser.close();
      await rig.close();
    }
  },
});
