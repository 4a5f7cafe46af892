/**
 * `deno task bench reports`: the reports over a big history. In a temp KV file: 20 centers, 24
 * courses, 60 dealers, 30 instructors, 24,000 learners; then `bookings` (default 1,000,000) past
 * bookings with their events (attendance, cancellations — some late —, expired and released holds,
 * waitlist offers, alternative offers after full sessions) and the report aggregates, written in big
 * atomic batches (lib/seed/report_history.ts). Then each report is timed cold (a fresh KV
 * connection and an empty report cache) and warm (cached until the next aggregate write), p50/p95,
 * and the recount runs once over the whole history: its agreement and its time.
 */
import { CourseSchema, TOPICS, UserSchema } from "../lib/domain/mod.ts";
import { newId } from "../lib/domain/ids.ts";
import { REPORTS_JOB } from "../lib/reports/aggregator.ts";
import type { ReportFilters } from "../lib/reports/model.ts";
import { buildReport, clearReportCache } from "../lib/reports/query.ts";
import { recountReports } from "../lib/reports/recount.ts";
import { reportTables, tableCsv } from "../lib/reports/tables.ts";
import { type HistoryWorld, writeReportHistory } from "../lib/seed/report_history.ts";
import { createDealer, createLocation, keys } from "../lib/store/mod.ts";
import { runExclusive } from "../lib/worker/lease.ts";
import { percentile, round } from "./stats.ts";

const ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"];

/** Builds the catalog and people the history draws on. */
async function buildWorld(kv: Deno.Kv): Promise<{ world: HistoryWorld; dealerIds: string[] }> {
  const locations = [];
  for (let i = 0; i < 20; i++) {
    locations.push(
      await createLocation(kv, {
        slug: `bench-center-${i}`,
        name: `Bench Center ${i}`,
        address: { line1: `${i} Bench Way`, city: "Atlanta", region: "GA", postalCode: "30309", country: "US" },
        lat: 33 + i / 10,
        lng: -84 - i / 10,
        timeZone: ZONES[i % ZONES.length],
      }),
    );
  }
  const courses = [];
  const op = () => kv.atomic();
  let batch = op();
  for (let i = 0; i < 24; i++) {
    const course = CourseSchema.parse({
      id: newId(),
      code: `BEN-${100 + i}`,
      title: `Bench Course ${i}`,
      summary: "A course of the reports bench.",
      topic: TOPICS[i % TOPICS.length],
      programType: "onboarding",
      durationMinutes: 120 + (i % 4) * 60,
    });
    courses.push(course);
    batch.set(keys.course(course.id), course).set(keys.courseByCode(course.code), course.id);
  }
  await batch.commit();
  const dealerIds: string[] = [];
  for (let i = 0; i < 60; i++) {
    dealerIds.push((await createDealer(kv, { name: `Bench Dealer ${i}`, slug: `bench-dealer-${i}` })).id);
  }
  const instructors: string[] = [];
  const learners = new Map<string, { id: string; dealerId: string | null }[]>(locations.map((l) => [l.id, []]));
  const at = new Date().toISOString();
  batch = op();
  let n = 0;
  const put = async (u: unknown, id: string, dealerId: string | null) => {
    batch.set(keys.user(id), u);
    if (dealerId) batch.set(keys.userByDealer(dealerId, id), id);
    if (++n % 400 === 0) {
      await batch.commit();
      batch = op();
    }
  };
  for (let i = 0; i < 30; i++) {
    const id = newId();
    instructors.push(id);
    await put(
      UserSchema.parse({
        id,
        email: `bench-instr-${i}@example.com`,
        name: `Instructor ${i}`,
        roles: ["instructor"],
        createdAt: at,
      }),
      id,
      null,
    );
  }
  for (let i = 0; i < 24_000; i++) {
    const id = newId();
    const dealerIndex = i % dealerIds.length;
    const dealerId = dealerIds[dealerIndex];
    await put(
      UserSchema.parse({
        id,
        email: `bench-l-${i}@example.com`,
        name: `Learner ${i}`,
        roles: ["learner"],
        dealerId,
        createdAt: at,
      }),
      id,
      dealerId,
    );
    // Each dealer's people train at one center (dealer i → center i mod 20).
    learners.get(locations[dealerIndex % locations.length].id)!.push({ id, dealerId });
  }
  await batch.commit();
  return {
    world: {
      courses: courses.map((c) => ({ id: c.id, durationMinutes: c.durationMinutes })),
      locations: locations.map((l) => ({ id: l.id, timeZone: l.timeZone })),
      instructors,
      learners,
    },
    dealerIds,
  };
}

function p(xs: number[]) {
  const sorted = [...xs].sort((a, b) => a - b);
  return { p50Ms: round(percentile(sorted, 50), 1), p95Ms: round(percentile(sorted, 95), 1), runs: xs.length };
}

/** Runs the scenario; `log` gets progress lines. */
export async function reportsBench(options: { bookings?: number; log?: (m: string) => void } = {}) {
  const bookings = options.bookings ?? 1_000_000;
  const log = options.log ?? (() => {});
  const dir = await Deno.makeTempDir({ prefix: "bench-reports-" });
  const path = `${dir}/kv.sqlite`;
  let kv = await Deno.openKv(path);
  try {
    const t0 = performance.now();
    const { world, dealerIds } = await buildWorld(kv);
    log(`world built in ${Math.round(performance.now() - t0)} ms`);
    const now = new Date();
    const g0 = performance.now();
    const counts = await writeReportHistory(kv, world, {
      bookings,
      now,
      days: 730,
      progress: (b, e) =>
        log(`generated ${b} bookings, ${e} events (${Math.round((performance.now() - g0) / 1000)} s)`),
    });
    const generateMs = Math.round(performance.now() - g0);
    log(`history written in ${generateMs} ms: ${JSON.stringify(counts)}`);

    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const end = now.getTime();
    const cases: { name: string; filters: ReportFilters }[] = [
      { name: "all history (2 years)", filters: {} },
      { name: "last 365 days", filters: { from: day(end - 365 * 864e5), to: day(end) } },
      { name: "last 90 days", filters: { from: day(end - 90 * 864e5), to: day(end) } },
      { name: "one course", filters: { courseId: world.courses[3].id } },
      { name: "one topic", filters: { topic: "sales" } },
      { name: "one location", filters: { locationId: world.locations[5].id } },
      { name: "one instructor", filters: { instructorId: world.instructors[7] } },
      { name: "one dealer (all history)", filters: { dealerId: dealerIds[11] } },
      {
        name: "one dealer, last 90 days",
        filters: { dealerId: dealerIds[11], from: day(end - 90 * 864e5), to: day(end) },
      },
    ];
    const COLD_RUNS = 7;
    const WARM_RUNS = 30;
    const reports = [];
    for (const c of cases) {
      const cold: number[] = [];
      let sessions = 0;
      let csvBytes = 0;
      for (let r = 0; r < COLD_RUNS; r++) {
        kv.close();
        kv = await Deno.openKv(path);
        clearReportCache();
        const t = performance.now();
        const report = await buildReport(kv, c.filters);
        // Timed with the CSV of every section (what the downloads cost on top).
        csvBytes = Object.values(reportTables(report)).reduce((n, t) => n + tableCsv(t).length, 0);
        cold.push(performance.now() - t);
        sessions = report.sessions;
      }
      const warm: number[] = [];
      for (let r = 0; r < WARM_RUNS; r++) {
        const t = performance.now();
        await buildReport(kv, c.filters);
        warm.push(performance.now() - t);
      }
      reports.push({ name: c.name, sessions, cold: p(cold), warm: p(warm), csvBytes });
      log(`${c.name}: cold ${JSON.stringify(p(cold))} warm ${JSON.stringify(p(warm))}`);
    }

    log("recount over the whole history…");
    let recount = null;
    await runExclusive(kv, REPORTS_JOB, async (lease) => {
      recount = await recountReports(kv, lease, { repair: false, leaseMs: 120_000 });
    }, { leaseMs: 120_000 });
    const r = recount as unknown as Awaited<ReturnType<typeof recountReports>>;
    log(`recount: ok=${r.ok}, ${r.eventsScanned} events, ${r.tookMs} ms`);
    const all = reports[0];
    return {
      bookings: counts.bookings,
      sessions: counts.sessions,
      events: counts.events,
      altOffers: counts.altOffers,
      aggregateBlobs: counts.blobs,
      generateMs,
      reports,
      slowestColdP95Ms: Math.max(...reports.map((x) => x.cold.p95Ms)),
      allHistoryColdP50Ms: all.cold.p50Ms,
      recount: {
        agrees: r.ok,
        differences: r.differences.length,
        eventsScanned: r.eventsScanned,
        rows: r.rows,
        blobs: r.blobs,
        tookMs: r.tookMs,
      },
      cpus: navigator.hardwareConcurrency,
      loadavg: Deno.loadavg(),
    };
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
