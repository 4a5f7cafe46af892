/**
 * Cal.com webhook bodies (payload version 2021-10-20) built from emulator state and signed like
 * Cal.com signs them, shaped after `../shared/calcom/webhook-examples/`:
 * - `BOOKING_CREATED` for a seat: the PARENT booking's `uid`, the seat's uid in `attendeeSeatId`,
 *   `attendees` holding the new attendee;
 * - `BOOKING_CANCELLED` for one seat: parent `uid`, `status: "CANCELLED"`, only that attendee, no
 *   seat id anywhere;
 * - `BOOKING_RESCHEDULED`: `uid` is the new booking, `rescheduleUid` the old one, plus
 *   `rescheduleStartTime`/`rescheduleEndTime` (for a moved seat, only that attendee);
 * - `BOOKING_NO_SHOW_UPDATED`: `{message, attendees: [{email, noShow}], bookingUid, bookingId}`;
 * - `MEETING_ENDED`: flat, the booking's fields beside `triggerEvent`.
 * Video-only keys (`videoCallData`, `conferenceData`, `appsStatus`) appear for Cal Video sessions.
 */
import { CALCOM_SIGNATURE_HEADER, signCalcomWebhook } from "../../lib/calcom/signature.ts";
import type { EmulatorBooking, EmulatorEventType, EmulatorOrganizer, EmulatorSeat } from "./emulator_state.ts";

type Json = Record<string, unknown>;

/** The webhook payload version newer Cal.com announces in `X-Cal-Webhook-Version`. */
export const CALCOM_WEBHOOK_VERSION = "2021-10-20";

/** A ready-to-send webhook: the exact bytes, their signature, and the parsed body for assertions. */
export interface SignedWebhook {
  trigger: string;
  /** Raw JSON body; send exactly these bytes. */
  body: string;
  /** `Content-Type`, `X-Cal-Signature-256` and (unless disabled) `X-Cal-Webhook-Version`. */
  headers: Record<string, string>;
  /** `JSON.parse(body)`. */
  json: Json;
}

/** Signs an envelope. `version: null` leaves out `X-Cal-Webhook-Version` (older self-hosted builds). */
export async function signWebhook(
  secret: string,
  envelope: Json,
  options: { version?: string | null } = {},
): Promise<SignedWebhook> {
  const body = JSON.stringify(envelope);
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    [CALCOM_SIGNATURE_HEADER]: await signCalcomWebhook(secret, body),
  };
  const version = options.version === undefined ? CALCOM_WEBHOOK_VERSION : options.version;
  if (version !== null) headers["X-Cal-Webhook-Version"] = version;
  return { trigger: String(envelope.triggerEvent), body, headers, json: envelope };
}

/** What a booking webhook is built from. */
export interface WebhookSource {
  booking: EmulatorBooking;
  eventType: EmulatorEventType;
  organizer: EmulatorOrganizer;
  appUrl: string;
}

/** Minutes east of UTC of `timeZone` at `at`. */
export function utcOffsetMinutes(timeZone: string, at: Date): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(at);
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute"), n("second"));
  return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

function organizerPayload(o: EmulatorOrganizer, at: Date): Json {
  return {
    id: o.id,
    name: o.name,
    email: o.email,
    username: o.username,
    usernameInOrg: o.username,
    timeZone: o.timeZone,
    language: { locale: "en" },
    timeFormat: "HH:mm",
    utcOffset: utcOffsetMinutes(o.timeZone, at),
  };
}

function attendeePayload(s: EmulatorSeat, at: Date): Json {
  const [firstName, ...rest] = s.name.split(" ");
  return {
    email: s.email,
    name: s.name,
    firstName,
    lastName: rest.join(" "),
    timeZone: s.timeZone,
    phoneNumber: s.phoneNumber ?? null,
    language: { locale: s.language },
    utcOffset: utcOffsetMinutes(s.timeZone, at),
  };
}

function isVideo(src: WebhookSource): boolean {
  const first = src.eventType.locations[0];
  return first === undefined || first.type === "integration";
}

function responsesOf(seat: EmulatorSeat | undefined, location: string): Json {
  return {
    name: { label: "your_name", value: seat?.name ?? "", isHidden: false },
    email: { label: "email_address", value: seat?.email ?? "", isHidden: false },
    attendeePhoneNumber: { label: "phone_number", isHidden: true },
    location: { label: "location", value: { optionValue: "", value: location }, isHidden: false },
    title: { label: "what_is_this_meeting_about", isHidden: true },
    notes: { label: "additional_notes", isHidden: false },
    guests: { label: "additional_guests", value: [], isHidden: false },
    rescheduleReason: { label: "reason_for_reschedule", isHidden: false },
  };
}

/** The fields every booking trigger shares, for the given attendees. */
function bookingPayload(src: WebhookSource, attendees: EmulatorSeat[], status: string): Json {
  const { booking: b, eventType: et } = src;
  const start = new Date(b.start);
  const location = isVideo(src) ? "integrations:daily" : b.location;
  const payload: Json = {
    bookerUrl: src.appUrl,
    title: b.title,
    startTime: b.start,
    endTime: b.end,
    additionalNotes: "",
    type: et.slug,
    description: et.description,
    eventTypeId: et.id,
    hideCalendarNotes: false,
    hideCalendarEventDetails: false,
    hideOrganizerEmail: false,
    schedulingType: null,
    seatsPerTimeSlot: et.seats?.seatsPerTimeSlot ?? null,
    seatsShowAttendees: et.seats?.showAttendeeInfo ?? false,
    seatsShowAvailabilityCount: et.seats?.showAvailabilityCount ?? false,
    customReplyToEmail: null,
    disableRescheduling: false,
    disableCancelling: false,
    organizer: organizerPayload(src.organizer, start),
    attendees: attendees.map((s) => attendeePayload(s, start)),
    customInputs: {},
    responses: responsesOf(attendees[0], location),
    userFieldsResponses: {},
    location,
    destinationCalendar: null,
    iCalUID: b.iCalUID,
    iCalSequence: 0,
    requiresConfirmation: false,
    oneTimePassword: null,
    organizationId: null,
    hashedLink: null,
    uid: b.uid,
    eventTitle: et.title,
    eventDescription: et.description,
    price: 0,
    currency: "usd",
    length: et.lengthInMinutes,
    bookingId: b.id,
    metadata: isVideo(src) ? { videoCallUrl: `${src.appUrl}/video/${b.uid}` } : {},
    status,
  };
  if (isVideo(src)) {
    payload.conferenceData = { createRequest: { requestId: crypto.randomUUID() } };
    payload.videoCallData = {
      type: "daily_video",
      id: b.uid,
      password: "emulator",
      url: `${src.appUrl}/video/${b.uid}`,
    };
    payload.appsStatus = [{ appName: "Cal Video", type: "daily_video", success: 1, failures: 0, errors: [] }];
  }
  return payload;
}

function envelope(trigger: string, payload: Json, now: Date): Json {
  return { triggerEvent: trigger, createdAt: now.toISOString(), payload };
}

/** `BOOKING_CREATED` for one seat (or a plain booking when `seat` is omitted). */
export function bookingCreated(src: WebhookSource, seat: EmulatorSeat | undefined, now: Date): Json {
  const payload = bookingPayload(src, seat ? [seat] : src.booking.seats, "ACCEPTED");
  if (seat) payload.attendeeSeatId = seat.seatUid;
  return envelope("BOOKING_CREATED", payload, now);
}

/** `BOOKING_CANCELLED` for one seat: only that attendee, no seat id; or the whole booking without `seat`. */
export function bookingCancelled(
  src: WebhookSource,
  seat: EmulatorSeat | undefined,
  now: Date,
  cancellationReason: string | null = null,
): Json {
  const payload = bookingPayload(src, seat ? [seat] : src.booking.seats, "CANCELLED");
  payload.cancellationReason = cancellationReason ?? src.booking.cancellationReason ?? null;
  payload.cancelledBy = src.organizer.email;
  payload.iCalSequence = 1;
  payload.requestReschedule = false;
  return envelope("BOOKING_CANCELLED", payload, now);
}

/** `BOOKING_RESCHEDULED`: `src.booking` is the new booking; `from` the old one. */
export function bookingRescheduled(
  src: WebhookSource,
  from: { uid: string; id: number; start: string; end: string },
  seat: EmulatorSeat | undefined,
  now: Date,
): Json {
  const payload = bookingPayload(src, seat ? [seat] : src.booking.seats, "ACCEPTED");
  payload.iCalSequence = 1;
  payload.rescheduleId = from.id;
  payload.rescheduleUid = from.uid;
  payload.rescheduleStartTime = from.start;
  payload.rescheduleEndTime = from.end;
  return envelope("BOOKING_RESCHEDULED", payload, now);
}

/** `BOOKING_NO_SHOW_UPDATED`. */
export function noShowUpdated(
  booking: EmulatorBooking,
  attendees: { email: string; noShow: boolean }[],
  now: Date,
): Json {
  const message = attendees.map((a) => `${a.email} marked as ${a.noShow ? "no-show" : "present"}`).join(", ");
  return envelope(
    "BOOKING_NO_SHOW_UPDATED",
    { message, attendees, bookingUid: booking.uid, bookingId: booking.id },
    now,
  );
}

/** Flat `MEETING_ENDED`: the booking's row beside `triggerEvent`. */
export function meetingEnded(src: WebhookSource): Json {
  const { booking: b, eventType: et, organizer: o } = src;
  const location = isVideo(src) ? "integrations:daily" : b.location;
  return {
    triggerEvent: "MEETING_ENDED",
    id: b.id,
    uid: b.uid,
    idempotencyKey: crypto.randomUUID(),
    userId: o.id,
    userPrimaryEmail: o.email,
    eventTypeId: et.id,
    title: b.title,
    description: et.description,
    customInputs: {},
    responses: responsesOf(b.seats[0], location),
    startTime: b.start,
    endTime: b.end,
    location,
    createdAt: b.createdAt,
    updatedAt: b.updatedAt,
    status: b.status.toUpperCase(),
    paid: false,
    destinationCalendarId: null,
    cancellationReason: b.cancellationReason ?? null,
    rejectionReason: null,
    reassignReason: null,
    reassignById: null,
    dynamicEventSlugRef: null,
    dynamicGroupSlugRef: null,
    rescheduled: null,
    fromReschedule: b.rescheduledFromUid ?? null,
    recurringEventId: null,
    smsReminderNumber: null,
    scheduledJobs: [],
    metadata: b.metadata,
    isRecorded: false,
    iCalUID: b.iCalUID,
    iCalSequence: 0,
    rating: null,
    ratingFeedback: null,
    noShowHost: b.absentHost,
    oneTimePassword: null,
    cancelledBy: null,
    rescheduledBy: null,
    creationSource: "API_V2",
    user: { email: o.email, name: o.name, timeZone: o.timeZone, username: o.username },
    attendees: b.seats.map((s) => ({
      id: s.attendeeId,
      email: s.email,
      name: s.name,
      timeZone: s.timeZone,
      phoneNumber: s.phoneNumber ?? null,
      locale: s.language,
      bookingId: b.id,
      noShow: s.absent,
    })),
    payment: [],
    references: [],
    appsStatus: isVideo(src)
      ? [{ appName: "Cal Video", type: "daily_video", success: 1, failures: 0, errors: [] }]
      : [],
  };
}
