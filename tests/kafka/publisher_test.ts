import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { KafkaPublisher, MESSAGE_SCHEMA_VERSION, toMessage } from "../../lib/relay/publisher.ts";
import { TOPICS, toStatement } from "../../lib/relay/xapi.ts";
import { skipKafka, startKafka } from "./broker.ts";
import { EMPTY_CONTEXT, testEvent } from "./event_fixture.ts";

Deno.test({
  name: "[relay] KafkaPublisher creates its topics and produces statements with key and headers",
  ignore: skipKafka(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const broker = await startKafka();
    const publisher = new KafkaPublisher({ brokers: broker.brokers, partitions: 2 });
    try {
      await publisher.connect();
      const events = [
        testEvent("session.scheduled", "S1", "admin"),
        testEvent("booking.confirmed", "S1", "web"),
        testEvent("booking.confirmed", "S2", "calcom"),
      ];
      const messages = events.map((e) => toMessage(e, toStatement(e, EMPTY_CONTEXT)));
      await publisher.publish(messages);
      await publisher.publish(messages.slice(1, 2)); // a redelivery: consumers dedupe by event-id

      const kafka = new Kafka({ clientId: "check", brokers: broker.brokers, logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      const meta = await admin.fetchTopicMetadata({ topics: Object.values(TOPICS) });
      await admin.disconnect();
      assert.deepEqual(meta.topics.map((t) => t.partitions.length), Object.values(TOPICS).map(() => 2));
      assert.deepEqual(await publisher.ensureTopics(), [], "a second ensure creates nothing");

      const consumer = kafka.consumer({ groupId: `check-${crypto.randomUUID()}` });
      const got: { topic: string; key: string; headers: Record<string, string>; id: string }[] = [];
      await consumer.connect();
      await consumer.subscribe({
        topics: [TOPICS.scheduled, TOPICS.registration, TOPICS.calBookingCreated],
        fromBeginning: true,
      });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`got ${got.length}/4 messages`)), 30_000);
        consumer.run({
          eachMessage: ({ topic, message }) => {
            const headers = Object.fromEntries(
              Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
            );
            got.push({ topic, key: String(message.key), headers, id: JSON.parse(String(message.value)).id });
            if (got.length === 4) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        }).catch(reject);
      });
      await consumer.disconnect();

      const byId = Map.groupBy(got, (m) => m.id);
      assert.equal(byId.size, 3);
      assert.equal(byId.get(events[1].id)?.length, 2, "redelivered, same event-id");
      for (const [i, topic] of [TOPICS.scheduled, TOPICS.registration, TOPICS.calBookingCreated].entries()) {
        const m = byId.get(events[i].id)![0];
        assert.equal(m.topic, topic);
        assert.equal(m.key, events[i].sessionId);
        assert.deepEqual(m.headers, {
          "event-id": events[i].id,
          "event-type": events[i].type,
          "origin": events[i].origin,
          "correlation-id": events[i].correlationId,
          "schema-version": MESSAGE_SCHEMA_VERSION,
        });
      }
    } finally {
      await publisher.close();
      await broker.close();
    }
  },
});
