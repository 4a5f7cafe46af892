/**
 * Cal.com tenants: one Cal.com account (API base URL, API key, webhook secret) and the event types
 * it may report on. The single-tenant setup is the reserved tenant `default`, built from the
 * `CALCOM_*` environment variables; others live in KV at `["calcom_tenants", slug]`.
 *
 * Secrets (API key, webhook secret) are returned only by {@link getTenant} and
 * {@link resolveTenant}, which the webhook intake and the API client need; anything meant for
 * display uses {@link describeTenant}. In KV they are sealed (AES-256-GCM, lib/secrets/keyring.ts);
 * {@link reencryptTenantSecrets} moves them to the current key after a rotation.
 */
import { z } from "zod";
import type { Config } from "../config.ts";
import { formatZodIssues } from "../domain/validation.ts";
import { ValidationError } from "../domain/validation.ts";
import { keys } from "../store/keys.ts";
import { type Keyring, keyring, seal, sealedKeyId, unseal } from "../secrets/keyring.ts";

/** The slug of the tenant configured from the environment (reserved in KV). */
export const DEFAULT_TENANT = "default";

/** Tenant slugs: lowercase letters, digits and dashes, 1–63 characters. */
export const TenantSlug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be lowercase letters, digits, dashes");

/** A stored tenant. `webhookSecret: null` means its webhooks are refused. */
export const Tenant = z.object({
  slug: TenantSlug,
  baseUrl: z.url().nullable(),
  apiKey: z.string().min(1).nullable(),
  webhookSecret: z.string().min(1).nullable(),
  /** Event types this tenant owns besides those the sync created for it; empty: any (single-tenant setups). */
  eventTypeIds: z.array(z.number().int().positive()),
  /** Locations (ids, or "online") whose sessions are mirrored to this tenant's Cal.com. */
  locationIds: z.array(z.string().min(1)).default([]),
}).strict();
/** A Cal.com tenant, secrets included. */
export type Tenant = z.infer<typeof Tenant>;

/** A tenant without its secrets, safe to show or log. */
export interface TenantDescription {
  slug: string;
  baseUrl: string | null;
  hasApiKey: boolean;
  hasWebhookSecret: boolean;
  eventTypeIds: number[];
  locationIds: string[];
}

/** Stores (creates or replaces) a tenant. Refuses the reserved slug `default` and invalid fields. */
export async function saveTenant(kv: Deno.Kv, tenant: Tenant): Promise<void> {
  const parsed = Tenant.safeParse(tenant);
  if (!parsed.success) throw new ValidationError(formatZodIssues(parsed.error.issues), "tenant");
  if (parsed.data.slug === DEFAULT_TENANT) {
    throw new ValidationError([{ path: "slug", message: `"${DEFAULT_TENANT}" is configured from CALCOM_* variables` }]);
  }
  await kv.set(keys.calcomTenant(parsed.data.slug), await sealTenant(await keyring(), parsed.data));
}

const SECRET_FIELDS = ["apiKey", "webhookSecret"] as const;

/** Where a tenant's secret is stored (the additional data it is sealed with). */
function secretPlace(slug: string, field: typeof SECRET_FIELDS[number]): string {
  return `calcom_tenants/${slug}/${field}`;
}

/** The tenant as KV stores it: secrets sealed with the current key. */
async function sealTenant(ring: Keyring, tenant: Tenant): Promise<Tenant> {
  const out = { ...tenant };
  for (const f of SECRET_FIELDS) {
    const v = tenant[f];
    if (v !== null) out[f] = await seal(ring, v, secretPlace(tenant.slug, f));
  }
  return out;
}

/** A stored tenant with its secrets decrypted (plain values from before encryption read as they are). */
async function unsealTenant(ring: Keyring, stored: Tenant): Promise<Tenant> {
  const out = { ...stored };
  for (const f of SECRET_FIELDS) {
    const v = stored[f];
    if (v !== null) out[f] = await unseal(ring, v, secretPlace(stored.slug, f));
  }
  return out;
}

/** The stored tenant with this slug (secrets included), or null. */
export async function getTenant(kv: Deno.Kv, slug: string): Promise<Tenant | null> {
  if (!TenantSlug.safeParse(slug).success) return null;
  const entry = await kv.get<Tenant>(keys.calcomTenant(slug));
  return entry.value ? await unsealTenant(await keyring(), entry.value) : null;
}

/**
 * Re-encrypts every stored tenant secret that is plain or sealed with a key other than the
 * current one (`deno task secrets:reencrypt`, after adding a new first key to SECRETS_KEYS).
 * Each tenant is rewritten only if unchanged since read. Returns how many tenants it rewrote and
 * how many were current already.
 */
export async function reencryptTenantSecrets(
  kv: Deno.Kv,
  ring?: Keyring,
): Promise<{ rewritten: number; current: number }> {
  const r = ring ?? await keyring();
  const out = { rewritten: 0, current: 0 };
  for await (const e of kv.list<Tenant>({ prefix: keys.calcomTenantsPrefix() })) {
    const stale = SECRET_FIELDS.some((f) => e.value[f] !== null && sealedKeyId(e.value[f]!) !== r.current.id);
    if (!stale) {
      out.current++;
      continue;
    }
    const next = await sealTenant(r, await unsealTenant(r, e.value));
    const res = await kv.atomic().check(e).set(e.key, next).commit();
    if (!res.ok) throw new Error(`tenant ${e.value.slug} changed during re-encryption; run the task again`);
    out.rewritten++;
  }
  return out;
}

/** The `default` tenant from configuration. */
export function defaultTenant(config: Config): Tenant {
  return {
    slug: DEFAULT_TENANT,
    baseUrl: config.calcomApiUrl,
    apiKey: config.calcomApiKey,
    webhookSecret: config.calcomWebhookSecret,
    eventTypeIds: [],
    locationIds: [],
  };
}

/** `default` from configuration, any other slug from KV; null when unknown. */
export function resolveTenant(kv: Deno.Kv, config: Config, slug: string): Promise<Tenant | null> {
  return slug === DEFAULT_TENANT ? Promise.resolve(defaultTenant(config)) : getTenant(kv, slug);
}

/** A tenant without its secrets. */
export function describeTenant(tenant: Tenant): TenantDescription {
  return {
    slug: tenant.slug,
    baseUrl: tenant.baseUrl,
    hasApiKey: tenant.apiKey !== null && tenant.apiKey !== "",
    hasWebhookSecret: tenant.webhookSecret !== null && tenant.webhookSecret !== "",
    eventTypeIds: [...tenant.eventTypeIds],
    locationIds: [...(tenant.locationIds ?? [])],
  };
}

/** Every tenant: `default` (from configuration) first, then the stored ones by slug. */
export async function listTenants(kv: Deno.Kv, config: Config): Promise<Tenant[]> {
  const out: Tenant[] = [defaultTenant(config)];
  const ring = await keyring();
  for await (const e of kv.list<Tenant>({ prefix: keys.calcomTenantsPrefix() })) {
    out.push(await unsealTenant(ring, e.value));
  }
  return out;
}

/** Whether the sync can call this tenant's Cal.com (base URL and API key set). */
export function canCallApi(tenant: Tenant): tenant is Tenant & { baseUrl: string; apiKey: string } {
  return Boolean(tenant.baseUrl && tenant.apiKey);
}

/**
 * The tenant whose Cal.com mirrors a session: a stored tenant listing the session's location
 * (or "online") wins; otherwise `default` when it can call the API; otherwise none (not mirrored).
 */
export async function tenantForSession(
  kv: Deno.Kv,
  config: Config,
  session: { locationId: string | null },
): Promise<Tenant | null> {
  const place = session.locationId ?? "online";
  const all = await listTenants(kv, config);
  const claimed = all.find((t) => t.slug !== DEFAULT_TENANT && (t.locationIds ?? []).includes(place) && canCallApi(t));
  if (claimed) return claimed;
  const fallback = all[0];
  return canCallApi(fallback) ? fallback : null;
}
