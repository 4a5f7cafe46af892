import assert from "node:assert/strict";
import type { CalendarEvent } from "./event.ts";
import { eventToIcs } from "./ics.ts";
import { googleCalendarUrl, outlookCalendarUrl } from "./links.ts";

// 9:00–11:00 in New York on each side of the US DST switch (Sunday 8 March 2026, 02:00 local).
const before: CalendarEvent = {
  uid: "booking-01ABC@training.example.com",
  title: "Brakes & Safety",
  description: "Your training session.",
  location: "Denver Training Center, 1 Main St, Denver, CO",
  url: "https://training.example.com/bookings/01ABC",
  startsAt: "2026-03-06T14:00:00.000Z", // 09:00 EST (UTC-5)
  endsAt: "2026-03-06T16:00:00.000Z",
};
const after: CalendarEvent = { ...before, startsAt: "2026-03-09T13:00:00.000Z", endsAt: "2026-03-09T15:00:00.000Z" }; // 09:00 EDT

function prop(ics: string, name: string): string {
  const unfolded = ics.replace(/\r\n[ \t]/g, "");
  return unfolded.match(new RegExp(`^${name}[;:](.*)$`, "m"))?.[1]?.trim() ?? "";
}

Deno.test("[calendar] ics uses UTC instants on both sides of the March DST switch", () => {
  const a = eventToIcs(before);
  const b = eventToIcs(after);
  assert.match(a, /BEGIN:VEVENT/);
  assert.equal(prop(a, "DTSTART"), "20260306T140000Z");
  assert.equal(prop(a, "DTEND"), "20260306T160000Z");
  assert.equal(prop(b, "DTSTART"), "20260309T130000Z");
  assert.equal(prop(b, "DTEND"), "20260309T150000Z");
  assert.equal(prop(a, "UID"), before.uid);
  assert.equal(prop(a, "SUMMARY"), before.title);
  assert.doesNotMatch(a, /TZID/);
});

Deno.test("[calendar] Google and Outlook links carry the UTC dates and the title", () => {
  const g = new URL(googleCalendarUrl(after));
  assert.equal(g.host, "calendar.google.com");
  assert.equal(g.searchParams.get("action"), "TEMPLATE");
  assert.equal(g.searchParams.get("dates"), "20260309T130000Z/20260309T150000Z");
  assert.equal(g.searchParams.get("text"), "Brakes & Safety");
  assert.equal(g.searchParams.get("location"), after.location);
  const o = new URL(outlookCalendarUrl(after));
  assert.equal(o.host, "outlook.live.com");
  assert.equal(o.searchParams.get("startdt"), "2026-03-09T13:00:00Z");
  assert.equal(o.searchParams.get("enddt"), "2026-03-09T15:00:00Z");
  assert.equal(o.searchParams.get("subject"), "Brakes & Safety");
  assert.equal(o.searchParams.get("rru"), "addevent");
});
