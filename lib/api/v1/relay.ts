/** The event relay for admins: per-topic figures, relay health, dead letters (requeued in dead_letters.ts). */
import { z } from "zod";
import { calcomHealth, overallStatus } from "../../calcom/health.ts";
import { getTopicStats, listDeadLetters } from "../../relay/topics.ts";
import { defineOperation } from "../operation.ts";
import { CalcomHealthSchema } from "./calcom.ts";

const TAG = "Event relay";
const HealthStatusSchema = z.enum(["ok", "degraded"]);

const RelayStatusSchema = z.object({
  state: z.enum(["off", "starting", "running", "retrying", "standby", "stopped"]),
  lastError: z.object({ message: z.string(), at: z.string() }).nullable(),
  lastDeliveredAt: z.string().nullable(),
  nextRetryInMs: z.number().nullable(),
  delivered: z.number().int().describe("by this process since it started"),
});

export const topicsOp = defineOperation({
  method: "get",
  path: "/calcom/topics",
  operationId: "listRelayTopics",
  tag: TAG,
  summary: "Each Kafka topic: delivered, pending, last delivery, last error, dead letters",
  access: ["admin"],
  responses: {
    200: {
      description: "Figures per topic",
      schema: z.object({
        relay: RelayStatusSchema,
        pendingCapped: z.boolean().describe("true when pending counts stopped at 50,000"),
        topics: z.array(z.object({
          topic: z.string(),
          delivered: z.number().int(),
          pending: z.number().int(),
          lastDeliveredAt: z.string().nullable(),
          lastDeliveredEventAt: z.string().nullable(),
          lastError: z.object({ message: z.string(), at: z.string() }).nullable(),
          deadLetters: z.number().int(),
        })),
      }),
    },
  },
  async handler(ctx) {
    const stats = await getTopicStats(ctx.services.kv);
    return { status: 200, body: { relay: ctx.services.relay.status(), ...stats } };
  },
});

export const relayHealthOp = defineOperation({
  method: "get",
  path: "/calcom/health",
  operationId: "relayHealth",
  tag: TAG,
  summary: "Whether events are flowing out and each Cal.com tenant answers: a bare status, details for admins",
  description: "Anyone gets `{status}` only (`degraded`: a configured Cal.com tenant is unreachable or refuses its " +
    "key, or the Kafka relay is retrying). Admins (ADMIN_TOKEN or an admin user) also get `relay`, " +
    "`kafkaConfigured` and `calcom`: per tenant whether its Cal.com answers `GET /v2/me` (2 s limit, reused for 30 s) " +
    "and accepts the key, and its last webhook; `calcom.sync`: sync counts and latency. No keys or secrets.",
  access: "public",
  responses: {
    200: {
      description: "`{status}` for anonymous and non-admin callers; for admins also the relay state (`off` when " +
        "KAFKA_BROKERS is unset: events wait in KV) and Cal.com health",
      schema: z.union([
        z.object({
          status: HealthStatusSchema,
          relay: RelayStatusSchema,
          kafkaConfigured: z.boolean(),
          calcom: CalcomHealthSchema,
        }),
        z.strictObject({ status: HealthStatusSchema }),
      ]),
    },
  },
  async handler(ctx) {
    const { relay, kv, config } = ctx.services;
    // Public and polled: tenant checks are reused for 30 s, the sync figures for 5 s.
    const calcom = await calcomHealth(kv, config, { figuresCacheMs: 5_000 });
    const r = relay.status();
    const status = overallStatus(calcom, r.state);
    if (!ctx.principal?.roles.includes("admin")) return { status: 200, body: { status } };
    return { status: 200, body: { status, relay: r, kafkaConfigured: relay.enabled, calcom } };
  },
});

const DeadLetterSchema = z.object({
  eventKey: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  sessionId: z.string(),
  topic: z.string().nullable(),
  reason: z.string(),
  attempts: z.number().int(),
  failedAt: z.string(),
  event: z.record(z.string(), z.unknown()),
});

export const listDeadLettersOp = defineOperation({
  method: "get",
  path: "/v1/admin/dead-letters",
  operationId: "listDeadLetters",
  tag: TAG,
  summary: "Events the relay could not deliver, with the reason",
  access: ["admin"],
  query: z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
  responses: { 200: { description: "Oldest first", schema: z.object({ deadLetters: z.array(DeadLetterSchema) }) } },
  async handler(ctx) {
    const list = await listDeadLetters(ctx.services.kv, ctx.query.limit);
    // BigInt or other values that made an event poison are shown as text.
    const safe = JSON.parse(JSON.stringify(list, (_k, v) => typeof v === "bigint" ? `${v}n` : v));
    return { status: 200, body: { deadLetters: safe } };
  },
});

/** Every relay operation. */
export const relayOperations = [topicsOp, relayHealthOp, listDeadLettersOp];
