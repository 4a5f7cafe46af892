import { z } from "zod";
import { IdSchema, OriginSchema, UtcDateTimeSchema } from "./common.ts";

export const BOOKING_STATUSES = ["confirmed", "cancelled"] as const;
export const BookingStatusSchema = z.enum(BOOKING_STATUSES);
export type BookingStatus = z.infer<typeof BookingStatusSchema>;

/** One line of a booking's history. */
export const BookingAuditEntrySchema = z.object({
  at: UtcDateTimeSchema,
  actorId: IdSchema.nullable(),
  origin: OriginSchema,
  /** What happened, e.g. "confirmed", "cancelled", "rescheduled", "imported". */
  action: z.string().min(1).max(60),
  reason: z.string().max(500).nullable().default(null),
});
export type BookingAuditEntry = z.infer<typeof BookingAuditEntrySchema>;

/** A learner's seat in a session. */
export const BookingSchema = z.object({
  id: IdSchema,
  sessionId: IdSchema,
  learnerId: IdSchema,
  status: BookingStatusSchema,
  /** UUID v4; becomes xAPI `context.registration` for every statement. */
  registration: z.uuidv4(),
  holdId: IdSchema.nullable().default(null),
  origin: OriginSchema,
  createdAt: UtcDateTimeSchema,
  confirmedAt: UtcDateTimeSchema,
  cancelledAt: UtcDateTimeSchema.nullable().default(null),
  cancelReason: z.string().max(500).nullable().default(null),
  lateCancel: z.boolean().default(false),
  rescheduledFromBookingId: IdSchema.nullable().default(null),
  rescheduledToBookingId: IdSchema.nullable().default(null),
  audit: z.array(BookingAuditEntrySchema).default([]),
  /** The full session whose alternatives led to this booking (taken within 24 h of their offer), if any. */
  alternativeOf: IdSchema.nullable().optional(),
}).superRefine((b, ctx) => {
  if (b.status === "cancelled" && !b.cancelledAt) {
    ctx.addIssue({
      code: "custom",
      path: ["cancelledAt"],
      message: "is required when status is cancelled",
    });
  }
});
export type Booking = z.infer<typeof BookingSchema>;
