/**
 * The order of a session's waitlist: who is offered a freed seat first. A person whose compliance
 * deadline for the course (`deadline` on the entry: a requirement's or assignment's due date, or
 * the expiry of the certification the course renews; set when they join) falls sooner goes
 * first; entries without a deadline come after those with one; ties, and everyone without a
 * deadline, keep first come, first served (joinedAt, then learner id).
 */
import type { WaitlistEntry } from "../domain/mod.ts";

/** The rule in words, for learners (session page, API documentation). */
export const WAITLIST_RULE = "Freed seats are offered first to people whose required training or certification " +
  "for this course is due sooner; otherwise, and among equal dates, first come, first served.";

/** Sorts before 0 when `a` is offered a seat before `b`. */
export function waitlistOrder(
  a: Pick<WaitlistEntry, "joinedAt" | "learnerId" | "deadline">,
  b: Pick<WaitlistEntry, "joinedAt" | "learnerId" | "deadline">,
): number {
  const da = a.deadline ?? "9999-12-31";
  const db = b.deadline ?? "9999-12-31";
  if (da !== db) return da < db ? -1 : 1;
  if (a.joinedAt !== b.joinedAt) return a.joinedAt < b.joinedAt ? -1 : 1;
  return a.learnerId < b.learnerId ? -1 : a.learnerId > b.learnerId ? 1 : 0;
}
