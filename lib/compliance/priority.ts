/**
 * Waitlist priority by compliance deadline: the date by which a person needs the course of a
 * session, stored on their waitlist entry when they join (lib/booking/waitlist_order.ts sorts by
 * it). It is the due date of their requirement or assignment for the course while it is not done
 * and valid, or else the expiry of the certification the course renews; null when neither applies.
 */
import type { Course, User } from "../domain/mod.ts";
import { listAssignmentsOf, listRequirements } from "../store/compliance.ts";
import type { CalendarDate } from "./dates.ts";
import { certificationsOf, type ComplianceSettings, complianceState, requiredCoursesFor } from "./state.ts";

/** The person's compliance deadline for `course` at `now`, or null. */
export async function waitlistDeadline(
  kv: Deno.Kv,
  learner: User,
  course: Course,
  now: Date,
  settings: Pick<ComplianceSettings, "timeZone" | "expiringWindowDays">,
): Promise<CalendarDate | null> {
  const [requirements, assignments] = await Promise.all([listRequirements(kv), listAssignmentsOf(kv, learner.id)]);
  const months = (id: string) => id === course.id ? course.certificationValidMonths ?? null : null;
  const person = { id: learner.id, roles: learner.roles, jobFunction: learner.jobFunction, dealerId: learner.dealerId };
  const need = requiredCoursesFor(person, requirements, assignments, months).find((n) => n.courseId === course.id);
  if (need) {
    const cell = complianceState(need, learner.completedCourses, [], now, settings);
    if (cell.state !== "completed") return cell.dueOn;
  }
  return certificationsOf(learner.completedCourses, months, now, settings)[0]?.expiresOn ?? null;
}
