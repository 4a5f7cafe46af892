/**
 * Journeys about a plain hold pick sessions that do not repeat a course for the person holding
 * (the duplicate-course warning, lib/booking/duplicates.ts, would ask "book anyway?" first) and where
 * they have no place yet (the demo seed books the demo learner into sessions that depend on the hour).
 */
import { findCourseDuplicate } from "../lib/booking/duplicates.ts";
import type { Course, Session, User } from "../lib/domain/mod.ts";
import { keys } from "../lib/store/keys.ts";
import type { TestApp } from "./app_fixture.ts";

/** True when the user with `email` already has a place in `session`, or holding it would repeat its course. */
export async function repeatsCourse(t: TestApp, session: Session, email = "learner@example.com"): Promise<boolean> {
  const kv = t.services.kv;
  const id = (await kv.get<string>(keys.userByEmail(email))).value;
  const user = id ? (await kv.get<User>(keys.user(id))).value : null;
  if (!user) return false;
  if ((await kv.get(keys.place(session.id, user.id))).value) return true;
  const course = (await kv.get<Course>(keys.course(session.courseId))).value;
  return (await findCourseDuplicate(kv, user, session, course, t.services.engine.now())) !== null;
}
