import assert from "node:assert/strict";
import { loadConfig } from "../config.ts";
import { kafkaSecurity } from "./kafkajs.ts";

Deno.test("[relay] kafkajs security options: TLS with the CA file read at startup, SASL as configured", () => {
  assert.deepEqual(kafkaSecurity(loadConfig({ KAFKA_BROKERS: "k:9092" })), {});
  assert.deepEqual(kafkaSecurity(loadConfig({ KAFKA_SSL: "1" })), { ssl: true });
  const config = loadConfig({
    KAFKA_SSL_CA_FILE: "/etc/kafka/ca.pem",
    KAFKA_SASL_MECHANISM: "scram-sha-256",
    KAFKA_SASL_USERNAME: "relay",
    KAFKA_SASL_PASSWORD: "pw",
  });
  const read: string[] = [];
  const options = kafkaSecurity(config, (path) => {
    read.push(path);
    return "-----BEGIN CERTIFICATE-----\n…";
  });
  assert.deepEqual(read, ["/etc/kafka/ca.pem"]);
  assert.deepEqual(options, {
    ssl: { ca: ["-----BEGIN CERTIFICATE-----\n…"] },
    sasl: { mechanism: "scram-sha-256", username: "relay", password: "pw" },
  });
  assert.throws(
    () =>
      kafkaSecurity(config, () => {
        throw new Deno.errors.NotFound("nope");
      }),
    /KAFKA_SSL_CA_FILE: cannot read \/etc\/kafka\/ca\.pem \(NotFound\)/,
  );
});
