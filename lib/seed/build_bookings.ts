import type { Course } from "../domain/course.ts";
import type { Origin } from "../domain/common.ts";
import type { Session } from "../domain/session.ts";
import { newId } from "../domain/ids.ts";
import type { ImportBookingInput } from "../store/bookings.ts";
import type { LearnerProfile } from "./build_people.ts";
import type { Random } from "./random.ts";
import { DEMO_LEARNER_ASSIGNED_COURSE } from "./build_compliance.ts";

const DAY = 24 * 3600_000;
const MINUTE = 60_000;

/** Share of sessions filled to capacity. */
export const FULL_SHARE = 0.1;
/** Share of sessions left with one or two seats (at most 15%) free. */
export const NEARLY_FULL_SHARE = 0.15;
/** No learner gets more upcoming bookings than this. */
const MAX_BOOKINGS_PER_LEARNER = 6;

/** What the generator decided for each session. */
export type FillKind = "full" | "nearly_full" | "normal";

export interface DemoBookings {
  bookings: ImportBookingInput[];
  fill: Map<string, FillKind>;
}

function nearlyFullTarget(rng: Random, capacity: number): number {
  const free = rng.int(1, Math.max(1, Math.floor(capacity * 0.15)));
  return Math.max(1, capacity - free);
}

/**
 * Confirmed bookings for the scheduled sessions. About 10% of sessions are
 * filled to capacity and 15% nearly so; others fill more the sooner they
 * start. A learner is only booked into a course whose prerequisites they
 * completed and that they have not completed, never twice into one session,
 * never into overlapping sessions, and in person mostly at their own center.
 */
export function buildBookings(
  rng: Random,
  now: Date,
  sessions: ReadonlyArray<Session>,
  courses: ReadonlyArray<Course>,
  learners: ReadonlyArray<LearnerProfile>,
  demoLearnerId: string,
): DemoBookings {
  const nowMs = now.getTime();
  const courseById = new Map(courses.map((c) => [c.id, c]));
  const byLocation = new Map<string, LearnerProfile[]>();
  for (const l of learners) byLocation.set(l.locationId, [...(byLocation.get(l.locationId) ?? []), l]);
  const booked = new Map<string, Array<[number, number]>>();

  const poolFor = (s: Session) => (s.locationId ? byLocation.get(s.locationId) ?? [] : learners);
  // The demo learner is never booked into their assigned course: whatever the hour, their home shows it as a gap.
  const qualifies = (l: LearnerProfile, course: Course) =>
    !l.completed.has(course.id) && course.prerequisiteCourseIds.every((p) => l.completed.has(p)) &&
    !(l.user.id === demoLearnerId && course.code === DEMO_LEARNER_ASSIGNED_COURSE);
  const isFree = (l: LearnerProfile, start: number, end: number) => {
    const mine = booked.get(l.user.id) ?? [];
    return mine.length < MAX_BOOKINGS_PER_LEARNER && !mine.some(([s, e]) => start < e && s < end);
  };

  // Decide fill levels: full sessions only where enough people qualify.
  const eligibleCount = new Map(
    sessions.map((s) => [s.id, poolFor(s).filter((l) => qualifies(l, courseById.get(s.courseId)!)).length]),
  );
  const fill = new Map<string, FillKind>(sessions.map((s) => [s.id, "normal"]));
  const roomy = rng.shuffle(sessions.filter((s) => eligibleCount.get(s.id)! >= 3 * s.capacity));
  const fullCount = Math.round(sessions.length * FULL_SHARE);
  const nearlyCount = Math.round(sessions.length * NEARLY_FULL_SHARE);
  roomy.slice(0, fullCount).forEach((s) => fill.set(s.id, "full"));
  roomy.slice(fullCount, fullCount + nearlyCount).forEach((s) => fill.set(s.id, "nearly_full"));

  const target = (s: Session): number => {
    const kind = fill.get(s.id);
    if (kind === "full") return s.capacity;
    if (kind === "nearly_full") return nearlyFullTarget(rng, s.capacity);
    const daysAhead = (Date.parse(s.startsAt) - nowMs) / DAY;
    const ratio = rng.next() * Math.max(0.1, 0.7 - 0.5 * (daysAhead / 120));
    return Math.min(s.capacity - 1, Math.floor(s.capacity * ratio));
  };

  const order = [
    ...sessions.filter((s) => fill.get(s.id) !== "normal"),
    ...sessions.filter((s) => fill.get(s.id) === "normal"),
  ];
  const bookings: ImportBookingInput[] = [];
  let demoBookings = 0;

  for (const session of order) {
    const course = courseById.get(session.courseId)!;
    const start = Date.parse(session.startsAt);
    const end = Date.parse(session.endsAt);
    const wanted = target(session);
    const strict = fill.get(session.id) === "normal";
    const chosen: LearnerProfile[] = [];
    const candidates = rng.shuffle(poolFor(session));
    const demo = candidates.findIndex((l) => l.user.id === demoLearnerId);
    if (demo > 0 && demoBookings < 2) candidates.unshift(...candidates.splice(demo, 1));

    for (const l of candidates) {
      if (chosen.length >= wanted) break;
      if (!qualifies(l, course) || !isFree(l, start, end)) continue;
      // People mostly book training in their own job family.
      if (strict && !l.topics.has(course.topic) && !course.required && !rng.chance(0.3)) continue;
      chosen.push(l);
      booked.set(l.user.id, [...(booked.get(l.user.id) ?? []), [start, end]]);
      if (l.user.id === demoLearnerId) demoBookings++;
    }

    for (const l of chosen) {
      const earliest = Math.max(Date.parse(session.createdAt), Date.parse(l.user.createdAt), nowMs - 45 * DAY);
      const latest = nowMs - 10 * MINUTE;
      const createdMs = Math.min(latest - MINUTE, earliest + rng.next() * Math.max(0, latest - earliest));
      const confirmedMs = Math.min(latest, createdMs + rng.int(20, 600) * 1000);
      const origin: Origin = rng.chance(0.85) ? "web" : rng.chance(0.6) ? "admin" : "api";
      const at = new Date(confirmedMs).toISOString();
      bookings.push({
        id: newId(),
        sessionId: session.id,
        learnerId: l.user.id,
        registration: rng.uuid(),
        origin,
        createdAt: new Date(createdMs).toISOString(),
        confirmedAt: at,
        holdId: null,
        audit: [{ at, actorId: origin === "admin" ? null : l.user.id, origin, action: "confirmed", reason: null }],
      });
    }
  }
  return { bookings, fill };
}
