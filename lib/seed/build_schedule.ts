import type { Course } from "../domain/course.ts";
import type { Session, SessionMode } from "../domain/session.ts";
import { newId } from "../domain/ids.ts";
import { addLocalDays, zonedParts, zonedWallTimeToUtc } from "../domain/zoned_time.ts";
import type { InstructorProfile } from "./build_people.ts";
import type { Random } from "./random.ts";

const DAY = 24 * 3600_000;
const MINUTE = 60_000;

/** Sessions start no earlier than this local time (minutes after midnight). */
export const BUSINESS_START = 8 * 60;
/** Sessions end no later than this local time. */
export const BUSINESS_END = 18 * 60;
/** Latest local start time. */
export const LATEST_START = 16 * 60 + 30;

export const SESSION_COUNT = 600;
export const SCHEDULE_DAYS = 120;
/** Every course gets at least this many sessions. */
const MIN_PER_COURSE = 5;

function popularity(course: Course): number {
  let w = 1;
  if (course.required || course.programType === "onboarding" || course.programType === "new_hire") w = 3;
  else if (course.programType === "compliance") w = 2;
  return course.prerequisiteCourseIds.length ? w * 0.7 : w;
}

function pickMode(rng: Random): SessionMode {
  const r = rng.next();
  return r < 0.26 ? "online" : r < 0.37 ? "hybrid" : "in_person";
}

function capacityFor(rng: Random, mode: SessionMode): number {
  if (mode === "online") return rng.int(12, 30);
  if (mode === "hybrid") return rng.int(10, 30);
  return rng.int(6, 24);
}

/**
 * Schedules `SESSION_COUNT` sessions over the next `SCHEDULE_DAYS` days.
 * Each starts on a weekday between 08:00 and 16:30 and ends by 18:00 in its
 * own time zone (the center's, or the online instructor's), converted to
 * UTC with Intl so DST is respected. Instructors are never double-booked.
 */
export function buildSchedule(
  rng: Random,
  now: Date,
  courses: ReadonlyArray<Course>,
  instructors: ReadonlyArray<InstructorProfile>,
): Session[] {
  const nowMs = now.getTime();
  const horizon = nowMs + SCHEDULE_DAYS * DAY;
  const plan: Course[] = courses.flatMap((c) => Array(MIN_PER_COURSE).fill(c));
  while (plan.length < SESSION_COUNT) plan.push(rng.weighted(courses, popularity));

  const busy = new Map<string, Array<[number, number]>>();
  const isFree = (id: string, start: number, end: number) =>
    !(busy.get(id) ?? []).some(([s, e]) => start < e + 30 * MINUTE && s < end + 30 * MINUTE);
  const createdBase = nowMs - 90 * DAY;
  const sessions: Session[] = [];

  for (const course of plan) {
    const qualified = instructors.filter((i) => i.topics.has(course.topic));
    const mode = pickMode(rng);
    for (let attempt = 0; attempt < 200; attempt++) {
      const teacher = rng.pick(qualified);
      const tz = teacher.home.timeZone;
      const today = zonedParts(now, tz);
      const date = addLocalDays(today, rng.int(0, SCHEDULE_DAYS - 1));
      const weekday = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
      if (weekday === 0 || weekday === 6) continue;
      const latest = Math.min(LATEST_START, BUSINESS_END - course.durationMinutes);
      const slot = BUSINESS_START + 30 * rng.int(0, Math.floor((latest - BUSINESS_START) / 30));
      const start = zonedWallTimeToUtc({ ...date, hour: Math.floor(slot / 60), minute: slot % 60 }, tz).getTime();
      const end = start + course.durationMinutes * MINUTE;
      if (start < nowMs + 2 * 3600_000 || start >= horizon) continue;
      if (!isFree(teacher.user.id, start, end)) continue;
      busy.set(teacher.user.id, [...(busy.get(teacher.user.id) ?? []), [start, end]]);

      const createdAt = new Date(createdBase + rng.int(0, 60) * DAY).toISOString();
      const joinUrl = mode === "in_person"
        ? null
        : `https://meet.example.com/${course.code.toLowerCase()}-${rng.token(8)}`;
      sessions.push({
        id: newId(),
        courseId: course.id,
        startsAt: new Date(start).toISOString(),
        endsAt: new Date(end).toISOString(),
        timeZone: tz,
        mode,
        locationId: mode === "online" ? null : teacher.home.id,
        joinUrl,
        capacity: capacityFor(rng, mode),
        instructorId: teacher.user.id,
        waitlistEnabled: rng.chance(0.8),
        status: "scheduled",
        calcom: null,
        createdAt,
        updatedAt: createdAt,
      });
      break;
    }
  }
  return sessions.sort((a, b) => a.startsAt.localeCompare(b.startsAt));
}
