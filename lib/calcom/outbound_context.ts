/**
 * What the outbound sync's jobs share (lib/calcom/outbound.ts runs them): the store, the clock,
 * the Cal.com client of a tenant, the retry delays, the log, the worker's figures, and the lease
 * every write is fenced by.
 */
import type { Config } from "../config.ts";
import type { Lease } from "../worker/lease.ts";
import type { CalcomClient } from "./client.ts";
import { canCallApi, listTenants, resolveTenant, type Tenant } from "./tenants.ts";

/** Note of a booking whose change came from Cal.com. */
export const NOTE_FROM_CALCOM = "came from Cal.com; not sent back";
/** Note of a booking whose session no tenant mirrors. */
export const NOTE_NO_TENANT = "no Cal.com tenant for this session";
/** Note of a booking whose session ended before the change was read (history is not replayed to Cal.com). */
export const NOTE_SESSION_OVER = "the session is over; not sent";
/** Note of a booking whose learner was erased: their attendee data is not sent. */
export const NOTE_ERASED = "the learner's data was erased; not sent";
/** Note of a cancelled booking that never had a Cal.com seat. */
export const NOTE_NOTHING_ON_CALCOM = "nothing on Cal.com";

/** A tenant the sync can call. */
export type ApiTenant = Tenant & { baseUrl: string; apiKey: string };

/** Log levels of the sync's log. */
export type OutboundLogLevel = "info" | "warn" | "error";

/** The worker's state for health pages. */
export interface OutboundStatus {
  /** standby: another process holds the lease. */
  state: "idle" | "running" | "standby" | "stopped";
  /** Kept for the health page's shape: the outbox has no cursor (always null). */
  cursor: string | null;
  lastRunAt: string | null;
  lastError: { message: string; at: string } | null;
  /** Since start: bookings and sessions brought in line with Cal.com, failures (retried or not), flags. */
  synced: number;
  failures: number;
  flagged: number;
}

/** Shared by the consumer, the booking runner and the session jobs. */
export interface OutboundContext {
  kv: Deno.Kv;
  config: Config;
  clientFor: (tenant: ApiTenant) => CalcomClient;
  /** Clock of sync states and due times (ms). */
  now: () => number;
  delays: readonly number[];
  log: (level: OutboundLogLevel, message: string) => void;
  status: OutboundStatus;
  /** The worker's lease: every write carries its fence; `ensure` before a send. */
  lease: Lease;
  /** Longest a single Cal.com request may take (its client's time limit plus a margin). */
  sendBoundMs: number;
  /** Largest clock difference tolerated between workers, added to an announced send's deadline. */
  maxClockSkewMs: number;
}

export const iso = (ms: number): string => new Date(ms).toISOString();

/** The tenant `slug` if it can call Cal.com's API. */
export async function apiTenant(ctx: OutboundContext, slug: string | null): Promise<ApiTenant | null> {
  if (!slug) return null;
  const tenant = await resolveTenant(ctx.kv, ctx.config, slug);
  return tenant && canCallApi(tenant) ? tenant : null;
}

/** Every key and secret of every tenant (redacted from anything stored or logged). */
export async function tenantSecrets(ctx: OutboundContext): Promise<string[]> {
  const out = [ctx.config.calcomApiKey, ctx.config.calcomWebhookSecret];
  for (const t of await listTenants(ctx.kv, ctx.config)) out.push(t.apiKey, t.webhookSecret);
  return out.filter((s): s is string => typeof s === "string" && s !== "");
}
