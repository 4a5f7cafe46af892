/** The audit trail: every booking change searchable (admin); a booking's full history (its owner, its staff, admins). */
import { ADMIN_ONLY, PLACE_OWNER } from "../../access/matrix.ts";
import { z } from "zod";
import { bookingHistory, searchAuditTrail } from "../../admin/audit.ts";
import { BookingSchema, IdSchema, OriginSchema } from "../../domain/mod.ts";
import { ApiError } from "../errors.ts";
import { defineOperation } from "../operation.ts";
import { requireReadableBooking } from "./bookings.ts";
import { DateSchema, ErrorSchema, IdParams } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });
const TAG = "Audit";

/** One audit line as the API shows it. */
export const AuditEntrySchema = z.object({
  id: z.string(),
  key: z.string().describe("the event key (a ULID of its commit time)"),
  type: z.string(),
  schemaVersion: z.literal(1),
  occurredAt: z.string().describe("when"),
  origin: OriginSchema.describe("from where: web, api, admin, calcom, system"),
  correlationId: z.string().describe("the request that made the change"),
  actor: z.object({ userId: IdSchema.nullable() }).describe("who (null: the system or the admin token)"),
  sessionId: z.string(),
  learnerId: IdSchema.nullable(),
  reason: z.string().nullable().describe("why, when given"),
  data: z.record(z.string(), z.unknown()),
}).meta({ id: "AuditEntry" });

/** Query of the audit search (also the page's filter form). */
export const AuditQuerySchema = z.strictObject({
  learner: IdSchema.optional().describe("learner id"),
  session: IdSchema.optional().describe("session id"),
  course: IdSchema.optional().describe("course id"),
  booking: IdSchema.optional().describe("booking id"),
  origin: OriginSchema.optional(),
  actor: IdSchema.optional().describe("the acting user's id"),
  from: DateSchema.optional().describe("first UTC date included"),
  to: DateSchema.optional().describe("last UTC date included"),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type AuditQuery = z.infer<typeof AuditQuerySchema>;

/** The next UTC day of a date like 2026-12-01 (an exclusive upper bound). */
function dayAfter(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString();
}

/** Runs an audit search from its query (shared by the API and the page). */
export function runAuditQuery(kv: Deno.Kv, q: AuditQuery) {
  if (q.from && q.to && q.to < q.from) {
    throw new ApiError(400, "invalid_request", "`to` is before `from`.", {
      issues: [{ path: "query.to", message: "must not be before from" }],
    });
  }
  return searchAuditTrail(kv, {
    learnerId: q.learner,
    sessionId: q.session,
    courseId: q.course,
    bookingId: q.booking,
    origin: q.origin,
    actorId: q.actor,
    from: q.from ? `${q.from}T00:00:00.000Z` : undefined,
    to: q.to ? dayAfter(q.to) : undefined,
    limit: q.limit,
  });
}

export const searchAuditOp = defineOperation({
  method: "get",
  path: "/v1/admin/audit",
  operationId: "searchAuditTrail",
  tag: TAG,
  summary: "Search every booking change by learner, session, course, booking, origin, actor and date",
  description: "Newest first. Each entry says who (actor), when (occurredAt), from where (origin, correlationId) and " +
    "why (reason). `truncated` is true when the search stopped after 5,000 events: narrow it.",
  access: ADMIN_ONLY,
  query: AuditQuerySchema,
  responses: {
    200: {
      description: "Matching entries",
      schema: z.object({ entries: z.array(AuditEntrySchema), truncated: z.boolean() }),
    },
    400: err("A filter is not valid"),
  },
  async handler(ctx) {
    return { status: 200, body: await runAuditQuery(ctx.services.kv, ctx.query) };
  },
});

export const bookingHistoryOp = defineOperation({
  method: "get",
  path: "/v1/bookings/{id}/history",
  operationId: "getBookingHistory",
  tag: TAG,
  summary: "A booking's full history, oldest first: hold, booking, changes, cancellation, attendance",
  access: PLACE_OWNER,
  params: IdParams,
  responses: {
    200: {
      description: "The booking and its history",
      schema: z.object({ booking: BookingSchema, history: z.array(AuditEntrySchema) }),
    },
    403: err("forbidden: not your place, and you are neither an admin nor this session's instructor"),
    404: err("No such booking"),
  },
  async handler(ctx) {
    const booking = await requireReadableBooking(ctx.services.kv, ctx.requirePrincipal(), ctx.params.id);
    return { status: 200, body: { booking, history: await bookingHistory(ctx.services.kv, booking) } };
  },
});

/** Every audit operation. */
export const auditOperations = [searchAuditOp, bookingHistoryOp];
