/** A calendar event for one booked session: times are UTC instants, so every calendar shows them right across DST. */
export interface CalendarEvent {
  /** Stable across downloads: the same booking always gives the same UID. */
  uid: string;
  title: string;
  description: string;
  location: string;
  url: string;
  /** ISO 8601 UTC instants. */
  startsAt: string;
  endsAt: string;
}

/** `20260308T070000Z` (iCalendar and Google Calendar's UTC form). */
export function icsUtc(iso: string): string {
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, "Z").replaceAll("-", "").replaceAll(":", "");
}
