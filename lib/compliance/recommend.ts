/**
 * The scan's core (GENAI_005), pure: for one person, their state in every required course and,
 * for each gap, up to 3 open sessions of that course they can actually take.
 *
 * Never recommended: sessions whose course's prerequisites the person has not completed (the
 * whole course is left out and the gap says so), full, started or cancelled sessions, sessions
 * where the person already has a place (hold, offer, booking, waitlist).
 *
 * Order: sessions that start by the due date come first (a late one only when nothing earlier
 * fits), then the shared alternatives score (lib/booking/ranking.ts: proximity and soonness; all
 * candidates are the same course). Gaps are listed soonest due first, undated ones last.
 */
import { type RankCandidate, rankSessions } from "../booking/ranking.ts";
import type { CompletedCourse } from "../domain/user.ts";
import { endOfDay } from "./dates.ts";
import {
  type AssignmentRule,
  type ComplianceCell,
  type ComplianceSettings,
  complianceState,
  isGap,
  type PersonFacts,
  requiredCoursesFor,
  type RequirementRule,
  type Seat,
} from "./state.ts";

/** How many sessions a gap gets at most. */
export const RECOMMENDATIONS_PER_GAP = 3;

/** A person as the scan sees them. */
export interface ScanPerson extends PersonFacts {
  completedCourses: readonly CompletedCourse[];
  preferredLocation: { lat: number; lng: number } | null;
}

/** A course as the scan sees it. */
export interface ScanCourse {
  id: string;
  prerequisiteCourseIds: readonly string[];
  certificationValidMonths: number | null;
  certificationTrack: string | null;
  topic: string | null;
}

/** An open session (scheduled, not started, seats left) as the scan sees it. */
export interface OpenSession extends RankCandidate {
  status: "scheduled" | "cancelled";
}

/** What the scan knows of the world, shared by every person. */
export interface ScanWorld {
  requirements: readonly RequirementRule[];
  courses: ReadonlyMap<string, ScanCourse>;
  /** Open sessions by course id, any order. */
  openByCourse: ReadonlyMap<string, readonly OpenSession[]>;
  /**
   * Full rankings by course and origin, filled as the scan goes: a candidate's score does not
   * depend on the other candidates, so one ranking serves everyone with the same preferred
   * location, each then dropping the sessions they already have a place in.
   */
  rankings?: Map<string, RankedOpen[]>;
}

type RankedOpen = {
  sessionId: string;
  startsAt: string;
  startsMs: number;
  reasons: string[];
  distanceKm: number | null;
};

/** What the scan knows of one person's places. */
export interface PersonPlaces {
  /** Confirmed seats in upcoming sessions, with their course. */
  seats: ReadonlyArray<Seat & { courseId: string }>;
  /** Sessions where the person has any live place (never recommended again). */
  placeSessionIds: ReadonlySet<string>;
}

/** One recommended session. */
export interface Recommendation {
  sessionId: string;
  startsAt: string;
  /** Why, in words ("same course · 12 km away · in 3 days"). */
  reasons: string[];
  distanceKm: number | null;
  /** Starts after the due date. */
  late: boolean;
}

/** A gap with its recommendations (its state and dates are in the person's cells). */
export interface Gap {
  courseId: string;
  state: ComplianceCell["state"];
  dueOn: string | null;
  sessions: Recommendation[];
  /** Prerequisite courses the person has not completed (then no session is recommended). */
  missingPrerequisites: string[];
}

/** What is stored per person at `["recommendations", learnerId]`. */
export interface LearnerRecommendations {
  learnerId: string;
  /** When the scan last changed this result. */
  computedAt: string;
  /** The gaps (overdue, missing, expiring), soonest due first, each with up to 3 sessions. */
  gaps: Gap[];
}

/** The scan's result for one person: what is stored, and every required course's state (for alerts). */
export interface ScanResult extends LearnerRecommendations {
  /** Every required course with its state, worst first. */
  cells: ComplianceCell[];
}

const byDue = (a: { dueOn: string | null }, b: { dueOn: string | null }) =>
  a.dueOn === b.dueOn ? 0 : a.dueOn === null ? 1 : b.dueOn === null ? -1 : a.dueOn < b.dueOn ? -1 : 1;

/** The ordered, filtered recommendations for one gap. */
export function recommendSessions(
  person: ScanPerson,
  course: ScanCourse,
  open: readonly OpenSession[],
  places: PersonPlaces,
  dueOn: string | null,
  now: Date,
  settings: Pick<ComplianceSettings, "timeZone">,
  rankings?: Map<string, RankedOpen[]>,
): Recommendation[] {
  const origin = person.preferredLocation;
  const cacheKey = `${course.id}|${origin ? `${origin.lat},${origin.lng}` : "-"}`;
  let ranked = rankings?.get(cacheKey);
  if (!ranked) {
    const nowMs = now.getTime();
    const candidates = open.filter((s) =>
      s.status === "scheduled" && s.seatsLeft > 0 && Date.parse(s.startsAt) > nowMs && s.courseId === course.id
    );
    const startOf = new Map(candidates.map((c) => [c.sessionId, c.startsAt]));
    ranked = rankSessions(
      { preferredLocation: origin },
      { courseId: course.id, certificationTrack: course.certificationTrack, topic: course.topic },
      candidates,
      now,
      candidates.length,
    ).map((r) => {
      const startsAt = startOf.get(r.sessionId)!;
      return {
        sessionId: r.sessionId,
        startsAt,
        startsMs: Date.parse(startsAt),
        reasons: r.reasons,
        distanceKm: r.distanceKm,
      };
    });
    rankings?.set(cacheKey, ranked);
  }
  const deadline = dueOn === null ? Infinity : endOfDay(dueOn, settings.timeZone).getTime();
  const onTime: Recommendation[] = [];
  const late: Recommendation[] = [];
  for (const r of ranked) {
    if (places.placeSessionIds.has(r.sessionId)) continue;
    const isLate = r.startsMs >= deadline;
    (isLate ? late : onTime).push({
      sessionId: r.sessionId,
      startsAt: r.startsAt,
      reasons: r.reasons,
      distanceKm: r.distanceKm,
      late: isLate,
    });
    if (onTime.length >= RECOMMENDATIONS_PER_GAP) break;
  }
  return [...onTime, ...late].slice(0, RECOMMENDATIONS_PER_GAP);
}

/** The scan for one person: states of every required course, gaps with recommendations. */
export function recommendFor(
  person: ScanPerson,
  assignments: readonly AssignmentRule[],
  places: PersonPlaces,
  world: ScanWorld,
  now: Date,
  settings: ComplianceSettings,
): ScanResult {
  const months = (id: string) => world.courses.get(id)?.certificationValidMonths ?? null;
  const needs = requiredCoursesFor(person, world.requirements, assignments, months);
  const done = new Set(person.completedCourses.map((c) => c.courseId));
  const cells: ComplianceCell[] = [];
  const gaps: Gap[] = [];
  for (const need of needs) {
    const seats = places.seats.filter((s) => s.courseId === need.courseId);
    const cell = complianceState(need, person.completedCourses, seats, now, settings);
    cells.push(cell);
    if (!isGap(cell.state)) continue;
    const course = world.courses.get(need.courseId);
    if (!course) continue;
    const missingPrerequisites = course.prerequisiteCourseIds.filter((id) => !done.has(id));
    const sessions = missingPrerequisites.length ? [] : recommendSessions(
      person,
      course,
      world.openByCourse.get(course.id) ?? [],
      places,
      cell.dueOn,
      now,
      settings,
      world.rankings,
    );
    gaps.push({ courseId: cell.courseId, state: cell.state, dueOn: cell.dueOn, sessions, missingPrerequisites });
  }
  const order = ["overdue", "missing", "expiring", "booked", "completed"];
  cells.sort((a, b) => order.indexOf(a.state) - order.indexOf(b.state) || byDue(a, b));
  gaps.sort(byDue);
  return { learnerId: person.id, computedAt: now.toISOString(), cells, gaps };
}
