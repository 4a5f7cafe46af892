/**
 * Health of the Cal.com side, per tenant: is it configured, does its Cal.com answer, does it
 * accept our API key, and when did its last webhook arrive; plus the sync's figures.
 *
 * Reachability is checked with `GET /v2/me` under a short time limit (2 s) and remembered for a
 * while (30 s), so a public health endpoint polled by monitors never hammers Cal.com: concurrent
 * callers share one check in flight. Nothing returned here carries an API key, a webhook secret or
 * a Cal.com error message, only stable error codes.
 */
import type { Config } from "../config.ts";
import { sha256Hex } from "../hash.ts";
import { keys } from "../store/keys.ts";
import { type CalcomClient, CalcomError, createCalcomClient } from "./client.ts";
import { NO_HTTP_STATUS } from "./errors.ts";
import { type SyncFigures, syncFigures } from "./sync_store.ts";
import { canCallApi, listTenants, type Tenant } from "./tenants.ts";

/** Per-call time limit of the reachability check. */
export const HEALTH_TIMEOUT_MS = 2_000;
/** How long a check result is reused. */
export const HEALTH_CACHE_MS = 30_000;

/** One tenant's health. */
export interface TenantHealth {
  slug: string;
  /** Base URL and API key are set, so the sync can call this tenant's Cal.com. */
  configured: boolean;
  /** Cal.com answered at all (null: not checked, because not configured). */
  reachable: boolean | null;
  /** Cal.com accepted the API key (null: unknown, e.g. unreachable or not configured). */
  authOk: boolean | null;
  /** When Cal.com was last asked (the answer may come from the cache). */
  checkedAt: string | null;
  /** A stable code for what went wrong (`UnauthorizedException`, `NETWORK_ERROR`, `TIMEOUT`, `HTTP_503`…). */
  error: string | null;
  /** When this tenant's last accepted webhook arrived. */
  lastWebhookAt: string | null;
  lastWebhookTrigger: string | null;
}

/** The `calcom` section of `GET /api/calcom/health`. */
export interface CalcomHealth {
  /** True when every configured tenant is reachable and accepts its key (vacuously true with none). */
  ok: boolean;
  tenants: TenantHealth[];
  sync: SyncFigures;
}

/**
 * One word for anonymous monitors: `degraded` when a configured Cal.com tenant is unreachable or
 * refuses its key, or the Kafka relay is retrying after errors; `ok` otherwise (a relay that is
 * off, standing by or starting is not a fault).
 */
export function overallStatus(calcom: Pick<CalcomHealth, "ok">, relayState: string): "ok" | "degraded" {
  return calcom.ok && relayState !== "retrying" ? "ok" : "degraded";
}

/** A tenant the API can be called for. */
export type CallableTenant = Tenant & { baseUrl: string; apiKey: string };

/** Options of {@link calcomHealth}. */
export interface CalcomHealthOptions {
  /** Builds the client for a tenant (tests); default: {@link createCalcomClient} with `timeoutMs`. */
  clientFor?: (tenant: CallableTenant, timeoutMs: number) => Pick<CalcomClient, "me">;
  /** How long a result is reused (default {@link HEALTH_CACHE_MS}; 0 checks every time). */
  cacheMs?: number;
  /** Time limit of one check (default {@link HEALTH_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Clock (tests). */
  now?: () => number;
  /**
   * How long the sync figures are reused (default 0: counted afresh). Counting reads every sync
   * state, so a frequently polled public endpoint should reuse them for a few seconds.
   */
  figuresCacheMs?: number;
}

interface Probe {
  reachable: boolean;
  authOk: boolean | null;
  error: string | null;
  checkedAt: string;
}

interface CacheEntry {
  at: number;
  probe: Promise<Probe>;
}

/** Check results per store (so separate apps and tests never share them), by tenant fingerprint. */
const caches = new WeakMap<Deno.Kv, Map<string, CacheEntry>>();

const figureCaches = new WeakMap<Deno.Kv, { at: number; figures: Promise<SyncFigures> }>();

/** Forgets every remembered check and figure of this store (e.g. after a tenant's Cal.com is fixed). */
export function clearCalcomHealthCache(kv: Deno.Kv): void {
  caches.delete(kv);
  figureCaches.delete(kv);
}

function figuresOf(kv: Deno.Kv, cacheMs: number, t: number): Promise<SyncFigures> {
  const hit = figureCaches.get(kv);
  if (hit && cacheMs > 0 && t - hit.at < cacheMs) return hit.figures;
  const figures = syncFigures(kv);
  figureCaches.set(kv, { at: t, figures });
  figures.catch(() => figureCaches.delete(kv));
  return figures;
}

/** Turns a failed `me()` into reachability, auth and a code (never the message: it may quote input). */
export function classifyProbeError(err: unknown): Omit<Probe, "checkedAt"> {
  if (err instanceof CalcomError) {
    if (err.status === NO_HTTP_STATUS) return { reachable: false, authOk: null, error: err.code };
    if (err.status === 401 || err.status === 403) return { reachable: true, authOk: false, error: err.code };
    return { reachable: true, authOk: null, error: err.code };
  }
  return { reachable: false, authOk: null, error: "UNEXPECTED_ERROR" };
}

async function probe(client: Pick<CalcomClient, "me">, timeoutMs: number, now: () => number): Promise<Probe> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // The client has its own limit; this one also bounds injected clients.
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new CalcomError({ status: NO_HTTP_STATUS, code: "TIMEOUT", message: "health check timed out" })),
        timeoutMs + 250,
      );
    });
    await Promise.race([client.me(), limit]);
    return { reachable: true, authOk: true, error: null, checkedAt: new Date(now()).toISOString() };
  } catch (err) {
    return { ...classifyProbeError(err), checkedAt: new Date(now()).toISOString() };
  } finally {
    clearTimeout(timer);
  }
}

async function lastWebhook(kv: Deno.Kv, slug: string): Promise<{ at: string | null; trigger: string | null }> {
  const iter = kv.list<{ trigger?: string; receivedAt?: string }>(
    { prefix: keys.calcomDeliveriesPrefix(slug) },
    { reverse: true, limit: 1 },
  );
  for await (const e of iter) return { at: e.value.receivedAt ?? null, trigger: e.value.trigger ?? null };
  return { at: null, trigger: null };
}

/** One tenant's health (the reachability part possibly from the cache). */
export async function tenantHealth(
  kv: Deno.Kv,
  tenant: Tenant,
  options: CalcomHealthOptions = {},
): Promise<TenantHealth> {
  const now = options.now ?? Date.now;
  const cacheMs = options.cacheMs ?? HEALTH_CACHE_MS;
  const timeoutMs = options.timeoutMs ?? HEALTH_TIMEOUT_MS;
  const webhook = await lastWebhook(kv, tenant.slug);
  const base = { slug: tenant.slug, lastWebhookAt: webhook.at, lastWebhookTrigger: webhook.trigger };
  if (!canCallApi(tenant)) {
    return { ...base, configured: false, reachable: null, authOk: null, checkedAt: null, error: null };
  }
  // The fingerprint changes with the URL or the key, so an edited tenant is checked afresh.
  const fingerprint = `${tenant.slug}\0${tenant.baseUrl}\0${await sha256Hex(tenant.apiKey)}`;
  let cache = caches.get(kv);
  if (!cache) {
    cache = new Map();
    caches.set(kv, cache);
  }
  const t = now();
  let entry = cache.get(fingerprint);
  if (!entry || cacheMs <= 0 || t - entry.at >= cacheMs) {
    const client = options.clientFor
      ? options.clientFor(tenant, timeoutMs)
      : createCalcomClient({ baseUrl: tenant.baseUrl, apiKey: tenant.apiKey, timeoutMs });
    entry = { at: t, probe: probe(client, timeoutMs, now) };
    // Drop results of keys or URLs no longer in use, so edits do not pile up.
    for (const [k, e] of cache) if (t - e.at >= Math.max(cacheMs, HEALTH_CACHE_MS)) cache.delete(k);
    cache.set(fingerprint, entry);
  }
  const p = await entry.probe;
  return {
    ...base,
    configured: true,
    reachable: p.reachable,
    authOk: p.authOk,
    checkedAt: p.checkedAt,
    error: p.error,
  };
}

/**
 * Health of every tenant (`default` first, checked in parallel) and the sync figures.
 * `ok` is false when a configured tenant is unreachable or refuses its key.
 */
export async function calcomHealth(
  kv: Deno.Kv,
  config: Config,
  options: CalcomHealthOptions = {},
): Promise<CalcomHealth> {
  const tenants = await listTenants(kv, config);
  const [health, sync] = await Promise.all([
    Promise.all(tenants.map((t) => tenantHealth(kv, t, options))),
    figuresOf(kv, options.figuresCacheMs ?? 0, (options.now ?? Date.now)()),
  ]);
  const ok = health.every((h) => !h.configured || (h.reachable === true && h.authOk === true));
  return { ok, tenants: health, sync };
}
