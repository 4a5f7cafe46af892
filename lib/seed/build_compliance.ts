/**
 * Demo compliance: certifications on some courses, requirements for the required courses, and the
 * demo manager's (Morgan Reyes) team shaped to show every state — two new team leads with six of
 * Morgan's people each, one level below, an overdue assignment, an expiring and a lapsed certification, and an
 * assignment for the demo learner due in three weeks. Dates are relative to `now`.
 */
import type { Assignment, Requirement } from "../domain/compliance.ts";
import type { Course } from "../domain/course.ts";
import { newId } from "../domain/ids.ts";
import type { User } from "../domain/user.ts";
import { DEMO_EMAILS } from "./build_people.ts";

/**
 * The course assigned to the demo learner (due in three weeks): the demo bookings leave it out, so their home always
 * shows it as a gap with sessions to book ("Required for you by …").
 */
export const DEMO_LEARNER_ASSIGNED_COURSE = "SAF-110";

const DAY = 86_400_000;

/** Months a course's certification stays valid (by code), or by certification track. */
const CERTIFICATION_MONTHS: Record<string, number> = { "SAF-101": 24, "CMP-101": 12 };

/** The catalog with certification validity on certified courses. */
export function certifyCourses(courses: readonly Course[]): Course[] {
  return courses.map((c) => {
    const months = CERTIFICATION_MONTHS[c.code] ?? (c.certificationTrack ? 36 : null);
    return months ? { ...c, certificationValidMonths: months } : c;
  });
}

/** What the demo seed adds for compliance. */
export interface DemoCompliance {
  users: User[];
  requirements: Requirement[];
  assignments: Assignment[];
}

function dateIn(now: Date, days: number): string {
  return new Date(now.getTime() + days * DAY).toISOString().slice(0, 10);
}

/** Requirements, assignments, and the users with the demo manager's team reshaped. */
export function buildCompliance(users: readonly User[], courses: readonly Course[], now: Date): DemoCompliance {
  const byCode = new Map(courses.map((c) => [c.code, c]));
  const course = (code: string) => byCode.get(code)!;
  const requirement = (code: string, over: Partial<Requirement>): Requirement => ({
    id: newId(),
    courseId: course(code).id,
    roles: [],
    jobFunctions: [],
    dealerIds: [],
    periodMonths: null,
    dueOn: null,
    createdAt: new Date(now.getTime() - 200 * DAY).toISOString(),
    createdBy: null,
    ...over,
  });
  const requirements = [
    requirement("SAF-101", { roles: ["learner"], periodMonths: 24, dueOn: dateIn(now, 60) }),
    requirement("CMP-101", { roles: ["learner"], periodMonths: 12, dueOn: dateIn(now, 30) }),
    requirement("CMP-110", { roles: ["learner"], dueOn: dateIn(now, 45) }),
    requirement("CMP-130", { roles: ["manager"], dueOn: dateIn(now, 21) }),
  ];

  const out = users.map((u) => ({ ...u, completedCourses: [...u.completedCourses] }));
  const morgan = out.find((u) => u.email === DEMO_EMAILS.manager)!;
  const taylor = out.find((u) => u.email === DEMO_EMAILS.learner)!;
  const reports = out.filter((u) => u.managerId === morgan.id && u.id !== taylor.id);
  // Two team leads (new people) report to Morgan, each with people of their own one level below.
  const leads: User[] = ["Jordan Avery", "Casey Morgan"].map((name, i) => ({
    id: newId(),
    email: `team-lead-${i + 1}@example.com`,
    name,
    roles: ["manager", "learner"],
    dealerId: morgan.dealerId,
    managerId: morgan.id,
    preferredLocationId: morgan.preferredLocationId,
    completedCourses: [],
    createdAt: new Date(now.getTime() - 400 * DAY).toISOString(),
  }));
  out.push(...leads);
  const direct = [taylor, ...reports.slice(0, 7), ...leads];
  reports.slice(9, 15).forEach((u) => u.managerId = leads[0].id);
  reports.slice(15, 21).forEach((u) => u.managerId = leads[1].id);

  const completeAt = (u: User, code: string, daysAgo: number) => {
    const id = course(code).id;
    u.completedCourses = [
      ...u.completedCourses.filter((c) => c.courseId !== id),
      { courseId: id, completedAt: new Date(now.getTime() - daysAgo * DAY).toISOString() },
    ];
  };
  completeAt(direct[3], "SAF-101", 730 - 20); // certification expiring in about 20 days
  completeAt(direct[4], "SAF-101", 730 + 40); // lapsed 40 days ago: overdue
  completeAt(direct[5], "CMP-101", 365 - 50); // valid for 50 more days
  const assignment = (u: User, code: string, dueInDays: number, note: string): Assignment => ({
    id: newId(),
    learnerId: u.id,
    courseId: course(code).id,
    dueOn: dateIn(now, dueInDays),
    note,
    assignedBy: morgan.id,
    assignedAt: new Date(now.getTime() - 30 * DAY).toISOString(),
  });
  const assignments = [
    assignment(taylor, DEMO_LEARNER_ASSIGNED_COURSE, 21, "Needed before you work on the lifts."),
    assignment(direct[6], "SAF-110", -10, "Needed before you work on the lifts."),
    assignment(reports[9], "CMP-110", -3, "Please complete this quarter."),
    assignment(leads[0], "CMP-130", 14, "For your new team."),
  ];
  return { users: out, requirements, assignments };
}
