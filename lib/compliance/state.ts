/**
 * Compliance rules, pure: which courses a person must have, and their state in each.
 *
 * A person's state in a required course is one of:
 * - `completed`: a completion that is still valid (a course done "once" never lapses);
 * - `expiring`: still valid, but it lapses within the expiring window (recertification is due
 *   on the expiry date);
 * - `booked`: not (or no longer) valid, or expiring, and the person has a confirmed seat in an
 *   upcoming session of the course. `seat.late` says the seat starts after the due date. When the
 *   seat is cancelled the state falls back to what it was: overdue, expiring or missing;
 * - `overdue`: not valid and the due date (an assignment's, a requirement's, or the lapsed
 *   certification's expiry) has passed;
 * - `missing`: not valid, not due yet (or no due date), no seat.
 *
 * Dates are calendar dates in the organisation's time zone (settings.timeZone): a certification
 * completed on 15 Jan and valid 2 months is valid through the end of 15 Mar local time, whatever
 * daylight-saving change lies between.
 */
import type { CompletedCourse } from "../domain/user.ts";
import { addMonths, type CalendarDate, daysBetween, endOfDay, localDate } from "./dates.ts";

/** Every state, in the order a matrix sorts them (worst first). */
export const COMPLIANCE_STATES = ["overdue", "missing", "expiring", "booked", "completed"] as const;
export type ComplianceState = typeof COMPLIANCE_STATES[number];

/** Words for each state. */
export const STATE_LABELS: Record<ComplianceState, string> = {
  overdue: "Overdue",
  missing: "Not done",
  expiring: "Expiring",
  booked: "Booked",
  completed: "Done",
};

/** Rules that are configurable (env: COMPLIANCE_*; see lib/compliance/settings.ts). */
export interface ComplianceSettings {
  /** Time zone of due dates and expiry dates. */
  timeZone: string;
  /** A valid completion lapsing within this many days is `expiring`. */
  expiringWindowDays: number;
  /** Days before expiry at which a `certification.expiring` alert goes out (e.g. 60, 30, 7). */
  alertDays: readonly number[];
  /** Days an assignment may stay overdue before it escalates past the manager. */
  escalationGraceDays: number;
  /** Days before a due date at which an `assignment.due_soon` alert goes out (e.g. 14, 3). */
  dueSoonDays: readonly number[];
}

/**
 * Defaults: Central time, 30-day window, alerts at 60/30/7 days, escalation after 7 days overdue,
 * "due soon" at 14 and 3 days before a due date.
 */
export const DEFAULT_COMPLIANCE_SETTINGS: ComplianceSettings = {
  timeZone: "America/Chicago",
  expiringWindowDays: 30,
  alertDays: [60, 30, 7],
  escalationGraceDays: 7,
  dueSoonDays: [14, 3],
};

/** A course one person must have, merged from every requirement and assignment that applies. */
export interface RequiredCourse {
  courseId: string;
  /** Months a completion stays valid; null: once is enough. */
  validMonths: number | null;
  /** When it must first be done: the earliest assignment or requirement due date; null: no date. */
  dueOn: CalendarDate | null;
  /** Ids of the requirements that apply. */
  requirementIds: string[];
  /** The assignment, when a manager or dealer admin assigned the course. */
  assignmentId: string | null;
}

/** A confirmed seat of the person in a session of the course. */
export interface Seat {
  sessionId: string;
  startsAt: string;
}

/** The person's state in one required course. */
export interface ComplianceCell {
  courseId: string;
  state: ComplianceState;
  /** When it is (or was) due: recertification at expiry, else the due date; null: no date. */
  dueOn: CalendarDate | null;
  /** Calendar days from today to `dueOn` (negative: overdue by that many days). */
  daysLeft: number | null;
  /** Last completion, and its expiry (null: never lapses or never completed). */
  completedAt: string | null;
  expiresOn: CalendarDate | null;
  /** The upcoming confirmed seat that closes the gap, if any. */
  seat: (Seat & { late: boolean }) | null;
}

/** The last completion of a course (people may complete a course again to recertify). */
export function lastCompletion(completions: readonly CompletedCourse[], courseId: string): CompletedCourse | null {
  let best: CompletedCourse | null = null;
  for (const c of completions) {
    if (c.courseId === courseId && (!best || c.completedAt > best.completedAt)) best = c;
  }
  return best;
}

/** The last day a completion at `completedAt` is valid, or null when it never lapses. */
export function expiryOf(completedAt: string, validMonths: number | null, timeZone: string): CalendarDate | null {
  if (validMonths === null) return null;
  return addMonths(localDate(new Date(completedAt), timeZone), validMonths);
}

/**
 * The state of one person in one required course at `now`. `seats` are the person's confirmed
 * bookings in sessions of this course (any order; past ones are ignored).
 */
export function complianceState(
  need: RequiredCourse,
  completions: readonly CompletedCourse[],
  seats: readonly Seat[],
  now: Date,
  settings: Pick<ComplianceSettings, "timeZone" | "expiringWindowDays">,
): ComplianceCell {
  const today = localDate(now, settings.timeZone);
  const last = lastCompletion(completions, need.courseId);
  const expiresOn = last ? expiryOf(last.completedAt, need.validMonths, settings.timeZone) : null;
  const valid = last !== null && (expiresOn === null || today <= expiresOn);
  let dueOn: CalendarDate | null;
  if (valid) dueOn = expiresOn;
  else if (last && expiresOn) dueOn = expiresOn;
  else dueOn = need.dueOn;
  const upcoming = seats
    .filter((s) => Date.parse(s.startsAt) > now.getTime())
    .sort((a, b) => a.startsAt.localeCompare(b.startsAt))[0];
  const seat = upcoming
    ? {
      sessionId: upcoming.sessionId,
      startsAt: upcoming.startsAt,
      late: dueOn !== null && Date.parse(upcoming.startsAt) >= endOfDay(dueOn, settings.timeZone).getTime(),
    }
    : null;
  const daysLeft = dueOn === null ? null : daysBetween(today, dueOn);
  const cell = (state: ComplianceState): ComplianceCell => ({
    courseId: need.courseId,
    state,
    dueOn,
    daysLeft,
    completedAt: last?.completedAt ?? null,
    expiresOn,
    seat,
  });
  if (valid) {
    if (expiresOn === null || daysLeft! > settings.expiringWindowDays) return cell("completed");
    return cell(seat ? "booked" : "expiring");
  }
  if (seat) return cell("booked");
  if (dueOn !== null && today > dueOn) return cell("overdue");
  return cell("missing");
}

/** Whether a state is a gap the scan recommends sessions for. */
export function isGap(state: ComplianceState): boolean {
  return state === "overdue" || state === "missing" || state === "expiring";
}

/** What makes a course required for people: their role, job function or dealer. */
export interface RequirementRule {
  id: string;
  courseId: string;
  roles: readonly string[];
  jobFunctions: readonly string[];
  dealerIds: readonly string[];
  /** Months a completion counts; null: once. */
  periodMonths: number | null;
  /** When people it applies to must have done it first; null: no date. */
  dueOn: CalendarDate | null;
}

/** A course assigned to one person. */
export interface AssignmentRule {
  id: string;
  learnerId: string;
  courseId: string;
  dueOn: CalendarDate;
}

/** Who a rule is matched against. */
export interface PersonFacts {
  id: string;
  roles: readonly string[];
  jobFunction?: string | null;
  dealerId: string | null;
}

/** Whether a requirement applies to a person (any of its roles, job functions or dealers matches). */
export function requirementApplies(rule: RequirementRule, person: PersonFacts): boolean {
  return rule.roles.some((r) => person.roles.includes(r)) ||
    (!!person.jobFunction && rule.jobFunctions.includes(person.jobFunction)) ||
    (!!person.dealerId && rule.dealerIds.includes(person.dealerId));
}

function earliest(a: CalendarDate | null, b: CalendarDate | null): CalendarDate | null {
  if (a === null) return b;
  if (b === null) return a;
  return a < b ? a : b;
}

function shortest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

/**
 * The courses a person must have, one entry per course: every requirement that applies and
 * every assignment of theirs, merged. A completion is valid for the shortest period among the
 * requirements and the course's own certification (`certificationMonths`); due is the earliest
 * date given.
 */
export function requiredCoursesFor(
  person: PersonFacts,
  requirements: readonly RequirementRule[],
  assignments: readonly AssignmentRule[],
  certificationMonths: (courseId: string) => number | null,
): RequiredCourse[] {
  const out = new Map<string, RequiredCourse>();
  const entry = (courseId: string): RequiredCourse => {
    let e = out.get(courseId);
    if (!e) {
      e = { courseId, validMonths: certificationMonths(courseId), dueOn: null, requirementIds: [], assignmentId: null };
      out.set(courseId, e);
    }
    return e;
  };
  for (const r of requirements) {
    if (!requirementApplies(r, person)) continue;
    const e = entry(r.courseId);
    e.validMonths = shortest(e.validMonths, r.periodMonths);
    e.dueOn = earliest(e.dueOn, r.dueOn);
    e.requirementIds.push(r.id);
  }
  for (const a of assignments) {
    if (a.learnerId !== person.id) continue;
    const e = entry(a.courseId);
    e.dueOn = earliest(e.dueOn, a.dueOn);
    e.assignmentId = a.id;
  }
  return [...out.values()];
}

/** A certification a person holds (a course that grants one, completed at least once). */
export interface HeldCertification {
  courseId: string;
  completedAt: string;
  expiresOn: CalendarDate;
  daysLeft: number;
  status: "valid" | "expiring" | "expired";
}

/** The certifications a person holds, soonest expiry first. */
export function certificationsOf(
  completions: readonly CompletedCourse[],
  certificationMonths: (courseId: string) => number | null,
  now: Date,
  settings: Pick<ComplianceSettings, "timeZone" | "expiringWindowDays">,
): HeldCertification[] {
  const today = localDate(now, settings.timeZone);
  const out: HeldCertification[] = [];
  for (const courseId of new Set(completions.map((c) => c.courseId))) {
    const months = certificationMonths(courseId);
    if (months === null) continue;
    const last = lastCompletion(completions, courseId)!;
    const expiresOn = expiryOf(last.completedAt, months, settings.timeZone)!;
    const daysLeft = daysBetween(today, expiresOn);
    const status = daysLeft < 0 ? "expired" : daysLeft <= settings.expiringWindowDays ? "expiring" : "valid";
    out.push({ courseId, completedAt: last.completedAt, expiresOn, daysLeft, status });
  }
  return out.sort((a, b) => a.expiresOn.localeCompare(b.expiresOn));
}

/**
 * The alert threshold a certification has reached: the smallest of `alertDays` that is at least
 * `daysLeft` (7 when 5 days are left with 60/30/7), or null when none is reached or it lapsed.
 * Alerts are identified by (person, course, expiry, threshold), so each goes out once.
 */
export function alertThreshold(daysLeft: number, alertDays: readonly number[]): number | null {
  if (daysLeft < 0) return null;
  const reached = alertDays.filter((d) => daysLeft <= d);
  return reached.length ? Math.min(...reached) : null;
}

/**
 * The "due soon" threshold a required course has reached (see {@link alertThreshold}), or null when
 * no alert is due: only a `missing` cell with a due date qualifies — done, expiring (its own
 * `certification.expiring` alerts), booked (on track, even with a late seat: the matrix flags it)
 * and overdue ones do not. Identified by (person, course, due date, threshold), so each goes out once.
 */
export function dueSoonThreshold(
  cell: Pick<ComplianceCell, "state" | "dueOn" | "daysLeft">,
  dueSoonDays: readonly number[],
): number | null {
  if (cell.state !== "missing" || cell.dueOn === null || cell.daysLeft === null) return null;
  return alertThreshold(cell.daysLeft, dueSoonDays);
}
