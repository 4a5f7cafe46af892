/**
 * The multi-instance section of `deno task bench`: `holds.hot` and `holds.spread` with 2 app
 * instances (`main.ts`, WORKER=0) on one real `denokv` (KV Connect), and the worker role in this
 * process on the same denokv (Kafka relay with a {@link NullPublisher}, Cal.com sync with no
 * tenant, hold sweep): the self-hosted shape of the README's Deploy section. Beside them, the raw
 * `denokv` commit rate in the same run: an uncontended read-check-set loop through KV Connect.
 *
 * The fixtures are written to the SQLite file with a local KV handle before `denokv` serves it
 * (the same file format), so seeding does not depend on KV Connect's 10-check limit. Afterwards
 * every session is recounted and `checkConsistency` runs on the file, `denokv` stopped. Runs alone
 * too: `deno run -A bench/multi.ts`.
 * @module
 */
import { BookingEngine } from "../lib/booking/engine.ts";
import { checkConsistency } from "../lib/booking/consistency.ts";
import { OutboundSync } from "../lib/calcom/outbound.ts";
import { reconcileDepsFor } from "../lib/calcom/reconcile.ts";
import { loadConfig } from "../lib/config.ts";
import { EventRelay } from "../lib/relay/relay.ts";
import { openStore } from "../lib/store/mod.ts";
import { startWorker } from "../lib/worker/mod.ts";
import { createNotifier } from "../lib/notify/mod.ts";
import { createCatalog, createLearnerTokens, createSessions } from "./fixtures.ts";
import { procCpuSeconds } from "./idle.ts";
import { type Child, type DenokvServer, findDenokv, startAppProcess, startDenokv } from "./processes.ts";
import { rawKvLoop, type RawKvResult } from "./raw_kv.ts";
import { type HoldScenario, holdScenario } from "./scenario.ts";
import { NullPublisher } from "./servers.ts";
import { round } from "./stats.ts";

const INSTANCES = 2;
const CONCURRENCY = 64;
const HOT_CAPACITY = 10_000;
const HOT_SESSIONS = 2;
const HOT_LEARNERS = 6_000;
const SPREAD_SESSIONS = 500;
const SPREAD_CAPACITY = 500;
const SPREAD_LEARNERS = 4_000;

/** What {@link multiInstanceBench} reports. */
export interface MultiResult {
  instances: number;
  store: string;
  raw: { denokvAtomicOpsPerSec: number; denokvAtomic: RawKvResult };
  holds: { hot: HoldScenario; spread: HoldScenario };
  ratio: { hotToRawDenokv: number; spreadToRawDenokv: number };
  consistency: { problems: number; codes: Record<string, number>; sessionsChecked: number };
}

/** Runs the section in `dir`; null (with a log line) when no `denokv` binary is found. */
export async function multiInstanceBench(
  dir: string,
  log: (m: string) => void,
  options: { scenarioMs: number; warmupMs: number },
): Promise<MultiResult | null> {
  const bin = findDenokv();
  if (!bin) {
    log("multi: no denokv binary (DENOKV_BIN, ~/.cargo/bin/denokv): section left out");
    return null;
  }
  const file = `${dir}/denokv.sqlite3`;
  const local = await Deno.openKv(file);
  const catalog = await createCatalog(local);
  const warm = await createSessions(local, catalog, catalog.hotCourse, 1, HOT_CAPACITY);
  const hot = await createSessions(local, catalog, catalog.hotCourse, HOT_SESSIONS, HOT_CAPACITY);
  const spread = await createSessions(local, catalog, catalog.spreadCourse, SPREAD_SESSIONS, SPREAD_CAPACITY);
  const tokens = await createLearnerTokens(local, 2_000 + HOT_LEARNERS + SPREAD_LEARNERS);
  local.close();

  let server: DenokvServer | null = null;
  const apps: Child[] = [];
  let remote: Deno.Kv | null = null;
  let worker: { stop(): Promise<void> } | null = null;
  try {
    server = await startDenokv(bin, file);
    for (let i = 0; i < INSTANCES; i++) apps.push(await startAppProcess({ ...server.clientEnv, WORKER: "0" }));
    Deno.env.set("DENO_KV_ACCESS_TOKEN", server.token);
    // Through the store layer, so the worker's commits keep to the store's limits where it knows them.
    remote = await openStore(server.url);
    const kv = remote;
    const config = loadConfig({ ...server.clientEnv, SEED_DEMO: "0", DEV_LOGIN: "0" });
    const engine = new BookingEngine(kv, { holdMinutes: config.holdMinutes });
    const quiet = () => {};
    worker = startWorker({
      kv,
      engine,
      relay: new EventRelay(kv, new NullPublisher()),
      outbound: new OutboundSync({ kv, config, log: quiet }),
      reconcile: reconcileDepsFor(kv, config, engine),
      holdSweep: { log: quiet },
      // As main.ts without SMTP_URL: messages are made and kept, not sent.
      notifier: createNotifier(kv, config, engine),
    });
    // CPU of the app instances, this process (the worker runs here) and denokv.
    const pids = [...apps.map((a) => a.pid), Deno.pid, server.pid];
    const cpuSeconds = () => pids.reduce((s, pid) => s + procCpuSeconds(pid), 0);
    const target = { kv, cpuSeconds };
    const [base, ...more] = apps.map((a) => a.url);
    const job = { baseUrl: base, alsoBaseUrls: more, concurrency: CONCURRENCY };
    const ids = (xs: { id: string }[]) => xs.map((x) => x.id);

    log("multi: raw denokv loop…");
    await rawKvLoop(kv, ["bench_raw", "warmup"], options.warmupMs / 4);
    const raw = await rawKvLoop(kv, ["bench_raw", "counter"], options.scenarioMs);
    log("multi: warmup…");
    await holdScenario(target, {
      ...job,
      durationMs: options.warmupMs,
      plan: { kind: "blocks", tokens: tokens.slice(0, 2_000), sessionIds: ids(warm), perSession: 2_000 },
    }, warm);
    log("multi: holds.hot…");
    const hotRun = await holdScenario(
      target,
      {
        ...job,
        durationMs: options.scenarioMs,
        plan: {
          kind: "blocks",
          tokens: tokens.slice(2_000, 2_000 + HOT_LEARNERS),
          sessionIds: ids(hot),
          perSession: HOT_LEARNERS,
        },
      },
      hot,
      { drain: true },
    );
    log("multi: holds.spread…");
    const spreadRun = await holdScenario(
      target,
      {
        ...job,
        durationMs: options.scenarioMs,
        plan: { kind: "spread", tokens: tokens.slice(2_000 + HOT_LEARNERS), sessionIds: ids(spread) },
      },
      spread,
      { drain: true },
    );

    await worker.stop();
    worker = null;
    remote.close();
    remote = null;
    for (const a of apps.splice(0)) await a.close();
    await server.close();
    server = null;
    const after = await Deno.openKv(file);
    const consistency = await checkConsistency(after).finally(() => after.close());
    const codes: Record<string, number> = {};
    for (const p of consistency.problems) codes[p.code] = (codes[p.code] ?? 0) + 1;
    return {
      instances: INSTANCES,
      store: "denokv 0.14.0 (KV Connect over loopback HTTP), SQLite file; worker role in the bench process",
      raw: { denokvAtomicOpsPerSec: raw.opsPerSec, denokvAtomic: raw },
      holds: { hot: hotRun, spread: spreadRun },
      ratio: {
        hotToRawDenokv: round(hotRun.opsPerSec / raw.opsPerSec, 3),
        spreadToRawDenokv: round(spreadRun.opsPerSec / raw.opsPerSec, 3),
      },
      consistency: { problems: consistency.problems.length, codes, sessionsChecked: consistency.sessions },
    };
  } finally {
    await worker?.stop();
    remote?.close();
    for (const a of apps) await a.close();
    await server?.close();
  }
}

if (import.meta.main) {
  const dir = await Deno.makeTempDir({ prefix: "bench-multi-" });
  try {
    const result = await multiInstanceBench(dir, (m) => console.error(m), { scenarioMs: 6_000, warmupMs: 2_000 });
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
