/**
 * Home-page render bench: the real app on a KV loaded with the FULL demo catalog, `GET /` and a
 * few filtered variants rendered sequentially through `app.fetch` (no network), reporting server
 * time percentiles. Target: p95 ≤ 50 ms. Not wired into scripts/bench.ts here (the lead does that).
 */
import { createApp } from "../lib/app.ts";
import { BookingEngine } from "../lib/booking/engine.ts";
import { loadConfig } from "../lib/config.ts";
import { DEMO_EMAILS, seedDemoData } from "../lib/seed/mod.ts";
import { percentile, round } from "./stats.ts";
import { createPageSession, SESSION_COOKIE } from "../lib/auth/sessions.ts";

/** Options of {@link measureHomeRender}. */
export interface HomeRenderOptions {
  /** Measured requests (spread round-robin over `paths`); default 300. */
  requests?: number;
  /** Unmeasured requests first (JIT, caches); default 30. */
  warmup?: number;
  /** Paths to render; default `/`, `/?topic=safety`, `/?q=safety`, and `/?near=1` signed in as the demo learner. */
  paths?: string[];
  /** KV to use: ":memory:" (default) or a file path (opened, seeded when empty). */
  kvPath?: string;
}

/** Server-time percentiles of the measured requests (ms, rounded to 0.01). */
export interface HomeRenderResult {
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  requests: number;
  /** p95 per path. */
  byPath: Record<string, { p50Ms: number; p95Ms: number }>;
}

const DEFAULT_PATHS = ["/", "/?topic=safety", "/?q=safety", "/?near=1"];

function summary(ms: number[]): { p50Ms: number; p95Ms: number; p99Ms: number } {
  const sorted = Float64Array.from(ms).sort();
  return {
    p50Ms: round(percentile(sorted, 50)),
    p95Ms: round(percentile(sorted, 95)),
    p99Ms: round(percentile(sorted, 99)),
  };
}

/** Starts the app with the full demo catalog, warms up, then renders the home page `requests` times. */
export async function measureHomeRender(opts: HomeRenderOptions = {}): Promise<HomeRenderResult> {
  const requests = opts.requests ?? 300;
  const warmup = opts.warmup ?? 30;
  const paths = opts.paths ?? DEFAULT_PATHS;
  const kvPath = opts.kvPath ?? ":memory:";
  const config = loadConfig({ DENO_KV_PATH: kvPath, PORT: "0", SEED_DEMO: "0", DEV_LOGIN: "1" });
  const kv = await Deno.openKv(kvPath);
  try {
    await seedDemoData(kv);
    const engine = new BookingEngine(kv, { holdMinutes: config.holdMinutes });
    const app = await createApp({ kv, config, engine });
    const learnerId = (await kv.get<string>(["users_by_email", DEMO_EMAILS.learner])).value;
    const session = learnerId ? await createPageSession(kv, learnerId, { via: "dev", absoluteMs: 3_600_000 }) : null;
    const headers: HeadersInit = session ? { cookie: `${SESSION_COOKIE}=${session}` } : {};
    const render = async (path: string): Promise<number> => {
      const t0 = performance.now();
      const res = await app.fetch(new Request(`http://bench${path}`, { headers }));
      const body = await res.text();
      const ms = performance.now() - t0;
      if (res.status !== 200 || !body.includes("Upcoming sessions")) {
        throw new Error(`GET ${path} answered ${res.status}`);
      }
      return ms;
    };
    for (let i = 0; i < warmup; i++) await render(paths[i % paths.length]);
    const all: number[] = [];
    const per = new Map<string, number[]>(paths.map((p) => [p, []]));
    for (let i = 0; i < requests; i++) {
      const path = paths[i % paths.length];
      const ms = await render(path);
      all.push(ms);
      per.get(path)!.push(ms);
    }
    const byPath: HomeRenderResult["byPath"] = {};
    for (const [p, ms] of per) {
      if (ms.length) {
        const { p50Ms, p95Ms } = summary(ms);
        byPath[p] = { p50Ms, p95Ms };
      }
    }
    return { ...summary(all), requests, byPath };
  } finally {
    kv.close();
  }
}

if (import.meta.main) {
  console.log(JSON.stringify(await measureHomeRender({ requests: Number(Deno.args[0] ?? 300) }), null, 2));
}
