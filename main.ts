/**
 * Production entry: `deno task start` (and Deno Deploy's entrypoint). Opens KV (a file under ./data
 * by default; Deploy's database there), loads the demo catalog on first start (not in
 * production), starts background work and serves on HOST:PORT; SIGTERM/SIGINT shut it down cleanly.
 */
import { createApp } from "./lib/app.ts";
import { startCancelResume, startHoldSweep, startQueueListener } from "./lib/background.ts";
import { BookingEngine } from "./lib/booking/engine.ts";
import { startOutboundSync } from "./lib/calcom/outbound.ts";
import { reconcileDepsFor, startReconcileCron } from "./lib/calcom/reconcile.ts";
import { loadConfig } from "./lib/config.ts";
import { serveWithHeaderTimeout } from "./lib/http/header_timeout.ts";
import { createRelay } from "./lib/relay/mod.ts";
import { seedDemoData } from "./lib/seed/mod.ts";
import { exitOnSignals } from "./lib/shutdown.ts";
import { openStore } from "./lib/store/mod.ts";

const config = loadConfig();
const kv = await openStore(config.kvPath, { maxChecks: config.kvMaxChecks, accessToken: config.kvAccessToken });
if (config.seedDemo) {
  const t0 = performance.now();
  const result = await seedDemoData(kv);
  if (result.seeded) console.log(`Loaded the demo catalog in ${Math.round(performance.now() - t0)} ms`);
}
const engine = new BookingEngine(kv, { holdMinutes: config.holdMinutes, cancelStepPauseMs: config.cancelStepPauseMs });
const relay = createRelay(kv, config);
// Cal.com: the outbound runner always runs (with no tenant every booking ends "skipped").
const outbound = startOutboundSync({ kv, config });
startQueueListener(kv, engine, relay, outbound);
startHoldSweep(engine);
startCancelResume(engine);
startReconcileCron(reconcileDepsFor(kv, config, engine));
relay.start();
if (!relay.enabled) console.log("KAFKA_BROKERS is not set: events are kept in KV as pending until it is.");
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
exitOnSignals({
  server,
  loops: [{ name: "event relay", stop: () => relay.stop() }, {
    name: "Cal.com outbound sync",
    stop: () => outbound.stop(),
  }],
  kv,
});
