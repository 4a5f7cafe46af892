/**
 * What the browser tests share: the app served with Chromium beside it, the phone and desktop
 * contexts, and a page opened by someone already signed in (dev sign-in cookie).
 */
import type { Browser, BrowserContext, Page, Response as PwResponse } from "playwright-core";
import { startTestApp, type TestApp } from "../app_fixture.ts";
import { launchBrowser } from "../fresh/browser.ts";
import { devSignInCookie, sessionCookieOf } from "../page_client.ts";

/** The phone context of the browser tests (375×812, touch). */
export const PHONE = { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true };

/** Phone and desktop contexts of the browser tests. */
export const VIEWPORTS = [
  { name: "375", ...PHONE },
  { name: "1280", viewport: { width: 1280, height: 800 }, isMobile: false, hasTouch: false },
];

/** One of `VIEWPORTS`. */
export type Viewport = typeof VIEWPORTS[number];

/**
 * A Deno test with the app served on the demo data (`app`: more options of startTestApp) and Chromium
 * launched; both are closed after `fn`.
 */
export function browserTest(
  name: string,
  fn: (t: TestApp, browser: Browser) => Promise<void>,
  app: { dev?: boolean } = {},
): void {
  Deno.test({
    name,
    sanitizeResources: false, // Chromium's pipes close asynchronously after browser.close().
    sanitizeOps: false,
    async fn() {
      const t = await startTestApp({ serve: true, ...app });
      const browser = await launchBrowser();
      try {
        await fn(t, browser);
      } finally {
        await browser.close();
        await t.close();
      }
    },
  });
}

/**
 * Opens `path` in a new context at `vp`, signed in as `userId`, and waits for its load; the caller
 * closes the context. `javaScriptEnabled: false` opens it as a browser without script would.
 */
export async function openSignedIn(
  browser: Browser,
  t: TestApp,
  vp: Viewport,
  userId: string,
  path: string,
  options: { javaScriptEnabled?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page; res: PwResponse | null }> {
  const context = await browser.newContext({
    viewport: vp.viewport,
    isMobile: vp.isMobile,
    hasTouch: vp.hasTouch,
    ...options,
  });
  await context.addCookies([sessionCookieOf(await devSignInCookie(t.services.kv, userId), t.baseUrl)]);
  const page = await context.newPage();
  const res = await page.goto(`${t.baseUrl}${path}`, { waitUntil: "load" });
  return { context, page, res };
}
