/**
 * Kafka as hosted Kafka runs it: SASL_SSL. A real broker (tests/kafka/broker.ts) with a TLS
 * listener whose certificate a CA made by `keytool` signed, and users for PLAIN, SCRAM-SHA-256 and
 * SCRAM-SHA-512. The app's publisher, configured from the environment, publishes with each
 * mechanism; a consumer on the same listener reads the statements back. A wrong password is
 * refused, and the password is never printed.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { loadConfig } from "../../lib/config.ts";
import { kafkaSecurity } from "../../lib/relay/kafkajs.ts";
import { createPublisher } from "../../lib/relay/mod.ts";
import { toMessage } from "../../lib/relay/publisher.ts";
import { TOPICS, toStatement } from "../../lib/relay/xapi.ts";
import { skipKafka, startKafka } from "./broker.ts";
import { EMPTY_CONTEXT, testEvent } from "./event_fixture.ts";

/** Captures console output (kafkajs logs through it) while `fn` runs. */
async function capture<T>(fn: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; printed: string }> {
  const lines: string[] = [];
  const saved = { log: console.log, error: console.error, warn: console.warn, info: console.info };
  for (const k of ["log", "error", "warn", "info"] as const) {
    console[k] = (...a: unknown[]) => lines.push(a.map((x) => x instanceof Error ? x.stack : String(x)).join(" "));
  }
  try {
    const [result] = await Promise.allSettled([fn()]);
    return { result, printed: lines.join("\n") };
  } finally {
    Object.assign(console, saved);
  }
}

Deno.test({
  name: "[relay] publishes over SASL_SSL with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512; a wrong password is refused",
  ignore: skipKafka(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const password = `pw-${crypto.randomUUID()}`;
    const broker = await startKafka({ saslSsl: { users: [{ username: "relay", password }] } });
    try {
      assert.equal(broker.saslSslBrokers.length, 1);
      const base = {
        KAFKA_BROKERS: broker.saslSslBrokers.join(","),
        KAFKA_SSL: "1",
        KAFKA_SSL_CA_FILE: broker.caFile!,
        KAFKA_SASL_USERNAME: "relay",
        KAFKA_TOPIC_PARTITIONS: "1",
      };
      for (const mechanism of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]) {
        const config = loadConfig({ ...base, KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_PASSWORD: password });
        const publisher = createPublisher(config)!;
        const event = testEvent("session.scheduled", `S-${mechanism}`, "admin");
        try {
          await publisher.connect();
          await publisher.publish([toMessage(event, toStatement(event, EMPTY_CONTEXT))]);
        } finally {
          await publisher.close();
        }
        // Read it back on the same SASL_SSL listener, with the same mechanism.
        const kafka = new Kafka({
          clientId: "check",
          brokers: config.kafkaBrokers,
          logLevel: logLevel.NOTHING,
          ...kafkaSecurity(config),
        });
        const consumer = kafka.consumer({ groupId: `check-${crypto.randomUUID()}` });
        await consumer.connect();
        try {
          await consumer.subscribe({ topics: [TOPICS.scheduled], fromBeginning: true });
          const ids = await new Promise<string[]>((resolve, reject) => {
            const seen: string[] = [];
            consumer.run({
              eachMessage: ({ message }) => {
                seen.push(JSON.parse(String(message.value)).id);
                if (seen.includes(event.id)) resolve(seen);
                return Promise.resolve();
              },
            }).catch(reject);
          });
          assert.ok(ids.includes(event.id), `${mechanism}: the statement came back`);
        } finally {
          await consumer.disconnect();
        }
      }

      // A wrong password: refused by the broker, and neither password is printed.
      const wrong = `wrong-${crypto.randomUUID()}`;
      const bad = createPublisher(
        loadConfig({ ...base, KAFKA_SASL_MECHANISM: "SCRAM-SHA-256", KAFKA_SASL_PASSWORD: wrong }),
      )!;
      const { result, printed } = await capture(() => bad.connect());
      await bad.close().catch(() => {});
      assert.equal(result.status, "rejected");
      const message = String((result as PromiseRejectedResult).reason?.message ?? "");
      assert.match(message, /SASL|authentication|Authentication/i);
      for (const secret of [password, wrong]) {
        assert.ok(!message.includes(secret), "the error does not carry the password");
        assert.ok(!printed.includes(secret), "nothing printed carries the password");
      }
    } finally {
      await broker.close();
    }
  },
});
