/** Picking sessions for browser journeys. */
import { getAvailability } from "../../lib/booking/availability.ts";
import { listSessions } from "../../lib/store/mod.ts";
import type { TestApp } from "../app_fixture.ts";
import { repeatsCourse } from "../repeat_free.ts";

/** An upcoming session with seats whose course has no prerequisites and does not repeat one for the demo learner. */
export async function openSession(t: TestApp): Promise<string> {
  const { sessions } = await listSessions(t.services.kv, {
    from: new Date(Date.now() + 86_400_000).toISOString(),
    limit: 100,
  });
  const avail = await getAvailability(t.services.kv, sessions);
  for (const s of sessions) {
    const c = (await t.services.kv.get<{ prerequisiteCourseIds: string[] }>(["courses", s.courseId])).value!;
    if (!c.prerequisiteCourseIds.length && avail.get(s.id)!.seatsLeft >= 2 && !await repeatsCourse(t, s)) return s.id;
  }
  throw new Error("no open session without prerequisites");
}
