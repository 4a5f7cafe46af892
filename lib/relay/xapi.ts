/**
 * Domain events as xAPI 1.0.3 statements, and the Kafka topic each one goes to.
 *
 * - `id` is the event id, so an LRS (or any consumer deduplicating by `event-id`) stores a
 *   statement at most once however often the relay delivers it.
 * - actor: the learner as an Agent with `mbox: mailto:<email>` for hold, booking and waitlist
 *   events. For session.* events (no learner) it is the acting user (the admin or instructor who
 *   scheduled, changed or cancelled the session), else the session's instructor, else the system
 *   Agent {@link SYSTEM_AGENT} (`account` form). A user who cannot be found (deleted) becomes an
 *   `account` Agent `{homePage: XAPI_BASE, name: <user id>}`, so the statement still validates.
 * - verb: a registered IRI where one exists (see {@link VERBS}), else a project IRI under
 *   `XAPI_BASE/verbs/` (none is registered for holds, waitlists or offers).
 * - object: the session as an Activity `XAPI_BASE/activities/sessions/<id>` of type meeting,
 *   named by the course title; its course is `context.contextActivities.parent`.
 * - context: `registration` = the booking's registration UUID (one per seat, kept across a
 *   reschedule) when the event carries one; `instructor`; `platform`; extensions under
 *   `XAPI_BASE/extensions/` (see {@link EXT}). Session, course and location fields come from the
 *   store when the statement is built (the relay's read), not from the moment of the event;
 *   `event-data` carries the event's own data unchanged.
 * - result: `XAPI_BASE/extensions/late-cancel` for booking.cancelled and booking.rescheduled;
 *   for attendance.recorded (verb attended) `success` = the learner attended, and
 *   `XAPI_BASE/extensions/attendance-status` = `attended`, `no_show` or `excused`; when attendance
 *   closed also `duration` (ISO 8601) and extensions for the outcome, method (in_person, online),
 *   check-in, check-out and join count. course.completed (verb completed): `completion` true and
 *   the duration; the object stays the session, its course is the context parent as everywhere.
 */
import type { Course } from "../domain/course.ts";
import type { Location } from "../domain/location.ts";
import type { Session } from "../domain/session.ts";
import type { User } from "../domain/user.ts";
import type { DomainEvent, EventType } from "../booking/events.ts";
import { getCourse, getLocation, getSession, getSessions, getUser, getUsers } from "../store/mod.ts";
import { TtlCache } from "../store/ttl_cache.ts";
import { isoDuration } from "../attendance/completion.ts";

/** The one base of every project IRI (verbs, activities, extensions). */
export const XAPI_BASE = "https://training.example.com/xapi";

/** A verb: IRI and English display; `registered` tells whether the IRI is a published one. */
export interface VerbDef {
  id: string;
  display: { "en-US": string };
  registered: boolean;
}

const published = (id: string, display: string): VerbDef => ({ id, display: { "en-US": display }, registered: true });
const project = (slug: string, display: string): VerbDef => ({
  id: `${XAPI_BASE}/verbs/${slug}`,
  display: { "en-US": display },
  registered: false,
});

/** The verb of each event type (documented in the README's xAPI table). */
export const VERBS: Readonly<Record<EventType, VerbDef>> = {
  "session.scheduled": published("http://activitystrea.ms/schema/1.0/schedule", "scheduled"),
  "session.updated": project("updated", "updated"),
  "session.cancelled": published("http://activitystrea.ms/schema/1.0/cancel", "cancelled"),
  "hold.placed": project("held", "held a seat in"),
  "hold.released": project("hold-released", "released the held seat in"),
  "hold.expired": project("hold-expired", "let the held seat lapse in"),
  "booking.confirmed": published("http://adlnet.gov/expapi/verbs/registered", "registered"),
  "booking.cancelled": published("http://id.tincanapi.com/verb/unregistered", "unregistered"),
  "booking.rescheduled": project("rescheduled", "rescheduled to"),
  "waitlist.joined": project("waitlisted", "joined the waitlist of"),
  "waitlist.offered": project("offered", "was offered a seat in"),
  "waitlist.left": project("left-waitlist", "left the waitlist of"),
  "attendance.recorded": published("http://adlnet.gov/expapi/verbs/attended", "attended"),
  "alternatives.offered": project("alternatives-offered", "was offered alternatives to"),
  "course.completed": published("http://adlnet.gov/expapi/verbs/completed", "completed"),
};

/** Activity types used. */
export const ACTIVITY_TYPES = {
  session: "http://adlnet.gov/expapi/activities/meeting",
  course: "http://adlnet.gov/expapi/activities/course",
} as const;

/** Extension IRIs (context unless noted). */
export const EXT = {
  eventType: `${XAPI_BASE}/extensions/event-type`,
  origin: `${XAPI_BASE}/extensions/origin`,
  correlationId: `${XAPI_BASE}/extensions/correlation-id`,
  schemaVersion: `${XAPI_BASE}/extensions/schema-version`,
  sessionId: `${XAPI_BASE}/extensions/session-id`,
  courseId: `${XAPI_BASE}/extensions/course-id`,
  courseCode: `${XAPI_BASE}/extensions/course-code`,
  mode: `${XAPI_BASE}/extensions/mode`,
  location: `${XAPI_BASE}/extensions/location`,
  capacity: `${XAPI_BASE}/extensions/capacity`,
  startsAt: `${XAPI_BASE}/extensions/starts-at`,
  endsAt: `${XAPI_BASE}/extensions/ends-at`,
  timeZone: `${XAPI_BASE}/extensions/time-zone`,
  sessionStatus: `${XAPI_BASE}/extensions/session-status`,
  prerequisites: `${XAPI_BASE}/extensions/prerequisites`,
  actedBy: `${XAPI_BASE}/extensions/acted-by`,
  reason: `${XAPI_BASE}/extensions/reason`,
  eventData: `${XAPI_BASE}/extensions/event-data`,
  /** Result extension: the cancellation came after the course's late-cancel cutoff. */
  lateCancel: `${XAPI_BASE}/extensions/late-cancel`,
  /** Result extension of attendance.recorded: `attended`, `no_show` or `excused`. */
  attendanceStatus: `${XAPI_BASE}/extensions/attendance-status`,
  /** Result extensions of attendance.recorded when attendance closed (lib/attendance/close.ts). */
  attendanceOutcome: `${XAPI_BASE}/extensions/attendance-outcome`,
  attendanceMethod: `${XAPI_BASE}/extensions/attendance-method`,
  checkInAt: `${XAPI_BASE}/extensions/check-in`,
  checkOutAt: `${XAPI_BASE}/extensions/check-out`,
  joinCount: `${XAPI_BASE}/extensions/join-count`,
} as const;

/** The platform name in `context.platform`. */
export const PLATFORM = "training-booking";

/** The actor of statements no person caused (or whose session has no known people). */
export const SYSTEM_AGENT: XapiAgent = {
  objectType: "Agent",
  name: "Training booking system",
  account: { homePage: XAPI_BASE, name: "system" },
};

/** Topics the relay writes to. */
export const TOPICS = {
  scheduled: "nlj.training.scheduled",
  registration: "nlj.training.registration",
  /** attendance.recorded (from Cal.com's no-show and meeting-ended webhooks, or an instructor). */
  attendance: "nlj.training.attendance",
  /** course.completed (attendance closed with the course's completion rule met, or a recording watched). */
  completion: "nlj.training.completion",
  calBookingCreated: "cal.booking.created",
  calBookingCancelled: "cal.booking.cancelled",
  calBookingRescheduled: "cal.booking.rescheduled",
  /** user.erased: a person's data was erased here; downstream stores (an LRS) erase theirs. */
  privacyErasure: "nlj.privacy.erasure",
} as const;
export type Topic = typeof TOPICS[keyof typeof TOPICS];

/**
 * The topic of an event: session.* → nlj.training.scheduled; attendance.recorded →
 * nlj.training.attendance (whatever its origin); hold, booking and waitlist events →
 * nlj.training.registration, except bookings that came from Cal.com (origin "calcom"), which go
 * to cal.booking.created / cancelled / rescheduled; user.erased → nlj.privacy.erasure.
 */
export function topicFor(event: Pick<DomainEvent, "type" | "origin">): Topic {
  if (event.type === "user.erased") return TOPICS.privacyErasure;
  if (event.type.startsWith("session.")) return TOPICS.scheduled;
  if (event.type === "attendance.recorded") return TOPICS.attendance;
  if (event.type === "course.completed") return TOPICS.completion;
  if (event.origin === "calcom") {
    if (event.type === "booking.confirmed") return TOPICS.calBookingCreated;
    if (event.type === "booking.cancelled") return TOPICS.calBookingCancelled;
    if (event.type === "booking.rescheduled") return TOPICS.calBookingRescheduled;
  }
  return TOPICS.registration;
}

/** The IRI of a session's Activity. */
export function sessionActivityId(sessionId: string): string {
  return `${XAPI_BASE}/activities/sessions/${encodeURIComponent(sessionId)}`;
}

/** The IRI of a course's Activity. */
export function courseActivityId(courseId: string): string {
  return `${XAPI_BASE}/activities/courses/${encodeURIComponent(courseId)}`;
}

export type LanguageMap = Record<string, string>;

/** An xAPI Agent (identified by mbox or by account). */
export interface XapiAgent {
  objectType: "Agent";
  name?: string;
  mbox?: string;
  account?: { homePage: string; name: string };
}

export interface XapiActivity {
  objectType: "Activity";
  id: string;
  definition: { name: LanguageMap; description?: LanguageMap; type: string };
}

/** The xAPI 1.0.3 statements this module makes. */
export interface XapiStatement {
  id: string;
  actor: XapiAgent;
  verb: { id: string; display: LanguageMap };
  object: XapiActivity;
  result?: { success?: boolean; completion?: boolean; duration?: string; extensions: Record<string, unknown> };
  context: {
    registration?: string;
    instructor?: XapiAgent;
    platform: string;
    contextActivities?: { parent: XapiActivity[] };
    extensions: Record<string, unknown>;
  };
  timestamp: string;
}

type Person = Pick<User, "id" | "email" | "name" | "erasedAt">;

/** What a statement needs besides the event; see {@link loadStatementContext}. */
export interface StatementContext {
  /** The event's learner (null for session.* events or when not found). */
  learner: Person | null;
  /** The user who caused the event (`event.actor.userId`), when known. */
  actingUser: Person | null;
  /** The session's instructor, when known. */
  instructor: Person | null;
  session: Session | null;
  course: Course | null;
  location: Location | null;
}

/** Point reads the statement builder needs; {@link cachedStoreReader} saves repeats across a batch. */
export interface StoreReader {
  user(id: string): Promise<User | null>;
  /** Drops cached users (after an erasure), so the next reads see the tombstone. */
  forgetUsers?(): void;
  /** Loads these users in a few batched reads, so the point reads that follow hit a cache. */
  primeUsers?(ids: Iterable<string>): Promise<void>;
  /** Loads many sessions in batched reads (a page's), so building its statements reads each one no more. */
  primeSessions?(ids: Iterable<string>): Promise<void>;
  session(id: string): Promise<Session | null>;
  course(id: string): Promise<Course | null>;
  location(id: string): Promise<Location | null>;
}

/** Reads straight from the store. */
export function directStoreReader(kv: Deno.Kv): StoreReader {
  return {
    user: (id) => getUser(kv, id),
    session: (id) => getSession(kv, id),
    course: (id) => getCourse(kv, id),
    location: (id) => getLocation(kv, id),
  };
}

/**
 * Reads through short-lived caches: people, courses and locations for `ttlMs`, sessions for at
 * most a second (their capacity and status appear in statements).
 */
export function cachedStoreReader(kv: Deno.Kv, ttlMs = 30_000): StoreReader {
  const direct = directStoreReader(kv);
  const users = new TtlCache<User | null>(ttlMs, 20_000);
  const sessions = new TtlCache<Session | null>(Math.min(ttlMs, 1_000), 5_000);
  const courses = new TtlCache<Course | null>(ttlMs, 1_000);
  const locations = new TtlCache<Location | null>(ttlMs, 1_000);
  return {
    user: (id) => users.get(id, () => direct.user(id)),
    forgetUsers: () => users.clear(),
    primeUsers: async (ids) => {
      const missing = [...new Set(ids)].filter((id) => !users.has(id));
      if (missing.length < 2) return;
      const found = await getUsers(kv, missing);
      for (const id of missing) users.set(id, found.get(id) ?? null);
    },
    primeSessions: async (ids) => {
      const missing = [...new Set(ids)].filter((id) => !sessions.has(id));
      if (missing.length < 2) return;
      const found = await getSessions(kv, missing);
      for (const id of missing) sessions.set(id, found.get(id) ?? null);
    },
    session: (id) => sessions.get(id, () => direct.session(id)),
    course: (id) => courses.get(id, () => direct.course(id)),
    location: (id) => locations.get(id, () => direct.location(id)),
  };
}

/** Reads the learner, acting user, session, its course, location and instructor from the store. */
export async function loadStatementContext(
  kv: Deno.Kv,
  event: DomainEvent,
  read: StoreReader = directStoreReader(kv),
): Promise<StatementContext> {
  const userOrNull = (id: string | null) => id ? read.user(id) : Promise.resolve(null);
  const actingId = event.actor.userId;
  const [learner, otherActor, session] = await Promise.all([
    userOrNull(event.learnerId),
    actingId !== event.learnerId ? userOrNull(actingId) : null,
    read.session(event.sessionId),
  ]);
  const [course, location, instructor] = await Promise.all([
    session ? read.course(session.courseId) : null,
    session?.locationId ? read.location(session.locationId) : null,
    session ? userOrNull(session.instructorId) : null,
  ]);
  const actingUser = actingId === null ? null : actingId === event.learnerId ? learner : otherActor;
  return { learner, actingUser, instructor, session, course, location };
}

function agent(person: Person): XapiAgent {
  // An erased person is named by id only: no name or mailbox leaves after the erasure.
  if (person.erasedAt) return accountAgent(person.id);
  return { objectType: "Agent", name: person.name, mbox: `mailto:${person.email}` };
}

/** A user the store no longer knows: identified by id under the project's home page. */
function accountAgent(userId: string): XapiAgent {
  return { objectType: "Agent", account: { homePage: XAPI_BASE, name: userId } };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

function actorOf(event: DomainEvent, ctx: StatementContext): XapiAgent {
  if (event.learnerId) return ctx.learner ? agent(ctx.learner) : accountAgent(event.learnerId);
  if (ctx.actingUser) return agent(ctx.actingUser);
  if (ctx.instructor) return agent(ctx.instructor);
  return SYSTEM_AGENT;
}

/** The location as consumers need it (null for online sessions). */
function locationExtension(location: Location | null) {
  if (!location) return null;
  return {
    id: location.id,
    name: location.name,
    address: location.address,
    timeZone: location.timeZone,
  };
}

/**
 * The xAPI 1.0.3 statement of a domain event (pure: the store reads are in
 * {@link loadStatementContext}). See the module doc for the mapping.
 */
export function toStatement(event: DomainEvent, ctx: StatementContext): XapiStatement {
  const verb = VERBS[event.type as EventType];
  if (!verb) throw new Error(`no xAPI verb for event type ${event.type}`);
  const { session, course } = ctx;
  const courseName = course ? { "en-US": course.title } : { "en-US": "Training session" };
  const object: XapiActivity = {
    objectType: "Activity",
    id: sessionActivityId(event.sessionId),
    definition: { name: courseName, type: ACTIVITY_TYPES.session },
  };
  const courseId = session?.courseId ?? course?.id ?? null;
  const parent: XapiActivity[] = courseId
    ? [{
      objectType: "Activity",
      id: courseActivityId(courseId),
      definition: {
        name: courseName,
        ...(course ? { description: { "en-US": course.summary } } : {}),
        type: ACTIVITY_TYPES.course,
      },
    }]
    : [];

  const extensions: Record<string, unknown> = {
    [EXT.eventType]: event.type,
    [EXT.origin]: event.origin,
    [EXT.correlationId]: event.correlationId,
    [EXT.schemaVersion]: event.schemaVersion,
    [EXT.sessionId]: event.sessionId,
    [EXT.actedBy]: event.actor.userId,
    [EXT.reason]: event.reason,
    [EXT.eventData]: event.data,
  };
  if (courseId) extensions[EXT.courseId] = courseId;
  if (course) {
    extensions[EXT.courseCode] = course.code;
    extensions[EXT.prerequisites] = course.prerequisiteCourseIds.map((id) => ({
      id,
      activity: courseActivityId(id),
    }));
  }
  if (session) {
    extensions[EXT.mode] = session.mode;
    extensions[EXT.location] = locationExtension(ctx.location);
    extensions[EXT.capacity] = session.capacity;
    extensions[EXT.startsAt] = session.startsAt;
    extensions[EXT.endsAt] = session.endsAt;
    extensions[EXT.timeZone] = session.timeZone;
    extensions[EXT.sessionStatus] = session.status;
  }

  const registration = event.data.registration;
  const statement: XapiStatement = {
    id: event.id,
    actor: actorOf(event, ctx),
    verb: { id: verb.id, display: verb.display },
    object,
    context: {
      ...(typeof registration === "string" && UUID.test(registration) ? { registration } : {}),
      ...(ctx.instructor ? { instructor: agent(ctx.instructor) } : {}),
      platform: PLATFORM,
      ...(parent.length ? { contextActivities: { parent } } : {}),
      extensions,
    },
    timestamp: new Date(event.occurredAt).toISOString(),
  };
  if (
    (event.type === "booking.cancelled" || event.type === "booking.rescheduled") && typeof event.data.late === "boolean"
  ) {
    statement.result = { extensions: { [EXT.lateCancel]: event.data.late } };
  }
  if (event.type === "attendance.recorded" && typeof event.data.status === "string") {
    statement.result = {
      success: event.data.status === "attended",
      extensions: { [EXT.attendanceStatus]: event.data.status },
    };
    const d = event.data;
    if (typeof d.durationSeconds === "number") statement.result.duration = isoDuration(d.durationSeconds);
    if (typeof d.outcome === "string") statement.result.extensions[EXT.attendanceOutcome] = d.outcome;
    if (typeof d.method === "string") statement.result.extensions[EXT.attendanceMethod] = d.method;
    if (d.checkInAt !== undefined) statement.result.extensions[EXT.checkInAt] = d.checkInAt;
    if (d.checkOutAt !== undefined) statement.result.extensions[EXT.checkOutAt] = d.checkOutAt;
    if (typeof d.joinCount === "number") statement.result.extensions[EXT.joinCount] = d.joinCount;
  }
  if (event.type === "course.completed") {
    statement.result = {
      completion: true,
      ...(typeof event.data.durationSeconds === "number" ? { duration: isoDuration(event.data.durationSeconds) } : {}),
      extensions: typeof event.data.method === "string" ? { [EXT.attendanceMethod]: event.data.method } : {},
    };
  }
  return statement;
}
