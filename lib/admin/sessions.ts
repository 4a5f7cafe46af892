/**
 * Staff session management behind the pages: the form's references, and scheduling or changing a
 * session from the form through the booking engine (its rules hold: capacity never below the seats
 * taken, a stale edit refused, a cancel through the engine's session-cancel path with its events).
 */
import type { BookingEngine } from "../booking/engine.ts";
import { DomainError } from "../booking/errors.ts";
import type { Actor } from "../booking/events.ts";
import type { Course, Location, Session, User } from "../domain/mod.ts";
import { ValidationError } from "../domain/validation.ts";
import { type Availability, getAvailability } from "../booking/availability.ts";
import { getCourse, getCoursesByIds, listCourses } from "../store/courses.ts";
import { listBookingsBySession } from "../store/bookings.ts";
import { getUsers } from "../store/users.ts";
import type { Booking } from "../domain/booking.ts";
import { type AuditEntry, searchAuditTrail } from "./audit.ts";
import { listSessions } from "../store/session_listing.ts";
import { keys } from "../store/keys.ts";
import { getLocation, listLocations } from "../store/locations.ts";
import {
  formFieldOf,
  parseSessionForm,
  type SessionFormContext,
  type SessionFormErrors,
  type SessionFormValues,
} from "./session_form.ts";

/** Instructors offered on the form (the first ones found; ids typed by the API are not limited). */
const MAX_INSTRUCTORS = 500;

/** Everything the session form offers: courses, training centers, instructors. */
export interface SessionFormChoices {
  courses: Course[];
  locations: Location[];
  instructors: User[];
}

/** Active users with `role`, by name (a scan of the users: staff lists are small). */
export async function listUsersWithRole(kv: Deno.Kv, role: User["roles"][number], max = MAX_INSTRUCTORS) {
  const out: User[] = [];
  for await (const e of kv.list<User>({ prefix: keys.usersPrefix() })) {
    if (e.key.length !== 2) continue;
    if (e.value.roles.includes(role) && e.value.active !== false && !e.value.erasedAt) out.push(e.value);
    if (out.length >= max) break;
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The choices of the session form. */
export async function sessionFormChoices(kv: Deno.Kv): Promise<SessionFormChoices> {
  const [courses, locations, instructors] = await Promise.all([
    listCourses(kv),
    listLocations(kv, { includeInactive: true }),
    listUsersWithRole(kv, "instructor"),
  ]);
  return { courses, locations, instructors };
}

function contextOf(choices: SessionFormChoices, now: Date, current?: Session): SessionFormContext {
  const courseIds = new Set(choices.courses.map((c) => c.id));
  const instructorIds = new Set(choices.instructors.map((u) => u.id));
  // An existing session keeps its course and instructor even if they left the lists.
  if (current) {
    courseIds.add(current.courseId);
    instructorIds.add(current.instructorId);
  }
  return { courseIds, locations: new Map(choices.locations.map((l) => [l.id, l])), instructorIds, now };
}

/** The outcome of a form: the session, field errors, or (edits) the current session after a stale edit. */
export type SessionFormOutcome =
  | { ok: true; session: Session }
  | { ok: false; errors: SessionFormErrors; problem: string | null; current?: Session };

/** Engine refusals as field errors or a sentence for the page. */
function refusal(err: unknown): SessionFormOutcome {
  if (err instanceof ValidationError) {
    const errors: SessionFormErrors = {};
    const loose: string[] = [];
    for (const i of err.issues) {
      const field = formFieldOf(i.path);
      if (field) errors[field] ??= `This ${i.message}.`;
      else loose.push(i.message);
    }
    return { ok: false, errors, problem: loose.length ? loose.join("; ") : null };
  }
  if (err instanceof DomainError) {
    if (err.code === "capacity_below_taken") {
      const taken = (err.details as { taken: number }).taken;
      return {
        ok: false,
        errors: { capacity: `${taken} seats are taken right now: the capacity cannot be below ${taken}.` },
        problem: null,
      };
    }
    if (err.code === "stale_edit") {
      return { ok: false, errors: {}, problem: err.message, current: (err.details as { current: Session }).current };
    }
    if (err.status < 500) return { ok: false, errors: {}, problem: err.message };
  }
  throw err;
}

/** Schedules a session from the form (nothing is written unless every field is right). */
export async function scheduleSessionFromForm(
  engine: BookingEngine,
  values: SessionFormValues,
  actor: Actor,
): Promise<SessionFormOutcome> {
  const choices = await sessionFormChoices(engine.kv);
  const parsed = parseSessionForm(values, contextOf(choices, engine.now()));
  if (!parsed.input) return { ok: false, errors: parsed.errors, problem: null };
  try {
    return { ok: true, session: await engine.scheduleSession(parsed.input, actor) };
  } catch (err) {
    return refusal(err);
  }
}

/**
 * Changes a session from the form, refused unless the session is still at `version` (its
 * updatedAt when the form was shown). The course stays the session's own.
 */
export async function updateSessionFromForm(
  engine: BookingEngine,
  current: Session,
  values: SessionFormValues,
  version: string,
  actor: Actor,
): Promise<SessionFormOutcome> {
  const choices = await sessionFormChoices(engine.kv);
  const parsed = parseSessionForm({ ...values, course: current.courseId }, contextOf(choices, engine.now(), current));
  if (!parsed.input) return { ok: false, errors: parsed.errors, problem: null };
  const { courseId: _, ...patch } = parsed.input;
  try {
    const session = await engine.updateSession(current.id, patch, actor, { ifUpdatedAt: version });
    return { ok: true, session };
  } catch (err) {
    return refusal(err);
  }
}

/** Cancels a session through the engine's session-cancel path (everyone in it is cancelled and notified). */
export async function cancelSessionFromForm(
  engine: BookingEngine,
  current: Session,
  reason: string,
  actor: Actor,
): Promise<{ ok: true; cancelledBookings: number } | { ok: false; problem: string }> {
  if (!reason) return { ok: false, problem: "Give the reason for cancelling: learners are told it." };
  if (reason.length > 500) return { ok: false, problem: "Keep the reason to 500 characters or fewer." };
  try {
    const out = await engine.cancelSession(current.id, { ...actor, reason });
    return { ok: true, cancelledBookings: out.cancelledBookings };
  } catch (err) {
    if (err instanceof DomainError && err.status < 500) return { ok: false, problem: err.message };
    throw err;
  }
}

/** The session with `id`, or null (also for ids that cannot exist). */
export async function findSession(kv: Deno.Kv, id: string): Promise<Session | null> {
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)) return null;
  return (await kv.get<Session>(keys.session(id))).value;
}

/** A staff search of sessions. Dates are UTC calendar dates (inclusive). */
export interface StaffSessionFilter {
  q?: string;
  from?: string;
  to?: string;
  locationId?: string;
  online?: boolean;
  courseId?: string;
  includeCancelled?: boolean;
  cursor?: string | null;
}

/** One row of the staff list. */
export interface StaffSessionRow {
  session: Session;
  course: Course | null;
  location: Location | null;
  availability: Availability;
}

/** Sessions for staff (cancelled ones when asked), soonest first, 25 a page, with seats. */
export async function searchSessionsForStaff(
  kv: Deno.Kv,
  filter: StaffSessionFilter,
  now: Date,
): Promise<{ rows: StaffSessionRow[]; nextCursor: string | null }> {
  const page = await listSessions(kv, {
    q: filter.q || undefined,
    from: filter.from ? `${filter.from}T00:00:00.000Z` : now.toISOString(),
    to: filter.to ? new Date(Date.parse(`${filter.to}T00:00:00Z`) + 86_400_000).toISOString() : undefined,
    locationId: filter.locationId,
    online: filter.online,
    courseId: filter.courseId,
    includeCancelled: filter.includeCancelled ?? false,
    cursor: filter.cursor ?? null,
    limit: 25,
  });
  const [courses, locations, availability] = await Promise.all([
    getCoursesByIds(kv, [...new Set(page.sessions.map((s) => s.courseId))]),
    listLocations(kv, { includeInactive: true }),
    getAvailability(kv, page.sessions, now),
  ]);
  const byId = new Map(locations.map((l) => [l.id, l]));
  return {
    rows: page.sessions.map((s) => ({
      session: s,
      course: courses.get(s.courseId) ?? null,
      location: s.locationId ? byId.get(s.locationId) ?? null : null,
      availability: availability.get(s.id)!,
    })),
    nextCursor: page.nextCursor,
  };
}

/** Everything the staff page of one session shows. */
export interface StaffSessionView {
  row: StaffSessionRow;
  bookings: Booking[];
  history: AuditEntry[];
  /** Names of the learners and actors mentioned, by id. */
  names: Record<string, string>;
}

/** Loads a session's staff view: seats, bookings, and its audit trail (newest first). */
export async function staffSessionView(kv: Deno.Kv, session: Session, now: Date): Promise<StaffSessionView> {
  const [course, location, availability, bookings, trail] = await Promise.all([
    getCourse(kv, session.courseId),
    session.locationId ? getLocation(kv, session.locationId) : null,
    getAvailability(kv, [session], now),
    listBookingsBySession(kv, session.id),
    searchAuditTrail(kv, { sessionId: session.id, limit: 200 }),
  ]);
  const ids = new Set(bookings.map((b) => b.learnerId));
  for (const e of trail.entries) {
    if (e.actor.userId) ids.add(e.actor.userId);
    if (e.learnerId) ids.add(e.learnerId);
  }
  const users = await getUsers(kv, [...ids]);
  return {
    row: { session, course, location, availability: availability.get(session.id)! },
    bookings,
    history: trail.entries,
    names: Object.fromEntries([...users.values()].map((u) => [u.id, u.name])),
  };
}
