import assert from "node:assert/strict";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { randomClusterId } from "../../scripts/kafka_lib.ts";
import { skipKafka, startKafka } from "./broker.ts";

type Got = { key: string; value: string; eventId: string };

/** Reads `count` messages of `topic` from the beginning with a fresh consumer group. */
async function consumeAll(kafka: Kafka, topic: string, count: number): Promise<Got[]> {
  const consumer = kafka.consumer({ groupId: `smoke-${crypto.randomUUID()}` });
  const got: Got[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.length}/${count} messages in 30 s`)), 30_000);
      consumer.run({
        eachMessage: ({ message }) => {
          got.push({
            key: message.key?.toString() ?? "",
            value: message.value?.toString() ?? "",
            eventId: message.headers?.["event-id"]?.toString() ?? "",
          });
          if (got.length >= count) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      }).catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return got.sort((a, b) => a.value.localeCompare(b.value));
}

Deno.test({
  name: "[kafka] a real broker keeps produced messages across stop, restart and a crash",
  ignore: skipKafka(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const t0 = Date.now();
    const broker = await startKafka();
    console.log(`[kafka] started in ${Date.now() - t0} ms (JVM ${broker.startMs} ms)`);
    try {
      // kafkajs logs retried, expected errors right after a start ("the coordinator is loading");
      // real failures surface as rejected promises.
      const kafka = new Kafka({ clientId: "smoke", brokers: broker.brokers, logLevel: logLevel.NOTHING });
      const topic = "smoke.events";
      const admin = kafka.admin();
      await admin.connect();
      assert.equal(
        await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true }),
        true,
      );
      await admin.disconnect();

      const producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      const sent = ["a", "b", "c"].map((v, i) => ({
        key: `session-${i % 2}`,
        value: `message-${v}`,
        headers: { "event-id": crypto.randomUUID() },
      }));
      const meta = await producer.send({ topic, acks: -1, messages: sent });
      assert.equal(meta.every((m) => m.errorCode === 0), true);
      await producer.disconnect();

      const expected = sent.map((m) => ({ key: m.key, value: m.value, eventId: m.headers["event-id"] }));
      assert.deepEqual(await consumeAll(kafka, topic, 3), expected);

      await broker.stop();
      await broker.restart();
      console.log(`[kafka] restarted after stop in ${broker.startMs} ms`);
      assert.deepEqual(await consumeAll(kafka, topic, 3), expected, "data survives a graceful restart");

      await broker.kill();
      await broker.restart();
      console.log(`[kafka] restarted after kill in ${broker.startMs} ms`);
      assert.deepEqual(await consumeAll(kafka, topic, 3), expected, "data survives a crash");
    } finally {
      await broker.close();
    }
  },
});

Deno.test("[kafka] cluster ids are 22 URL-safe base64 characters and never start with '-' (StorageTool reads those as options)", () => {
  const ids = Array.from({ length: 5_000 }, () => randomClusterId());
  for (const id of ids) {
    assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  }
  assert.equal(new Set(ids).size, ids.length);
});
