/**
 * Operating the Cal.com sync: a booking's sync status, the manual-review queue (list, retry,
 * resolve), sync figures, and the Cal.com tenants (never showing their keys or secrets).
 */
import { PLACE_OWNER } from "../../access/matrix.ts";
import { z } from "zod";
import { getBooking } from "../../store/bookings.ts";
import type { Origin } from "../../booking/events.ts";
import {
  getReviewItem,
  getSeatLink,
  getSyncState,
  listReviewItems,
  requeueSync,
  resolveReviewItem,
  syncFigures,
} from "../../calcom/sync_store.ts";
import {
  listTenantDescriptions,
  removeTenant,
  TenantAdminError,
  TenantInput,
  upsertTenant,
} from "../../calcom/tenant_admin.ts";
import { requeueSessionSync } from "../../calcom/outbound_store.ts";
import { TenantSlug } from "../../calcom/tenants.ts";
import { ApiError } from "../errors.ts";
import { defineOperation } from "../operation.ts";
import { assertMayReadPlace } from "./access.ts";
import { ErrorSchema, IdParams } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });
const TAG = "Cal.com sync";
const instant = z.string().describe("ISO 8601 instant");

const ORIGINS = ["web", "api", "admin", "calcom", "system"] as const satisfies readonly Origin[];

/** A booking's sync state (see lib/calcom/sync_store.ts `SyncState`). */
export const SyncStateSchema = z.object({
  bookingId: z.string(),
  sessionId: z.string(),
  tenant: z.string().nullable(),
  status: z.enum(["pending", "synced", "failed", "skipped"]),
  origin: z.enum(ORIGINS).describe("origin of the change being mirrored; `calcom` changes are never sent back"),
  attempts: z.number().int(),
  lastAttemptAt: instant.nullable(),
  nextAttemptAt: instant.nullable().describe("pending only: when the runner tries next"),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  verifiedAt: instant.nullable().describe("last time Cal.com was seen to agree"),
  requiresManualReview: z.boolean(),
  flaggedAt: instant.nullable(),
  changedAt: instant.describe("when the change happened (start of the sync latency)"),
  syncedAt: instant.nullable(),
  latencyMs: z.number().nullable(),
  note: z.string().nullable(),
  sendingUntil: instant.nullable().optional().describe(
    "while a seat POST may be in flight: another worker waits until then, then looks on Cal.com before posting",
  ),
});

/** The Cal.com seat mirroring a booking. */
export const SeatLinkSchema = z.object({
  tenant: z.string(),
  eventTypeId: z.number().int(),
  calBookingUid: z.string().describe("Cal.com booking uid (for seats: the parent booking of that start)"),
  seatUid: z.string().nullable(),
  status: z.enum(["active", "cancelled"]),
  createdBy: z.enum(["ours", "calcom"]),
  linkedAt: instant,
});

/** An entry of the manual-review queue. */
export const ReviewItemSchema = z.object({
  id: z.string(),
  kind: z.enum(["sync_failed", "calcom_conflict"]).describe(
    "`sync_failed`: a booking we could not mirror (retryable); `calcom_conflict`: a Cal.com change we could not apply",
  ),
  tenant: z.string().nullable(),
  bookingId: z.string().nullable(),
  sessionId: z.string().nullable(),
  calBookingUid: z.string().nullable(),
  email: z.string().nullable(),
  code: z.string(),
  message: z.string(),
  flaggedAt: instant,
  status: z.enum(["open", "resolved"]),
  resolvedAt: instant.nullable(),
  resolvedBy: z.string().nullable(),
  comment: z.string().nullable(),
});

/** Counts and latency of the sync. */
export const SyncFiguresSchema = z.object({
  total: z.number().int(),
  pending: z.number().int(),
  synced: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  flagged: z.number().int().describe("bookings waiting for manual review"),
  openReviewItems: z.number().int(),
  latencyMs: z.object({
    p50: z.number().nullable(),
    p95: z.number().nullable(),
    max: z.number().nullable(),
    samples: z.number().int(),
  }).describe("change → synced, over every booking's last successful send"),
});

/** A tenant without secrets. */
export const TenantViewSchema = z.object({
  slug: z.string(),
  baseUrl: z.string().nullable(),
  hasApiKey: z.boolean(),
  hasWebhookSecret: z.boolean(),
  eventTypeIds: z.array(z.number().int()),
  locationIds: z.array(z.string()),
  source: z.enum(["environment", "store"]).describe("`environment`: `default`, from CALCOM_* variables"),
});

/** One tenant's health (`GET /api/calcom/health`). */
export const TenantHealthSchema = z.object({
  slug: z.string(),
  configured: z.boolean().describe("base URL and API key are set"),
  reachable: z.boolean().nullable().describe("Cal.com answered `GET /v2/me` (null: not configured)"),
  authOk: z.boolean().nullable().describe("Cal.com accepted the API key (null: unknown)"),
  checkedAt: instant.nullable().describe("checks are reused for 30 s"),
  error: z.string().nullable().describe("a code such as UnauthorizedException, NETWORK_ERROR, TIMEOUT"),
  lastWebhookAt: instant.nullable(),
  lastWebhookTrigger: z.string().nullable(),
});

/** The `calcom` section of `GET /api/calcom/health`. */
export const CalcomHealthSchema = z.object({
  ok: z.boolean().describe("every configured tenant is reachable and accepts its key"),
  tenants: z.array(TenantHealthSchema),
  sync: SyncFiguresSchema,
});

const ReviewIdParams = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, "must be a review item id"),
});
const SlugParams = z.strictObject({ slug: TenantSlug });

async function reviewItemOr404(kv: Deno.Kv, id: string) {
  const item = await getReviewItem(kv, id);
  if (!item) throw new ApiError(404, "review_item_not_found", `No review item ${id}.`);
  return item;
}

function tenantError(e: unknown): never {
  if (e instanceof TenantAdminError) {
    throw new ApiError(e.code === "tenant_not_found" ? 404 : 409, e.code, e.message);
  }
  throw e;
}

/** Message of a booking that has no sync state. */
export const NOT_QUEUED_MESSAGE =
  "This booking has not been queued for Cal.com: its session is not mirrored to a Cal.com tenant, " +
  "or the booking predates the sync. Nothing is pending.";

export const getSyncStatusOp = defineOperation({
  method: "get",
  path: "/v1/bookings/{id}/sync-status",
  operationId: "getBookingSyncStatus",
  tag: TAG,
  summary: "Where a booking stands with Cal.com: sync state and the Cal.com seat",
  description:
    "For the booking's learner, the session's instructor and admins. A booking that was never queued for Cal.com answers 200 with " +
    "`sync: null` and a `message` (not a made-up `pending`, which would promise a sync that will not happen; not " +
    "404, which means the booking does not exist).",
  access: PLACE_OWNER,
  params: IdParams,
  responses: {
    200: {
      description: "The sync state (null when never queued) and the seat link (null until linked)",
      schema: z.object({
        bookingId: z.string(),
        sync: SyncStateSchema.nullable(),
        seat: SeatLinkSchema.nullable(),
        message: z.string().nullable(),
      }),
    },
    403: err("forbidden: not your booking, and you are neither an admin nor this session's instructor"),
    404: err("No such booking"),
  },
  async handler(ctx) {
    const kv = ctx.services.kv;
    const booking = await getBooking(kv, ctx.params.id);
    if (!booking) throw new ApiError(404, "booking_not_found", `No booking with id ${ctx.params.id}.`);
    await assertMayReadPlace(kv, ctx.requirePrincipal(), booking);
    const [sync, link] = await Promise.all([getSyncState(kv, booking.id), getSeatLink(kv, booking.id)]);
    const seat = link
      ? {
        tenant: link.tenant,
        eventTypeId: link.eventTypeId,
        calBookingUid: link.calBookingUid,
        seatUid: link.seatUid,
        status: link.status,
        createdBy: link.createdBy,
        linkedAt: link.linkedAt,
      }
      : null;
    return { status: 200, body: { bookingId: booking.id, sync, seat, message: sync ? null : NOT_QUEUED_MESSAGE } };
  },
});

export const listReviewOp = defineOperation({
  method: "get",
  path: "/v1/admin/calcom/review",
  operationId: "listCalcomReviewItems",
  tag: TAG,
  summary: "The manual-review queue, newest first",
  access: ["admin"],
  query: z.strictObject({ status: z.enum(["open", "resolved"]).optional().describe("omitted: both") }),
  responses: { 200: { description: "Items, newest first", schema: z.object({ items: z.array(ReviewItemSchema) }) } },
  async handler(ctx) {
    return { status: 200, body: { items: await listReviewItems(ctx.services.kv, ctx.query.status) } };
  },
});

/**
 * Puts an open `sync_failed` item's booking back in the runner's queue. Throws an {@link ApiError}
 * (404 unknown, 409 resolved, not retryable, or no sync state) otherwise. Shared with the admin page.
 */
export async function retryReviewItem(kv: Deno.Kv, id: string) {
  const item = await reviewItemOr404(kv, id);
  if (item.status !== "open") {
    throw new ApiError(409, "review_item_resolved", "This item is already resolved; nothing to retry.");
  }
  if (item.kind === "sync_failed" && !item.bookingId && item.sessionId) {
    // A session's event type that failed to sync: its job goes back in the runner's queue.
    const job = await requeueSessionSync(kv, item.sessionId);
    if (!job) throw new ApiError(409, "no_sync_state", `Session ${item.sessionId} has no sync job to retry.`);
    return { item, sync: null };
  }
  if (item.kind !== "sync_failed" || !item.bookingId) {
    throw new ApiError(
      409,
      "not_retryable",
      "Only a booking that failed to sync can be retried. A Cal.com conflict needs a decision: fix the booking " +
        "or the Cal.com side by hand, then mark this item resolved with a comment.",
    );
  }
  const sync = await requeueSync(kv, item.bookingId);
  if (!sync) {
    throw new ApiError(409, "no_sync_state", `Booking ${item.bookingId} has no sync state to retry.`);
  }
  return { item, sync };
}

export const retryReviewOp = defineOperation({
  method: "post",
  path: "/v1/admin/calcom/review/{id}/retry",
  operationId: "retryCalcomReviewItem",
  tag: TAG,
  summary: "Send a booking that failed to sync again (fresh attempts, due at once)",
  description: "The item stays open until the sync succeeds or an admin resolves it; another failure refreshes it.",
  access: ["admin"],
  params: ReviewIdParams,
  responses: {
    202: {
      description: "Queued: the booking's new (pending) sync state (null for a session's event type job)",
      schema: z.object({ item: ReviewItemSchema, sync: SyncStateSchema.nullable() }),
    },
    404: err("No such review item"),
    409: err("not_retryable (a Cal.com conflict, or no booking), review_item_resolved, no_sync_state"),
  },
  async handler(ctx) {
    return { status: 202, body: await retryReviewItem(ctx.services.kv, ctx.params.id) };
  },
});

/** Comment of a resolution. */
export const ResolveBody = z.strictObject({
  comment: z.string().trim().min(1).max(500).describe("what was done or decided (required)"),
});

/** Marks an open item resolved. 404 unknown, 409 already resolved. Shared with the admin page. */
export async function resolveItem(kv: Deno.Kv, id: string, comment: string, by: string) {
  const item = await reviewItemOr404(kv, id);
  if (item.status === "resolved") {
    throw new ApiError(409, "review_item_resolved", "This item is already resolved.");
  }
  const resolved = await resolveReviewItem(kv, id, comment, by);
  if (!resolved) throw new ApiError(404, "review_item_not_found", `No review item ${id}.`);
  return resolved;
}

export const resolveReviewOp = defineOperation({
  method: "post",
  path: "/v1/admin/calcom/review/{id}/resolve",
  operationId: "resolveCalcomReviewItem",
  tag: TAG,
  summary: "Mark a review item resolved, with a comment",
  access: ["admin"],
  params: ReviewIdParams,
  body: ResolveBody,
  responses: {
    200: { description: "The resolved item", schema: z.object({ item: ReviewItemSchema }) },
    404: err("No such review item"),
    409: err("review_item_resolved"),
  },
  async handler(ctx) {
    const p = ctx.requirePrincipal();
    const item = await resolveItem(ctx.services.kv, ctx.params.id, ctx.body.comment, p.userId ?? p.via);
    return { status: 200, body: { item } };
  },
});

export const syncFiguresOp = defineOperation({
  method: "get",
  path: "/v1/admin/calcom/sync",
  operationId: "calcomSyncFigures",
  tag: TAG,
  summary: "Counts of synced, failed, flagged, pending and skipped bookings, open review items, sync latency",
  access: ["admin"],
  responses: { 200: { description: "The figures", schema: SyncFiguresSchema } },
  async handler(ctx) {
    return { status: 200, body: await syncFigures(ctx.services.kv) };
  },
});

export const listTenantsOp = defineOperation({
  method: "get",
  path: "/v1/admin/calcom/tenants",
  operationId: "listCalcomTenants",
  tag: TAG,
  summary: "Cal.com tenants (never their keys or secrets): `default` from CALCOM_* first, then stored ones",
  access: ["admin"],
  responses: { 200: { description: "Tenants", schema: z.object({ tenants: z.array(TenantViewSchema) }) } },
  async handler(ctx) {
    return { status: 200, body: { tenants: await listTenantDescriptions(ctx.services.kv, ctx.services.config) } };
  },
});

export const putTenantOp = defineOperation({
  method: "put",
  path: "/v1/admin/calcom/tenants/{slug}",
  operationId: "putCalcomTenant",
  tag: TAG,
  summary: "Create or update a Cal.com tenant; a key or secret left out is kept",
  description: "`apiKey` and `webhookSecret` are write-only: stored, never returned or logged (`null` removes one). " +
    "`default` is configured by CALCOM_API_URL, CALCOM_API_KEY and CALCOM_WEBHOOK_SECRET and is refused (409).",
  access: ["admin"],
  params: SlugParams,
  body: TenantInput,
  responses: {
    200: { description: "Updated", schema: z.object({ tenant: TenantViewSchema, created: z.literal(false) }) },
    201: { description: "Created", schema: z.object({ tenant: TenantViewSchema, created: z.literal(true) }) },
    409: err("tenant_env_configured: `default` comes from the environment"),
  },
  async handler(ctx) {
    const out = await upsertTenant(ctx.services.kv, ctx.params.slug, ctx.body).catch(tenantError);
    return { status: out.created ? 201 : 200, body: out, headers: { "cache-control": "no-store" } };
  },
});

export const deleteTenantOp = defineOperation({
  method: "delete",
  path: "/v1/admin/calcom/tenants/{slug}",
  operationId: "deleteCalcomTenant",
  tag: TAG,
  summary: "Remove a stored Cal.com tenant",
  description: "Its webhooks are refused from then on; links already made to its Cal.com stay recorded.",
  access: ["admin"],
  params: SlugParams,
  responses: {
    204: { description: "Removed" },
    404: err("No such tenant"),
    409: err("tenant_env_configured: `default` comes from the environment"),
  },
  async handler(ctx) {
    await removeTenant(ctx.services.kv, ctx.params.slug).catch(tenantError);
    return { status: 204, body: null };
  },
});

/** Every Cal.com operations endpoint. */
export const calcomOperations = [
  getSyncStatusOp,
  listReviewOp,
  retryReviewOp,
  resolveReviewOp,
  syncFiguresOp,
  listTenantsOp,
  putTenantOp,
  deleteTenantOp,
];
