/** "Add to calendar" links for Google Calendar and Outlook (times in UTC, so the calendar converts them). */
import { type CalendarEvent, icsUtc } from "./event.ts";

/** Google Calendar's event template: `dates=START/END` in `YYYYMMDDTHHMMSSZ`. */
export function googleCalendarUrl(event: CalendarEvent): string {
  const params = new URLSearchParams({
    action: "TEMPLATE",
    text: event.title,
    dates: `${icsUtc(event.startsAt)}/${icsUtc(event.endsAt)}`,
    details: `${event.description}\n\n${event.url}`,
    location: event.location,
  });
  return `https://calendar.google.com/calendar/render?${params}`;
}

/** Outlook on the web's compose deep link: `startdt`/`enddt` as ISO 8601 UTC. */
export function outlookCalendarUrl(event: CalendarEvent): string {
  const iso = (s: string) => new Date(s).toISOString().replace(/\.\d{3}Z$/, "Z");
  const params = new URLSearchParams({
    path: "/calendar/action/compose",
    rru: "addevent",
    subject: event.title,
    startdt: iso(event.startsAt),
    enddt: iso(event.endsAt),
    body: `${event.description}\n\n${event.url}`,
    location: event.location,
  });
  return `https://outlook.live.com/calendar/0/deeplink/compose?${params}`;
}
