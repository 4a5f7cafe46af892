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
 * - Sessions scheduled after the learner joined, or moved into their window, re-opened or given to
 *   the course later, are added too: the session's commit writes `["course_waitlist_cover", id]`,
 *   and {@link addCourseWaitlistLearners} walks `["course_waitlist_by_course", courseId]` in join
 *   order, a few entries per lane commit (each entry's record and place checked), so an entry
 *   left meanwhile is never added and one added is removed by the leave. The worker finishes a
 *   walk cut short ({@link resumeCourseWaitlistCovers}).
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
import { opCheckBudget } from "./lane.ts";
import type { CourseWaitlistCover, Session, WaitlistEntry } from "./model.ts";
import { kvLimits } from "../store/kv.ts";
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
  /** Sessions joined when the entry was made (later ones are added without changing this list). */
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

/** The part of an entry that decides which sessions it covers. */
type EntryScope = Pick<CourseWaitlistEntry, "from" | "to" | "maxKm">;

/** Whether a session takes waitlist places now: scheduled, waitlist on, not started. */
function takesWaitlist(s: Session, now: Date): boolean {
  return s.status === "scheduled" && s.waitlistEnabled && Date.parse(s.startsAt) > now.getTime();
}

/**
 * Whether `s` lies in the entry's window (the session's local date) and distance (from `origin`,
 * the learner's preferred location; online and hybrid sessions always count as near).
 */
function inScope(
  s: Session,
  scope: EntryScope,
  origin: Location | undefined,
  locations: Map<string, Location>,
): boolean {
  const day = localDate(new Date(s.startsAt), s.timeZone);
  if ((scope.from && day < scope.from) || (scope.to && day > scope.to)) return false;
  if (scope.maxKm === null || s.mode !== "in_person") return true;
  const at = s.locationId ? locations.get(s.locationId) : undefined;
  return !!origin && !!at && distanceKm(origin, at) <= scope.maxKm;
}

/** Loads the locations named, by id. */
async function loadLocations(kv: Deno.Kv, ids: (string | null | undefined)[]): Promise<Map<string, Location>> {
  const wanted = [...new Set(ids)].filter((x): x is string => !!x);
  return new Map((await getExistingValues<Location>(kv, wanted.map(keys.location))).map((l) => [l.id, l]));
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
  const scope: EntryScope = { from: input.from ?? null, to: input.to ?? null, maxKm: input.maxKm ?? null };
  const sessions = (await getExistingValues<Session>(kv, ids.map(keys.session))).filter((s) =>
    takesWaitlist(s, now) && inScope(s, { ...scope, maxKm: null }, undefined, new Map())
  );
  if (scope.maxKm === null) return sessions;
  const locations = await loadLocations(kv, [learner.preferredLocationId, ...sessions.map((s) => s.locationId)]);
  const origin = learner.preferredLocationId ? locations.get(learner.preferredLocationId) : undefined;
  if (!origin) {
    throw new DomainError(
      422,
      "no_preferred_location",
      "Set your preferred location on your profile to limit the distance, or leave the distance out.",
    );
  }
  return sessions.filter((s) => inScope(s, scope, origin, locations));
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
  const indexKey = keys.courseWaitlistByCourse(course.id, entry.joinedAt, learnerId);
  const made = await kv.atomic().check({ key, versionstamp: null }).set(key, entry).set(indexKey, entry.id).commit();
  if (!made.ok) {
    throw new DomainError(409, "already_on_course_waitlist", "You are already on this course's waitlist.");
  }
  // A session scheduled between the listing above and the entry's commit was missed by both this
  // listing and that session's own walk of the entries (which ran before the entry existed): list
  // again now that the entry is visible to every later walk.
  const again = await matchingSessions(kv, course, learner, input, now).catch(() => [] as Session[]);
  const known = new Set(sessions.map((s) => s.id));
  for (const s of again) if (!known.has(s.id)) sessions.push(s);
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
    await kv.atomic().check({ key, versionstamp: (await kv.get(key)).versionstamp }).delete(key).delete(indexKey)
      .commit();
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
  // Changed meanwhile (an offer made, accepted or another leave): decide again on what is there now, a bounded
  // number of times (an entry busy with offers in many sessions at once settles within a few).
  for (let attempt = 0; attempt < LEAVE_ATTEMPTS; attempt++) {
    const got = await engine.kv.get<CourseWaitlistEntry>(key);
    if (!got.value) {
      throw new DomainError(404, "not_on_course_waitlist", "You are not on this course's waitlist.");
    }
    const indexKey = keys.courseWaitlistByCourse(courseId, got.value.joinedAt, learnerId);
    const done = await engine.kv.atomic().check(got).delete(key).delete(indexKey).commit();
    if (done.ok) return await removeCourseEntryPlaces(engine, learnerId, got.value.id, actor, "left");
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 2 ** attempt)));
  }
  throw new DomainError(503, "busy", "Your course waitlist place is changing right now; please try again.");
}

/** Tries to leave a course-wide entry that keeps changing under the leave before answering 503. */
const LEAVE_ATTEMPTS = 20;

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

/** Result of {@link addCourseWaitlistLearners}. */
export interface CoverResult {
  /** Course-wide entries given a waitlist place in the session by this call. */
  added: number;
  /** Whether the walk finished (the session's `course_waitlist_cover` record is gone). */
  finished: boolean;
}

/** Thrown inside a cover batch when another walk moved or restarted the record meanwhile. */
class CoverMoved extends Error {}

/**
 * Adds the course's course-wide waitlist entries to a session scheduled (or moved, re-opened, or
 * given to the course) after they joined, when the session lies in the entry's window and
 * distance: each gets an ordinary waitlist place marked with the entry's id, in the order the
 * entries were made, with the entry's compliance deadline. A free seat goes to them at once as a
 * normal offer (one live offer per entry still holds: the offering commit checks the entry).
 *
 * Driven by `["course_waitlist_cover", sessionId]` (written by the session's own commit): a few
 * entries per lane commit, as many as KV's check budget allows (two each: the entry, checked so
 * one left meanwhile is not added, and the learner's place in the session), each commit moving
 * the record's cursor in a checked write. Safe to run twice at once and to resume after a crash.
 * A learner who already has a place in the session keeps it. Returns what this call did.
 */
export async function addCourseWaitlistLearners(engine: BookingEngine, sessionId: string): Promise<CoverResult> {
  const kv = engine.kv;
  const coverKey = keys.courseWaitlistCover(sessionId);
  // Two per entry, plus the cover record, within what a lane commit may spend on one op's keys.
  const perCommit = Math.max(1, Math.floor((opCheckBudget(kvLimits(kv).checksPerAtomic) - 1) / 2));
  const system: Actor = {
    userId: null,
    roles: [],
    origin: "system",
    correlationId: crypto.randomUUID(),
    reason: "course-wide waitlist: session added",
  };
  let added = 0;
  for (let round = 0;; round++) {
    const cover = await kv.get<CourseWaitlistCover>(coverKey);
    if (!cover.value) return { added, finished: true };
    if (round > 10_000) throw new Error(`course waitlist cover ${sessionId}: no progress`);
    const now = engine.now();
    const session = (await kv.get<Session>(keys.session(sessionId))).value;
    if (!session || !takesWaitlist(session, now)) {
      // Nothing to add to; a later change that re-opens it asks again.
      await kv.atomic().check(cover).delete(coverKey).commit();
      continue;
    }
    const after = cover.value.after;
    // A fresh walk first removes places the session no longer fits (moved out of the window or
    // distance, or given to another course): nobody is offered a date they did not ask for.
    if (!after) await removeOutOfScopePlaces(engine, sessionId, system);
    const prefix = keys.courseWaitlistByCoursePrefix(session.courseId);
    const rows: { joinedAt: string; learnerId: string; entryId: string }[] = [];
    const selector = after ? { start: [...prefix, ...after], end: [...prefix, "\uffff"] } : { prefix };
    for await (const e of kv.list<string>(selector)) {
      const [joinedAt, learnerId] = [String(e.key[2]), String(e.key[3])];
      if (after && joinedAt === after[0] && learnerId === after[1]) continue;
      rows.push({ joinedAt, learnerId, entryId: e.value });
      if (rows.length > perCommit) break;
    }
    const last = rows.length <= perCommit;
    const batch = rows.slice(0, perCommit);
    const wanted = await entriesInScope(kv, session, batch, now);
    const prefetch = [
      coverKey,
      ...wanted.flatMap((
        w,
      ) => [keys.courseWaitlist(w.learnerId, session.courseId), keys.place(sessionId, w.learnerId)]),
    ];
    try {
      added += await engine.lanes.run(sessionId, system, async (tx) => {
        await tx.draft.load([coverKey]);
        const current = tx.draft.get<CourseWaitlistCover>(coverKey);
        // Another walk moved on, or a new session change restarted the walk: read again.
        if (current?.id !== cover.value!.id || JSON.stringify(current.after) !== JSON.stringify(after)) {
          throw new CoverMoved();
        }
        if (tx.session.courseId !== session.courseId || tx.session.startsAt !== session.startsAt) {
          throw new CoverMoved();
        }
        let n = 0;
        if (takesWaitlist(tx.session, tx.now)) {
          for (const w of wanted) {
            const recordKey = keys.courseWaitlist(w.learnerId, session.courseId);
            await tx.draft.load([recordKey, keys.place(sessionId, w.learnerId)]);
            const record = tx.draft.get<CourseWaitlistEntry>(recordKey);
            if (record?.id !== w.entryId || tx.place(w.learnerId)) continue;
            await tx.joinWaitlist(w.learnerId, record.deadline, record.id);
            n++;
          }
        }
        const end = batch.at(-1);
        if (last || !end) tx.draft.delete(coverKey);
        else tx.draft.set(coverKey, { ...current, after: [end.joinedAt, end.learnerId] } satisfies CourseWaitlistCover);
        return n;
      }, prefetch);
    } catch (err) {
      if (!(err instanceof CoverMoved)) throw err;
    }
  }
}

/** Places removed per commit by {@link removeOutOfScopePlaces} (each about 8 mutations with its event). */
const PRUNE_BATCH = 50;

/**
 * Removes the session's waiting course-wide places whose entry no longer takes the session in
 * (`waitlist.left`, reason `course_entry_out_of_scope`), or whose entry is closed or of another
 * course (reason `course_entry_closed`). Offers already made stand. No extra checks: the list is
 * guarded by the session's seat counters, and an entry's scope never changes (joining again makes
 * a new entry, whose id no longer matches the place).
 */
async function removeOutOfScopePlaces(engine: BookingEngine, sessionId: string, actor: Actor): Promise<number> {
  let removed = 0;
  for (;;) {
    const n = await engine.lanes.run(sessionId, actor, async (tx) => {
      const session = tx.session;
      const waiting: WaitlistEntry[] = [];
      for await (const e of tx.draft.kv.list<WaitlistEntry>({ prefix: keys.waitlistPrefix(sessionId) })) {
        if (tx.draft.has(e.key) && tx.draft.get(e.key) === null) continue;
        if (e.value.courseEntryId && e.value.status === "waiting") waiting.push(e.value);
      }
      if (!waiting.length) return 0;
      const records = new Map(
        (await getExistingValues<CourseWaitlistEntry>(
          tx.draft.kv,
          waiting.map((w) => keys.courseWaitlist(w.learnerId, session.courseId)),
        )).map((r) => [r.learnerId, r]),
      );
      const scoped = [...records.values()].filter((r) => r.maxKm !== null).map((r) => r.learnerId);
      const learners = await getExistingValues<User>(tx.draft.kv, scoped.map(keys.user));
      const home = new Map(learners.map((u) => [u.id, u.preferredLocationId]));
      const locations = await loadLocations(tx.draft.kv, [session.locationId, ...home.values()]);
      let done = 0;
      for (const w of waiting) {
        if (done >= PRUNE_BATCH) break;
        const record = records.get(w.learnerId);
        const closed = record?.id !== w.courseEntryId;
        if (!closed) {
          const originId = home.get(w.learnerId);
          if (inScope(session, record!, originId ? locations.get(originId) : undefined, locations)) continue;
        }
        tx.leaveWaitlist(w, {
          courseWide: true,
          courseEntryId: w.courseEntryId,
          reason: closed ? "course_entry_closed" : "course_entry_out_of_scope",
        });
        done++;
      }
      return done;
    });
    removed += n;
    if (n < PRUNE_BATCH) return removed;
  }
}

/** The entries of `rows` whose window and distance take in `session` (read unchecked: decided again in the commit by id). */
async function entriesInScope(
  kv: Deno.Kv,
  session: Session,
  rows: { joinedAt: string; learnerId: string; entryId: string }[],
  now: Date,
): Promise<{ learnerId: string; entryId: string }[]> {
  if (!rows.length || !takesWaitlist(session, now)) return [];
  const [records, learners] = await Promise.all([
    getExistingValues<CourseWaitlistEntry>(kv, rows.map((r) => keys.courseWaitlist(r.learnerId, session.courseId))),
    getExistingValues<User>(kv, rows.map((r) => keys.user(r.learnerId))),
  ]);
  const home = new Map(learners.map((u) => [u.id, u.preferredLocationId]));
  const locations = await loadLocations(kv, [session.locationId, ...learners.map((u) => u.preferredLocationId)]);
  const ids = new Set(rows.map((r) => r.entryId));
  return records.filter((r) => {
    if (!ids.has(r.id)) return false;
    const originId = home.get(r.learnerId);
    return inScope(session, r, originId ? locations.get(originId) : undefined, locations);
  }).map((r) => ({ learnerId: r.learnerId, entryId: r.id }));
}

/**
 * Finishes every session's course-wide walk left unfinished (the process died, or a batch failed)
 * ({@link addCourseWaitlistLearners}); the worker runs it at start and every minute. `minAgeMs`
 * leaves alone walks asked for more recently (their own request is still running them).
 */
export async function resumeCourseWaitlistCovers(
  engine: BookingEngine,
  options: { minAgeMs?: number } = {},
): Promise<{ finished: number; failed: { sessionId: string; error: unknown }[] }> {
  // Without minAgeMs (at worker start) every walk, whatever this process's clock says.
  const startedBy = options.minAgeMs === undefined ? Infinity : engine.now().getTime() - options.minAgeMs;
  const pending = (await listValues<CourseWaitlistCover>(engine.kv, { prefix: keys.courseWaitlistCoversPrefix() }))
    .filter((c) => !(Date.parse(c.startedAt) > startedBy));
  const out = { finished: 0, failed: [] as { sessionId: string; error: unknown }[] };
  for (const c of pending) {
    try {
      if ((await addCourseWaitlistLearners(engine, c.sessionId)).finished) out.finished++;
    } catch (error) {
      out.failed.push({ sessionId: c.sessionId, error });
    }
  }
  return out;
}

/**
 * Writes the `course_waitlist_by_course` row of every entry made before that index existed (each
 * with a check on the entry, so one left meanwhile gets none), once per store
 * (`["meta", "course_waitlist_index"]`). Returns the rows written.
 */
export async function indexCourseWaitlists(kv: Deno.Kv, now: Date): Promise<number> {
  const marker = keys.courseWaitlistIndexMarker();
  if ((await kv.get(marker)).value) return 0;
  let written = 0;
  for await (const e of kv.list<CourseWaitlistEntry>({ prefix: keys.courseWaitlistsPrefix() })) {
    const index = keys.courseWaitlistByCourse(e.value.courseId, e.value.joinedAt, e.value.learnerId);
    if ((await kv.get(index)).value) continue;
    if ((await kv.atomic().check(e).set(index, e.value.id).commit()).ok) written++;
  }
  await kv.set(marker, { at: now.toISOString() });
  return written;
}
