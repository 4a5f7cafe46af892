/** The calendar event of a booked session. */
import type { SessionDetail } from "../catalog/browse.ts";
import type { CalendarEvent } from "./event.ts";

/**
 * One event per booking: UID from the booking id, UTC times from the session, place from the
 * location. `joinUrl` (only for a booked learner, see lib/booking/join_link.ts) becomes the event's
 * URL and, for online sessions, its LOCATION; hybrid sessions name it beside the address.
 */
export function bookingCalendarEvent(
  bookingId: string,
  detail: SessionDetail,
  siteOrigin: string,
  joinUrl: string | null = null,
): CalendarEvent {
  const { session, course, location } = detail;
  const online = session.mode !== "in_person" ? joinUrl : null;
  const place = session.mode === "online"
    ? online ?? "Online"
    : location
    ? `${location.name}, ${location.address.line1}, ${location.address.city}, ${location.address.region} ${location.address.postalCode}`
    : "Location to be announced";
  return {
    uid: `booking-${bookingId}@training-booking`,
    title: course.title,
    description: `${course.code}: ${course.summary}`,
    location: session.mode === "hybrid" ? `${place} (or online${online ? `: ${online}` : ""})` : place,
    url: online ?? `${siteOrigin}/bookings/${bookingId}`,
    startsAt: session.startsAt,
    endsAt: session.endsAt,
  };
}
