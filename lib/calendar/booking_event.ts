/** The calendar event of a booked session. */
import type { SessionDetail } from "../catalog/browse.ts";
import type { CalendarEvent } from "./event.ts";

/** One event per booking: UID from the booking id, UTC times from the session, place from the location. */
export function bookingCalendarEvent(bookingId: string, detail: SessionDetail, siteOrigin: string): CalendarEvent {
  const { session, course, location } = detail;
  const place = session.mode === "online"
    ? "Online"
    : location
    ? `${location.name}, ${location.address.line1}, ${location.address.city}, ${location.address.region} ${location.address.postalCode}`
    : "Location to be announced";
  return {
    uid: `booking-${bookingId}@training-booking`,
    title: course.title,
    description: `${course.code}: ${course.summary}`,
    location: session.mode === "hybrid" ? `${place} (or online)` : place,
    url: `${siteOrigin}/bookings/${bookingId}`,
    startsAt: session.startsAt,
    endsAt: session.endsAt,
  };
}
