/** The `.ics` file of a booking, written by the `ics` package with UTC times (no TZID needed, DST-proof). */
import { createEvent, type DateArray } from "ics";
import type { CalendarEvent } from "./event.ts";

function utcArray(iso: string): DateArray {
  const d = new Date(iso);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()];
}

/** iCalendar text (CRLF line endings) with one VEVENT; throws when the event is invalid. */
export function eventToIcs(event: CalendarEvent): string {
  const { error, value } = createEvent({
    productId: "training-booking/ics",
    uid: event.uid,
    title: event.title,
    description: event.description,
    location: event.location,
    url: event.url,
    start: utcArray(event.startsAt),
    startInputType: "utc",
    startOutputType: "utc",
    end: utcArray(event.endsAt),
    endInputType: "utc",
    endOutputType: "utc",
    status: "CONFIRMED",
    busyStatus: "BUSY",
  });
  if (error || !value) throw new Error(`Could not build the calendar file: ${error?.message ?? "no output"}`);
  return value;
}

/** How an emailed invitation changes the recipient's calendar (RFC 5546). */
export interface InvitationOptions {
  method: "REQUEST" | "CANCEL";
  /** Raised at every change, so calendars replace the entry instead of adding one. */
  sequence: number;
  organizer: { name: string; email: string };
  attendee: { name: string; email: string };
}

/**
 * An invitation to email (iTIP): `METHOD:REQUEST` (booked, moved) or `METHOD:CANCEL` (cancelled,
 * `STATUS:CANCELLED`), the booking's stable UID and the given SEQUENCE; UTC times as in
 * {@link eventToIcs}.
 */
export function invitationIcs(event: CalendarEvent, options: InvitationOptions): string {
  const cancel = options.method === "CANCEL";
  const { error, value } = createEvent({
    productId: "training-booking/ics",
    method: options.method,
    uid: event.uid,
    sequence: options.sequence,
    title: event.title,
    description: event.description,
    location: event.location,
    url: event.url,
    start: utcArray(event.startsAt),
    startInputType: "utc",
    startOutputType: "utc",
    end: utcArray(event.endsAt),
    endInputType: "utc",
    endOutputType: "utc",
    status: cancel ? "CANCELLED" : "CONFIRMED",
    busyStatus: cancel ? "FREE" : "BUSY",
    organizer: options.organizer,
    attendees: [{ ...options.attendee, rsvp: false, partstat: "ACCEPTED", role: "REQ-PARTICIPANT" }],
  });
  if (error || !value) throw new Error(`Could not build the invitation: ${error?.message ?? "no output"}`);
  return value;
}
