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
