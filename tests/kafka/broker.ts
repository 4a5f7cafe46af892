/**
 * Test helper: a real single-node Kafka 3.9.1 (KRaft) per call, on free loopback ports with its
 * data in a temporary directory. The jars are fetched with Maven into the shared cache on first
 * use (see scripts/kafka_lib.ts). Needs Java 17+ and Maven.
 *
 * Failing to start THROWS with a message saying why, in CI or not: Kafka tests never skip
 * silently. On a machine without Java or Maven, `SKIP_KAFKA=1` leaves them out through
 * {@link skipKafka} (refused when `CI=true`).
 */
import { type KafkaBrokerOptions, KafkaStartError, startKafkaBroker } from "../../scripts/kafka_lib.ts";
import { quietKafkajs } from "../../lib/relay/kafkajs.ts";

/** A running test broker. `stop()`/`kill()` keep ports and data; `restart()` brings it back. */
export interface TestKafka {
  /** `["127.0.0.1:<port>"]`, for `new Kafka({brokers})`. */
  brokers: string[];
  /** The SASL_SSL listener (with `saslSsl` users); empty otherwise. */
  saslSslBrokers: string[];
  /** PEM file of the CA behind the SASL_SSL listener's certificate; null without it. */
  caFile: string | null;
  /** Graceful stop (SIGTERM); data kept. */
  stop(): Promise<void>;
  /** Starts again on the same port and data; resolves when the broker answers. */
  restart(): Promise<void>;
  /** Crash (SIGKILL); data kept. */
  kill(): Promise<void>;
  /** Stops the broker and deletes its data directory. Call it in a `finally`. */
  close(): Promise<void>;
  /** Milliseconds the last (re)start took (JVM spawn until the admin client answers). */
  readonly startMs: number;
}

/**
 * Whether Kafka tests should be left out: only when `SKIP_KAFKA=1` outside CI.
 * Use as `Deno.test({ ignore: skipKafka(), ... })`. Throws when `SKIP_KAFKA` is set with `CI=true`.
 */
export function skipKafka(): boolean {
  if (!Deno.env.get("SKIP_KAFKA")) return false;
  if (Deno.env.get("CI") === "true") {
    throw new Error("SKIP_KAFKA is not allowed in CI: the Kafka tests are a required part of the suite.");
  }
  return true;
}

/** Starts a broker; throws a KafkaStartError explaining what is missing when it cannot. */
export async function startKafka(options: Omit<KafkaBrokerOptions, "log"> = {}): Promise<TestKafka> {
  quietKafkajs();
  try {
    const broker = await startKafkaBroker({ ...options, log: (m) => console.error(`[kafka] ${m}`) });
    return {
      brokers: broker.brokers,
      saslSslBrokers: broker.saslSslBrokers,
      caFile: broker.caFile,
      stop: () => broker.stop(),
      restart: () => broker.restart(),
      kill: () => broker.kill(),
      close: () => broker.close(),
      get startMs() {
        return broker.startMs;
      },
    };
  } catch (err) {
    if (err instanceof KafkaStartError) {
      throw new KafkaStartError(`${err.message}\n(Kafka tests need Java 17+ and Maven; see tests/kafka/broker.ts.)`);
    }
    throw err;
  }
}
