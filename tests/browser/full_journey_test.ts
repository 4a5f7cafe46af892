/**
 * The whole learner journey in real Chromium at 375×812 and 1280×800: search on the home page, open a
 * result, hold a seat (countdown), book it, download the .ics (DTSTART is the session's UTC start), see it
 * on My schedule, cancel it in two taps. Every step is screenshotted to tests/artifacts/full-<step>-<width>.png.
 * It also weighs the JavaScript each page ships (script responses, gzip) and prints the table.
 */
import assert from "node:assert/strict";
import type { Page, Response as PwResponse } from "playwright-core";
import { getAvailability } from "../../lib/booking/availability.ts";
import { listSessions } from "../../lib/store/mod.ts";
import { launchBrowser } from "../fresh/browser.ts";
import { startTestApp, type TestApp } from "../app_fixture.ts";
import { repeatsCourse } from "../repeat_free.ts";
import { devSignInCookie, sessionCookieOf } from "../page_client.ts";

const ARTIFACTS = new URL("../artifacts/", import.meta.url);
const JS_BUDGET_GZIP = 15 * 1024;

const VIEWPORTS = [
  { name: "375", viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true },
  { name: "1280", viewport: { width: 1280, height: 800 }, isMobile: false, hasTouch: false },
];

interface Target {
  id: string;
  startsAt: string;
  word: string;
}

/** Sessions with seats, no prerequisites and no place of the learner, with a searchable word of the course title. */
async function targets(t: TestApp, learnerId: string, count: number): Promise<Target[]> {
  const { sessions } = await listSessions(t.services.kv, {
    from: new Date(Date.now() + 3 * 86_400_000).toISOString(),
    limit: 200,
  });
  const avail = await getAvailability(t.services.kv, sessions);
  const places = await t.services.engine.listLearnerPlaces(learnerId);
  const taken = new Set([...places.bookings.map((b) => b.sessionId), ...places.holds.map((h) => h.sessionId)]);
  const found: Target[] = [];
  const courses = new Set<string>();
  for (const s of sessions) {
    const c = (await t.services.kv.get<{ title: string; prerequisiteCourseIds: string[] }>(["courses", s.courseId]))
      .value!;
    if (c.prerequisiteCourseIds.length || avail.get(s.id)!.seatsLeft < 2 || taken.has(s.id)) continue;
    if (courses.has(s.courseId) || await repeatsCourse(t, s)) continue;
    const word = c.title.split(/[^A-Za-z]+/).filter((w) => w.length >= 5).sort((a, b) => b.length - a.length)[0];
    if (!word) continue;
    courses.add(s.courseId);
    found.push({ id: s.id, startsAt: s.startsAt, word });
    if (found.length === count) return found;
  }
  throw new Error("not enough open sessions");
}

/** gzip size of a byte array. */
async function gzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/** Records the script responses of each navigation; `take()` returns the gzip bytes since the last call. */
function scriptMeter(page: Page) {
  let pending: Promise<number>[] = [];
  page.on("response", (r: PwResponse) => {
    if (r.request().resourceType() !== "script") return;
    pending.push(r.body().then((b) => gzipSize(b), () => 0));
  });
  return {
    async take(): Promise<{ bytes: number; files: number }> {
      await page.waitForLoadState("networkidle");
      const sizes = await Promise.all(pending);
      pending = [];
      return { bytes: sizes.reduce((a, b) => a + b, 0), files: sizes.length };
    },
  };
}

/** `DTSTART:20261121T090000Z` → ISO instant. */
function icsStart(ics: string): string {
  const m = ics.match(/^DTSTART(?:;[^:]*)?:(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z\r?$/m);
  assert.ok(m, `no UTC DTSTART in:\n${ics}`);
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`).toISOString();
}

Deno.test({
  name: "[browser] full journey at 375 and 1280: search, hold, book, .ics, my schedule, cancel; JS ≤ 15 KB gzip",
  sanitizeResources: false, // Chromium's pipes close asynchronously after browser.close().
  sanitizeOps: false,
  async fn() {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const t = await startTestApp({ serve: true });
    const browser = await launchBrowser();
    const weights: { page: string; width: string; files: number; bytes: number }[] = [];
    try {
      const learnerId = (await t.services.kv.get<string>(["users_by_email", "learner@example.com"])).value!;
      const picks = await targets(t, learnerId, VIEWPORTS.length);
      for (const [i, vp] of VIEWPORTS.entries()) {
        const target = picks[i];
        const context = await browser.newContext({
          viewport: vp.viewport,
          isMobile: vp.isMobile,
          hasTouch: vp.hasTouch,
          deviceScaleFactor: 1,
          acceptDownloads: true,
        });
        await context.addCookies([sessionCookieOf(await devSignInCookie(t.services.kv, learnerId), t.baseUrl)]);
        const page = await context.newPage();
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(String(e)));
        page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
        page.on("response", (r) => r.status() >= 400 && errors.push(`${r.status()} ${r.url()}`));
        const meter = scriptMeter(page);
        const shot = (step: string) =>
          page.screenshot({ path: new URL(`full-${step}-${vp.name}.png`, ARTIFACTS).pathname });
        const weigh = async (name: string) => weights.push({ page: name, width: vp.name, ...await meter.take() });
        const click = (locator: ReturnType<Page["locator"]>) => vp.hasTouch ? locator.tap() : locator.click();

        // 1. Home: type a word of the course's title into the search box and submit.
        await page.goto(`${t.baseUrl}/`);
        await weigh("home");
        await shot("home");
        await page.locator("input[name=q]").fill(target.word);
        await Promise.all([page.waitForURL(/[?&]q=/), page.locator("input[name=q]").press("Enter")]);
        await weigh("home (search)");
        const result = page.locator(`a[href="/sessions/${target.id}"]`);
        assert.equal(await result.count(), 1, `"${target.word}" finds the session`);
        await shot("search");

        // 2. Open the result.
        await Promise.all([page.waitForURL(new RegExp(`/sessions/${target.id}$`)), click(result)]);
        await page.getByRole("button", { name: "Hold my seat" }).waitFor();
        await weigh("session detail");
        await shot("session");

        // 3. Hold my seat: the countdown is visible and ticking.
        await Promise.all([page.waitForURL(/\/holds\//), click(page.getByRole("button", { name: "Hold my seat" }))]);
        const remaining = page.getByTestId("hold-remaining");
        await remaining.waitFor({ state: "visible" });
        const first = await remaining.textContent();
        assert.match(first ?? "", /^1[45]:\d\d$/);
        await page.waitForFunction(
          (before) => document.querySelector("[data-testid=hold-remaining]")?.textContent !== before,
          first,
          { timeout: 3000 },
        );
        await weigh("hold");
        await shot("hold");

        // 4. Book this seat: the confirmation.
        await Promise.all([
          page.waitForURL(/\/bookings\//),
          click(page.getByRole("button", { name: "Book this seat" })),
        ]);
        await page.getByRole("heading", { name: "You're booked" }).waitFor();
        const bookingId = new URL(page.url()).pathname.split("/").pop()!;
        await weigh("booking");
        await shot("booked");

        // 5. The .ics download starts at the session's UTC start.
        const [download] = await Promise.all([page.waitForEvent("download"), click(page.getByTestId("ics"))]);
        assert.match(download.suggestedFilename(), /\.ics$/);
        const ics = await Deno.readTextFile(await download.path());
        assert.match(ics, /BEGIN:VEVENT/);
        assert.equal(icsStart(ics), new Date(target.startsAt).toISOString());

        // 6. My schedule shows the booking.
        await page.goto(`${t.baseUrl}/me/schedule`);
        const row = page.locator(`[data-testid=upcoming-booking]:has(a[href="/bookings/${bookingId}"])`);
        await row.waitFor();
        await weigh("my schedule");
        await shot("schedule");

        // 7. Cancel in two taps: Cancel, then confirm.
        await Promise.all([page.waitForURL(/confirm=cancel/), click(row.getByRole("link", { name: "Cancel" }))]);
        const yes = page.getByRole("button", { name: "Yes, cancel my booking" });
        await yes.waitFor();
        await shot("cancel-confirm");
        await Promise.all([page.waitForURL((u) => !u.search.includes("confirm=cancel")), click(yes)]);
        await page.getByTestId("notice").waitFor();
        assert.match(await page.getByTestId("notice").innerText(), /^Cancelled/);
        assert.equal(await row.count(), 0, "the booking left the upcoming list");
        assert.ok(await page.getByTestId("cancelled-booking").count() > 0, "a cancelled list is shown");
        await shot("cancelled");
        assert.equal(
          (await t.services.engine.listLearnerPlaces(learnerId)).bookings
            .find((b) => b.id === bookingId)?.status,
          "cancelled",
        );
        assert.deepEqual(errors, []);
        await context.close();
      }
    } finally {
      await browser.close();
      await t.close();
    }
    console.error("JS shipped per page (script responses, gzip):");
    console.error(
      weights.map((w) => `  ${w.page.padEnd(16)} @${w.width.padEnd(4)} ${w.files} files ${w.bytes} B`).join("\n"),
    );
    const over = weights.filter((w) => w.bytes > JS_BUDGET_GZIP).map((w) => `${w.page} @${w.width}: ${w.bytes}`);
    assert.deepEqual(over, [], `pages over ${JS_BUDGET_GZIP} B gzip of JS`);
    const islandFree = ["home", "home (search)", "booking", "my schedule"];
    const shipped = weights.filter((w) => islandFree.includes(w.page) && w.bytes > 0).map((w) =>
      `${w.page} @${w.width}`
    );
    assert.deepEqual(shipped, [], "pages without islands ship no JavaScript");
  },
});
