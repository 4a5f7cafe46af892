/**
 * The course-wide waitlist ("any date that suits me", issue 16 item 6.1): one entry puts the learner
 * on the waitlist of every session of a course within their distance and date window, and the
 * first seat freed in any of them is offered to them.
 *
 * Design (the simplest that stays correct under concurrency and within KV Connect's 10 checks):
 * - One record `["course_waitlist", learnerId, courseId]` ({@link CourseWaitlistEntry}) is the
 *   authority. Joining writes it, then places an ordinary waitlist entry (with `courseEntryId`) in
 *   each matching session through that session's lane, so each session's queue, positions and
 *   compliance-deadline priority (waitlist_order.ts) work as for anyone else.
 * - A session offering a seat to a course-wide entry loads the record in the same commit (one more
 *   check) and writes `offer` into it. Two sessions offering the same learner at once both check
 *   the record: one commit wins, the other retries, sees the live offer and passes to the next in
 *   its queue. So a learner holds at most one live offer from the entry.
 * - An offer that ends (declined, lapsed, session cancelled) needs no write: the next session that
 *   looks sees the offer's hold is no longer active and may offer again.
 * - Accepting the offer deletes the record in the booking's commit. The learner's other places
 *   from the entry are then removed session by session; any session that meets one first finds the
 *   record gone (or replaced by a newer entry) and removes it instead of offering.
 *
 * Sessions scheduled after the learner joined are not added; joining again (after leaving) picks
 * them up.
 */
import { ulid } from "ulid";
import { z } from "zod";
import { CalendarDateSchema, IdSchema } from "../domain/common.ts";
import type { Course, Location, User } from "../domain/mod.ts";
import { localDate } from "../compliance/dates.ts";
import { deadlineFor, loadDeadlineInputs } from "../compliance/priority.ts";
import { DEFAULT_COMPLIANCE_SETTINGS } from "../compliance/state.ts";
import { getExistingValues, listValues } from "../store/batch.ts";
import { keys } from "../store/keys.ts";
import { assertMayActOnPlace } from "./access.ts";
import type { BookingEngine } from "./engine.ts";
import { DomainError, notFound } from "./errors.ts";
import type { Actor } from "./events.ts";
import type { Session, WaitlistEntry } from "./model.ts";
import { distanceKm } from "./ranking.ts";
import { offerFreedSeats } from "./session_lifecycle.ts";

/** `["course_waitlist", learnerId, courseId]`: a learner's course-wide waitlist entry. */
export interface CourseWaitlistEntry {
  id: string;
  courseId: string;
  learnerId: string;
  joinedAt: string;
  /** Calendar dates (each session's own zone) the sessions must start within; null: open. */
  from: string | null;
  to: string | null;
  /** Kilometres from the learner's preferred location; online sessions always count; null: any. */
  maxKm: number | null;
  /** The learner's compliance deadline for the course when they joined (waitlist priority). */
  deadline: string | null;
  /** Sessions joined when the entry was made. */
  sessionIds: string[];
  /** The one live offer made from this entry, if any (ended when its hold is no longer active). */
  offer: { holdId: string; sessionId: string; expiresAt: string } | null;
}

/** What a learner asks for: the course, and optionally a date window and a distance. */
export const CourseWaitlistInputSchema = z.strictObject({
  courseId: IdSchema,
  from: CalendarDateSchema.optional().describe("earliest start date (the session's local date)"),
  to: CalendarDateSchema.optional().describe("latest start date (the session's local date)"),
  maxKm: z.number().int().min(1).max(5000).optional()
    .describe("distance from your preferred location (online sessions always count)"),
}).refine((v) => !v.from || !v.to || v.from <= v.to, { path: ["to"], message: "must not be before from" })
  .meta({ id: "CourseWaitlistInput" });
export type CourseWaitlistInput = z.infer<typeof CourseWaitlistInputSchema>;

/** A learner's course-wide entry with its sessions' places. */
export interface CourseWaitlistView {
  entry: CourseWaitlistEntry;
  courseTitle: string;
  /** The sessions the entry still waits on (or has an offer in), soonest first. */
  sessions: { sessionId: string; startsAt: string; timeZone: string; status: WaitlistEntry["status"] }[];
}

/** Sessions of `course` that match the window and distance, scheduled, with a waitlist, not started. */
async function matchingSessions(
  kv: Deno.Kv,
  course: Course,
  learner: User,
  input: CourseWaitlistInput,
  now: Date,
): Promise<Session[]> {
  const prefix = keys.sessionsByCoursePrefix(course.id);
  const ids: string[] = [];
  for await (const e of kv.list({ start: [...prefix, now.toISOString()], end: [...prefix, "\uffff"] })) {
    ids.push(String(e.key.at(-1)));
  }
  const sessions = (await getExistingValues<Session>(kv, ids.map(keys.session))).filter((s) => {
    if (s.status !== "scheduled" || !s.waitlistEnabled || Date.parse(s.startsAt) <= now.getTime()) return false;
    const day = localDate(new Date(s.startsAt), s.timeZone);
    return (!input.from || day >= input.from) && (!input.to || day <= input.to);
  });
  if (input.maxKm === undefined) return sessions;
  const locationIds = [...new Set([learner.preferredLocationId, ...sessions.map((s) => s.locationId)])]
    .filter((x): x is string => !!x);
  const locations = new Map(
    (await getExistingValues<Location>(kv, locationIds.map(keys.location))).map((l) => [l.id, l]),
  );
  const origin = learner.preferredLocationId ? locations.get(learner.preferredLocationId) : undefined;
  if (!origin) {
    throw new DomainError(
      422,
      "no_preferred_location",
      "Set your preferred location on your profile to limit the distance, or leave the distance out.",
    );
  }
  return sessions.filter((s) => {
    if (s.mode !== "in_person") return true;
    const at = s.locationId ? locations.get(s.locationId) : undefined;
    return !!at && distanceKm(origin, at) <= input.maxKm!;
  });
}

/**
 * Joins the course-wide waitlist: 404 unknown course or learner, 422 missing prerequisites or no
 * preferred location for a distance, 409 `already_on_course_waitlist`, or `no_matching_sessions`
 * when no session of the course fits (or the learner already has a place in each that does).
 * A matching session with a free seat offers it at once (the usual offer, a hold with an expiry).
 */
export async function joinCourseWaitlist(
  engine: BookingEngine,
  learnerId: string,
  input: CourseWaitlistInput,
  actor: Actor,
): Promise<CourseWaitlistView> {
  const kv = engine.kv;
  const now = engine.now();
  const [learnerEntry, courseEntry] = await kv.getMany<[User, Course]>([
    keys.user(learnerId),
    keys.course(input.courseId),
  ]);
  const course = courseEntry.value;
  if (!course || !course.active) throw notFound("course", input.courseId);
  const learner = learnerEntry.value;
  if (!learner) throw notFound("user", learnerId);
  const missing = await engine.missingPrerequisites(course, learner);
  if (missing.length) {
    throw new DomainError(
      422,
      "prerequisites_missing",
      `Complete ${missing.map((m) => m.title).join(", ")} before booking this course.`,
      { missing },
    );
  }
  const sessions = await matchingSessions(kv, course, learner, input, now);
  if (!sessions.length) throw noSessions();
  const settings = engine.options.compliance ?? DEFAULT_COMPLIANCE_SETTINGS;
  const deadline = deadlineFor(learner, course, await loadDeadlineInputs(kv, learnerId), now, settings);
  const entry: CourseWaitlistEntry = {
    id: ulid(now.getTime()),
    courseId: course.id,
    learnerId,
    joinedAt: now.toISOString(),
    from: input.from ?? null,
    to: input.to ?? null,
    maxKm: input.maxKm ?? null,
    deadline,
    sessionIds: sessions.map((s) => s.id),
    offer: null,
  };
  const key = keys.courseWaitlist(learnerId, course.id);
  const made = await kv.atomic().check({ key, versionstamp: null }).set(key, entry).commit();
  if (!made.ok) {
    throw new DomainError(409, "already_on_course_waitlist", "You are already on this course's waitlist.");
  }
  const joined = await Promise.all(sessions.map((s) =>
    engine.lanes.run(s.id, actor, async (tx) => {
      assertMayActOnPlace(tx.actor, learnerId, tx.session);
      const open = tx.session.status === "scheduled" && tx.session.waitlistEnabled &&
        Date.parse(tx.session.startsAt) > tx.nowMs;
      if (!open) return false;
      await tx.loadLearner(learnerId);
      if (await tx.livePlace(learnerId)) return false;
      await offerFreedSeats(tx);
      await tx.joinWaitlist(learnerId, deadline, entry.id);
      return true;
    }, [keys.place(s.id, learnerId), keys.learnerHolds(learnerId)]).catch((err) => {
      if (err instanceof DomainError && err.status < 500) return false;
      throw err;
    })
  ));
  if (!joined.some(Boolean)) {
    await kv.atomic().check({ key, versionstamp: (await kv.get(key)).versionstamp }).delete(key).commit();
    throw noSessions();
  }
  const view = (await listCourseWaitlists(kv, learnerId)).find((v) => v.entry.id === entry.id);
  // Accepted already (an instant offer confirmed in between) is the only way to miss it.
  return view ?? { entry, courseTitle: course.title, sessions: [] };
}

function noSessions(): DomainError {
  return new DomainError(
    409,
    "no_matching_sessions",
    "No upcoming session of this course fits your dates and distance (or you already have a place in each).",
  );
}

/**
 * Leaves the course-wide waitlist: the entry and every place it holds go, a pending offer from it
 * is declined. 404 `not_on_course_waitlist`.
 */
export async function leaveCourseWaitlist(
  engine: BookingEngine,
  learnerId: string,
  courseId: string,
  actor: Actor,
): Promise<void> {
  const key = keys.courseWaitlist(learnerId, courseId);
  const got = await engine.kv.get<CourseWaitlistEntry>(key);
  if (!got.value) {
    throw new DomainError(404, "not_on_course_waitlist", "You are not on this course's waitlist.");
  }
  await engine.kv.atomic().check(got).delete(key).commit();
  await removeCourseEntryPlaces(engine, learnerId, got.value.id, actor, "left");
}

/**
 * Removes the places a course-wide entry still has: waiting ones, and (when the learner left) a
 * pending offer. Run after the entry's record was deleted; sessions meeting a leftover place
 * remove it themselves, so a crash here leaves nothing that could be offered.
 */
export async function removeCourseEntryPlaces(
  engine: BookingEngine,
  learnerId: string,
  courseEntryId: string,
  actor: Actor,
  reason: "left" | "accepted",
): Promise<void> {
  const places = (await listValues<WaitlistEntry>(engine.kv, { prefix: keys.waitlistByLearnerPrefix(learnerId) }))
    .filter((w) => w.courseEntryId === courseEntryId && (w.status === "waiting" || reason === "left"));
  const data = { courseWide: true, courseEntryId, reason: reason === "left" ? "course_entry_left" : "offer_accepted" };
  await Promise.all(places.map((w) =>
    engine.leaveWaitlist(w.sessionId, learnerId, actor, data).catch((err) => {
      // Already gone (offer lapsed, place removed by the session): nothing to do.
      if (err instanceof DomainError && err.status === 404) return;
      throw err;
    })
  ));
}

/** The learner's course-wide entries with their places, by course title. */
export async function listCourseWaitlists(kv: Deno.Kv, learnerId: string): Promise<CourseWaitlistView[]> {
  const entries = await listValues<CourseWaitlistEntry>(kv, { prefix: keys.courseWaitlistPrefix(learnerId) });
  if (!entries.length) return [];
  const places = (await listValues<WaitlistEntry>(kv, { prefix: keys.waitlistByLearnerPrefix(learnerId) }))
    .filter((w) => w.courseEntryId);
  const [courses, sessions] = await Promise.all([
    getExistingValues<Course>(kv, entries.map((e) => keys.course(e.courseId))),
    getExistingValues<Session>(kv, places.map((p) => keys.session(p.sessionId))),
  ]);
  const title = new Map(courses.map((c) => [c.id, c.title]));
  const byId = new Map(sessions.map((s) => [s.id, s]));
  return entries.map((entry) => ({
    entry,
    courseTitle: title.get(entry.courseId) ?? entry.courseId,
    sessions: places
      .filter((p) => p.courseEntryId === entry.id && byId.has(p.sessionId))
      .map((p) => {
        const s = byId.get(p.sessionId)!;
        return { sessionId: s.id, startsAt: s.startsAt, timeZone: s.timeZone, status: p.status };
      })
      .sort((a, b) => a.startsAt.localeCompare(b.startsAt)),
  })).sort((a, b) => a.courseTitle.localeCompare(b.courseTitle));
}
