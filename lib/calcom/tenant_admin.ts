/**
 * Managing Cal.com tenants from the admin API and `deno task calcom:tenant`: create or update a
 * tenant keeping the secrets it already has when none are given, remove one, and list them, all
 * without ever returning or printing an API key or webhook secret.
 */
import { z } from "zod";
import type { Config } from "../config.ts";
import { formatZodIssues, readableErrors } from "../domain/validation.ts";
import { keys } from "../store/keys.ts";
import {
  DEFAULT_TENANT,
  describeTenant,
  getTenant,
  listTenants,
  saveTenant,
  type Tenant,
  type TenantDescription,
  TenantSlug,
} from "./tenants.ts";

/** A base URL of Cal.com's API: http(s), no credentials, no query or fragment. */
export const CalcomBaseUrl = z.url({ protocol: /^https?$/ }).max(500)
  .refine((u) => {
    // Zod runs refinements even after the format check failed, so an unparsable URL lands here too.
    if (!URL.canParse(u)) return true;
    const url = new URL(u);
    return !url.username && !url.password && !url.search && !url.hash;
  }, "must be an http(s) URL without credentials, query or fragment");

/** What an admin sends to create or update a tenant. Omitted secrets are kept; `null` removes one. */
export const TenantInput = z.strictObject({
  baseUrl: CalcomBaseUrl.describe("Cal.com API origin without /v2, e.g. https://api.cal.com"),
  apiKey: z.string().trim().min(1).max(500).nullable().optional()
    .describe("write-only; omitted: keep the stored key; null: remove it"),
  webhookSecret: z.string().min(1).max(500).nullable().optional()
    .describe("write-only; omitted: keep the stored secret; null: remove it (its webhooks are then refused)"),
  eventTypeIds: z.array(z.number().int().positive()).max(1000).optional()
    .describe("Cal.com event types this tenant owns besides those the sync creates; omitted: keep"),
  locationIds: z.array(z.string().trim().min(1).max(100)).max(1000).optional()
    .describe('locations (ids, or "online") whose sessions mirror to this tenant; omitted: keep'),
});
/** Input of {@link upsertTenant}. */
export type TenantInput = z.infer<typeof TenantInput>;

/** A tenant as listed: no secrets, and where it is configured. */
export interface TenantListing extends TenantDescription {
  /** `environment`: the `default` tenant from `CALCOM_*` variables (read-only here); `store`: KV. */
  source: "environment" | "store";
}

/** Why an admin change was refused. */
export class TenantAdminError extends Error {
  constructor(readonly code: "tenant_env_configured" | "tenant_not_found", message: string) {
    super(message);
    this.name = "TenantAdminError";
  }
}

function refuseDefault(slug: string): void {
  if (slug === DEFAULT_TENANT) {
    throw new TenantAdminError(
      "tenant_env_configured",
      `The "${DEFAULT_TENANT}" tenant is configured by CALCOM_API_URL, CALCOM_API_KEY and CALCOM_WEBHOOK_SECRET ` +
        "and cannot be changed here. Pick another slug for an additional tenant.",
    );
  }
}

/** Every tenant without secrets: `default` first, then the stored ones. */
export async function listTenantDescriptions(kv: Deno.Kv, config: Config): Promise<TenantListing[]> {
  return (await listTenants(kv, config)).map((t) => ({
    ...describeTenant(t),
    source: t.slug === DEFAULT_TENANT ? "environment" : "store",
  }));
}

/**
 * Creates or updates the stored tenant `slug`. Secrets left out are kept, `null` removes them;
 * lists left out are kept (empty for a new tenant). Throws {@link TenantAdminError} for `default`
 * and a ValidationError for an invalid slug or fields.
 */
export async function upsertTenant(
  kv: Deno.Kv,
  slug: string,
  input: TenantInput,
): Promise<{ tenant: TenantListing; created: boolean }> {
  refuseDefault(slug);
  const parsedSlug = TenantSlug.parse(slug);
  const prior = await getTenant(kv, parsedSlug);
  const keep = <T>(given: T | undefined, before: T): T => given === undefined ? before : given;
  const next: Tenant = {
    slug: parsedSlug,
    baseUrl: input.baseUrl,
    apiKey: keep(input.apiKey, prior?.apiKey ?? null),
    webhookSecret: keep(input.webhookSecret, prior?.webhookSecret ?? null),
    eventTypeIds: [...new Set(keep(input.eventTypeIds, prior?.eventTypeIds ?? []))],
    locationIds: [...new Set(keep(input.locationIds, prior?.locationIds ?? []))],
  };
  await saveTenant(kv, next);
  return { tenant: { ...describeTenant(next), source: "store" }, created: prior === null };
}

/** Removes the stored tenant `slug`. Throws {@link TenantAdminError} for `default` or an unknown slug. */
export async function removeTenant(kv: Deno.Kv, slug: string): Promise<void> {
  refuseDefault(slug);
  if (!(await getTenant(kv, slug))) {
    throw new TenantAdminError("tenant_not_found", `No Cal.com tenant "${slug}".`);
  }
  await kv.delete(keys.calcomTenant(slug));
}

// ── command line ────────────────────────────────────────────────────────

/** Usage of `deno task calcom:tenant`. */
export const TENANT_USAGE = [
  "Usage:",
  "  deno task calcom:tenant set <slug> --url <base url> [--key <api key>] [--secret <webhook secret>]",
  "                              [--locations a,b] [--event-types 1,2]",
  "  deno task calcom:tenant list",
  "  deno task calcom:tenant remove <slug>",
  "Omitted --key / --secret keep the stored ones. Keys and secrets are never printed.",
].join("\n");

/** A parsed command line. */
export type TenantCommand =
  | { command: "list" }
  | { command: "remove"; slug: string }
  | { command: "set"; slug: string; input: Record<string, unknown> };

const FLAGS: Record<string, string> = {
  "--url": "baseUrl",
  "--key": "apiKey",
  "--secret": "webhookSecret",
  "--locations": "locationIds",
  "--event-types": "eventTypeIds",
};

const OPTION_OF: Record<string, string> = Object.fromEntries(Object.entries(FLAGS).map(([k, v]) => [v, k]));

const splitList = (v: string) => v.split(",").map((s) => s.trim()).filter(Boolean);

/** Parses the task's arguments; throws an Error with a readable message (never echoing a secret). */
export function parseTenantArgs(args: readonly string[]): TenantCommand {
  const [command, ...rest] = args;
  if (command === "list" && rest.length === 0) return { command };
  if (command === "remove" && rest.length === 1) return { command, slug: rest[0] };
  if (command !== "set" || rest.length === 0 || rest[0].startsWith("--")) throw new Error(TENANT_USAGE);
  const [slug, ...flags] = rest;
  const input: Record<string, unknown> = {};
  for (let i = 0; i < flags.length; i += 2) {
    const name = flags[i];
    const field = FLAGS[name];
    if (!field) {
      throw new Error(
        `Unknown option ${name.startsWith("--") ? name : "(a value without an option)"}.\n${TENANT_USAGE}`,
      );
    }
    const value = flags[i + 1];
    if (value === undefined || FLAGS[value]) throw new Error(`${name} needs a value.\n${TENANT_USAGE}`);
    if (field === "eventTypeIds") {
      const ids = splitList(value).map(Number);
      if (ids.some((n) => !Number.isInteger(n) || n <= 0)) {
        throw new Error("--event-types takes positive whole numbers separated by commas, e.g. 12,34.");
      }
      input[field] = ids;
    } else if (field === "locationIds") {
      input[field] = splitList(value);
    } else {
      input[field] = value;
    }
  }
  if (input.baseUrl === undefined) throw new Error(`set needs --url.\n${TENANT_USAGE}`);
  return { command: "set", slug, input };
}

/** One line per tenant, without secrets. */
export function formatTenant(t: TenantListing): string {
  const list = (xs: readonly (string | number)[]) => xs.length ? xs.join(",") : "-";
  return [
    t.slug,
    `url=${t.baseUrl ?? "-"}`,
    `key=${t.hasApiKey ? "set" : "missing"}`,
    `secret=${t.hasWebhookSecret ? "set" : "missing"}`,
    `locations=${list(t.locationIds)}`,
    `event-types=${list(t.eventTypeIds)}`,
    `(${t.source})`,
  ].join("  ");
}

/**
 * Runs a parsed command against the store and returns what to print (no secret is ever in it).
 * Throws an Error with a readable message on refusal or invalid input.
 */
export async function runTenantCommand(kv: Deno.Kv, config: Config, cmd: TenantCommand): Promise<string[]> {
  if (cmd.command === "list") return (await listTenantDescriptions(kv, config)).map(formatTenant);
  if (cmd.command === "remove") {
    await removeTenant(kv, cmd.slug);
    return [`Removed Cal.com tenant ${cmd.slug}.`];
  }
  if (!TenantSlug.safeParse(cmd.slug).success && cmd.slug !== DEFAULT_TENANT) {
    throw new Error(`Slug "${cmd.slug}" must be lowercase letters, digits and dashes (1–63 characters).`);
  }
  const parsed = TenantInput.safeParse(cmd.input, { error: readableErrors });
  if (!parsed.success) {
    const issues = formatZodIssues(parsed.error.issues).map((i) => `${OPTION_OF[i.path] ?? i.path}: ${i.message}`);
    throw new Error(`Invalid tenant: ${issues.join("; ")}`);
  }
  const { tenant, created } = await upsertTenant(kv, cmd.slug, parsed.data);
  return [`${created ? "Created" : "Updated"} Cal.com tenant:`, formatTenant(tenant)];
}
