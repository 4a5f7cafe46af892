/**
 * The warning before booking a course twice: the learner already has a confirmed seat in another
 * session of the course that has not ended, or has completed the course and the completion is
 * still valid. Both may be overridden ("book anyway": a second date, a refresher); the engine asks
 * for that explicitly (`confirmDuplicate`). It is a warning, not an invariant: it reads outside the
 * hold's atomic op, so two holds racing in two sessions of one course may both pass it.
 */
import type { Course, User } from "../domain/mod.ts";
import { localDate } from "../compliance/dates.ts";
import { DEFAULT_COMPLIANCE_SETTINGS, expiryOf, lastCompletion } from "../compliance/state.ts";
import { getExistingValues } from "../store/batch.ts";
import { keys } from "../store/keys.ts";
import type { Booking, Session } from "./model.ts";

/** Why booking this session would repeat the course. */
export type CourseDuplicate =
  | { reason: "booked"; bookingId: string; sessionId: string; startsAt: string; timeZone: string }
  | { reason: "completed"; completedAt: string };

/**
 * Whether a completion still counts: by the compliance rule (lib/compliance/state.ts `expiryOf`), a
 * certification is valid through its expiry date in the compliance time zone; a course that grants
 * none (or an unknown course) never lapses.
 */
export function isCompletionValid(
  course: Course | null,
  completedAt: string,
  now: Date,
  timeZone: string = DEFAULT_COMPLIANCE_SETTINGS.timeZone,
): boolean {
  const expiresOn = expiryOf(completedAt, course?.certificationValidMonths ?? null, timeZone);
  return expiresOn === null || localDate(now, timeZone) <= expiresOn;
}

/** The first reason booking `session` would repeat its course for `learner`, or null. */
export async function findCourseDuplicate(
  kv: Deno.Kv,
  learner: User,
  session: Session,
  course: Course | null,
  now: Date,
  timeZone: string = DEFAULT_COMPLIANCE_SETTINGS.timeZone,
): Promise<CourseDuplicate | null> {
  const completion = lastCompletion(learner.completedCourses, session.courseId);
  if (completion && isCompletionValid(course, completion.completedAt, now, timeZone)) {
    return { reason: "completed", completedAt: completion.completedAt };
  }
  const ids: string[] = [];
  for await (const e of kv.list<string>({ prefix: keys.bookingsByLearnerPrefix(learner.id) })) ids.push(e.value);
  const bookings = (await getExistingValues<Booking>(kv, ids.map(keys.booking)))
    .filter((b) => b.status === "confirmed" && b.sessionId !== session.id);
  const sessions = await getExistingValues<Session>(kv, bookings.map((b) => keys.session(b.sessionId)));
  const same = sessions
    .filter((s) => s.courseId === session.courseId && s.status === "scheduled" && Date.parse(s.endsAt) > now.getTime())
    .sort((a, b) => a.startsAt < b.startsAt ? -1 : 1)[0];
  if (!same) return null;
  const booking = bookings.find((b) => b.sessionId === same.id)!;
  return {
    reason: "booked",
    bookingId: booking.id,
    sessionId: same.id,
    startsAt: same.startsAt,
    timeZone: same.timeZone,
  };
}
