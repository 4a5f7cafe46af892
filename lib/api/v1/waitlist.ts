/** Waitlist: join a full session's FIFO queue, leave it. */
import { PLACE_OWNER } from "../../access/matrix.ts";
import { z } from "zod";
import { IdSchema } from "../../domain/mod.ts";
import { defineOperation } from "../operation.ts";
import { WAITLIST_RULE } from "../../booking/waitlist_order.ts";
import { learnerFor } from "./access.ts";
import { BUSY_RESPONSE, ErrorSchema, WaitlistViewSchema } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });
const TAG = "Waitlist";

export const joinWaitlist = defineOperation({
  method: "post",
  path: "/v1/waitlist",
  operationId: "joinWaitlist",
  tag: TAG,
  summary: "Join a full session's waitlist (sooner compliance deadline first, then first come)",
  description: `${WAITLIST_RULE} When a seat frees, the first learner in that order gets an offer: a hold ` +
    "lasting 24 h (2 h when the session starts within 48 h, never past the start) that they confirm with " +
    "POST /v1/bookings.",
  access: PLACE_OWNER,
  idempotency: "stored",
  body: z.strictObject({
    sessionId: IdSchema,
    learnerId: IdSchema.optional().describe("admins, or the session's instructor: for another learner"),
  }),
  responses: {
    201: { description: "The entry and the learner's 1-based position", schema: WaitlistViewSchema },
    403: err("forbidden: not your place, and you are neither an admin nor this session's instructor"),
    404: err("No such session"),
    409: err("seats_available, waitlist_closed, already_waitlisted, already_booked, session_cancelled"),
    422: err("prerequisites_missing"),
    503: BUSY_RESPONSE,
  },
  async handler(ctx) {
    const learnerId = learnerFor(ctx.requirePrincipal(), ctx.body.learnerId);
    const out = await ctx.services.engine.joinWaitlist(ctx.body.sessionId, learnerId, ctx.actor());
    return { status: 201, body: out };
  },
});

export const leaveWaitlist = defineOperation({
  method: "delete",
  path: "/v1/waitlist/{sessionId}",
  operationId: "leaveWaitlist",
  tag: TAG,
  summary: "Leave a waitlist (a pending offer is declined and passes to the next learner)",
  access: PLACE_OWNER,
  params: z.strictObject({ sessionId: IdSchema }),
  query: z.strictObject({
    learnerId: IdSchema.optional().describe("admins, or the session's instructor: for another learner"),
  }),
  responses: {
    200: {
      description: "Left",
      schema: z.object({ sessionId: IdSchema, learnerId: IdSchema, left: z.literal(true) }),
    },
    403: err("forbidden: not your place, and you are neither an admin nor this session's instructor"),
    404: err("not_on_waitlist"),
    503: BUSY_RESPONSE,
  },
  async handler(ctx) {
    const learnerId = learnerFor(ctx.requirePrincipal(), ctx.query.learnerId);
    await ctx.services.engine.leaveWaitlist(ctx.params.sessionId, learnerId, ctx.actor());
    return { status: 200, body: { sessionId: ctx.params.sessionId, learnerId, left: true } };
  },
});

/** Every waitlist operation. */
export const waitlistOperations = [joinWaitlist, leaveWaitlist];
