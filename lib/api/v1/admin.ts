/** Admin views: the event log (outbox replay) and the seat consistency recount. */
import { z } from "zod";
import { checkConsistency } from "../../booking/consistency.ts";
import { isEventCursor, listEvents } from "../../booking/events.ts";
import { ApiError } from "../errors.ts";
import { defineOperation } from "../operation.ts";
import { ErrorSchema } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });

export const listEventsOp = defineOperation({
  method: "get",
  path: "/v1/events",
  operationId: "listEvents",
  tag: "Admin",
  summary: "Replay domain events in commit order",
  description: "Start without `after`, then pass the previous `nextCursor`. At the end `nextCursor` is the cursor " +
    "you sent, so a poller can keep calling with it.",
  access: ["admin"],
  query: z.strictObject({
    after: z.string().min(1).max(200).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  }),
  responses: {
    200: {
      description: "A page of events",
      schema: z.object({ events: z.array(z.record(z.string(), z.unknown())), nextCursor: z.string().nullable() }),
    },
    400: err("invalid_cursor"),
  },
  async handler(ctx) {
    if (ctx.query.after && !isEventCursor(ctx.query.after)) {
      throw new ApiError(400, "invalid_cursor", "`after` is not a cursor returned by this endpoint.");
    }
    const page = await listEvents(ctx.services.kv, { after: ctx.query.after, limit: ctx.query.limit });
    return { status: 200, body: page };
  },
});

export const consistencyOp = defineOperation({
  method: "get",
  path: "/v1/admin/consistency",
  operationId: "checkConsistency",
  tag: "Admin",
  summary: "Recount every session's seats from holds, bookings and offers and report mismatches",
  description: "Also `deno task doctor`. `ok` is true when nothing disagrees.",
  access: ["admin"],
  responses: {
    200: {
      description: "The report",
      schema: z.object({
        ok: z.boolean(),
        sessions: z.number().int(),
        problems: z.array(z.record(z.string(), z.unknown())),
        tookMs: z.number(),
      }),
    },
  },
  async handler(ctx) {
    const t0 = performance.now();
    const report = await checkConsistency(ctx.services.kv);
    return {
      status: 200,
      body: { ok: report.problems.length === 0, ...report, tookMs: Math.round(performance.now() - t0) },
    };
  },
});

/** Every admin operation. */
export const adminOperations = [listEventsOp, consistencyOp];
