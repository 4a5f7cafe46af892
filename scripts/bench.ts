/**
 * `deno task bench`: seat holds through HTTP against the real app on a file-backed KV, beside the
 * baselines measured in the same run (a bare `Deno.serve` under the same load generator, and an
 * uncontended read-check-set KV loop on the same KV file). Prints one JSON object and writes it to
 * bench/results.json. Progress goes to stderr. Takes about 5 minutes.
 *
 * Load: 64 closed-loop keep-alive clients in a separate process (bench/load_client.ts), each
 * request `POST /api/v1/holds` with a learner's own bearer token and `{"sessionId": …}`.
 * Scenarios (see bench/plan.ts): hot (one session of 10,000 seats at a time, every request a
 * different learner; SessionSchema caps capacity at 10,000, so a run that fills one moves on to
 * the next), hotSmall (sessions of 50 seats, 640 attempts each), spread (1,000 sessions), and
 * hot again with the app started without its background worker, to show what it costs.
 * Hot and spread also report their SUSTAINED rate: holds over the load plus the time until the
 * background was idle again (both outboxes delivered: Kafka through a no-op publisher, Cal.com with
 * no tenant; no hold due for the sweep), with the drain time and the CPU seconds it took. Then a
 * rate-limited spread run at 85 % of spread's sustained rate for 60 s samples the outbox backlog
 * every 5 s (it must not grow with time).
 * Then the Kafka relay on a real broker (bench/relay.ts): saturation, raw kafkajs, steady e2e
 * latency; hot and spread with 2 app instances on a real denokv beside the raw denokv commit rate
 * (bench/multi.ts); the concurrent-users scenario (bench/users.ts); the home render.
 *
 * `--quick`: the steady run 15 s and two concurrent-users steps of 10 s (about half the time).
 * `--compliance`: only the compliance scan at 10,000 learners × 2,000 open sessions (bench/compliance.ts).
 * `reports [--bookings=N]`: only the reports scenario (bench/reports.ts): 1,000,000 bookings by
 * default, written to bench/reports_results.json.
 * @module
 */
import os from "node:os";
import { checkConsistency } from "../lib/booking/consistency.ts";
import { createCatalog, createLearnerTokens, createSessions } from "../bench/fixtures.ts";
import { rawKvLoop } from "../bench/raw_kv.ts";
import { holdScenario, measure } from "../bench/scenario.ts";
import { type BenchApp, startBareServer, startBenchApp } from "../bench/servers.ts";
import { round } from "../bench/stats.ts";
import { relayBench } from "../bench/relay.ts";
import { measureHomeRender } from "../bench/render.ts";
import { multiInstanceBench } from "../bench/multi.ts";
import { usersBench } from "../bench/users.ts";
import { complianceBench } from "../bench/compliance.ts";
import { reportsBench } from "../bench/reports.ts";

const CONCURRENCY = 64;
const SCENARIO_MS = 6_000;
const WARMUP_MS = 2_000;
const HOT_CAPACITY = 10_000; // the most SessionSchema allows
const HOT_LEARNERS = 8_000; // × 3 hot sessions: room for 4,000 holds/s over SCENARIO_MS
const SMALL_CAPACITY = 50;
const SMALL_SESSIONS = 4;
const SMALL_ATTEMPTS = CONCURRENCY * 10; // per session
const SPREAD_SESSIONS = 1_000;
const SPREAD_CAPACITY = 500;
const SPREAD_LEARNERS = 6_000; // × 3 rounds
const WARM_LEARNERS = 3_000;
const QUICK = Deno.args.includes("--quick");
/** The rate-limited run that shows the backlog does not grow (60 s; 15 s with --quick). */
const STEADY_MS = QUICK ? 15_000 : 60_000;

const log = (msg: string) => console.error(`[bench ${((performance.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
const t0 = performance.now();
// Library code may log to stdout (e.g. the island bundler); stdout carries only the result.
console.log = console.error;

// `deno task bench reports [--bookings=N]`: only the reports scenario (bench/reports.ts).
if (Deno.args.includes("reports")) {
  const n = Number(Deno.args.find((a) => a.startsWith("--bookings="))?.split("=")[1] ?? 1_000_000);
  const result = await reportsBench({ bookings: n, log });
  const text = JSON.stringify(result, null, 2) + "\n";
  if (n === 1_000_000) await Deno.writeTextFile(new URL("../bench/reports_results.json", import.meta.url), text);
  await Deno.stdout.write(new TextEncoder().encode(text));
  Deno.exit(0);
}

const durations: Record<string, number> = {};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  log(`${name}…`);
  try {
    return await fn();
  } finally {
    durations[name] = Math.round(performance.now() - start);
  }
}

/** The compliance scan at the customer's scale, on a KV file of its own. */
async function complianceScenario(path: string) {
  const kv = await Deno.openKv(path);
  try {
    return await complianceBench(kv);
  } finally {
    kv.close();
  }
}

// `deno task bench --compliance`: only the compliance scan (about a minute).
if (Deno.args.includes("--compliance")) {
  const dirC = await Deno.makeTempDir({ prefix: "bench-compliance-" });
  try {
    const text = JSON.stringify({ compliance: await complianceScenario(`${dirC}/kv.sqlite`) }, null, 2) + "\n";
    await Deno.stdout.write(new TextEncoder().encode(text));
  } finally {
    await Deno.remove(dirC, { recursive: true });
  }
  Deno.exit(0);
}

const loadBefore = Deno.loadavg();
const dir = await Deno.makeTempDir({ prefix: "bench-" });
const bare = startBareServer();
let app: BenchApp | null = null;
try {
  app = await startBenchApp(dir, { background: true });
  const kv = app.kv;
  const setup = await phase("setup", async () => {
    const catalog = await createCatalog(kv);
    const hotCourse = catalog.hotCourse;
    const warm = await createSessions(kv, catalog, hotCourse, 1, HOT_CAPACITY);
    const hot = await createSessions(kv, catalog, hotCourse, 3, HOT_CAPACITY);
    const small = await createSessions(kv, catalog, hotCourse, SMALL_SESSIONS, SMALL_CAPACITY);
    const spread = await createSessions(kv, catalog, catalog.spreadCourse, SPREAD_SESSIONS, SPREAD_CAPACITY);
    const hotNoListener = await createSessions(kv, catalog, hotCourse, 3, HOT_CAPACITY);
    const all = await createLearnerTokens(
      kv,
      WARM_LEARNERS + HOT_LEARNERS + SMALL_SESSIONS * SMALL_ATTEMPTS + SPREAD_LEARNERS + HOT_LEARNERS,
    );
    let at = 0;
    const take = (n: number) => all.slice(at, at += n);
    return {
      catalog,
      warm,
      hot,
      small,
      spread,
      hotNoListener,
      tokens: {
        warm: take(WARM_LEARNERS),
        hot: take(HOT_LEARNERS),
        small: take(SMALL_SESSIONS * SMALL_ATTEMPTS),
        spread: take(SPREAD_LEARNERS),
        hotNoListener: take(HOT_LEARNERS),
      },
    };
  });
  const ids = (xs: { id: string }[]) => xs.map((x) => x.id);
  const job = (baseUrl: string) => ({ baseUrl, concurrency: CONCURRENCY });

  // Baselines.
  const serve = await phase("raw.serve", async () => {
    const plan = { kind: "echo" as const, tokens: setup.tokens.hot, sessionIds: ids(setup.hot) };
    await measure({ ...job(bare.baseUrl), durationMs: WARMUP_MS / 2, plan });
    return await measure({ ...job(bare.baseUrl), durationMs: SCENARIO_MS, plan });
  });
  const kvLoop = await phase("raw.kv", async () => {
    await rawKvLoop(kv, ["bench_raw", "warmup"], WARMUP_MS / 4);
    return await rawKvLoop(kv, ["bench_raw", "counter"], SCENARIO_MS);
  });

  // Holds through HTTP.
  const blocks = (tokens: string[], sessions: { id: string }[], perSession: number) => ({
    kind: "blocks" as const,
    tokens,
    sessionIds: ids(sessions),
    perSession,
  });
  await phase("warmup", () =>
    measure({
      ...job(app!.baseUrl),
      durationMs: WARMUP_MS,
      plan: blocks(setup.tokens.warm, setup.warm, WARM_LEARNERS),
    }));
  const hot = await phase("holds.hot", () =>
    holdScenario(
      app!,
      {
        ...job(app!.baseUrl),
        durationMs: SCENARIO_MS,
        plan: blocks(setup.tokens.hot, setup.hot, HOT_LEARNERS),
      },
      setup.hot,
      { drain: true },
    ));
  const hotSmall = await phase("holds.hotSmall", () =>
    holdScenario(app!, {
      ...job(app!.baseUrl),
      plan: blocks(setup.tokens.small, setup.small, SMALL_ATTEMPTS),
    }, setup.small));
  const spread = await phase("holds.spread", () =>
    holdScenario(
      app!,
      {
        ...job(app!.baseUrl),
        durationMs: SCENARIO_MS,
        plan: { kind: "spread", tokens: setup.tokens.spread, sessionIds: ids(setup.spread) },
      },
      setup.spread,
      { drain: true },
    ));
  // At 85 % of spread's sustained rate for STEADY_MS, rate-limited: the outbox backlog sampled
  // every 5 s must not grow with time, and drains when the load stops.
  const steadyRate = Math.max(10, Math.round(0.85 * spread.sustained!.holdsPerSec));
  // Sessions of its own, so its recount compares with its own 201s.
  const steadySetup = await phase("steady.setup", async () => ({
    sessions: await createSessions(kv, setup.catalog, setup.catalog.spreadCourse, SPREAD_SESSIONS, SPREAD_CAPACITY),
    tokens: await createLearnerTokens(kv, Math.ceil((steadyRate * STEADY_MS) / 1000 / 3) + 500),
  }));
  const steady = await phase("holds.spreadSteady", () =>
    holdScenario(
      app!,
      {
        ...job(app!.baseUrl),
        durationMs: STEADY_MS,
        ratePerSec: steadyRate,
        plan: { kind: "spread", tokens: steadySetup.tokens, sessionIds: ids(steadySetup.sessions) },
      },
      steadySetup.sessions,
      { drain: true, sampleEveryMs: 5_000 },
    ));
  const consistency = await phase("consistency", () => checkConsistency(kv));
  await app.close();
  app = null;

  // The same hot load on the same KV file, the app restarted without its background worker.
  app = await startBenchApp(dir, { background: false });
  const hotNoListener = await phase("holds.hotNoQueueListener", () =>
    holdScenario(app!, {
      ...job(app!.baseUrl),
      durationMs: SCENARIO_MS,
      plan: blocks(setup.tokens.hotNoListener, setup.hotNoListener, HOT_LEARNERS),
    }, setup.hotNoListener));
  const consistencyNoListener = await phase("consistency2", () => checkConsistency(app!.kv));
  // The KV baseline again, to show how much it drifted over the run (other load on the host, file growth).
  const kvAfter = await phase("raw.kvAfter", () => rawKvLoop(app!.kv, ["bench_raw", "counter"], SCENARIO_MS / 2));
  // The Kafka event relay on a real single-node broker and a KV file of its own (bench/relay.ts).
  const relay = await phase("relay", () => relayBench(dir, log));
  // 2 app instances on a real denokv, the worker role in this process (bench/multi.ts).
  const multi = await phase(
    "multi.denokv",
    () => multiInstanceBench(dir, log, { scenarioMs: SCENARIO_MS, warmupMs: WARMUP_MS }),
  );
  // The customer's scale: 10,000 browsing users, 2,000 seat streams, steady bookings (bench/users.ts).
  const users = await phase(
    "users",
    () => usersBench(dir, log, QUICK ? { stepMs: 10_000, steps: [2_500, 10_000] } : { stepMs: 15_000 }),
  );
  // Server render of the home page with the full demo catalog (bench/render.ts).
  const render = await phase("render.home", () => measureHomeRender({ kvPath: `${dir}/render.kv` }));
  const compliance = await phase("compliance", () => complianceScenario(`${dir}/compliance.kv`));

  const codes = (ps: { code: string }[]) => {
    const out: Record<string, number> = {};
    for (const p of ps) out[p.code] = (out[p.code] ?? 0) + 1;
    return out;
  };
  const holdRuns = { hot, hotSmall, spread, spreadSteady: steady, hotNoQueueListener: hotNoListener };
  const rawKv = kvLoop.opsPerSec;
  const rawServe = serve.report.reqPerSec;
  const result = {
    bench: "POST /api/v1/holds over HTTP, 64 concurrent clients (separate process), file-backed Deno KV",
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: navigator.hardwareConcurrency,
      cpuModel: os.cpus()[0]?.model ?? null,
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      os: `${Deno.build.os} ${os.release()} ${Deno.build.arch}`,
      /** 1-minute load average before and after: above ~0.5 means something else was running. */
      loadavg1m: { before: loadBefore[0], after: Deno.loadavg()[0] },
    },
    settings: {
      concurrency: CONCURRENCY,
      scenarioMs: SCENARIO_MS,
      warmupMs: WARMUP_MS,
      kv: "sqlite file in a temp dir (as production); raw.kv uses the same file",
      background:
        "worker on (as main.ts; Kafka relay with a no-op publisher, Cal.com sync with no tenant) except holds.hotNoQueueListener (named before queues were dropped: no worker); crons off",
      sustained:
        "holds / (load + drain): the drain ends when both outboxes are empty and no hold is due; cpuSecondsAfterLoad is this process's CPU (app + worker) meanwhile",
      loadGenerator: "separate Deno process, closed loop, keep-alive fetch (HTTP/1.1)",
    },
    holds: holdRuns,
    relay: relay.relay,
    multiInstance: multi,
    concurrentUsers: users,
    render: { home: render },
    compliance,
    raw: {
      kvAtomicOpsPerSec: rawKv,
      kvAtomic: kvLoop,
      kvAtomicAfterOpsPerSec: kvAfter.opsPerSec,
      serveReqPerSec: rawServe,
      serve: { ...serve.report, cpu: { serverPct: serve.serverCpuPct, clientPct: serve.report.clientCpuPct } },
      kafkaProduceMsgsPerSec: relay.raw.kafkaProduceMsgsPerSec,
    },
    ratio: {
      hotToRawKv: round(hot.opsPerSec / rawKv, 3),
      hotToServe: round(hot.opsPerSec / rawServe, 3),
      spreadToRawKv: round(spread.opsPerSec / rawKv, 3),
      hotSustainedToRawKv: round(hot.sustained!.holdsPerSec / rawKv, 3),
      spreadSustainedToRawKv: round(spread.sustained!.holdsPerSec / rawKv, 3),
      hotNoQueueListenerToRawKv: round(hotNoListener.opsPerSec / rawKv, 3),
      hotHoldsPerLaneCommit: hot.lanes.opsPerCommit,
      relayToRawKafkaProduce: relay.ratio.relayToRawKafkaProduce,
    },
    consistency: {
      problems: consistency.problems.length + consistencyNoListener.problems.length,
      codes: codes([...consistency.problems, ...consistencyNoListener.problems]),
      sessionsChecked: consistency.sessions,
    },
    targets: {
      oversoldZero: Object.values(holdRuns).every((r) => r.oversold === 0 && r.oversoldBy201 === 0),
      no5xx: Object.values(holdRuns).every((r) => r.errors5xx === 0),
      backgroundIdleAfterEveryRun: [hot, spread, steady].every((r) => r.sustained!.idle),
      /** The steady run's last backlog sample is at most 2× the median sample plus one second of load. */
      steadyBacklogFlat: steady.backlog!.last <= 2 * median(steady.backlog!.samples.map((x) => x[1])) + steadyRate,
      hotToRawKvAtLeastHalf: hot.opsPerSec / rawKv >= 0.5,
      hotP99AtMost100Ms: hot.p99Ms <= 100,
      ...relay.targets,
      homeRenderP95AtMost50Ms: render.p95Ms <= 50,
      complianceScanUnder10s: compliance.targetUnder10s,
      multiOversoldZero: multi === null ? null : Object.values(multi.holds).every((r) => r.oversold === 0),
      usersAtCustomerScaleWithinLimits: users.atCustomerScale ? users.atCustomerScale.broke.length === 0 : null,
      usersOversoldZero: users.oversold === 0,
      multiNo5xx: multi === null ? null : Object.values(multi.holds).every((r) => r.errors5xx === 0),
    },
    durationsMs: { ...durations, total: Math.round(performance.now() - t0) },
  };
  const text = JSON.stringify(result, null, 2) + "\n";
  await Deno.writeTextFile(new URL("../bench/results.json", import.meta.url), text);
  await Deno.stdout.write(new TextEncoder().encode(text));
  log("done; wrote bench/results.json");
} finally {
  await app?.close();
  await bare.close();
  await Deno.remove(dir, { recursive: true });
}
