/**
 * Kafka side of the event relay (draft; not wired into main.ts yet): creates the topics it writes
 * to when missing, then produces each event's xAPI statement with an idempotent producer
 * (acks = all, one request in flight, so per-key order holds across retries).
 *
 * Message: key = session id (per-session order), value = the statement as JSON, headers
 * `event-id`, `event-type`, `origin`, `correlation-id`, `schema-version`. Delivery is
 * at-least-once; consumers deduplicate by `event-id` (= statement id).
 */
import { Kafka, type KafkaConfig, logLevel, Partitioners, type Producer } from "kafkajs";
import type { DomainEvent } from "../booking/events.ts";
import { quietKafkajs } from "./kafkajs.ts";
import { type Topic, topicFor, TOPICS, type XapiStatement } from "./xapi.ts";

/** Version of the message format (headers + statement shape); the `schema-version` header. */
export const MESSAGE_SCHEMA_VERSION = "1";

/** One Kafka record. */
export interface OutboundMessage {
  topic: Topic;
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** The record for an event and its statement. */
export function toMessage(event: DomainEvent, statement: XapiStatement): OutboundMessage {
  if (statement.id !== event.id) throw new Error(`statement ${statement.id} is not event ${event.id}`);
  return {
    topic: topicFor(event),
    key: event.sessionId,
    value: JSON.stringify(statement),
    headers: {
      "event-id": event.id,
      "event-type": event.type,
      "origin": event.origin,
      "correlation-id": event.correlationId,
      "schema-version": MESSAGE_SCHEMA_VERSION,
    },
  };
}

/**
 * The record of a `user.erased` event on `nlj.privacy.erasure`: key = the user id, value =
 * `{type, userId, erasedAt, eventId}`: no personal data, so that downstream stores (an LRS)
 * erase what they hold for that user. Statements already in Kafka are immutable.
 */
export function toErasureMessage(event: DomainEvent): OutboundMessage {
  const userId = event.learnerId;
  if (!userId) throw new Error(`erasure event ${event.id} names no user`);
  const erasedAt = typeof event.data.erasedAt === "string" ? event.data.erasedAt : event.occurredAt;
  return {
    topic: topicFor(event),
    key: userId,
    value: JSON.stringify({ type: "user.erased", userId, erasedAt, eventId: event.id }),
    headers: {
      "event-id": event.id,
      "event-type": event.type,
      "origin": event.origin,
      "correlation-id": event.correlationId,
      "schema-version": MESSAGE_SCHEMA_VERSION,
    },
  };
}

export interface KafkaPublisherOptions {
  brokers: string[];
  clientId?: string;
  /** Partitions of topics this publisher creates; default 3. Existing topics are left alone. */
  partitions?: number;
  /** Replication factor of topics it creates; default 1 (the single-node dev broker). */
  replicationFactor?: number;
  /** Topics to ensure on connect; default every topic in {@link TOPICS}. */
  topics?: readonly string[];
  /** kafkajs logging; default ERROR. */
  logLevel?: logLevel;
  /** Passed to kafkajs (e.g. `retry`, `connectionTimeout`, `ssl`, `sasl`). */
  kafka?: Omit<KafkaConfig, "brokers" | "clientId" | "logLevel">;
}

/** Publishes statements to Kafka. `connect()` once, `publish()` many times, `close()` at the end. */
export class KafkaPublisher {
  readonly #kafka: Kafka;
  readonly #options: KafkaPublisherOptions;
  #producer: Producer | null = null;

  constructor(options: KafkaPublisherOptions) {
    quietKafkajs();
    this.#options = options;
    this.#kafka = new Kafka({
      ...options.kafka,
      brokers: options.brokers,
      clientId: options.clientId ?? "training-booking-relay",
      logLevel: options.logLevel ?? logLevel.ERROR,
    });
  }

  /** Creates the missing topics (partitions/replication from the options); returns those created. */
  async ensureTopics(topics: readonly string[] = this.#options.topics ?? Object.values(TOPICS)): Promise<string[]> {
    const admin = this.#kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t));
      if (missing.length) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({
            topic,
            numPartitions: this.#options.partitions ?? 3,
            replicationFactor: this.#options.replicationFactor ?? 1,
          })),
        });
      }
      return missing;
    } finally {
      await admin.disconnect();
    }
  }

  /** Ensures the topics and connects the idempotent producer. */
  async connect(): Promise<void> {
    await this.ensureTopics();
    const producer = this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Java-compatible murmur2 partitioning: the same key lands on the same partition as with
      // any other Kafka client.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    this.#producer = producer;
  }

  /**
   * Produces the messages (grouped by topic, in order) and resolves once the broker has them with
   * acks from all in-sync replicas. Rejects when Kafka is unreachable after kafkajs's retries; the
   * caller keeps the events and tries again (at-least-once).
   */
  async publish(messages: readonly OutboundMessage[]): Promise<void> {
    if (!this.#producer) throw new Error("KafkaPublisher.publish before connect()");
    if (!messages.length) return;
    const byTopic = new Map<string, OutboundMessage[]>();
    for (const m of messages) {
      const list = byTopic.get(m.topic);
      if (list) list.push(m);
      else byTopic.set(m.topic, [m]);
    }
    await this.#producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, list]) => ({
        topic,
        messages: list.map(({ key, value, headers }) => ({ key, value, headers })),
      })),
    });
  }

  /** Disconnects the producer. */
  async close(): Promise<void> {
    const producer = this.#producer;
    this.#producer = null;
    await producer?.disconnect();
  }
}
