/**
 * The worker alone: `deno task worker`. Runs every background job (Kafka relay, Cal.com outbound
 * sync, hold sweep, reconciliation and sweep crons) against the KV of `DENO_KV_PATH`, beside app
 * instances started with `WORKER=0` (e.g. next to Deno Deploy, whose instances stop when idle and
 * may not reach a private Kafka). Several workers may run: leases keep each job to one at a time.
 * SIGINT/SIGTERM: finishes or abandons the in-flight sends, releases the leases, exits.
 */
import { BookingEngine } from "../lib/booking/engine.ts";
import { loadConfig } from "../lib/config.ts";
import { exitOnSignals } from "../lib/shutdown.ts";
import { openStore } from "../lib/store/mod.ts";
import { registerCrons, startWorker, type Worker, workerDepsFor } from "../lib/worker/mod.ts";
import { keyring } from "../lib/secrets/keyring.ts";

let worker: Worker | null = null;
// At the top level, before any await (as in main.ts).
registerCrons(() => worker);

const config = loadConfig();
// Secrets at rest: fails here in production without SECRETS_KEYS (lib/secrets/keyring.ts).
await keyring();
const kv = await openStore(config.kvPath, { maxChecks: config.kvMaxChecks, accessToken: config.kvAccessToken });
const engine = new BookingEngine(kv, {
  holdMinutes: config.holdMinutes,
  compliance: config.compliance,
});
const deps = workerDepsFor(kv, config, engine);
worker = startWorker(deps);
console.log(`worker: running (Kafka ${deps.relay.enabled ? "on" : "off: events wait in KV"}) on ${config.kvPath}`);

const running = worker;
exitOnSignals({ loops: [{ name: "worker", stop: () => running.stop() }], kv });
