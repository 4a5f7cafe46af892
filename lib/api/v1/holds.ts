/** Seat holds: place, read (with the server's countdown), release. */
import { PLACE_OWNER } from "../../access/matrix.ts";
import { z } from "zod";
import { keys } from "../../store/keys.ts";
import { type Hold, IdSchema, isHoldLive } from "../../domain/mod.ts";
import { ApiError } from "../errors.ts";
import { defineOperation, replayedHeader } from "../operation.ts";
import { assertMayReadPlace, learnerFor } from "./access.ts";
import { BUSY_RESPONSE, ErrorSchema, HoldViewSchema, IdParams } from "./schemas.ts";

/** The hold as the API shows it, with the time left by the server's clock. */
export function presentHold(hold: Hold, now: Date): z.infer<typeof HoldViewSchema> {
  const live = isHoldLive(hold, now);
  return {
    hold,
    live,
    secondsLeft: live ? Math.max(0, Math.floor((Date.parse(hold.expiresAt) - now.getTime()) / 1000)) : 0,
    serverTime: now.toISOString(),
  };
}

const err = (description: string) => ({ description, schema: ErrorSchema });

export const placeHold = defineOperation({
  method: "post",
  path: "/v1/holds",
  operationId: "placeHold",
  tag: "Holds and bookings",
  summary: "Hold a seat for HOLD_MINUTES (15)",
  description:
    "Takes one seat for the learner until `expiresAt`. Send an `Idempotency-Key` so a double tap or a retry never " +
    "makes two holds. A full session answers 409 with up to 3 alternatives and whether the waitlist is open.",
  access: PLACE_OWNER,
  idempotency: "engine",
  body: z.strictObject({
    sessionId: IdSchema,
    learnerId: IdSchema.optional().describe("admins, or the session's instructor: hold for another learner"),
    alternativeOf: IdSchema.optional().describe(
      "the full session whose alternatives offered this one (409 details or GET /v1/sessions/{id}/alternatives): " +
        "counted as an acceptance when they were offered less than 24 h ago",
    ),
    confirmDuplicate: z.boolean().optional().describe(
      "true: book anyway although you are already booked on another session of this course or completed it " +
        "(otherwise 409 duplicate_course; asked only when holding for yourself)",
    ),
  }),
  responses: {
    201: { description: "The hold", schema: HoldViewSchema },
    403: err("forbidden: not your place, and you are neither an admin nor this session's instructor"),
    404: err("No such session"),
    409: err(
      "session_full (details.alternatives, details.waitlistOpen), duplicate_course (details.reason booked with " +
        "bookingId, sessionId, startsAt; or completed with completedAt: send confirmDuplicate true to book anyway), " +
        "already_holding, already_booked, …",
    ),
    422: err("prerequisites_missing (details.missing)"),
    429: err("too_many_holds: 3 live holds already"),
    503: BUSY_RESPONSE,
  },
  async handler(ctx) {
    const principal = ctx.requirePrincipal();
    const learnerId = learnerFor(principal, ctx.body.learnerId);
    const { engine } = ctx.services;
    const out = await engine.placeHold(ctx.body.sessionId, learnerId, ctx.actor(), ctx.idempotency, {
      learner: principal.user ?? undefined,
      alternativeOf: ctx.body.alternativeOf,
      // The warning speaks to people booking for themselves; staff holding for someone else are not asked.
      warnDuplicate: ctx.body.confirmDuplicate !== true && learnerId === principal.userId,
    });
    return {
      status: 201,
      body: presentHold(out.hold, engine.now()),
      headers: replayedHeader(out.replayed),
    };
  },
});

export const getHold = defineOperation({
  method: "get",
  path: "/v1/holds/{id}",
  operationId: "getHold",
  tag: "Holds and bookings",
  summary: "A hold and its time left by the server's clock",
  access: PLACE_OWNER,
  params: IdParams,
  responses: {
    200: { description: "The hold", schema: HoldViewSchema },
    403: err("forbidden: not your place, and you are neither an admin nor this session's instructor"),
    404: err("No such hold"),
  },
  async handler(ctx) {
    const hold = (await ctx.services.kv.get<Hold>(keys.hold(ctx.params.id))).value;
    if (!hold) throw new ApiError(404, "hold_not_found", `No hold with id ${ctx.params.id}.`);
    await assertMayReadPlace(ctx.services.kv, ctx.requirePrincipal(), hold);
    return { status: 200, body: presentHold(hold, ctx.services.engine.now()) };
  },
});

export const releaseHold = defineOperation({
  method: "delete",
  path: "/v1/holds/{id}",
  operationId: "releaseHold",
  tag: "Holds and bookings",
  summary: "Release a hold (or decline a waitlist offer)",
  access: PLACE_OWNER,
  params: IdParams,
  responses: {
    200: {
      description: "The ended hold (status released, or expired if its time was already up)",
      schema: HoldViewSchema,
    },
    403: err("forbidden: not your place, and you are neither an admin nor this session's instructor"),
    404: err("No such hold"),
    409: err("hold_not_active: already confirmed, released or expired"),
    503: BUSY_RESPONSE,
  },
  async handler(ctx) {
    const hold = await ctx.services.engine.releaseHold(ctx.params.id, ctx.actor());
    return { status: 200, body: presentHold(hold, ctx.services.engine.now()) };
  },
});

/** Every hold operation. */
export const holdOperations = [placeHold, getHold, releaseHold];
