import type { Session } from "../domain/session.ts";
import { keys, type SessionIndexEntry } from "./keys.ts";

/** The summary stored as the value of every `sessions_by_*` entry. */
export function sessionIndexEntry(session: Session): SessionIndexEntry {
  return {
    id: session.id,
    courseId: session.courseId,
    locationId: session.locationId,
    instructorId: session.instructorId,
    mode: session.mode,
    status: session.status,
  };
}

/** The four secondary-index keys of a session. */
export function sessionIndexKeys(session: Session): Deno.KvKey[] {
  const { id, startsAt } = session;
  return [
    keys.sessionsByStart(startsAt, id),
    keys.sessionsByLocation(session.locationId, startsAt, id),
    keys.sessionsByCourse(session.courseId, startsAt, id),
    keys.sessionsByInstructor(session.instructorId, startsAt, id),
  ];
}

/** Mutations that write a session and all of its index entries. */
export function sessionWriteMutations(session: Session): Deno.KvMutation[] {
  const entry = sessionIndexEntry(session);
  return [
    { type: "set", key: keys.session(session.id), value: session },
    ...sessionIndexKeys(session).map((key): Deno.KvMutation => ({
      type: "set",
      key,
      value: entry,
    })),
  ];
}

/** True when two KV keys are equal part by part. */
export function sameKey(a: Deno.KvKey, b: Deno.KvKey): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}
