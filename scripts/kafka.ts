/**
 * `deno task kafka`: a real Apache Kafka 3.9.1 (single node, KRaft) on 127.0.0.1, in the
 * foreground until Ctrl-C. Prints `KAFKA_BROKERS=127.0.0.1:<port>` once it answers.
 *
 *   deno task kafka [--port 9092] [--data-dir ./data/kafka] [--cache-dir DIR]
 *
 * Without --data-dir the data lives in a temporary directory removed on exit; with it, topics and
 * messages survive restarts (and the broker keeps the ports it had). The first run fetches the
 * jars with Maven (needs Java 17+ and Maven); later runs reuse the cache (`KAFKA_CACHE_DIR`, default
 * `~/.cache/training-booking/kafka-3.9.1`). The broker's log is `<data-dir>/server.log`.
 */
import { parseArgs } from "node:util";
import { defaultCacheDir, KafkaStartError, startKafkaBroker } from "./kafka_lib.ts";
import { quietKafkajs } from "../lib/relay/kafkajs.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string" },
    "data-dir": { type: "string" },
    "cache-dir": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log("deno task kafka [--port N] [--data-dir DIR] [--cache-dir DIR]");
  Deno.exit(0);
}
const port = values.port === undefined ? undefined : Number(values.port);
if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
  console.error(`--port must be a TCP port number, not "${values.port}"`);
  Deno.exit(2);
}

quietKafkajs();
const began = Date.now();
let broker;
try {
  broker = await startKafkaBroker({
    port,
    dataDir: values["data-dir"],
    cacheDir: values["cache-dir"] ?? defaultCacheDir(),
    log: (m) => console.error(m),
  });
} catch (err) {
  console.error(err instanceof KafkaStartError ? err.message : err);
  Deno.exit(1);
}
console.error(`Kafka started in ${Date.now() - began} ms; data in ${broker.dataDir}, log ${broker.logFile}`);
console.log(`KAFKA_BROKERS=${broker.brokers.join(",")}`);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  console.error("Stopping Kafka…");
  await broker.close();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", shutdown);
Deno.addSignalListener("SIGTERM", shutdown);

// Stay in the foreground; exit if the JVM dies on its own.
while (!stopping) {
  await new Promise((r) => setTimeout(r, 1000));
  if (!broker.running && !stopping) {
    console.error(`Kafka exited unexpectedly; see ${broker.logFile}`);
    Deno.exit(1);
  }
}
