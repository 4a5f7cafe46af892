/**
 * The emulator's answers in Cal.com API v2 shapes (bookings 2024-08-13, event types 2024-06-14,
 * `/v2/me`), written to satisfy `openapi-v2.json`:
 * - seated bookings render as `GetSeatedBookingOutput` (attendees carry `seatUid` and
 *   `bookingFieldsResponses`); creating or moving a seat adds the top-level `seatUid`
 *   (`CreateSeatedBookingOutput`);
 * - mark-absent answers `BookingOutput` (the document lists no seated variant there), so it adds
 *   the top-level `bookingFieldsResponses`;
 * - event types fill every field the document requires, with `null` where it types a field as
 *   "object, nullable" (e.g. `successRedirectUrl`), and leave out `seatsPerTimeSlot`, which the
 *   document types as an object (the real value is a number); `seats` carries it instead.
 */
import type { EmulatorBooking, EmulatorEventType, EmulatorOrganizer } from "./emulator_state.ts";

type Json = Record<string, unknown>;

/** `{status: "success", data}`. */
export function success(data: unknown): Json {
  return { status: "success", data };
}

/** Cal.com's error envelope. */
export function failure(path: string, code: string, message: string, details?: unknown): Json {
  const error: Json = { code, message };
  if (details !== undefined) error.details = details;
  return { status: "error", timestamp: new Date().toISOString(), path, error };
}

/** `/v2/me` data. */
export function meOutput(o: EmulatorOrganizer): Json {
  return {
    id: o.id,
    username: o.username,
    email: o.email,
    name: o.name,
    timeFormat: 24,
    defaultScheduleId: null,
    weekStart: "Monday",
    timeZone: o.timeZone,
    organizationId: null,
  };
}

/** `EventTypeOutput_2024_06_14`. */
export function eventTypeOutput(et: EmulatorEventType): Json {
  const out: Json = {
    id: et.id,
    lengthInMinutes: et.lengthInMinutes,
    title: et.title,
    slug: et.slug,
    description: et.description,
    locations: et.locations,
    bookingFields: [],
    disableGuests: et.seats !== undefined,
    recurrence: null,
    metadata: {},
    price: 0,
    currency: "usd",
    lockTimeZoneToggleOnBookingPage: false,
    forwardParamsSuccessRedirect: null,
    successRedirectUrl: null,
    isInstantEvent: false,
    scheduleId: null,
    hidden: et.hidden,
    bookingRequiresAuthentication: false,
    ownerId: et.ownerId,
    users: [],
  };
  if (et.seats) {
    out.seats = et.seats;
    out.seatsShowAvailabilityCount = et.seats.showAvailabilityCount;
  }
  return out;
}

/** `DeleteData_2024_06_14`. */
export function deletedEventTypeOutput(et: EmulatorEventType): Json {
  return { id: et.id, lengthInMinutes: et.lengthInMinutes, title: et.title, slug: et.slug };
}

/** Variants of a booking answer. */
export interface BookingOutputOptions {
  /** Adds the top-level `seatUid` (seat created or moved). */
  seatUid?: string;
  /** Adds the top-level `bookingFieldsResponses` (`BookingOutput` shape). */
  plain?: boolean;
}

/** A booking in 2024-08-13 shape. */
export function bookingOutput(
  b: EmulatorBooking,
  et: Pick<EmulatorEventType, "id" | "slug">,
  organizer: EmulatorOrganizer,
  options: BookingOutputOptions = {},
): Json {
  const out: Json = {
    id: b.id,
    uid: b.uid,
    title: b.title,
    description: "",
    hosts: [{
      id: organizer.id,
      name: organizer.name,
      email: organizer.email,
      username: organizer.username,
      timeZone: organizer.timeZone,
    }],
    status: b.status,
    start: b.start,
    end: b.end,
    duration: Math.round((Date.parse(b.end) - Date.parse(b.start)) / 60_000),
    eventTypeId: b.eventTypeId,
    eventType: { id: et.id, slug: et.slug },
    location: b.location,
    absentHost: b.absentHost,
    createdAt: b.createdAt,
    updatedAt: b.updatedAt,
    metadata: b.metadata,
    icsUid: b.iCalUID,
    attendees: b.seats.map((s) => {
      const a: Json = { name: s.name, email: s.email, timeZone: s.timeZone, language: s.language, absent: s.absent };
      if (s.phoneNumber) a.phoneNumber = s.phoneNumber;
      if (b.seated) {
        a.seatUid = s.seatUid;
        a.bookingFieldsResponses = s.bookingFieldsResponses;
      }
      return a;
    }),
  };
  if (b.cancellationReason) out.cancellationReason = b.cancellationReason;
  if (b.rescheduledFromUid) out.rescheduledFromUid = b.rescheduledFromUid;
  if (b.rescheduledToUid) out.rescheduledToUid = b.rescheduledToUid;
  if (options.seatUid) out.seatUid = options.seatUid;
  if (options.plain || !b.seated) out.bookingFieldsResponses = b.seats[0]?.bookingFieldsResponses ?? {};
  return out;
}
