/**
 * Demo data for the course-wide waitlist: the demo learner waits for any date of one course whose
 * next session is full (My schedule, "Any date that suits me"). Through the engine, once per store.
 */
import type { BookingEngine } from "../booking/engine.ts";
import { getAvailability } from "../booking/availability.ts";
import { joinCourseWaitlist } from "../booking/course_waitlist.ts";
import { DomainError } from "../booking/errors.ts";
import type { Session } from "../domain/mod.ts";
import { getExistingValues } from "../store/batch.ts";
import { keys } from "../store/keys.ts";
import { getUserByEmail } from "../store/users.ts";
import { DEMO_EMAILS } from "./build_people.ts";

const DAY = 24 * 3_600_000;

/** Joins the demo learner to one course's waitlist (all its dates in the next 60 days); false when done before. */
export async function seedCourseWaitlistDemo(engine: BookingEngine): Promise<boolean> {
  const kv = engine.kv;
  const marker = keys.courseWaitlistDemoMarker();
  if ((await kv.get(marker)).value) return false;
  const learner = await getUserByEmail(kv, DEMO_EMAILS.learner);
  if (!learner) return false;
  const now = engine.now();
  const until = new Date(now.getTime() + 60 * DAY);
  const ids: string[] = [];
  const prefix = keys.sessionsByStartPrefix();
  for await (const e of kv.list({ start: [...prefix, now.toISOString()], end: [...prefix, until.toISOString()] })) {
    ids.push(String(e.key.at(-1)));
  }
  const done = new Set(learner.completedCourses.map((c) => c.courseId));
  const sessions = (await getExistingValues<Session>(kv, ids.map(keys.session)))
    .filter((s) => s.status === "scheduled" && s.waitlistEnabled && !done.has(s.courseId));
  const availability = await getAvailability(kv, sessions, now);
  const tried = new Set<string>();
  for (const s of sessions) {
    if ((availability.get(s.id)?.seatsLeft ?? 1) > 0 || tried.has(s.courseId)) continue;
    tried.add(s.courseId);
    const actor = { userId: learner.id, roles: learner.roles, origin: "system" as const, correlationId: "seed" };
    try {
      await joinCourseWaitlist(
        engine,
        learner.id,
        { courseId: s.courseId, to: until.toISOString().slice(0, 10) },
        actor,
      );
    } catch (err) {
      // Another instance seeding at the same time got there first.
      if (err instanceof DomainError && err.code === "already_on_course_waitlist") return false;
      // Prerequisites missing, nothing left to wait on: try the next course.
      if (err instanceof DomainError && err.status < 500) continue;
      throw err;
    }
    await kv.set(marker, { seededAt: now.toISOString(), courseId: s.courseId });
    return true;
  }
  return false;
}
