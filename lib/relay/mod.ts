/** The relay as the app starts it: Kafka when KAFKA_BROKERS is set, otherwise off (events wait). */
import type { Config } from "../config.ts";
import { kafkaSecurity } from "./kafkajs.ts";
import { KafkaPublisher } from "./publisher.ts";
import { EventRelay, type RelayOptions } from "./relay.ts";

/** The Kafka publisher for this configuration (TLS and SASL as configured), or null without KAFKA_BROKERS. */
export function createPublisher(config: Config): KafkaPublisher | null {
  if (!config.kafkaBrokers.length) return null;
  return new KafkaPublisher({
    brokers: config.kafkaBrokers,
    partitions: config.kafkaPartitions,
    replicationFactor: config.kafkaReplicationFactor,
    // Fail fast and let the relay's own backoff (capped at 30 s) drive retries during an outage.
    kafka: {
      ...kafkaSecurity(config),
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2_000 },
    },
  });
}

/** Builds the relay for this configuration (not started; off without KAFKA_BROKERS). */
export function createRelay(kv: Deno.Kv, config: Config, options: RelayOptions = {}): EventRelay {
  return new EventRelay(kv, createPublisher(config), options);
}
