/**
 * zod schemas for the parts of Cal.com API v2 answers the project reads. They are deliberately
 * narrower than Cal.com's OpenAPI document (unknown fields are dropped, not rejected) but strict
 * on what the sync relies on: ids, uids, seat uids, times, statuses, attendees.
 */
import { z } from "zod";

/** `{status: "error", timestamp?, path?, error: {code, message, details?}}`. */
export const ErrorEnvelope = z.object({
  status: z.literal("error"),
  timestamp: z.string().optional(),
  path: z.string().optional(),
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

/** Wraps a data schema in `{status: "success", data}`. */
export function successEnvelope<T extends z.ZodType>(data: T) {
  return z.object({ status: z.literal("success"), data });
}

/** `GET /v2/me` data. */
export const CalcomMe = z.object({
  id: z.number(),
  username: z.string(),
  email: z.string(),
  timeZone: z.string(),
  organizationId: z.number().nullable().optional(),
});
/** The account an API key belongs to. */
export type CalcomMe = z.infer<typeof CalcomMe>;

/** A seated event type's seat settings (event types 2024-06-14). */
export const CalcomSeats = z.object({
  seatsPerTimeSlot: z.number().int().positive(),
  showAttendeeInfo: z.boolean(),
  showAvailabilityCount: z.boolean(),
});
/** Seat settings of an event type. */
export type CalcomSeats = z.infer<typeof CalcomSeats>;

/** An event type location as Cal.com returns it (only the kinds the project creates are typed). */
export const CalcomOutputLocation = z.union([
  z.object({ type: z.literal("address"), address: z.string(), public: z.boolean().optional() }),
  z.object({ type: z.literal("link"), link: z.string(), public: z.boolean().optional() }),
  z.object({ type: z.literal("integration"), integration: z.string(), link: z.string().optional() }),
  z.object({ type: z.string() }).loose(),
]);
/** An event type location (address, link, integration, or another kind kept as is). */
export type CalcomOutputLocation = z.infer<typeof CalcomOutputLocation>;

/** Event type data (2024-06-14). */
export const CalcomEventType = z.object({
  id: z.number(),
  title: z.string(),
  slug: z.string(),
  lengthInMinutes: z.number(),
  description: z.string().optional(),
  locations: z.array(CalcomOutputLocation),
  seats: CalcomSeats.optional(),
  hidden: z.boolean().optional(),
  ownerId: z.number().optional(),
});
/** An event type. */
export type CalcomEventType = z.infer<typeof CalcomEventType>;

/** Data of `DELETE /v2/event-types/{id}`. */
export const CalcomDeletedEventType = z.object({
  id: z.number(),
  title: z.string(),
  slug: z.string(),
  lengthInMinutes: z.number(),
});
/** What Cal.com says it deleted. */
export type CalcomDeletedEventType = z.infer<typeof CalcomDeletedEventType>;

/** A booking attendee; `seatUid` is set on seated bookings. */
export const CalcomAttendee = z.object({
  name: z.string(),
  email: z.string(),
  timeZone: z.string(),
  absent: z.boolean(),
  seatUid: z.string().optional(),
  language: z.string().optional(),
});
/** One attendee of a booking. */
export type CalcomAttendee = z.infer<typeof CalcomAttendee>;

/** Booking statuses of API v2 (lower case; webhooks use upper case). */
export const CalcomBookingStatus = z.enum(["accepted", "cancelled", "rejected", "pending"]);
/** A booking status. */
export type CalcomBookingStatus = z.infer<typeof CalcomBookingStatus>;

/**
 * Booking data (2024-08-13): `BookingOutput`, `GetSeatedBookingOutput` and
 * `CreateSeatedBookingOutput` all fit; the last one adds `seatUid` at the top level.
 */
export const CalcomBooking = z.object({
  id: z.number(),
  uid: z.string(),
  title: z.string(),
  status: CalcomBookingStatus,
  start: z.string(),
  end: z.string(),
  duration: z.number(),
  eventTypeId: z.number().optional(),
  eventType: z.object({ id: z.number(), slug: z.string() }).optional(),
  location: z.string().optional(),
  absentHost: z.boolean().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  attendees: z.array(CalcomAttendee),
  seatUid: z.string().optional(),
  cancellationReason: z.string().optional(),
  rescheduledFromUid: z.string().optional(),
  rescheduledToUid: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
/** A booking. */
export type CalcomBooking = z.infer<typeof CalcomBooking>;

/** `pagination` of `GET /v2/bookings`. */
export const CalcomPagination = z.object({
  totalItems: z.number(),
  remainingItems: z.number(),
  returnedItems: z.number(),
  itemsPerPage: z.number(),
  currentPage: z.number(),
  totalPages: z.number(),
  hasNextPage: z.boolean(),
  hasPreviousPage: z.boolean(),
});
/** Pagination facts of a bookings page. */
export type CalcomPagination = z.infer<typeof CalcomPagination>;

/** The whole `GET /v2/bookings` answer (data and pagination sit side by side). */
export const CalcomBookingsPage = z.object({
  status: z.literal("success"),
  data: z.array(CalcomBooking),
  pagination: CalcomPagination,
});
