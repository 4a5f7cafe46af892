/**
 * Production entry: `deno task start` (and Deno Deploy's entrypoint). Opens KV (a file under ./data
 * by default; Deploy's database there), loads the demo catalog on first start (not in
 * production), runs the background worker (unless WORKER=0) and serves on HOST:PORT;
 * SIGTERM/SIGINT shut it down cleanly.
 */
import { createApp } from "./lib/app.ts";
import { BookingEngine } from "./lib/booking/engine.ts";
import { loadConfig } from "./lib/config.ts";
import { seedCourseWaitlistDemo } from "./lib/seed/course_waitlist.ts";
import { serveWithHeaderTimeout } from "./lib/http/header_timeout.ts";
import { seedTeachingDemo } from "./lib/seed/teaching.ts";
import { attendanceSettingsOf } from "./lib/attendance/windows.ts";
import { seedDemoData, seedReportHistory } from "./lib/seed/mod.ts";
import { exitOnSignals } from "./lib/shutdown.ts";
import { openStore } from "./lib/store/mod.ts";
import { registerCrons, startWorker, type Worker, workerDepsFor } from "./lib/worker/mod.ts";
import { runExclusive } from "./lib/worker/lease.ts";
import { keyring } from "./lib/secrets/keyring.ts";

let worker: Worker | null = null;
// At the top level, before any await: Deno Deploy discovers crons statically.
registerCrons(() => worker);

const config = loadConfig();
// Secrets at rest: fails here in production without SECRETS_KEYS (lib/secrets/keyring.ts).
await keyring();
const kv = await openStore(config.kvPath, { maxChecks: config.kvMaxChecks, accessToken: config.kvAccessToken });
if (config.seedDemo) {
  const t0 = performance.now();
  const result = await seedDemoData(kv);
  if (result.seeded) console.log(`Loaded the demo catalog in ${Math.round(performance.now() - t0)} ms`);
  // The instructor demo: past sessions with attendance once, and a session live now on every start.
  // Under a lease: instances starting together would both see it missing and make it twice.
  await runExclusive(kv, "seed:teaching", async () => {
    await seedTeachingDemo(kv, new Date(), attendanceSettingsOf(config));
  }, { leaseMs: 60_000 });
  // A past of finished sessions, so the reports show real figures (once per store).
  if (await seedReportHistory(kv)) console.log("Loaded the demo report history");
}
const engine = new BookingEngine(kv, {
  holdMinutes: config.holdMinutes,
  cancelStepPauseMs: config.cancelStepPauseMs,
  compliance: config.compliance,
});
// The demo learner waits for any date of one full course (needs the engine; once per store).
if (config.seedDemo && await seedCourseWaitlistDemo(engine)) console.log("Loaded the demo course-wide waitlist");
const deps = workerDepsFor(kv, config, engine);
const { relay, outbound } = deps;
if (config.worker) {
  worker = startWorker(deps);
  if (!relay.enabled) console.log("KAFKA_BROKERS is not set: events are kept in KV as pending until it is.");
} else {
  console.log("WORKER=0: background jobs run in a separate worker process (deno task worker).");
}
const app = await createApp({ kv, config, engine, relay, outbound }, {
  dev: Deno.env.get("FRESH_DEV") === "1",
  production: config.production,
});
// Deno.serve has no header-read timeout: a small front closes connections whose request head is late.
const server = await serveWithHeaderTimeout({
  hostname: config.hostname,
  port: config.port,
  headerTimeoutMs: config.headerTimeoutMs,
  onListen: ({ hostname, port }) => {
    const host = hostname === "0.0.0.0" ? "localhost" : hostname.includes(":") ? `[${hostname}]` : hostname;
    console.log(`Listening on http://${host}:${port}/`);
  },
}, app.fetch);
const running = worker;
exitOnSignals({ server, loops: running ? [{ name: "worker", stop: () => running.stop() }] : [], kv });
