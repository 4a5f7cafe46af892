import { type NewSession, type SeatCounts, type Session, type SessionPatch, SessionSchema } from "../domain/session.ts";
import { newId } from "../domain/ids.ts";
import { parseOrThrow, ValidationError, type ValidationIssue } from "../domain/validation.ts";
import { ConflictError, NotFoundError } from "./errors.ts";
import { keys } from "./keys.ts";
import { backoff, MAX_WRITE_ATTEMPTS } from "./retry.ts";
import { type AtomicUnit, commitInBatches, getValueById, getValuesById } from "./batch.ts";
import { loadCatalog } from "./catalog_cache.ts";
import { sameKey, sessionIndexKeys, sessionWriteMutations } from "./session_index.ts";

const ZERO_SEATS: SeatCounts = { confirmed: 0, holds: 0 };

function toSession(input: NewSession, now: string): Session {
  const createdAt = input.createdAt ?? now;
  return parseOrThrow(
    SessionSchema,
    {
      ...input,
      id: input.id ?? newId(),
      createdAt,
      updatedAt: input.updatedAt ?? createdAt,
    },
    "session",
  );
}

/** Throws ValidationError when the session's course or location is unknown. */
async function assertReferencesExist(
  kv: Deno.Kv,
  sessions: ReadonlyArray<Session>,
): Promise<void> {
  const { courses, locations } = await loadCatalog(kv);
  const issues: ValidationIssue[] = [];
  const prefix = sessions.length > 1;
  sessions.forEach((s, i) => {
    const at = (field: string) => (prefix ? `${i}.${field}` : field);
    if (!courses.has(s.courseId)) {
      issues.push({ path: at("courseId"), message: `unknown course ${s.courseId}` });
    }
    if (s.locationId && !locations.has(s.locationId)) {
      issues.push({
        path: at("locationId"),
        message: `unknown location ${s.locationId}`,
      });
    }
  });
  if (issues.length) throw new ValidationError(issues, "session");
}

/**
 * Creates a session with its four index entries and `["seats", id] =
 * {confirmed: 0, holds: 0}` in one atomic op. Validates with `SessionSchema`
 * and checks that the course and location exist (`ValidationError`); fails
 * with `ConflictError` "exists" when the id is taken. The instructor id is
 * not checked against users.
 */
export async function createSession(
  kv: Deno.Kv,
  input: NewSession,
): Promise<Session> {
  const session = toSession(input, new Date().toISOString());
  await assertReferencesExist(kv, [session]);
  const res = await kv.atomic()
    .check({ key: keys.session(session.id), versionstamp: null })
    .mutate(...sessionWriteMutations(session))
    .set(keys.seats(session.id), ZERO_SEATS)
    .commit();
  if (!res.ok) {
    throw new ConflictError("exists", `session ${session.id} already exists`);
  }
  return session;
}

/**
 * Creates many sessions (seeding, imports) in as few atomic ops as the KV
 * limits allow; each session and its indexes and seat counter are written
 * together. Everything is validated before anything is written.
 */
export async function importSessions(
  kv: Deno.Kv,
  inputs: ReadonlyArray<NewSession>,
): Promise<Session[]> {
  const now = new Date().toISOString();
  const sessions = inputs.map((input) => toSession(input, now));
  const ids = new Set(sessions.map((s) => s.id));
  if (ids.size !== sessions.length) {
    throw new ConflictError("exists", "the same session id appears twice");
  }
  await assertReferencesExist(kv, sessions);
  const units = sessions.map((session): AtomicUnit => ({
    checks: [{ key: keys.session(session.id), versionstamp: null }],
    mutations: [
      ...sessionWriteMutations(session),
      { type: "set", key: keys.seats(session.id), value: ZERO_SEATS },
    ],
  }));
  await commitInBatches(kv, units);
  return sessions;
}

/** Returns the session with `id`, or null. */
export async function getSession(
  kv: Deno.Kv,
  id: string,
): Promise<Session | null> {
  return await getValueById<Session>(kv, id, keys.session);
}

/**
 * Reads many sessions (batched `getMany`, 10 keys per call, in parallel).
 * @returns a Map keyed by session id; unknown ids are absent.
 */
export function getSessions(
  kv: Deno.Kv,
  ids: ReadonlyArray<string>,
): Promise<Map<string, Session>> {
  return getValuesById<Session>(kv, ids, keys.session);
}

/**
 * Reads seat counters for many sessions.
 * @returns a Map keyed by session id; sessions without a counter are absent.
 */
export function getSeatCounts(
  kv: Deno.Kv,
  ids: ReadonlyArray<string>,
): Promise<Map<string, SeatCounts>> {
  return getValuesById<SeatCounts>(kv, ids, keys.seats);
}

/**
 * Applies `patch` to a session and returns the new value. Re-validates the
 * whole session, moves its index entries when startsAt, location, course or
 * instructor change (old keys deleted, new ones written) and rewrites the
 * index summaries, all in one atomic op guarded by the session's
 * versionstamp (retried on a concurrent change). Lowering capacity below the
 * confirmed seat count fails with `ConflictError` "over_capacity".
 */
export async function updateSession(
  kv: Deno.Kv,
  id: string,
  patch: SessionPatch,
): Promise<Session> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    await backoff(attempt);
    const current = await kv.get<Session>(keys.session(id));
    if (!current.value) throw new NotFoundError("session", id);
    const before = current.value;
    const after = parseOrThrow(
      SessionSchema,
      {
        ...before,
        ...patch,
        id: before.id,
        createdAt: before.createdAt,
        updatedAt: new Date().toISOString(),
      },
      "session",
    );
    if (
      after.courseId !== before.courseId ||
      after.locationId !== before.locationId
    ) {
      await assertReferencesExist(kv, [after]);
    }

    const op = kv.atomic().check(current);
    if (after.capacity < before.capacity) {
      const seats = await kv.get<SeatCounts>(keys.seats(id));
      const confirmed = seats.value?.confirmed ?? 0;
      if (after.capacity < confirmed) {
        throw new ConflictError(
          "over_capacity",
          `capacity ${after.capacity} is below the ${confirmed} confirmed bookings`,
        );
      }
      op.check(seats);
    }
    const newKeys = sessionIndexKeys(after);
    for (const oldKey of sessionIndexKeys(before)) {
      if (!newKeys.some((k) => sameKey(k, oldKey))) op.delete(oldKey);
    }
    op.mutate(...sessionWriteMutations(after));
    if ((await op.commit()).ok) return after;
  }
  throw new ConflictError(
    "concurrent_update",
    `session ${id} kept changing; update abandoned after ${MAX_WRITE_ATTEMPTS} attempts`,
  );
}
