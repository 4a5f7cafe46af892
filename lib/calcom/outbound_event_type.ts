/**
 * How a training session looks on Cal.com: one seated event type per session.
 *
 * Why per session and not per course: a session has its own capacity, place (training center or
 * join link), length and instructor, and Cal.com holds those on the event type, not on a booking.
 * One event type per course would need every session to share one seat count and one location;
 * with one per session, `seatsPerTimeSlot` is exactly that session's capacity, a change to one
 * session never disturbs another, and the event type id alone tells an inbound webhook which
 * session (and tenant) it is about. The cost is one Cal.com event type per session, deleted when
 * the session is cancelled.
 */
import type { Address, Course, Location, Session } from "../domain/mod.ts";
import type { CalcomLocationInput, SeatedEventTypeInput } from "./client.ts";

/** The slug of a session's event type: unique (from the session id) and URL-safe. */
export function sessionSlug(sessionId: string): string {
  return `session-${sessionId.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`;
}

/** `1100 Peachtree St NE, Atlanta, GA 30309, US`. */
export function formatAddress(a: Address): string {
  return `${a.line1}, ${a.city}, ${a.region} ${a.postalCode}, ${a.country}`;
}

/** Session length in whole minutes (at least 1). */
export function sessionMinutes(session: Pick<Session, "startsAt" | "endsAt">): number {
  return Math.max(1, Math.round((Date.parse(session.endsAt) - Date.parse(session.startsAt)) / 60_000));
}

/**
 * Where the session takes place, as Cal.com locations: in person → the training center's
 * address; online with a join URL → that link (not public: only attendees see it); hybrid → both;
 * anything else → Cal Video.
 */
export function sessionLocations(
  session: Pick<Session, "mode" | "joinUrl">,
  location: Pick<Location, "address"> | null,
): CalcomLocationInput[] {
  const out: CalcomLocationInput[] = [];
  if ((session.mode === "in_person" || session.mode === "hybrid") && location) {
    out.push({ type: "address", address: formatAddress(location.address), public: true });
  }
  if ((session.mode === "online" || session.mode === "hybrid") && session.joinUrl) {
    // Not public: Cal.com shows the link to booked attendees only, never on the booking page.
    out.push({ type: "link", link: session.joinUrl, public: false });
  }
  if (out.length === 0) out.push({ type: "integration", integration: "cal-video" });
  return out;
}

/**
 * The seated event type of a session: title from the course, slug from the session id, length
 * from the session, seats = capacity (attendees do not see each other; the free count shows).
 */
export function eventTypeInput(
  session: Pick<Session, "id" | "startsAt" | "endsAt" | "capacity" | "mode" | "joinUrl">,
  course: Pick<Course, "title">,
  location: Pick<Location, "address"> | null,
): SeatedEventTypeInput {
  return {
    title: course.title,
    slug: sessionSlug(session.id),
    lengthInMinutes: sessionMinutes(session),
    seats: { seatsPerTimeSlot: session.capacity, showAttendeeInfo: false, showAvailabilityCount: true },
    locations: sessionLocations(session, location),
  };
}
