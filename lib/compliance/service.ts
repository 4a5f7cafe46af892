/**
 * Compliance as people use it: requirements and assignments (who may write them), a person's own
 * picture, a team's or a dealer's matrix, and booking a recommended session for a team member.
 * States are computed live from the store (./state.ts); recommended sessions come from the
 * scan's stored results (./scan.ts).
 *
 * Who may act for whom:
 * - admins: anyone;
 * - a manager: their direct reports and those reports' reports (one level below, as /team shows);
 * - a dealer admin: the people of their own dealer.
 */
import type { BookingEngine } from "../booking/engine.ts";
import { DomainError, notFound } from "../booking/errors.ts";
import {
  type Assignment,
  type AssignmentInput,
  AssignmentInputSchema,
  type Requirement,
  type RequirementInput,
  RequirementInputSchema,
} from "../domain/compliance.ts";
import { newId } from "../domain/ids.ts";
import type { Booking, Course, Session, User } from "../domain/mod.ts";
import { parseOrThrow } from "../domain/validation.ts";
import { listBookingsByLearner } from "../store/bookings.ts";
import {
  complianceEvent,
  deleteRequirement,
  listAssignmentsOf,
  listRequirements,
  saveAssignment,
  saveRequirement,
} from "../store/compliance.ts";
import { getCourse, listCourses } from "../store/courses.ts";
import { keys } from "../store/keys.ts";
import { getSessions } from "../store/sessions.ts";
import { getUser, listUsersByDealer, listUsersByManager } from "../store/users.ts";
import { localDate } from "./dates.ts";
import type { Gap, LearnerRecommendations } from "./recommend.ts";
import { requestRescan } from "./rescan.ts";
import {
  certificationsOf,
  type ComplianceCell,
  type ComplianceSettings,
  complianceState,
  type HeldCertification,
  requiredCoursesFor,
} from "./state.ts";

/** Who is acting. */
export interface Acting {
  userId: string | null;
  roles: readonly string[];
  dealerId?: string | null;
}

const isAdmin = (who: Acting) => who.roles.includes("admin");

/** Whether `who` may assign training to, and book for, `person` (see the module rules). */
export async function mayManagePerson(kv: Deno.Kv, who: Acting, person: User): Promise<boolean> {
  if (isAdmin(who)) return true;
  if (who.roles.includes("dealer_admin") && who.dealerId && person.dealerId === who.dealerId) return true;
  if (!who.roles.includes("manager") || !who.userId || !person.managerId) return false;
  if (person.managerId === who.userId) return true;
  const theirManager = await getUser(kv, person.managerId);
  return theirManager?.managerId === who.userId;
}

/** The person, when `who` may manage them; 403 otherwise (also for unknown ids, unless admin: 404). */
export async function requireManagedPerson(kv: Deno.Kv, who: Acting, learnerId: string): Promise<User> {
  const person = await getUser(kv, learnerId);
  if (!person && isAdmin(who)) throw notFound("user", learnerId);
  if (!person || !(await mayManagePerson(kv, who, person))) {
    throw new DomainError(
      403,
      "forbidden",
      "You can only assign training to, and book for, people on your team (managers) or of your dealer (dealer admins).",
    );
  }
  return person;
}

async function requireCourse(kv: Deno.Kv, courseId: string): Promise<Course> {
  const course = await getCourse(kv, courseId);
  if (!course) throw notFound("course", courseId);
  return course;
}

/**
 * Creates a requirement. Admins: for any roles, job functions and dealers. Dealer admins: for
 * their own dealer only (`dealerIds: [their dealer]`, no roles or job functions, which would reach
 * other dealers). 404 for an unknown course. Everyone's recommendations are recomputed.
 */
export async function createRequirement(
  kv: Deno.Kv,
  who: Acting,
  input: RequirementInput,
  now: Date,
): Promise<Requirement> {
  const parsed = parseOrThrow(RequirementInputSchema, input, "requirement");
  if (!isAdmin(who)) {
    const own = who.roles.includes("dealer_admin") && who.dealerId &&
      parsed.roles.length === 0 && parsed.jobFunctions.length === 0 &&
      parsed.dealerIds.length === 1 && parsed.dealerIds[0] === who.dealerId;
    if (!own) {
      throw new DomainError(
        403,
        "forbidden",
        "Dealer admins can only require courses for their own dealer (dealerIds: [your dealer], no roles or job functions).",
      );
    }
  }
  await requireCourse(kv, parsed.courseId);
  const requirement: Requirement = {
    id: newId(),
    ...parsed,
    createdAt: now.toISOString(),
    createdBy: who.userId,
  };
  await saveRequirement(kv, requirement);
  await requestRescan(kv, "all");
  return requirement;
}

/** Deletes a requirement: admins any, dealer admins their own dealer's. 404 when there is none. */
export async function removeRequirement(kv: Deno.Kv, who: Acting, id: string): Promise<void> {
  const found = (await kv.get<Requirement>(keys.requirement(id))).value;
  if (!found) throw notFound("requirement", id);
  const own = who.roles.includes("dealer_admin") && !!who.dealerId && found.roles.length === 0 &&
    found.jobFunctions.length === 0 && found.dealerIds.length === 1 && found.dealerIds[0] === who.dealerId;
  if (!isAdmin(who) && !own) {
    throw new DomainError(403, "forbidden", "Dealer admins can only remove their own dealer's requirements.");
  }
  await deleteRequirement(kv, id);
  await requestRescan(kv, "all");
}

/** Every requirement (any signed-in staff may read them). */
export function listAllRequirements(kv: Deno.Kv): Promise<Requirement[]> {
  return listRequirements(kv);
}

/**
 * Assigns a course to a person with a due date and a note (replacing an earlier assignment of the
 * same course). 403 outside the caller's team or dealer, 404 unknown course, 400 due date before
 * today (in the organisation's time zone). Emits `assignment.created` and rescans the person.
 */
export async function assignCourse(
  kv: Deno.Kv,
  who: Acting,
  input: AssignmentInput,
  now: Date,
  settings: ComplianceSettings,
): Promise<Assignment> {
  const parsed = parseOrThrow(AssignmentInputSchema, input, "assignment");
  const person = await requireManagedPerson(kv, who, parsed.learnerId);
  const course = await requireCourse(kv, parsed.courseId);
  const today = localDate(now, settings.timeZone);
  if (parsed.dueOn < today) {
    throw new DomainError(400, "due_date_past", `The due date ${parsed.dueOn} is in the past; today is ${today}.`, {
      issues: [{ path: "body.dueOn", message: `must be today (${today}) or later` }],
    });
  }
  const assignment: Assignment = {
    id: newId(),
    learnerId: person.id,
    courseId: course.id,
    dueOn: parsed.dueOn,
    note: parsed.note,
    assignedBy: who.userId,
    assignedAt: now.toISOString(),
  };
  const notify = person.managerId && person.managerId !== who.userId ? [person.managerId] : [];
  await saveAssignment(
    kv,
    assignment,
    complianceEvent("assignment.created", person.id, course.id, notify, {
      assignmentId: assignment.id,
      dueOn: assignment.dueOn,
      note: assignment.note,
      assignedBy: who.userId,
    }, now),
  );
  await requestRescan(kv, [person.id]);
  return assignment;
}

/** One person's compliance: every required course's state, certifications held, recommendations. */
export interface PersonCompliance {
  person: Pick<User, "id" | "name" | "email" | "managerId" | "dealerId"> & { jobFunction: string | null };
  cells: ComplianceCell[];
  certifications: HeldCertification[];
  /** From the last scan that concerned the person (null before one). */
  gaps: Gap[] | null;
  scannedAt: string | null;
}

/** What the live computation shares across people. */
interface Shared {
  requirements: Requirement[];
  courses: Map<string, Course>;
  now: Date;
  settings: ComplianceSettings;
}

async function loadShared(kv: Deno.Kv, now: Date, settings: ComplianceSettings): Promise<Shared> {
  const [requirements, courses] = await Promise.all([
    listRequirements(kv),
    listCourses(kv, { includeInactive: true }),
  ]);
  return { requirements, courses: new Map(courses.map((c) => [c.id, c])), now, settings };
}

async function confirmedSeats(kv: Deno.Kv, learnerId: string, now: Date) {
  const bookings: Booking[] = await listBookingsByLearner(kv, learnerId, { status: "confirmed" });
  const sessions: Map<string, Session> = await getSessions(kv, bookings.map((b) => b.sessionId));
  return bookings.flatMap((b) => {
    const s = sessions.get(b.sessionId);
    if (!s || s.status !== "scheduled" || Date.parse(s.startsAt) <= now.getTime()) return [];
    return [{ sessionId: s.id, startsAt: s.startsAt, courseId: s.courseId }];
  });
}

async function computePerson(
  kv: Deno.Kv,
  user: User,
  shared: Shared,
  stored: LearnerRecommendations | null,
): Promise<PersonCompliance> {
  const [assignments, seats] = await Promise.all([
    listAssignmentsOf(kv, user.id),
    confirmedSeats(kv, user.id, shared.now),
  ]);
  const months = (id: string) => shared.courses.get(id)?.certificationValidMonths ?? null;
  const person = {
    id: user.id,
    roles: user.roles,
    jobFunction: user.jobFunction ?? null,
    dealerId: user.dealerId,
  };
  const cells = requiredCoursesFor(person, shared.requirements, assignments, months).map((need) =>
    complianceState(
      need,
      user.completedCourses,
      seats.filter((s) => s.courseId === need.courseId),
      shared.now,
      shared.settings,
    )
  );
  // A gap the live state has closed (booked or completed since the scan) shows no recommendations.
  const open = new Set(cells.filter((c) => c.state !== "booked" && c.state !== "completed").map((c) => c.courseId));
  return {
    person: {
      id: user.id,
      name: user.name,
      email: user.email,
      managerId: user.managerId,
      dealerId: user.dealerId,
      jobFunction: user.jobFunction ?? null,
    },
    cells,
    certifications: certificationsOf(user.completedCourses, months, shared.now, shared.settings),
    gaps: stored ? stored.gaps.filter((g) => open.has(g.courseId)) : null,
    scannedAt: stored?.computedAt ?? null,
  };
}

async function storedRecommendations(
  kv: Deno.Kv,
  ids: readonly string[],
): Promise<Map<string, LearnerRecommendations>> {
  const out = new Map<string, LearnerRecommendations>();
  for (let i = 0; i < ids.length; i += 10) {
    const chunk = ids.slice(i, i + 10);
    const got = await kv.getMany<LearnerRecommendations[]>(chunk.map(keys.recommendations));
    got.forEach((g, j) => {
      if (g.value) out.set(chunk[j], g.value);
    });
  }
  return out;
}

/** A person's own compliance (learner home, My schedule, GET /v1/me/compliance). */
export async function getPersonCompliance(
  kv: Deno.Kv,
  user: User,
  now: Date,
  settings: ComplianceSettings,
): Promise<PersonCompliance> {
  const shared = await loadShared(kv, now, settings);
  const stored = (await storedRecommendations(kv, [user.id])).get(user.id) ?? null;
  return await computePerson(kv, user, shared, stored);
}

/** Whose matrix: a manager's team (two levels) or a dealer's people. */
export type ComplianceScope = { managerId: string } | { dealerId: string };

/** Only rows with an overdue (or expiring) course. */
export type MatrixFilter = "all" | "overdue" | "expiring";

/** One row of the matrix. */
export interface MatrixRow extends PersonCompliance {
  /** 0: a direct report (or anyone of a dealer); 1: a report's report. */
  level: 0 | 1;
}

/** The matrix: people × required courses. */
export interface ComplianceMatrix {
  courses: Pick<Course, "id" | "code" | "title">[];
  rows: MatrixRow[];
  counts: Record<ComplianceCell["state"], number>;
  filter: MatrixFilter;
}

/** The compliance matrix of a manager's team or of a dealer (see {@link ComplianceScope}). */
export async function getComplianceMatrix(
  kv: Deno.Kv,
  scope: ComplianceScope,
  filter: MatrixFilter,
  now: Date,
  settings: ComplianceSettings,
): Promise<ComplianceMatrix> {
  const people: { user: User; level: 0 | 1 }[] = [];
  if ("managerId" in scope) {
    for (const direct of await listUsersByManager(kv, scope.managerId)) {
      people.push({ user: direct, level: 0 });
      for (const below of await listUsersByManager(kv, direct.id)) people.push({ user: below, level: 1 });
    }
  } else {
    for (const u of await listUsersByDealer(kv, scope.dealerId)) people.push({ user: u, level: 0 });
  }
  const active = people.filter((p) => p.user.active !== false && !p.user.erasedAt);
  const shared = await loadShared(kv, now, settings);
  const stored = await storedRecommendations(kv, active.map((p) => p.user.id));
  const rows: MatrixRow[] = await Promise.all(
    active.map(async (p) => ({
      ...await computePerson(kv, p.user, shared, stored.get(p.user.id) ?? null),
      level: p.level,
    })),
  );
  const counts = { overdue: 0, missing: 0, expiring: 0, booked: 0, completed: 0 };
  const courseIds = new Set<string>();
  for (const r of rows) {
    for (const c of r.cells) {
      counts[c.state]++;
      courseIds.add(c.courseId);
    }
  }
  const courses = [...courseIds].map((id) => shared.courses.get(id)).filter((c): c is Course => !!c)
    .sort((a, b) => a.code.localeCompare(b.code))
    .map((c) => ({ id: c.id, code: c.code, title: c.title }));
  const keep = (r: MatrixRow) => filter === "all" || r.cells.some((c) => c.state === filter);
  let shown = rows.filter(keep);
  if ("managerId" in scope && filter !== "all") {
    // A direct report stays as the heading of their people who match.
    const needed = new Set(shown.filter((r) => r.level === 1).map((r) => r.person.managerId));
    shown = rows.filter((r) => keep(r) || (r.level === 0 && needed.has(r.person.id)));
  }
  return { courses, rows: shown, counts, filter };
}

/**
 * Books a recommended session for a team member, directly (no hold for them to confirm: a hold
 * lasts minutes, too short for a person who is not at the screen). The seat is the person's own
 * booking, which they see in My schedule and may cancel. The engine's rules apply (full,
 * prerequisites, already booked); its events name the system as actor, with the manager in the
 * reason. 403 outside the caller's team or dealer.
 */
export async function bookForPerson(
  engine: BookingEngine,
  who: Acting,
  learnerId: string,
  sessionId: string,
  correlationId: string,
): Promise<Booking> {
  const person = await requireManagedPerson(engine.kv, who, learnerId);
  const actor = {
    userId: null,
    roles: [],
    origin: "system" as const,
    correlationId,
    reason: `booked for required training by ${who.roles.includes("admin") ? "an admin" : "their manager"} (user ${
      who.userId ?? "admin token"
    })`,
  };
  const { hold } = await engine.placeHold(sessionId, person.id, actor, undefined, { learner: person });
  const { booking } = await engine.confirmHold(hold.id, actor);
  await requestRescan(engine.kv, [person.id]);
  return booking;
}
