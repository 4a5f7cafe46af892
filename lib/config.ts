import { z } from "zod";

/** Runtime configuration, read once from the environment and validated. */
export const ConfigSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(8000),
  /** Address to listen on: an IP literal or a host name; the default 0.0.0.0 is every IPv4 interface. */
  hostname: z.union([z.ipv4(), z.ipv6(), z.hostname()], { error: "must be an IP address or a host name" })
    .default("0.0.0.0"),
  /** A request head (request line and headers) must arrive complete within this many ms, or the connection closes. */
  headerTimeoutMs: z.coerce.number().int().min(100).max(600_000).default(10_000),
  kvPath: z.string().min(1).default("./data/app.kv"),
  holdMinutes: z.coerce.number().positive().max(24 * 60).default(15),
  devLogin: z.boolean(),
  seedDemo: z.boolean(),
  adminToken: z.string().min(16).nullable(),
  /** Kafka bootstrap servers; empty: the relay is off and events wait in KV. */
  kafkaBrokers: z.array(z.string().regex(/^[^\s:,]+:\d{1,5}$/, "must be host:port")),
  kafkaPartitions: z.coerce.number().int().min(1).max(1000).default(3),
  kafkaReplicationFactor: z.coerce.number().int().min(1).max(10).default(1),
  /** Cal.com API base URL of the single ("default") tenant; null: not configured. */
  calcomApiUrl: z.url().nullable(),
  /** Cal.com API key of the default tenant (never logged). */
  calcomApiKey: z.string().min(1).nullable(),
  /** Webhook secret of the default tenant (never logged); null: its webhooks are refused (401). */
  calcomWebhookSecret: z.string().min(1).nullable(),
  /** Webhooks whose `createdAt` is older than this many seconds are refused as replays. */
  calcomWebhookMaxAge: z.coerce.number().int().positive().max(7 * 24 * 3600).default(600),
  /** Pause before each session-cancel step, in ms (default 0). Only for crash tests. */
  cancelStepPauseMs: z.coerce.number().int().min(0).max(60_000).default(0),
  /** Whether this process runs the background jobs (relay, Cal.com sync, hold sweep, crons); WORKER=0 on app instances beside a `deno task worker`. */
  worker: z.boolean(),
  /** Read the client address from the last `X-Forwarded-For` entry (only behind a proxy that sets it). */
  trustProxy: z.boolean(),
  version: z.string(),
});

/** Validated configuration. */
export type Config = z.infer<typeof ConfigSchema>;

/** Package version from deno.json, reported by /health. */
export const VERSION = "0.1.0";

function flag(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === "") return fallback;
  return ["1", "true", "yes", "on"].includes(value.toLowerCase());
}

/**
 * Reads configuration from environment variables (see README "Configuration").
 * Throws a readable error naming the bad variable.
 */
export function loadConfig(env: Record<string, string | undefined> = Deno.env.toObject()): Config {
  const parsed = ConfigSchema.safeParse({
    port: env.PORT || undefined,
    hostname: env.HOST || undefined,
    headerTimeoutMs: env.HEADER_TIMEOUT_MS || undefined,
    kvPath: env.DENO_KV_PATH || undefined,
    holdMinutes: env.HOLD_MINUTES || undefined,
    devLogin: flag(env.DEV_LOGIN, true),
    seedDemo: flag(env.SEED_DEMO, true),
    adminToken: env.ADMIN_TOKEN || null,
    kafkaBrokers: (env.KAFKA_BROKERS ?? "").split(",").map((b) => b.trim()).filter(Boolean),
    kafkaPartitions: env.KAFKA_TOPIC_PARTITIONS || undefined,
    kafkaReplicationFactor: env.KAFKA_REPLICATION_FACTOR || undefined,
    calcomApiUrl: env.CALCOM_API_URL || null,
    calcomApiKey: env.CALCOM_API_KEY || null,
    calcomWebhookSecret: env.CALCOM_WEBHOOK_SECRET || null,
    calcomWebhookMaxAge: env.CALCOM_WEBHOOK_MAX_AGE || undefined,
    cancelStepPauseMs: env.CANCEL_STEP_PAUSE_MS || undefined,
    worker: flag(env.WORKER, true),
    trustProxy: flag(env.TRUST_PROXY, false),
    version: VERSION,
  });
  if (!parsed.success) {
    const names: Record<string, string> = {
      port: "PORT",
      hostname: "HOST",
      headerTimeoutMs: "HEADER_TIMEOUT_MS",
      kvPath: "DENO_KV_PATH",
      holdMinutes: "HOLD_MINUTES",
      adminToken: "ADMIN_TOKEN",
      kafkaBrokers: "KAFKA_BROKERS",
      kafkaPartitions: "KAFKA_TOPIC_PARTITIONS",
      kafkaReplicationFactor: "KAFKA_REPLICATION_FACTOR",
      calcomApiUrl: "CALCOM_API_URL",
      calcomApiKey: "CALCOM_API_KEY",
      calcomWebhookSecret: "CALCOM_WEBHOOK_SECRET",
      calcomWebhookMaxAge: "CALCOM_WEBHOOK_MAX_AGE",
      cancelStepPauseMs: "CANCEL_STEP_PAUSE_MS",
    };
    const lines = parsed.error.issues.map((i) => `${names[String(i.path[0])] ?? i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  return parsed.data;
}
