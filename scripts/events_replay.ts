/**
 * Re-publishes outbox events to Kafka from a point in time, in commit order, so a new consumer
 * (e.g. an LRS) can be filled from history. Consumers deduplicate by event id (= statement id),
 * so replaying what they already have is harmless. The live relay's cursor is not touched.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 deno task events:replay --since 2026-11-01T00:00:00Z [--until …] [--dry-run]
 *
 * The store is `DENO_KV_PATH` or ./data/app.kv.
 */
import { replayEvents } from "../lib/relay/replay.ts";
import { loadConfig } from "../lib/config.ts";
import { createPublisher } from "../lib/relay/mod.ts";
import { openStore } from "../lib/store/kv.ts";

function arg(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

const usage = "Usage: deno task events:replay --since <ISO date-time> [--until <ISO date-time>] [--dry-run]";
const since = Date.parse(arg("--since") ?? "");
const untilArg = arg("--until");
const until = untilArg ? Date.parse(untilArg) : Infinity;
const dryRun = Deno.args.includes("--dry-run");
if (Number.isNaN(since) || Number.isNaN(until)) {
  console.error(usage);
  Deno.exit(2);
}
const config = loadConfig();
if (!dryRun && !config.kafkaBrokers.length) {
  console.error("KAFKA_BROKERS is not set: nowhere to publish. Use --dry-run to only count.");
  Deno.exit(2);
}
const kv = await openStore(config.kvPath);
const publisher = dryRun ? null : createPublisher(config);
try {
  const out = await replayEvents(kv, publisher, { sinceMs: since, untilMs: until, log: (m) => console.error(m) });
  console.log(JSON.stringify(out));
  if (out.failed) Deno.exitCode = 1;
} finally {
  await publisher?.close();
  kv.close();
}
