/** Bookings: confirm a hold, read, cancel, reschedule; and the caller's own places. */
import { PLACE_OWNER } from "../../access/matrix.ts";
import { z } from "zod";
import { keys } from "../../store/keys.ts";
import { type Booking, BookingSchema, IdSchema } from "../../domain/mod.ts";
import type { Principal } from "../../auth/principal.ts";
import { ApiError } from "../errors.ts";
import { defineOperation, replayedHeader } from "../operation.ts";
import { assertMayReadPlace } from "./access.ts";
import { BookingViewSchema, BUSY_RESPONSE, ErrorSchema, IdParams } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });
const TAG = "Holds and bookings";

export const confirmBooking = defineOperation({
  method: "post",
  path: "/v1/bookings",
  operationId: "confirmBooking",
  tag: TAG,
  summary: "Turn your live hold (or waitlist offer) into a booking",
  access: PLACE_OWNER,
  idempotency: "engine",
  body: z.strictObject({ holdId: IdSchema }),
  responses: {
    201: { description: "The confirmed booking", schema: BookingViewSchema },
    403: err("forbidden: not your place, and you are neither an admin nor this session's instructor"),
    404: err("No such hold"),
    409: err("hold_already_confirmed, session_cancelled, session_started"),
    410: err("hold_expired or hold_released (details.alternatives when expired)"),
    503: BUSY_RESPONSE,
  },
  async handler(ctx) {
    const out = await ctx.services.engine.confirmHold(ctx.body.holdId, ctx.actor(), ctx.idempotency);
    return {
      status: 201,
      body: { booking: out.booking },
      headers: replayedHeader(out.replayed),
    };
  },
});

/** The booking with `id` if the caller may read it: 404 when there is none, 403 when it is not theirs to see. */
export async function requireReadableBooking(kv: Deno.Kv, principal: Principal, id: string): Promise<Booking> {
  const booking = (await kv.get<Booking>(keys.booking(id))).value;
  if (!booking) throw new ApiError(404, "booking_not_found", `No booking with id ${id}.`);
  await assertMayReadPlace(kv, principal, booking);
  return booking;
}

export const getBooking = defineOperation({
  method: "get",
  path: "/v1/bookings/{id}",
  operationId: "getBooking",
  tag: TAG,
  summary: "A booking with its audit trail",
  access: PLACE_OWNER,
  params: IdParams,
  responses: {
    200: { description: "The booking", schema: BookingViewSchema },
    403: err("forbidden: not your place, and you are neither an admin nor this session's instructor"),
    404: err("No such booking"),
  },
  async handler(ctx) {
    const booking = await requireReadableBooking(ctx.services.kv, ctx.requirePrincipal(), ctx.params.id);
    return { status: 200, body: { booking } };
  },
});

export const cancelBooking = defineOperation({
  method: "post",
  path: "/v1/bookings/{id}/cancel",
  operationId: "cancelBooking",
  tag: TAG,
  summary: "Cancel a booking (marked late inside the course's cut-off, 24 h by default)",
  access: PLACE_OWNER,
  idempotency: "stored",
  params: IdParams,
  body: z.strictObject({ reason: z.string().trim().min(1).max(500).optional() }),
  bodyOptional: true,
  responses: {
    200: { description: "The cancelled booking (`lateCancel` says whether it was late)", schema: BookingViewSchema },
    403: err("forbidden: not your place, and you are neither an admin nor this session's instructor"),
    404: err("No such booking"),
    409: err("booking_not_active, session_started"),
    503: BUSY_RESPONSE,
  },
  async handler(ctx) {
    const booking = await ctx.services.engine.cancelBooking(ctx.params.id, ctx.actor(ctx.body.reason));
    return { status: 200, body: { booking } };
  },
});

export const rescheduleBooking = defineOperation({
  method: "post",
  path: "/v1/bookings/{id}/reschedule",
  operationId: "rescheduleBooking",
  tag: TAG,
  summary: "Move a booking to another session of the same course, all or nothing",
  description: "The new seat is taken in the same atomic operation that frees the old one; if the target is full " +
    "nothing changes (409 with alternatives).",
  access: PLACE_OWNER,
  idempotency: "engine",
  params: IdParams,
  body: z.strictObject({ sessionId: IdSchema, reason: z.string().trim().min(1).max(500).optional() }),
  responses: {
    200: {
      description: "The new booking and the previous one (cancelled, linked)",
      schema: z.object({ booking: BookingSchema, previous: BookingSchema }),
    },
    403: err("forbidden: not your place, and you are neither an admin nor the instructor of both sessions"),
    404: err("No such booking or session"),
    409: err("session_full (details.alternatives), booking_not_active, already_booked, …"),
    422: err("same_session, different_course"),
    503: BUSY_RESPONSE,
  },
  async handler(ctx) {
    const out = await ctx.services.engine.rescheduleBooking(
      ctx.params.id,
      ctx.body.sessionId,
      ctx.actor(ctx.body.reason),
      ctx.idempotency,
    );
    return {
      status: 200,
      body: { booking: out.booking, previous: out.previous },
      headers: replayedHeader(out.replayed),
    };
  },
});

/** Every booking operation. */
export const bookingOperations = [confirmBooking, getBooking, cancelBooking, rescheduleBooking];
