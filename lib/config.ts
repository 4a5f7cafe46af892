import { z } from "zod";
import { onDenoDeploy, storePathFromEnv } from "./store/kv.ts";
import { RoleSchema } from "./domain/user.ts";
import { TimeZoneSchema } from "./domain/common.ts";
import { DEFAULT_RETENTION_DAYS } from "./privacy/retention.ts";
import { DEFAULT_REMINDER_OFFSETS_MIN } from "./notify/kinds.ts";
import { parseSmtpUrl } from "./notify/smtp_url.ts";

/** Runtime configuration, read once from the environment and validated. */
export const ConfigSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(8000),
  /** Address to listen on: an IP literal or a host name; the default 0.0.0.0 is every IPv4 interface. */
  hostname: z.union([z.ipv4(), z.ipv6(), z.hostname()], { error: "must be an IP address or a host name" })
    .default("0.0.0.0"),
  /** A request head (request line and headers) must arrive complete within this many ms, or the connection closes. */
  headerTimeoutMs: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** KV store: a file, `:memory:` or a KV Connect URL; null: the database Deno Deploy attaches. */
  kvPath: z.string().min(1).nullable(),
  /** KV Connect token (`KV_ACCESS_TOKEN`, for Deno Deploy; else `DENO_KV_ACCESS_TOKEN` as Deno reads it). Never logged. */
  kvAccessToken: z.string().min(1).nullable(),
  /** Checks per atomic op when set (`KV_MAX_CHECKS`); else 10 over KV Connect, 100 elsewhere. */
  kvMaxChecks: z.coerce.number().int().min(10).max(100).nullable(),
  /** Running on Deno Deploy (`DENO_DEPLOY` / `DENO_DEPLOYMENT_ID`, set by the platform). */
  deploy: z.boolean(),
  /**
   * Production (`APP_ENV=production`, or on Deno Deploy unless `APP_ENV` says otherwise): island
   * bundles must be prebuilt, dev sign-in is refused and the demo seed is off unless turned on.
   */
  production: z.boolean(),
  holdMinutes: z.coerce.number().positive().max(24 * 60).default(15),
  devLogin: z.boolean(),
  /** A page session unused for this many minutes ends (default 480: a working day). */
  sessionIdleMinutes: z.coerce.number().int().min(1).max(7 * 24 * 60).default(480),
  /** A page session ends this many hours after sign-in, however busy (default 168: 7 days). */
  sessionMaxHours: z.coerce.number().int().min(1).max(90 * 24).default(168),
  /** OpenID Connect single sign-on; null when OIDC_ISSUER is unset. */
  oidc: z.object({
    issuer: z.url({ protocol: /^https?$/ }),
    clientId: z.string().min(1),
    /** Never logged. */
    clientSecret: z.string().min(1),
    /** Fixed redirect URL; null: `<request origin>/auth/callback`. */
    redirectUrl: z.url({ protocol: /^https?$/ }).nullable(),
    /** Create (and update) users from the ID token; false: only users already registered may sign in. */
    jit: z.boolean(),
    rolesClaim: z.string().min(1),
    /** Claim value → role; a user none of whose values map is a learner. */
    roleMap: z.record(z.string(), RoleSchema),
    /** Claim holding the user's dealer (slug or id); null: not taken from the token. */
    dealerClaim: z.string().min(1).nullable(),
    /** Claim holding the user's manager (email or id); null: not taken from the token. */
    managerClaim: z.string().min(1).nullable(),
  }).nullable(),
  seedDemo: z.boolean(),
  adminToken: z.string().min(16).nullable(),
  /** Kafka bootstrap servers; empty: the relay is off and events wait in KV. */
  kafkaBrokers: z.array(z.string().regex(/^[^\s:,]+:\d{1,5}$/, "must be host:port")),
  kafkaPartitions: z.coerce.number().int().min(1).max(1000).default(3),
  kafkaReplicationFactor: z.coerce.number().int().min(1).max(10).default(1),
  /** SASL for Kafka (hosted Kafka): mechanism and credentials; the password is never logged. Null: none. */
  kafkaSasl: z.object({
    mechanism: z.enum(["plain", "scram-sha-256", "scram-sha-512"]),
    username: z.string().min(1),
    password: z.string().min(1),
  }).nullable(),
  /** TLS to the brokers (`KAFKA_SSL=1`, implied by `KAFKA_SSL_CA_FILE`). */
  kafkaSsl: z.boolean(),
  /** PEM file of the CA to trust for the brokers' certificates (else the system's roots). */
  kafkaSslCaFile: z.string().min(1).nullable(),
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
  /** Failed authentications per client and kind within 60 s before 429 (0: off, for schema fuzzing only). */
  authFailureLimit: z.coerce.number().int().min(0).max(10_000).default(10),
  /** Days after which events and booking audit are pseudonymised by the worker (lib/privacy/retention.ts). */
  retentionDays: z.coerce.number().int().min(1).max(36_500).default(DEFAULT_RETENTION_DAYS),
  /** SMTP server of notifications (`SMTP_URL`: smtp:// with STARTTLS, smtps:// implicit TLS); null: messages wait. Never logged. */
  smtpUrl: z.string().refine((v) => {
    try {
      parseSmtpUrl(v);
      return true;
    } catch {
      return false;
    }
  }, { error: "must be smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465 (implicit TLS)" })
    .nullable(),
  /** Sender of notifications (`MAIL_FROM`), `Name <address>` or an address. */
  mailFrom: z.string().regex(
    /^(?:[^<>]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/,
    "must be an address or Name <address>",
  )
    .default("Training Booking <noreply@localhost>"),
  /** Public address of the site, for links in emails (`SITE_URL`; default http://localhost:PORT). */
  siteUrl: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, "")).nullable(),
  /** Reminder schedule in minutes before the start (`REMINDER_OFFSETS`, e.g. `7d,1d,1h`) until admins save rules. */
  // As the admin rule `reminderHours` allows (lib/booking/rules.ts): whole hours up to 30 days, at most 5, no repeats.
  reminderOffsetsMin: z.array(
    z.number().int().min(60).max(720 * 60).refine((m) => m % 60 === 0, "whole hours (the admin rules count in hours)"),
  ).max(5).refine((r) => new Set(r).size === r.length, "must not repeat a time"),
  /** Whether this process runs the background jobs (relay, Cal.com sync, hold sweep, crons); WORKER=0 on app instances beside a `deno task worker`. */
  worker: z.boolean(),
  /** Read the client address from the last `X-Forwarded-For` entry (only behind a proxy that sets it). */
  trustProxy: z.boolean(),
  version: z.string(),
  /** Compliance rules (lib/compliance/state.ts): due and expiry dates' zone, expiring window, alert days, escalation grace, due-soon days. */
  compliance: z.object({
    timeZone: TimeZoneSchema.default("America/Chicago"),
    expiringWindowDays: z.coerce.number().int().min(1).max(365).default(30),
    alertDays: z.array(z.coerce.number().int().min(1).max(365)).min(1).max(10).default([60, 30, 7]),
    escalationGraceDays: z.coerce.number().int().min(0).max(365).default(7),
    dueSoonDays: z.array(z.coerce.number().int().min(0).max(365)).min(1).max(10).default([14, 3]),
  }),
  /** Self check-in and attendance marks open this many minutes before a session starts (default 30). */
  checkInOpensMinutes: z.coerce.number().int().min(0).max(240).default(30), // the rule checkInWindowMinutes' range
  /** Attendance closes (marks final, no-shows recorded) this many days after a session ends (default 7). */
  attendanceCloseDays: z.coerce.number().int().min(0).max(90).default(7),
  /** A self check-in this many minutes after the start counts as late (default 10). */
  lateAfterMinutes: z.coerce.number().int().min(0).max(24 * 60).default(10),
  /** The online join link (/sessions/{id}/join) opens this many minutes before the start (default 10). */
  joinOpensMinutes: z.coerce.number().int().min(0).max(24 * 60).default(10),
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
  const deploy = onDenoDeploy(env);
  const production = env.APP_ENV ? env.APP_ENV.toLowerCase() === "production" : deploy;
  if (production && env.AUTH_FAILURE_LIMIT === "0") {
    throw new Error(
      "Invalid configuration:\n  AUTH_FAILURE_LIMIT: the failed-authentication limit cannot be off in production",
    );
  }
  if (production && flag(env.DEV_LOGIN, false)) {
    throw new Error(
      "Invalid configuration:\n  DEV_LOGIN: dev sign-in is refused in production (APP_ENV=production or Deno Deploy)",
    );
  }
  const parsed = ConfigSchema.safeParse({
    port: env.PORT || undefined,
    hostname: env.HOST || undefined,
    headerTimeoutMs: env.HEADER_TIMEOUT_MS || undefined,
    kvPath: storePathFromEnv(env),
    kvMaxChecks: env.KV_MAX_CHECKS || null,
    kvAccessToken: env.KV_ACCESS_TOKEN || null,
    deploy,
    production,
    holdMinutes: env.HOLD_MINUTES || undefined,
    devLogin: flag(env.DEV_LOGIN, !production),
    sessionIdleMinutes: env.SESSION_IDLE_MINUTES || undefined,
    sessionMaxHours: env.SESSION_MAX_HOURS || undefined,
    oidc: env.OIDC_ISSUER
      ? {
        issuer: env.OIDC_ISSUER,
        clientId: env.OIDC_CLIENT_ID ?? "",
        clientSecret: env.OIDC_CLIENT_SECRET ?? "",
        redirectUrl: env.OIDC_REDIRECT_URL || null,
        jit: flag(env.OIDC_JIT, true),
        rolesClaim: env.OIDC_ROLES_CLAIM || "groups",
        roleMap: parseRoleMap(env.OIDC_ROLE_MAP ?? ""),
        dealerClaim: env.OIDC_DEALER_CLAIM || null,
        managerClaim: env.OIDC_MANAGER_CLAIM || null,
      }
      : null,
    seedDemo: flag(env.SEED_DEMO, !production),
    adminToken: env.ADMIN_TOKEN || null,
    kafkaBrokers: (env.KAFKA_BROKERS ?? "").split(",").map((b) => b.trim()).filter(Boolean),
    kafkaPartitions: env.KAFKA_TOPIC_PARTITIONS || undefined,
    kafkaReplicationFactor: env.KAFKA_REPLICATION_FACTOR || undefined,
    kafkaSasl: env.KAFKA_SASL_MECHANISM || env.KAFKA_SASL_USERNAME || env.KAFKA_SASL_PASSWORD
      ? {
        mechanism: env.KAFKA_SASL_MECHANISM?.toLowerCase(),
        username: env.KAFKA_SASL_USERNAME,
        password: env.KAFKA_SASL_PASSWORD,
      }
      : null,
    kafkaSsl: flag(env.KAFKA_SSL, false) || Boolean(env.KAFKA_SSL_CA_FILE),
    kafkaSslCaFile: env.KAFKA_SSL_CA_FILE || null,
    calcomApiUrl: env.CALCOM_API_URL || null,
    calcomApiKey: env.CALCOM_API_KEY || null,
    calcomWebhookSecret: env.CALCOM_WEBHOOK_SECRET || null,
    calcomWebhookMaxAge: env.CALCOM_WEBHOOK_MAX_AGE || undefined,
    cancelStepPauseMs: env.CANCEL_STEP_PAUSE_MS || undefined,
    authFailureLimit: env.AUTH_FAILURE_LIMIT || undefined,
    retentionDays: env.RETENTION_DAYS || undefined,
    smtpUrl: env.SMTP_URL || null,
    mailFrom: env.MAIL_FROM || undefined,
    siteUrl: env.SITE_URL || null,
    reminderOffsetsMin: parseOffsets(env.REMINDER_OFFSETS),
    worker: flag(env.WORKER, true),
    trustProxy: flag(env.TRUST_PROXY, false),
    version: VERSION,
    compliance: {
      timeZone: env.COMPLIANCE_TIME_ZONE || undefined,
      expiringWindowDays: env.COMPLIANCE_EXPIRING_DAYS || undefined,
      alertDays: env.COMPLIANCE_ALERT_DAYS ? env.COMPLIANCE_ALERT_DAYS.split(",").map((d) => d.trim()) : undefined,
      escalationGraceDays: env.COMPLIANCE_ESCALATION_DAYS || undefined,
      dueSoonDays: env.COMPLIANCE_DUE_SOON_DAYS
        ? env.COMPLIANCE_DUE_SOON_DAYS.split(",").map((d) => d.trim())
        : undefined,
    },
    checkInOpensMinutes: env.CHECKIN_OPENS_MINUTES || undefined,
    attendanceCloseDays: env.ATTENDANCE_CLOSE_DAYS || undefined,
    lateAfterMinutes: env.LATE_AFTER_MINUTES || undefined,
    joinOpensMinutes: env.JOIN_OPENS_MINUTES || undefined,
  });
  if (!parsed.success) {
    const names: Record<string, string> = {
      port: "PORT",
      hostname: "HOST",
      headerTimeoutMs: "HEADER_TIMEOUT_MS",
      kvPath: "KV_PATH / DENO_KV_PATH",
      kvMaxChecks: "KV_MAX_CHECKS",
      holdMinutes: "HOLD_MINUTES",
      adminToken: "ADMIN_TOKEN",
      kafkaBrokers: "KAFKA_BROKERS",
      kafkaPartitions: "KAFKA_TOPIC_PARTITIONS",
      kafkaReplicationFactor: "KAFKA_REPLICATION_FACTOR",
      "kafkaSasl.mechanism": "KAFKA_SASL_MECHANISM (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)",
      "kafkaSasl.username": "KAFKA_SASL_USERNAME",
      "kafkaSasl.password": "KAFKA_SASL_PASSWORD",
      calcomApiUrl: "CALCOM_API_URL",
      calcomApiKey: "CALCOM_API_KEY",
      calcomWebhookSecret: "CALCOM_WEBHOOK_SECRET",
      calcomWebhookMaxAge: "CALCOM_WEBHOOK_MAX_AGE",
      cancelStepPauseMs: "CANCEL_STEP_PAUSE_MS",
      authFailureLimit: "AUTH_FAILURE_LIMIT",
      sessionIdleMinutes: "SESSION_IDLE_MINUTES",
      sessionMaxHours: "SESSION_MAX_HOURS",
      retentionDays: "RETENTION_DAYS",
      "compliance.timeZone": "COMPLIANCE_TIME_ZONE",
      "compliance.expiringWindowDays": "COMPLIANCE_EXPIRING_DAYS",
      "compliance.alertDays": "COMPLIANCE_ALERT_DAYS (comma-separated days, e.g. 60,30,7)",
      "compliance.escalationGraceDays": "COMPLIANCE_ESCALATION_DAYS",
      "compliance.dueSoonDays": "COMPLIANCE_DUE_SOON_DAYS (comma-separated days, e.g. 14,3)",
      checkInOpensMinutes: "CHECKIN_OPENS_MINUTES",
      attendanceCloseDays: "ATTENDANCE_CLOSE_DAYS",
      lateAfterMinutes: "LATE_AFTER_MINUTES",
      joinOpensMinutes: "JOIN_OPENS_MINUTES",
      smtpUrl: "SMTP_URL",
      mailFrom: "MAIL_FROM",
      siteUrl: "SITE_URL",
      reminderOffsetsMin: "REMINDER_OFFSETS (e.g. 7d,1d,1h)",
    };
    const oidcNames: Record<string, string> = {
      issuer: "OIDC_ISSUER",
      clientId: "OIDC_CLIENT_ID",
      clientSecret: "OIDC_CLIENT_SECRET",
      redirectUrl: "OIDC_REDIRECT_URL",
      roleMap: "OIDC_ROLE_MAP",
    };
    const nameOf = (path: PropertyKey[]) =>
      path[0] === "oidc"
        ? oidcNames[String(path[1])] ?? path.join(".")
        : names[path.join(".")] ?? names[path.slice(0, 2).join(".")] ?? names[String(path[0])] ?? path.join(".");
    const lines = parsed.error.issues.map((i) => `${nameOf(i.path)}: ${i.message}`);
    throw new Error(`Invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  return parsed.data;
}

/** `7d,1d,1h` (REMINDER_OFFSETS) in minutes; the default schedule when unset; NaN for a bad part (the schema names it). */
function parseOffsets(value: string | undefined): number[] {
  if (!value) return [...DEFAULT_REMINDER_OFFSETS_MIN];
  const unit: Record<string, number> = { m: 1, h: 60, d: 24 * 60, w: 7 * 24 * 60 };
  return value.split(",").map((p) => p.trim()).filter(Boolean).map((p) => {
    const m = p.match(/^(\d+)([mhdw])$/);
    return m ? Number(m[1]) * unit[m[2]] : NaN;
  });
}

/** `group:role,group:role` (OIDC_ROLE_MAP) as a record; a malformed pair is kept whole so the schema names it. */
function parseRoleMap(value: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of value.split(",").map((p) => p.trim()).filter(Boolean)) {
    const at = pair.lastIndexOf(":");
    map[at > 0 ? pair.slice(0, at).trim() : pair] = at > 0 ? pair.slice(at + 1).trim() : "";
  }
  return map;
}
