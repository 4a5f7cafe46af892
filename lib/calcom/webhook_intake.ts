/**
 * Cal.com webhook intake: verifies, validates and de-duplicates deliveries, stores each accepted
 * one, and (given the booking engine) applies it at once with lib/calcom/inbound.ts.
 *
 * Order: body size (413) → signature over the exact raw bytes (401; unknown tenant 404) → JSON
 * (400 `malformed_json`) → envelope and payload schema (400 `invalid_webhook`; unknown triggers
 * 202 `{ignored: true}`) → replay window on the envelope's `createdAt` (400 `stale_webhook`) →
 * event type ownership (403: not in the tenant's `eventTypeIds` nor mapped to it by the sync, or
 * mapped by the sync to ANOTHER tenant) → de-duplication (200 `{duplicate: true}`, nothing applied
 * again) → stored and applied (202 `{accepted, deliveryId, outcome}`; the outcome is also stored
 * on the delivery). Every failure stores nothing. Secrets and bodies are never logged.
 *
 * `MEETING_STARTED`/`MEETING_ENDED` are flat and their `createdAt` is the booking's creation time,
 * not the delivery's, so the replay window does not apply to them (de-duplication still does).
 */
import { z } from "zod";
import { newId } from "../domain/ids.ts";
import { formatZodIssues } from "../domain/validation.ts";
import type { BookingEngine } from "../booking/engine.ts";
import { keys } from "../store/keys.ts";
import { CALCOM_SIGNATURE_HEADER, verifyCalcomSignature } from "./signature.ts";
import { sha256Hex } from "../hash.ts";
import type { Tenant } from "./tenants.ts";
import { applyDelivery } from "./inbound.ts";
import {
  type Delivery,
  FLAT_TRIGGERS,
  type KnownTrigger,
  type StoredDelivery,
  WEBHOOK_PAYLOADS,
} from "./webhook_payloads.ts";

export type { Delivery, KnownTrigger, StoredDelivery } from "./webhook_payloads.ts";
import { tenantOfEventType } from "./sync_store.ts";

/** Largest webhook body (bytes); larger → 413, by the app-wide body limit (lib/http/body_limit.ts). */
export const MAX_WEBHOOK_BYTES = 256 * 1024;
/** How far in the future an envelope's `createdAt` may be (clock skew). */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
/** How long a delivery's hash is remembered for de-duplication. */
export const DEDUPE_TTL_MS = 7 * 24 * 3600_000;
/** Stored records stay below Deno KV's 64 KiB value limit. */
const MAX_RECORD_CHARS = 60_000;

const instant = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "must be a date-time");

const Trigger = z.object({ triggerEvent: z.string().min(1) }).loose();
const Envelope = z.object({ triggerEvent: z.string(), createdAt: instant, payload: z.unknown() }).loose();

/** What the HTTP layer answers. */
export interface IntakeResult {
  status: 200 | 202 | 400 | 401 | 403 | 404 | 413;
  body: Record<string, unknown>;
}

/** Options of {@link intakeWebhook}. */
export interface IntakeOptions {
  /** Seconds an envelope may be old (CALCOM_WEBHOOK_MAX_AGE). */
  maxAgeSeconds: number;
  /** Clock (tests). */
  now?: () => Date;
  /** When given, an accepted delivery is applied to bookings at once and its outcome answered. */
  engine?: BookingEngine;
}

function fail(status: IntakeResult["status"], error: string, message: string, details?: unknown): IntakeResult {
  return { status, body: { error, message, ...(details !== undefined ? { details } : {}) } };
}

/** Hex SHA-256 of `tenant`, a NUL byte and `rawBody`. */
export async function deliveryHash(tenant: string, rawBody: Uint8Array): Promise<string> {
  const name = new TextEncoder().encode(tenant);
  const data = new Uint8Array(name.length + 1 + rawBody.length);
  data.set(name, 0);
  data.set(rawBody, name.length + 1);
  return await sha256Hex(data);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Verifies and stores one delivery for `tenant` (null: unknown tenant). `rawBody` must be the
 * exact bytes received.
 */
export async function intakeWebhook(
  kv: Deno.Kv,
  tenant: Tenant | null,
  rawBody: Uint8Array,
  signature: string | null,
  options: IntakeOptions,
): Promise<IntakeResult> {
  if (!tenant) return fail(404, "tenant_not_found", "No Cal.com tenant with this name.");
  if (rawBody.length > MAX_WEBHOOK_BYTES) {
    return fail(413, "payload_too_large", `Webhook bodies are limited to ${MAX_WEBHOOK_BYTES} bytes.`);
  }
  if (!tenant.webhookSecret) {
    return fail(401, "webhook_secret_not_configured", "This tenant has no webhook secret; its webhooks are refused.");
  }
  if (!signature) return fail(401, "missing_signature", `The ${CALCOM_SIGNATURE_HEADER} header is missing.`);
  if (!await verifyCalcomSignature(tenant.webhookSecret, rawBody, signature)) {
    return fail(401, "invalid_signature", `The ${CALCOM_SIGNATURE_HEADER} header does not match the body.`);
  }

  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(rawBody));
  } catch (err) {
    return fail(400, "malformed_json", `The body is not valid JSON: ${err instanceof Error ? err.message : err}`);
  }
  const head = Trigger.safeParse(json);
  if (!head.success) {
    return fail(400, "invalid_webhook", "The body is not a Cal.com webhook.", {
      issues: formatZodIssues(head.error.issues),
    });
  }
  const trigger = head.data.triggerEvent;
  if (!Object.hasOwn(WEBHOOK_PAYLOADS, trigger)) return { status: 202, body: { ignored: true, trigger } };
  const known = trigger as KnownTrigger;
  const flat = FLAT_TRIGGERS.has(known);

  let payload: Record<string, unknown>;
  let createdAt: string | null;
  if (flat) {
    const { triggerEvent: _t, ...rest } = head.data;
    payload = rest;
    createdAt = typeof rest.createdAt === "string" ? rest.createdAt : null;
  } else {
    const env = Envelope.safeParse(json);
    if (!env.success) {
      return fail(400, "invalid_webhook", `The ${known} envelope is invalid.`, {
        issues: formatZodIssues(env.error.issues),
      });
    }
    if (!isObject(env.data.payload)) {
      return fail(400, "invalid_webhook", `The ${known} payload must be an object.`, {
        issues: [{ path: "payload", message: "must be an object" }],
      });
    }
    payload = env.data.payload;
    createdAt = env.data.createdAt;
  }
  const checked = WEBHOOK_PAYLOADS[known].safeParse(payload);
  if (!checked.success) {
    const issues = formatZodIssues(checked.error.issues).map((i) => ({
      path: flat ? i.path : ["payload", i.path].filter(Boolean).join("."),
      message: i.message,
    }));
    return fail(400, "invalid_webhook", `The ${known} payload is invalid.`, { issues });
  }

  const now = (options.now ?? (() => new Date()))();
  if (!flat && createdAt !== null) {
    const age = now.getTime() - Date.parse(createdAt);
    if (age > options.maxAgeSeconds * 1000 || age < -MAX_FUTURE_SKEW_MS) {
      return fail(
        400,
        "stale_webhook",
        age > 0
          ? `The webhook was created more than ${options.maxAgeSeconds} s ago.`
          : "The webhook was created more than 5 minutes in the future.",
        { createdAt },
      );
    }
  }

  const eventTypeId = (checked.data as { eventTypeId?: unknown }).eventTypeId;
  if (typeof eventTypeId === "number") {
    const mappedTo = await tenantOfEventType(kv, eventTypeId);
    const listed = tenant.eventTypeIds.length === 0 || tenant.eventTypeIds.includes(eventTypeId);
    if ((mappedTo !== null && mappedTo !== tenant.slug) || (mappedTo === null && !listed)) {
      return fail(403, "event_type_not_owned", `Event type ${eventTypeId} does not belong to this tenant.`);
    }
  }

  const bodyHash = await deliveryHash(tenant.slug, rawBody);
  const hashKey = keys.calcomDeliveryHash(bodyHash);
  const seen = await kv.get<{ deliveryId: string }>(hashKey);
  if (seen.value) return { status: 200, body: { duplicate: true, deliveryId: seen.value.deliveryId } };

  const deliveryId = newId();
  const record: StoredDelivery = { trigger: known, createdAt, payload, receivedAt: now.toISOString(), bodyHash };
  if (JSON.stringify(record).length > MAX_RECORD_CHARS) {
    return fail(413, "payload_too_large", "The webhook payload is too large to store.");
  }
  const res = await kv.atomic()
    .check({ key: hashKey, versionstamp: null })
    .set(hashKey, { tenant: tenant.slug, deliveryId }, { expireIn: DEDUPE_TTL_MS })
    .set(keys.calcomDelivery(tenant.slug, deliveryId), record)
    .commit();
  if (!res.ok) {
    const again = await kv.get<{ deliveryId: string }>(hashKey);
    return { status: 200, body: { duplicate: true, deliveryId: again.value?.deliveryId ?? null } };
  }
  if (!options.engine) return { status: 202, body: { accepted: true, deliveryId } };
  const outcome = await applyDelivery(
    { kv, engine: options.engine, now: options.now },
    tenant.slug,
    { id: deliveryId, ...record },
  );
  return { status: 202, body: { accepted: true, deliveryId, outcome } };
}

/** Stored deliveries of `tenant`, oldest first, with their apply outcome once applied. */
export async function listDeliveries(kv: Deno.Kv, tenant: string): Promise<Delivery[]> {
  const out: Delivery[] = [];
  for await (const entry of kv.list<StoredDelivery>({ prefix: keys.calcomDeliveriesPrefix(tenant) })) {
    out.push({ id: String(entry.key[entry.key.length - 1]), ...entry.value });
  }
  return out;
}
