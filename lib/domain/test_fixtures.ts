// Valid sample values shared by the domain tests.
import { newId } from "./ids.ts";

export const NOW = "2026-03-01T15:00:00.000Z";

export function validLocation(): Record<string, unknown> {
  return {
    id: newId(),
    slug: "atlanta-midtown",
    name: "Atlanta Midtown Training Center",
    address: {
      line1: "1100 Peachtree St NE",
      city: "Atlanta",
      region: "GA",
      postalCode: "30309",
      country: "US",
    },
    lat: 33.7845,
    lng: -84.3838,
    timeZone: "America/New_York",
    active: true,
  };
}

export function validCourse(): Record<string, unknown> {
  return {
    id: newId(),
    code: "SAF-101",
    title: "Shop Safety Fundamentals",
    summary: "Lockout/tagout, PPE and hazard communication.",
    topic: "safety",
    certificationTrack: null,
    programType: "onboarding",
    prerequisiteCourseIds: [],
    durationMinutes: 120,
  };
}

export function validSession(): Record<string, unknown> {
  return {
    id: newId(),
    courseId: newId(),
    startsAt: "2026-03-10T14:00:00Z",
    endsAt: "2026-03-10T16:00:00Z",
    timeZone: "America/New_York",
    mode: "in_person",
    locationId: newId(),
    joinUrl: null,
    capacity: 12,
    instructorId: newId(),
    createdAt: NOW,
    updatedAt: NOW,
  };
}

export function validUser(): Record<string, unknown> {
  return {
    id: newId(),
    email: "Ana.Lopez@Example.com",
    name: "Ana Lopez",
    roles: ["learner"],
    createdAt: NOW,
  };
}
