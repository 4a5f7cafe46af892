/**
 * The concurrent-users section of `deno task bench` (runs alone too: `deno run -A bench/users.ts`,
 * printing its JSON): the customer's scale, simulated on this machine. The app is `main.ts` in a
 * process of its own (worker on, no Kafka) on a KV file holding a million historical records
 * (bench/history.ts, copied from a cache), plus a live catalog: LIVE_SESSIONS upcoming sessions.
 * The load generator (bench/users_client.ts) is another process; all traffic stays on 127.0.0.1.
 *
 * Steps of rising load, each STEP_MS long: `users` virtual users browsing with a think time of
 * THINK_MS (open-loop page arrivals at users / THINK_MS), a fifth of them (2,000 at 10,000) holding
 * the live-seats stream open, and BOOKING_RATE bookings a second (hold + confirm) on the streamed
 * sessions. The app's resident memory is sampled every 500 ms. Every step up to the customer's
 * scale (10,000 users) runs; past it the first step that breaks a limit ends the run (page p99
 * above 1 s, page errors or drops above 1 %, fan-out p95 above 1 s, streams failing to open). The
 * knee: the last step within the limits and the first one past them.
 * @module
 */
import { startClient } from "./client.ts";
import { createCatalog, createLearnerTokens, createSessions } from "./fixtures.ts";
import { copyHistoryStore, HISTORY_BOOKINGS, HISTORY_EVENTS, HISTORY_SESSIONS } from "./history.ts";
import { procCpuSeconds, procRssMb } from "./idle.ts";
import { startAppProcess } from "./processes.ts";
import { recountSessions } from "./recount.ts";
import type { UsersJob, UsersReport } from "./users_client.ts";

const CLIENT = new URL("./users_client.ts", import.meta.url);
const LIVE_SESSIONS = 200;
const STREAMED_SESSIONS = 100;
const THINK_MS = 60_000;
const BOOKING_RATE = 5;
const MAX_IN_FLIGHT = 512;
/** Users per step; streams are a fifth of them. */
const STEPS = [1_000, 2_500, 5_000, 10_000, 20_000];
/** Every step up to this one runs (the customer's scale), broken or not; past it, the first broken step ends the run. */
const CUSTOMER_USERS = 10_000;

/** One step's figures. */
export interface UsersStep {
  users: number;
  streams: number;
  report: UsersReport;
  rssMb: { start: number; max: number; end: number };
  appCpuPct: number;
  broke: string[];
}

/** What {@link usersBench} reports. */
export interface UsersResult {
  settings: Record<string, unknown>;
  history: {
    records: number;
    sessions: number;
    cached: boolean;
    writeMs: number | null;
    copyMs: number;
    bytes: number;
  };
  steps: UsersStep[];
  /** The step at the customer's scale (10,000 users, 2,000 streams), if it ran. */
  atCustomerScale: UsersStep | null;
  /** The last step within the limits, and the first one past them (null: none broke). */
  knee: { lastGoodUsers: number | null; firstBadUsers: number | null; why: string[] };
  oversold: number;
}

function limitsBroken(r: UsersReport, streams: number): string[] {
  const out: string[] = [];
  const total = r.pages.completed + r.pages.failed + r.pages.dropped;
  const bad = r.pages.failed + r.pages.dropped +
    Object.entries(r.pages.statuses).reduce((n, [s, c]) => n + (Number(s) >= 500 ? c : 0), 0);
  if (r.pages.p99Ms > 1_000) out.push(`page p99 ${r.pages.p99Ms} ms > 1000`);
  if (total && bad / total > 0.01) out.push(`page errors/drops ${bad} of ${total} > 1 %`);
  if (r.fanout.p95Ms > 1_000) out.push(`fan-out p95 ${r.fanout.p95Ms} ms > 1000`);
  if (r.streams.opened < streams) out.push(`${streams - r.streams.opened} streams failed to open`);
  return out;
}

/** Runs the section in `dir`. `quick`: the steps up to the customer's scale, shorter. */
export async function usersBench(
  dir: string,
  log: (m: string) => void,
  options: { stepMs?: number; steps?: number[] } = {},
): Promise<UsersResult> {
  const stepMs = options.stepMs ?? 20_000;
  const steps = options.steps ?? STEPS;
  const file = `${dir}/users.sqlite3`;
  const history = await copyHistoryStore(file, log);
  const kv = await Deno.openKv(file);
  const catalog = await createCatalog(kv);
  const live = [
    ...await createSessions(kv, catalog, catalog.hotCourse, LIVE_SESSIONS / 2, 1_000),
    ...await createSessions(kv, catalog, catalog.spreadCourse, LIVE_SESSIONS / 2, 1_000),
  ];
  const streamed = live.slice(0, STREAMED_SESSIONS);
  const tokens = await createLearnerTokens(kv, Math.ceil((BOOKING_RATE * stepMs) / 1000) * steps.length + 100);
  kv.close();

  const app = await startAppProcess({ DENO_KV_PATH: file });
  const out: UsersStep[] = [];
  let used = 0;
  try {
    for (const users of steps) {
      const streams = Math.round(users / 5);
      const perStep = Math.ceil((BOOKING_RATE * stepMs) / 1000);
      const job: UsersJob = {
        baseUrl: app.url,
        users,
        thinkMs: THINK_MS,
        maxInFlight: MAX_IN_FLIGHT,
        streams,
        streamSessionIds: streamed.map((s) => s.id),
        pageSessionIds: live.map((s) => s.id),
        bookingRatePerSec: BOOKING_RATE,
        bookingTokens: tokens.slice(used, used += perStep),
        durationMs: stepMs,
      };
      log(`users: ${users} users, ${streams} streams…`);
      const client = await startClient<UsersReport, UsersJob>(job, CLIENT);
      const rss = { start: procRssMb(app.pid), max: 0, end: 0 };
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          rss.max = Math.max(rss.max, procRssMb(app.pid));
          await new Promise((r) => setTimeout(r, 500));
        }
      })();
      const cpu0 = procCpuSeconds(app.pid);
      const t0 = performance.now();
      const report = await client.go().finally(() => sampling = false);
      await sampler;
      rss.end = procRssMb(app.pid);
      const appCpuPct = Math.round(((procCpuSeconds(app.pid) - cpu0) * 1000 / (performance.now() - t0)) * 100);
      const broke = limitsBroken(report, streams);
      out.push({ users, streams, report, rssMb: rss, appCpuPct, broke });
      log(
        `users: ${users}: pages p95 ${report.pages.p95Ms} p99 ${report.pages.p99Ms} ms (${report.pages.perSec}/s), ` +
          `fan-out p95 ${report.fanout.p95Ms} ms, rss max ${rss.max} MB${
            broke.length ? `; broke: ${broke.join("; ")}` : ""
          }`,
      );
      if (broke.length && users >= CUSTOMER_USERS) break;
    }
  } finally {
    await app.close();
  }
  const after = await Deno.openKv(file);
  const recount = await recountSessions(after, live).finally(() => after.close());
  const firstBad = out.find((s) => s.broke.length) ?? null;
  const good = out.filter((s) => !s.broke.length && (!firstBad || s.users < firstBad.users));
  return {
    settings: {
      stepMs,
      thinkMs: THINK_MS,
      streamsPerUser: 0.2,
      bookingRatePerSec: BOOKING_RATE,
      maxInFlightPages: MAX_IN_FLIGHT,
      liveSessions: LIVE_SESSIONS,
      streamedSessions: STREAMED_SESSIONS,
      app: "main.ts in its own process (worker on, no Kafka), KV file on local disk",
      limits: "page p99 ≤ 1 s, page errors+drops ≤ 1 %, fan-out p95 ≤ 1 s, every stream opens",
    },
    history: {
      records: HISTORY_BOOKINGS + HISTORY_EVENTS,
      sessions: HISTORY_SESSIONS,
      ...history,
    },
    steps: out,
    atCustomerScale: out.find((s) => s.users === 10_000) ?? null,
    knee: {
      lastGoodUsers: good.at(-1)?.users ?? null,
      firstBadUsers: firstBad?.users ?? null,
      why: firstBad?.broke ?? [],
    },
    oversold: recount.oversold,
  };
}

if (import.meta.main) {
  const dir = await Deno.makeTempDir({ prefix: "bench-users-" });
  try {
    const result = await usersBench(dir, (m) => console.error(m), {
      stepMs: Number(Deno.env.get("USERS_STEP_MS") ?? 20_000),
    });
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
