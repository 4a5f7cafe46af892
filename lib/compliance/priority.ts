/**
 * Waitlist priority by compliance deadline: the date by which a person needs the course of a
 * session, stored on their waitlist entry when they join (lib/booking/waitlist_order.ts sorts by
 * it). It is the due date of their requirement or assignment for the course while it is not done
 * and valid, or else the expiry of the certification the course renews; null when neither applies.
 */
import type { Course, User } from "../domain/mod.ts";
import { listAssignmentsOf, listRequirements } from "../store/compliance.ts";
import type { CalendarDate } from "./dates.ts";
import {
  type AssignmentRule,
  certificationsOf,
  type ComplianceSettings,
  complianceState,
  requiredCoursesFor,
  type RequirementRule,
} from "./state.ts";

/** What {@link deadlineFor} needs from the store: every requirement, the learner's assignments. */
export interface DeadlineInputs {
  requirements: RequirementRule[];
  assignments: AssignmentRule[];
}

/** Reads the inputs of {@link deadlineFor} (in parallel with the caller's own reads). */
export async function loadDeadlineInputs(kv: Deno.Kv, learnerId: string): Promise<DeadlineInputs> {
  const [requirements, assignments] = await Promise.all([listRequirements(kv), listAssignmentsOf(kv, learnerId)]);
  return { requirements, assignments };
}

/** The person's compliance deadline for `course` at `now`, or null (pure). */
export function deadlineFor(
  learner: User,
  course: Course,
  inputs: DeadlineInputs,
  now: Date,
  settings: Pick<ComplianceSettings, "timeZone" | "expiringWindowDays">,
): CalendarDate | null {
  const months = (id: string) => id === course.id ? course.certificationValidMonths ?? null : null;
  const person = { id: learner.id, roles: learner.roles, jobFunction: learner.jobFunction, dealerId: learner.dealerId };
  const need = requiredCoursesFor(person, inputs.requirements, inputs.assignments, months)
    .find((n) => n.courseId === course.id);
  if (need) {
    const cell = complianceState(need, learner.completedCourses, [], now, settings);
    if (cell.state !== "completed") return cell.dueOn;
  }
  return certificationsOf(learner.completedCourses, months, now, settings)[0]?.expiresOn ?? null;
}
