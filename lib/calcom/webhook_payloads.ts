/**
 * Cal.com webhook payloads as the project reads them, and what a stored delivery holds (the
 * delivery and its apply outcome). Shared by the intake (lib/calcom/webhook_intake.ts) and the
 * apply step (lib/calcom/inbound.ts), so neither imports the other for its types.
 */
import { z } from "zod";

const instant = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "must be a date-time");

const Attendee = z.object({ email: z.string().min(1), name: z.string().optional() }).loose();

const BookingPayload = z.object({
  uid: z.string().min(1),
  bookingId: z.number().int().optional(),
  eventTypeId: z.number().int(),
  startTime: instant,
  endTime: instant,
  attendees: z.array(Attendee),
  status: z.string().optional(),
}).loose();

/** Payload schemas of the triggers the project reads. */
export const WEBHOOK_PAYLOADS = {
  BOOKING_CREATED: BookingPayload.extend({ attendeeSeatId: z.string().min(1).optional() }),
  BOOKING_REQUESTED: BookingPayload,
  BOOKING_REJECTED: BookingPayload,
  BOOKING_CANCELLED: BookingPayload.extend({
    cancellationReason: z.string().nullable().optional(),
    cancelledBy: z.string().nullable().optional(),
  }),
  BOOKING_RESCHEDULED: BookingPayload.extend({
    rescheduleUid: z.string().min(1),
    rescheduleStartTime: instant.optional(),
    rescheduleEndTime: instant.optional(),
  }),
  BOOKING_NO_SHOW_UPDATED: z.object({
    bookingUid: z.string().min(1),
    bookingId: z.number().int(),
    attendees: z.array(z.object({ email: z.string().min(1), noShow: z.boolean() }).loose()),
  }).loose(),
  MEETING_STARTED: BookingPayload,
  MEETING_ENDED: BookingPayload,
  /** Cal.com hosted the meeting and its recording is ready (lib/attendance/recording.ts). */
  RECORDING_READY: z.object({
    uid: z.string().min(1).optional(),
    eventTypeId: z.number().int(),
    downloadLink: z.url({ protocol: /^https?$/ }),
  }).loose(),
} as const;

/** A trigger the intake stores. */
export type KnownTrigger = keyof typeof WEBHOOK_PAYLOADS;

/** Triggers whose fields sit beside `triggerEvent` instead of in `payload`. */
export const FLAT_TRIGGERS: ReadonlySet<string> = new Set(["MEETING_STARTED", "MEETING_ENDED"]);

/** What was done for one attendee (seat). */
export type SeatAction =
  | "created"
  | "already_booked"
  | "linked"
  | "cancelled"
  | "already_cancelled"
  | "rescheduled"
  | "attendance_recorded"
  | "attendance_kept"
  | "recording_added"
  | "flagged"
  | "ignored";

/** The outcome for one attendee. */
export interface SeatOutcome {
  action: SeatAction;
  email?: string;
  bookingId?: string;
  sessionId?: string;
  reviewItemId?: string;
  reason?: string;
  /** An unknown attendee became a new learner user. */
  learnerCreated?: boolean;
}

/** The outcome of one delivery, stored on it and returned in the webhook's 202 body. */
export interface ApplyOutcome {
  trigger: string;
  /** The seats' common action; `mixed` when they differ; `error` when applying failed. */
  action: SeatAction | "mixed" | "error";
  seats: SeatOutcome[];
  reason?: string;
  reviewItemId?: string;
}

/** Value of `["calcom_deliveries", tenant, receivedAtUlid]`. */
export interface StoredDelivery {
  trigger: KnownTrigger;
  /** The envelope's `createdAt`; for flat triggers the body's own `createdAt` (the booking's), or null. */
  createdAt: string | null;
  /** The payload as received (flat triggers: the body without `triggerEvent`). */
  payload: Record<string, unknown>;
  receivedAt: string;
  /** Hex SHA-256 of tenant, a NUL byte and the raw body. */
  bodyHash: string;
  /** When the apply step ran (absent until then). */
  appliedAt?: string;
  /** What the apply step did (lib/calcom/inbound.ts). */
  outcome?: ApplyOutcome;
}

/** A delivery with its id (the ULID in its key). */
export interface Delivery extends StoredDelivery {
  id: string;
}
