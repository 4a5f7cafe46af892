import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { listEvents } from "../../lib/booking/events.ts";
import { KafkaPublisher } from "../../lib/relay/publisher.ts";
import { replayEvents } from "../../lib/relay/replay.ts";
import { TOPICS } from "../../lib/relay/xapi.ts";
import { startApiFixture } from "../api/fixture.ts";
import { skipKafka, startKafka } from "./broker.ts";

/** Reads every message of every topic until `want` distinct event ids arrived (or times out). */
async function consumeIds(brokers: string[], want: number, timeoutMs = 30_000): Promise<string[]> {
  const kafka = new Kafka({ clientId: "replay-check", brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `replay-${crypto.randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: Object.values(TOPICS), fromBeginning: true });
  const ids: string[] = [];
  const { promise, resolve } = Promise.withResolvers<void>();
  await consumer.run({
    eachMessage: ({ message }) => {
      ids.push(String(message.headers?.["event-id"]));
      if (new Set(ids).size >= want) resolve();
      return Promise.resolve();
    },
  });
  const timer = setTimeout(resolve, timeoutMs);
  await promise;
  clearTimeout(timer);
  await consumer.disconnect();
  return ids;
}

Deno.test({
  name: "[relay] events:replay re-publishes the events from a point in time, in commit order",
  ignore: skipKafka(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const broker = await startKafka();
    const f = await startApiFixture();
    try {
      const people = await f.learners(6);
      const s = await f.session({ capacity: 10 });
      for (const p of people.slice(0, 2)) await p.api.post("/api/v1/holds", { sessionId: s.id });
      await new Promise((r) => setTimeout(r, 20));
      const since = Date.now();
      await new Promise((r) => setTimeout(r, 20));
      for (const p of people.slice(2)) await p.api.post("/api/v1/holds", { sessionId: s.id });
      const { events } = await listEvents(f.services.kv, { limit: 10_000 });
      const expected = events.filter((e) => Date.parse(e.occurredAt) >= since).map((e) => e.id);
      assert.equal(expected.length, 4);

      const dry = await replayEvents(f.services.kv, null, { sinceMs: since });
      assert.deepEqual(dry, { events: 4, published: 0, failed: 0 });

      const publisher = new KafkaPublisher({ brokers: broker.brokers, partitions: 1 });
      const out = await replayEvents(f.services.kv, publisher, { sinceMs: since });
      await publisher.close();
      assert.deepEqual(out, { events: 4, published: 4, failed: 0 });
      const ids = await consumeIds(broker.brokers, 4);
      assert.deepEqual(ids, expected, "exactly the window, in commit order");
    } finally {
      await f.close();
      await broker.close();
    }
  },
});
