/**
 * kafkajs on Deno. kafkajs 2.2.4 (the last release) works through Deno's Node compatibility, with
 * one wart: its request queue arms `setTimeout(fn, throttledUntil - Date.now())` with a negative
 * delay while nothing is throttled, and Node's timers (which Deno implements) then print a
 * `TimeoutNegativeWarning` on the first connection. The delay is clamped to 1 ms, as kafkajs
 * expects; only the message is noise. {@link quietKafkajs} filters that one warning type.
 */
import type { KafkaConfig, SASLOptions } from "kafkajs";
import process from "node:process";
import type { Config } from "../config.ts";

let installed = false;

/** Drops `TimeoutNegativeWarning`s (see module doc); every other warning passes through. Idempotent. */
export function quietKafkajs(): void {
  if (installed) return;
  installed = true;
  const original = process.emitWarning;
  const filtered = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    const first = rest[0];
    const type = typeof first === "string"
      ? first
      : (first as { type?: string } | undefined)?.type ?? (warning instanceof Error ? warning.name : undefined);
    if (type === "TimeoutNegativeWarning") return;
    return (original as (...args: unknown[]) => void).call(process, warning, ...rest);
  };
  process.emitWarning = filtered as typeof process.emitWarning;
}

/**
 * kafkajs `ssl` and `sasl` options for the configured security (hosted Kafka: SASL_SSL with PLAIN
 * or SCRAM-SHA-256/512). Reads the CA file now, so a wrong path fails at startup.
 */
export function kafkaSecurity(
  config: Pick<Config, "kafkaSasl" | "kafkaSsl" | "kafkaSslCaFile">,
  readFile: (path: string) => string = Deno.readTextFileSync,
): Pick<KafkaConfig, "ssl" | "sasl"> {
  const out: Pick<KafkaConfig, "ssl" | "sasl"> = {};
  if (config.kafkaSsl) {
    if (config.kafkaSslCaFile) {
      let ca: string;
      try {
        ca = readFile(config.kafkaSslCaFile);
      } catch (err) {
        throw new Error(
          `KAFKA_SSL_CA_FILE: cannot read ${config.kafkaSslCaFile} (${err instanceof Error ? err.name : "error"})`,
        );
      }
      out.ssl = { ca: [ca] };
    } else {
      out.ssl = true;
    }
  }
  if (config.kafkaSasl) {
    const { mechanism, username, password } = config.kafkaSasl;
    out.sasl = { mechanism, username, password } as SASLOptions;
  }
  return out;
}
