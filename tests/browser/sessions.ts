/** Picking sessions for browser journeys. */
import { getAvailability } from "../../lib/booking/availability.ts";
import type { Course } from "../../lib/domain/mod.ts";
import { keys } from "../../lib/store/keys.ts";
import { listSessions } from "../../lib/store/mod.ts";
import type { TestApp } from "../app_fixture.ts";
import { repeatsCourse } from "../repeat_free.ts";

/** An upcoming session with seats whose course has no prerequisites and does not repeat one for the demo learner. */
export async function openSession(t: TestApp): Promise<string> {
  const { sessions } = await listSessions(t.services.kv, {
    from: new Date(t.services.engine.now().getTime() + 86_400_000).toISOString(),
    limit: 100,
  });
  const avail = await getAvailability(t.services.kv, sessions);
  for (const s of sessions) {
    const c = (await t.services.kv.get<Course>(keys.course(s.courseId))).value!;
    if (!c.prerequisiteCourseIds.length && avail.get(s.id)!.seatsLeft >= 2 && !await repeatsCourse(t, s)) return s.id;
  }
  throw new Error("no open session without prerequisites");
}

/**
 * An upcoming session (no prerequisites, 1 to 30 seats left) whose course the demo learner has not done or booked
 * and which has another session with seats (its alternatives once it is full).
 */
export async function sessionWithAlternatives(t: TestApp): Promise<string> {
  const { kv } = t.services;
  const { sessions } = await listSessions(kv, {
    from: new Date(t.services.engine.now().getTime() + 2 * 86_400_000).toISOString(),
    limit: 200,
  });
  const avail = await getAvailability(kv, sessions);
  for (const s of sessions) {
    const course = (await kv.get<Course>(keys.course(s.courseId))).value!;
    const left = avail.get(s.id)!.seatsLeft;
    if (course.prerequisiteCourseIds.length || left < 1 || left > 30) continue;
    if (await repeatsCourse(t, s)) continue;
    if (!sessions.some((o) => o.id !== s.id && o.courseId === s.courseId && avail.get(o.id)!.seatsLeft > 0)) continue;
    return s.id;
  }
  throw new Error("no session to fill");
}
