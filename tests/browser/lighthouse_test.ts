/**
 * Lighthouse (npm `lighthouse`, run in-process under Deno's Node compatibility) against Debian's Chromium,
 * mobile preset (Lighthouse's default config), categories performance and accessibility, on the home page,
 * a session detail page and My schedule signed in. Bars: performance ≥ 0.95, accessibility = 1.
 * A performance miss is re-measured twice and judged on the median of the three runs (timings are noisy
 * while the rest of the suite runs in parallel); accessibility must be 1 on every run.
 */
import assert from "node:assert/strict";
import lighthouse from "lighthouse";
import { getAvailability } from "../../lib/booking/availability.ts";
import type { Actor } from "../../lib/booking/events.ts";
import { listSessions } from "../../lib/store/mod.ts";
import { chromiumPath } from "../fresh/browser.ts";
import { startTestApp, type TestApp } from "../app_fixture.ts";
import { devSignInCookie } from "../page_client.ts";

/** Two upcoming sessions with seats whose courses have no prerequisites. */
async function openSessions(t: TestApp): Promise<string[]> {
  const { sessions } = await listSessions(t.services.kv, {
    from: new Date(Date.now() + 3 * 86_400_000).toISOString(),
    limit: 100,
  });
  const avail = await getAvailability(t.services.kv, sessions);
  const ids: string[] = [];
  for (const s of sessions) {
    const c = (await t.services.kv.get<{ prerequisiteCourseIds: string[] }>(["courses", s.courseId])).value!;
    if (!c.prerequisiteCourseIds.length && avail.get(s.id)!.seatsLeft >= 2) ids.push(s.id);
    if (ids.length === 2) return ids;
  }
  throw new Error("no open sessions without prerequisites");
}

/** Chromium with a DevTools port for Lighthouse; resolves once the port answers. */
async function launchDebugChromium(): Promise<{ port: number; close(): Promise<void> }> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const path = chromiumPath();
  const found = await Deno.stat(path).then((i) => i.isFile, () => false);
  if (!found) throw new Error(`chromium not found at ${path}; install Debian package chromium`);
  const profile = await Deno.makeTempDir({ prefix: "lh-chromium-" });
  const child = new Deno.Command(path, {
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      `--remote-debugging-port=${port}`,
      `--user-data-dir=${profile}`,
      "about:blank",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await (await fetch(`http://127.0.0.1:${port}/json/version`)).body?.cancel();
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`chromium's DevTools port never answered: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    port,
    async close() {
      child.kill();
      await child.status;
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}

Deno.test({
  name: "[lighthouse] mobile: home, session detail and my schedule score performance ≥ 0.95 and accessibility 1",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const t = await startTestApp({ serve: true });
    const chrome = await launchDebugChromium();
    try {
      const learnerId = (await t.services.kv.get<string>(["users_by_email", "learner@example.com"])).value!;
      const [viewId, bookId] = await openSessions(t);
      const actor: Actor = { userId: learnerId, origin: "web", correlationId: crypto.randomUUID(), reason: "test" };
      const { hold } = await t.services.engine.placeHold(bookId, learnerId, actor);
      await t.services.engine.confirmHold(hold.id, actor);
      const cookie = await devSignInCookie(t.services.kv, learnerId);
      const pages = [
        { name: "home", path: "/", cookie: "" },
        { name: "session detail", path: `/sessions/${viewId}`, cookie: "" },
        { name: "my schedule", path: "/me/schedule", cookie },
      ];
      const failures: string[] = [];
      for (const p of pages) {
        const audit = async () => {
          const result = await lighthouse(`${t.baseUrl}${p.path}`, {
            port: chrome.port,
            output: "json",
            logLevel: "error",
            onlyCategories: ["performance", "accessibility"],
            extraHeaders: p.cookie ? { Cookie: p.cookie } : undefined,
          });
          assert.ok(result, `lighthouse returned nothing for ${p.name}`);
          const lhr = result.lhr;
          assert.equal(lhr.runtimeError, undefined, `${p.name}: ${JSON.stringify(lhr.runtimeError)}`);
          assert.equal(lhr.finalDisplayedUrl, `${t.baseUrl}${p.path}`, `${p.name} was redirected`);
          const perf = lhr.categories.performance.score ?? 0;
          const a11y = lhr.categories.accessibility.score ?? 0;
          const metrics = ["first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "speed-index"]
            .concat(["cumulative-layout-shift", "server-response-time"])
            .map((id) => `${id} ${lhr.audits[id]?.displayValue ?? "?"}`);
          console.error(
            `lighthouse ${p.name.padEnd(15)} performance ${perf.toFixed(2)}  accessibility ${a11y.toFixed(2)}` +
              `  [${metrics.join(", ")}]`,
          );
          const weak = Object.values(lhr.audits)
            .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode === "binary")
            .map((a) => a.id);
          return { perf, a11y, weak };
        };
        const runs = [await audit()];
        // Performance is a timing measurement: under a busy machine (the suite runs files in parallel) one run
        // can be noisy, so a miss is re-measured and judged on the median of three runs, as Lighthouse advises.
        if (runs[0].perf < 0.95) runs.push(await audit(), await audit());
        const perf = runs.map((r) => r.perf).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
        if (perf < 0.95) failures.push(`${p.name}: performance ${perf} (median of ${runs.length})`);
        // Accessibility is not a timing: every run must score 1.
        for (const r of runs) {
          if (r.a11y !== 1) failures.push(`${p.name}: accessibility ${r.a11y} (failing: ${r.weak.join(", ")})`);
        }
      }
      assert.deepEqual(failures, []);
    } finally {
      await chrome.close();
      await t.close();
    }
  },
});
