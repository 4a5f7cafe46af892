import assert from "node:assert/strict";
import { eventTypeInput, sessionLocations, sessionSlug } from "./outbound_event_type.ts";

const address = {
  line1: "1100 Peachtree St NE",
  city: "Atlanta",
  region: "GA" as const,
  postalCode: "30309",
  country: "US" as const,
};
const base = {
  id: "01JABCDEFGHJKMNPQRSTVWXYZ0",
  startsAt: "2030-05-06T13:00:00.000Z",
  endsAt: "2030-05-06T15:30:00.000Z",
  capacity: 12,
};

Deno.test("[calcom] outbound event type: seats = capacity, title from course, slug from session, length", () => {
  const input = eventTypeInput({ ...base, mode: "online", joinUrl: "https://meet.example.com/x" }, {
    title: "Shop Safety Fundamentals",
  }, null);
  assert.equal(input.title, "Shop Safety Fundamentals");
  assert.equal(input.slug, "session-01jabcdefghjkmnpqrstvwxyz0");
  assert.match(input.slug, /^[a-z0-9-]+$/);
  assert.equal(input.lengthInMinutes, 150);
  assert.deepEqual(input.seats, { seatsPerTimeSlot: 12, showAttendeeInfo: false, showAvailabilityCount: true });
  assert.notEqual(sessionSlug("01A"), sessionSlug("01B"));
});

Deno.test("[calcom] outbound event type locations: address, link (attendees only), both for hybrid, else cal-video", () => {
  assert.deepEqual(sessionLocations({ mode: "in_person", joinUrl: null }, { address }), [
    { type: "address", address: "1100 Peachtree St NE, Atlanta, GA 30309, US", public: true },
  ]);
  assert.deepEqual(sessionLocations({ mode: "online", joinUrl: "https://meet.example.com/x" }, null), [
    { type: "link", link: "https://meet.example.com/x", public: false },
  ]);
  assert.equal(sessionLocations({ mode: "hybrid", joinUrl: "https://meet.example.com/x" }, { address }).length, 2);
  assert.deepEqual(sessionLocations({ mode: "online", joinUrl: null }, null), [
    { type: "integration", integration: "cal-video" },
  ]);
});
