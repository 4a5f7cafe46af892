/**
 * Session lifecycle: schedule, update and cancel a session, each change with its events in the
 * same atomic op. Update and cancel run through the session's lane (lane.ts), so they serialise
 * with holds and bookings of this process and are guarded by the `["seats", id]` versionstamp
 * against every other process. The engine (engine.ts) exposes these as methods and refuses
 * non-staff actors; the functions here assume the caller did.
 * @module
 */
import { newId } from "../domain/ids.ts";
import { type NewSession, type SessionPatch, SessionSchema } from "../domain/session.ts";
import { parseOrThrow, ValidationError, type ValidationIssue } from "../domain/validation.ts";
import { keys, type SessionIndexEntry } from "../store/keys.ts";
import { sameKey, sessionIndexKeys, sessionWriteMutations } from "../store/session_index.ts";
import { Draft } from "./draft.ts";
import { DomainError, notFound } from "./errors.ts";
import { type Actor, addEvent } from "./events.ts";
import type { Lanes } from "./lane.ts";
import type {
  Booking,
  CourseWaitlistCover,
  Hold,
  PendingSessionCancel,
  SeatDoc,
  Session,
  WaitlistEntry,
} from "./model.ts";
import type { SessionTx } from "./session_tx.ts";

/** What the lifecycle functions need from the engine. */
export interface LifecycleDeps {
  kv: Deno.Kv;
  lanes: Lanes;
  now: () => Date;
  /** Pause before each cancellation step (0: none). For crash tests, which kill a cancel midway. */
  cancelStepPauseMs?: number;
}

/** Result of {@link cancelSession}: what THIS call changed. */
export interface CancelSessionResult {
  session: Session;
  /** Confirmed bookings cancelled (booking.cancelled, bySessionCancel). */
  cancelledBookings: number;
  /** Live holds and waitlist offers released (hold.released). */
  releasedHolds: number;
  /** Holds and offers already past their time, cleaned up as expired (hold.expired). */
  expiredHolds: number;
  /** Waiting learners removed from the waitlist (waitlist.left). */
  removedWaitlist: number;
}

const ZERO_SEATS: Required<SeatDoc> = { confirmed: 0, holds: 0, waiting: 0 };
const MAX_ATTEMPTS = 10;

/** Fields a consumer of session.scheduled needs. */
function eventFields(s: Session): Record<string, unknown> {
  return {
    courseId: s.courseId,
    startsAt: s.startsAt,
    endsAt: s.endsAt,
    timeZone: s.timeZone,
    mode: s.mode,
    locationId: s.locationId,
    joinUrl: s.joinUrl,
    capacity: s.capacity,
    instructorId: s.instructorId,
    waitlistEnabled: s.waitlistEnabled,
  };
}

/** Writes a session and its four index entries into a draft (the store's own mutation list). */
function writeSession(draft: Draft, session: Session): void {
  for (const m of sessionWriteMutations(session)) {
    if (m.type === "set") draft.set(m.key, m.value);
  }
}

/**
 * Session fields that decide whether a course-wide waitlist entry covers the session (its window,
 * its distance, the waitlist being open): a change to one of them asks for the course's entries to
 * be considered again.
 */
const COVER_FIELDS = ["courseId", "startsAt", "timeZone", "locationId", "mode", "waitlistEnabled"];

/**
 * Records, in the session's own commit, that the course's course-wide entries are to be added to
 * it (lib/booking/course_waitlist.ts, addCourseWaitlistLearners, finishes it; a crash leaves the
 * record for the worker). Starts over from the first entry when one was already under way.
 */
function askCourseWaitlistCover(draft: Draft, session: Session, now: Date): void {
  if (session.status !== "scheduled" || !session.waitlistEnabled) return;
  draft.set(
    keys.courseWaitlistCover(session.id),
    {
      id: crypto.randomUUID(),
      sessionId: session.id,
      startedAt: now.toISOString(),
      after: null,
    } satisfies CourseWaitlistCover,
  );
}

/**
 * Loads the course, location and instructor a session refers to into the draft (so the commit
 * checks they still exist) and throws a ValidationError naming each one that does not.
 */
async function assertReferences(draft: Draft, s: Session, only?: Set<string>): Promise<void> {
  const wanted = (field: string) => !only || only.has(field);
  const refs: [string, Deno.KvKey, string][] = [];
  if (wanted("courseId")) refs.push(["courseId", keys.course(s.courseId), `unknown course ${s.courseId}`]);
  if (wanted("locationId") && s.locationId) {
    refs.push(["locationId", keys.location(s.locationId), `unknown location ${s.locationId}`]);
  }
  if (wanted("instructorId")) refs.push(["instructorId", keys.user(s.instructorId), `unknown user ${s.instructorId}`]);
  await draft.load(refs.map(([, key]) => key));
  const issues: ValidationIssue[] = refs.filter(([, key]) => draft.get(key) === null).map(([path, , message]) => ({
    path,
    message,
  }));
  if (issues.length) throw new ValidationError(issues, "session");
}

/**
 * Creates a session, its index entries, zeroed `["seats", id]` counters and a `session.scheduled`
 * event in one atomic op. ValidationError for bad input or an unknown course, location or
 * instructor; 409 `session_exists` when the id is taken. A new session is always `scheduled`.
 */
export async function scheduleSession(deps: LifecycleDeps, input: NewSession, actor: Actor): Promise<Session> {
  if (input.status !== undefined && input.status !== "scheduled") {
    throw new ValidationError([{ path: "status", message: "must be scheduled for a new session" }], "session");
  }
  const at = deps.now().toISOString();
  const session = parseOrThrow(
    SessionSchema,
    { ...input, id: input.id ?? newId(), status: "scheduled", createdAt: at, updatedAt: at },
    "session",
  );
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const draft = new Draft(deps.kv);
    await draft.load([keys.session(session.id)]);
    if (draft.get(keys.session(session.id))) {
      throw new DomainError(409, "session_exists", `A session with id ${session.id} already exists.`);
    }
    await assertReferences(draft, session);
    writeSession(draft, session);
    draft.set(keys.seats(session.id), ZERO_SEATS);
    addEvent(draft, actor, "session.scheduled", session.id, null, eventFields(session), deps.now());
    askCourseWaitlistCover(draft, session, deps.now());
    if (await draft.commit()) return session;
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
  }
  throw new DomainError(503, "busy", "The store is very busy; please try again.");
}

/** Session fields compared by updateSession (everything but id and timestamps). */
function changedFields(before: Session, after: Session): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  const fields = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const f of ["id", "createdAt", "updatedAt"]) fields.delete(f);
  for (const f of fields) {
    const from = (before as Record<string, unknown>)[f] ?? null;
    const to = (after as Record<string, unknown>)[f] ?? null;
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[f] = { from, to };
  }
  return changes;
}

/** Runs fillOffers as the system (offers are nobody's request). */
export async function offerFreedSeats(tx: SessionTx): Promise<void> {
  const actor = tx.actor;
  tx.actor = { ...actor, origin: "system", userId: null };
  try {
    await tx.fillOffers();
  } finally {
    tx.actor = actor;
  }
}

/** Options of {@link updateSession}. */
export interface UpdateSessionOptions {
  /** Optimistic concurrency: refuse (409 `stale_edit`, details `{current}`) unless the session's updatedAt is this. */
  ifUpdatedAt?: string;
}

/**
 * Applies `patch` to a session in its lane. Re-validates the whole session (ValidationError),
 * checks references that changed, moves index entries, and writes `session.updated` with
 * `data.changes = {field: {from, to}}` for the changed fields only; a patch that changes nothing
 * returns the session unchanged and writes nothing. 409 `session_cancelled` on a cancelled session;
 * 409 `capacity_below_taken` (details `{taken, requested}`) when the new capacity is below the
 * seats taken right now (confirmed + live holds + open offers). Seats freed by a larger capacity
 * are offered to the waitlist in the same commit. Cancel with {@link cancelSession}, not a patch.
 */
export function updateSession(
  deps: LifecycleDeps,
  id: string,
  patch: SessionPatch,
  actor: Actor,
  options: UpdateSessionOptions = {},
): Promise<Session> {
  return deps.lanes.run(id, actor, async (tx) => {
    const before = tx.session;
    if (before.status === "cancelled") {
      throw new DomainError(409, "session_cancelled", "This session was cancelled.");
    }
    if (options.ifUpdatedAt !== undefined && options.ifUpdatedAt !== before.updatedAt) {
      throw new DomainError(
        409,
        "stale_edit",
        "Someone changed this session after you opened it, so nothing was changed. Its current values are shown.",
        { current: before },
      );
    }
    if (patch.status !== undefined && patch.status !== before.status) {
      throw new ValidationError(
        [{ path: "status", message: "cannot be changed here; cancel the session instead" }],
        "session",
      );
    }
    const candidate = parseOrThrow(
      SessionSchema,
      { ...before, ...patch, id: before.id, createdAt: before.createdAt, updatedAt: before.updatedAt },
      "session",
    );
    const changes = changedFields(before, candidate);
    if (!Object.keys(changes).length) return before;
    const refs = new Set(["courseId", "locationId", "instructorId"].filter((f) => f in changes));
    if (refs.size) await assertReferences(tx.draft, candidate, refs);
    if (candidate.capacity < before.capacity) {
      const taken = tx.taken();
      if (candidate.capacity < taken) {
        throw new DomainError(
          409,
          "capacity_below_taken",
          `Capacity ${candidate.capacity} is below the ${taken} seats taken right now.`,
          { taken, requested: candidate.capacity },
        );
      }
    }
    // updatedAt is the edit version (ifUpdatedAt): strictly later than before, whatever the clock says.
    const updatedAt = new Date(Math.max(tx.nowMs, Date.parse(before.updatedAt) + 1)).toISOString();
    const after: Session = { ...candidate, updatedAt };
    const newKeys = sessionIndexKeys(after);
    for (const old of sessionIndexKeys(before)) {
      if (!newKeys.some((k) => sameKey(k, old))) tx.draft.delete(old);
    }
    writeSession(tx.draft, after);
    addEvent(tx.draft, tx.actor, "session.updated", id, null, { changes }, tx.now);
    if (COVER_FIELDS.some((f) => f in changes)) askCourseWaitlistCover(tx.draft, after, tx.now);
    // More seats (or a waitlist switched on): the queue gets them before anyone else in this batch.
    await offerFreedSeats(tx);
    return after;
  });
}

/**
 * Soft limits of one cancellation step. Checks stay within KV Connect's 10 per atomic op (the lane
 * loads the session and its seats, the step its two markers, each hold the learner's holds
 * document); mutations and bytes stay well inside KV's 1000 and 800 KiB.
 */
const STEP_MUTATIONS = 600;
const STEP_CHECKS = 10;
const STEP_BYTES = 400_000;
/** Rough bytes one cleaned-up record adds besides its own value (its event four times: history and three outboxes; keys). */
const PER_ITEM_BYTES = 5_000;

interface StepResult {
  session: Session;
  cancelledBookings: number;
  releasedHolds: number;
  expiredHolds: number;
  removedWaitlist: number;
  /** Last `bookings_by_session` key handled, to resume after. */
  bookingCursor: Deno.KvKey | null;
  /** True when this step wrote session.cancelled (or found another run had). */
  finished: boolean;
}

/** A record as this draft sees it: its own pending write if any, else the value read from KV. */
function current<T>(draft: Draft, key: Deno.KvKey, stored: T | null): T | null {
  return draft.has(key) ? draft.get<T>(key) : stored;
}

/**
 * The cancellation's "finished" marker is the session's `sessions_by_course` index entry: the
 * first step sets the session record's status to cancelled (which stops new holds, joins and
 * offers) and leaves the index entries alone; the step that has cleaned up the last hold,
 * waitlist entry and booking rewrites them as cancelled in the same commit as `session.cancelled`.
 * The work list for resuming is a separate key, `["session_cancels_pending", id]`, written with the
 * status change and deleted with the finish, so unfinished cancels are listed without a scan.
 */
function markerKey(s: Session): Deno.KvKey {
  return keys.sessionsByCourse(s.courseId, s.startsAt, s.id);
}

/**
 * Cancels a session: sets it cancelled (new holds, joins and offers stop at once), then cancels
 * every confirmed booking (booking.cancelled with `bySessionCancel: true, late: false`), releases
 * every live hold and offer (hold.released; ones already past their time: hold.expired), removes
 * every waiting learner (waitlist.left), and finally writes `session.cancelled`.
 *
 * The work is done in steps through the session's lane, each one atomic op within KV's limits
 * with its own events, so a session of any size can be cancelled. The status change also records
 * the cancel as pending (`["session_cancels_pending", id]`), so a cancel cut short by a crash is
 * finished by {@link resumeSessionCancels} (at startup and every minute); re-running the cancel
 * does the same. Each step is a checked atomic op, so runs in several processes at once never
 * cancel a booking twice. The counts returned are what this call did. A session whose
 * cancellation already finished gives 409 `session_cancelled`. `actor.reason` is carried in
 * every event and in the bookings' audit trail.
 */
export async function cancelSession(deps: LifecycleDeps, id: string, actor: Actor): Promise<CancelSessionResult> {
  const started = await markCancelled(deps, id, actor);
  return await finishCancel(deps, started, actor);
}

/** Result of {@link resumeSessionCancels}. */
export interface ResumeCancelsResult {
  /** What each resumed cancel did (all zero when another run had finished it meanwhile). */
  finished: CancelSessionResult[];
  /** Pending cancels that failed this time (e.g. 503 busy); the next run tries again. */
  failed: { sessionId: string; error: unknown }[];
}

/**
 * Finishes every session cancel that was left pending (its process died or failed midway), in the
 * name of the actor who asked for it. Safe to run at any time, repeatedly, and while the cancel
 * itself or another resumer still runs in this or another process: every step is a checked atomic
 * op, so each booking, hold and waiting learner is cleaned up once, with one event. A pending
 * marker whose session no longer exists is deleted. `minAgeMs` leaves alone cancels begun less
 * than that long ago (a periodic run need not race a cancel that is still running well); without it, all.
 */
export async function resumeSessionCancels(
  deps: LifecycleDeps,
  options: { minAgeMs?: number } = {},
): Promise<ResumeCancelsResult> {
  const out: ResumeCancelsResult = { finished: [], failed: [] };
  const pending: Deno.KvEntry<PendingSessionCancel>[] = [];
  // Without minAgeMs (at worker start) every marker: a restarted process whose clock runs behind the one that wrote
  // a marker must still finish it.
  const startedBy = options.minAgeMs === undefined ? Infinity : deps.now().getTime() - options.minAgeMs;
  for await (const e of deps.kv.list<PendingSessionCancel>({ prefix: keys.sessionCancelsPendingPrefix() })) {
    if (!(Date.parse(e.value.startedAt) > startedBy)) pending.push(e);
  }
  for (const entry of pending) {
    const { sessionId, actor } = entry.value;
    try {
      const session = (await deps.kv.get<Session>(keys.session(sessionId))).value;
      if (!session) {
        await deps.kv.atomic().check(entry).check({ key: keys.session(sessionId), versionstamp: null })
          .delete(entry.key).commit();
        continue;
      }
      out.finished.push(await finishCancel(deps, session, actor));
    } catch (error) {
      out.failed.push({ sessionId, error });
    }
  }
  return out;
}

/** Runs cleanup steps on a session already set cancelled until one of them finishes. */
async function finishCancel(deps: LifecycleDeps, started: Session, actor: Actor): Promise<CancelSessionResult> {
  const totals: CancelSessionResult = {
    session: started,
    cancelledBookings: 0,
    releasedHolds: 0,
    expiredHolds: 0,
    removedWaitlist: 0,
  };
  let bookingCursor: Deno.KvKey | null = null;
  const skipHolds = new Set<string>();
  for (;;) {
    if (deps.cancelStepPauseMs) await new Promise((r) => setTimeout(r, deps.cancelStepPauseMs));
    const cursor = bookingCursor;
    const step: StepResult = await deps.lanes.run(started.id, actor, (tx) => cancelStep(tx, cursor, skipHolds));
    totals.session = step.session;
    totals.cancelledBookings += step.cancelledBookings;
    totals.releasedHolds += step.releasedHolds;
    totals.expiredHolds += step.expiredHolds;
    totals.removedWaitlist += step.removedWaitlist;
    bookingCursor = step.bookingCursor;
    if (step.finished) return totals;
  }
}

/**
 * Step 0: the status change and the pending marker alone, in their own atomic op and outside the
 * lane, so that no lane batch hands out a waitlist offer on the way (the lane's fillOffers runs
 * before its operations) and no later step ever sees a scheduled session. An operation that read
 * the session before this commit fails its check on `["sessions", id]` and re-reads it cancelled.
 */
async function markCancelled(deps: LifecycleDeps, id: string, actor: Actor): Promise<Session> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const draft = new Draft(deps.kv);
    await draft.load([keys.session(id)]);
    const s = draft.get<Session>(keys.session(id));
    if (!s) throw notFound("session", id);
    const pendingKey = keys.sessionCancelPending(id);
    await draft.load([markerKey(s), pendingKey]);
    const pending: PendingSessionCancel = { sessionId: id, startedAt: deps.now().toISOString(), actor };
    if (s.status === "cancelled") {
      if (draft.get<SessionIndexEntry>(markerKey(s))?.status === "cancelled") {
        throw new DomainError(409, "session_cancelled", "This session was already cancelled.");
      }
      // A cancellation that stopped midway: carry on (and list it, if it began before the marker).
      if (draft.get(pendingKey)) return s;
      draft.set(pendingKey, pending);
      if (await draft.commit()) return s;
    } else {
      const cancelled: Session = { ...s, status: "cancelled", updatedAt: deps.now().toISOString() };
      draft.set(keys.session(id), cancelled);
      draft.set(pendingKey, pending);
      if (await draft.commit()) return cancelled;
    }
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
  }
  throw new DomainError(503, "busy", "The session is very busy; please try again.");
}

/** One cancellation step: cleans up what fits in one atomic op; the last one finishes. */
async function cancelStep(
  tx: SessionTx,
  cursor: Deno.KvKey | null,
  skipHolds: Set<string>,
): Promise<StepResult> {
  const d = tx.draft;
  const session = tx.session;
  const out: StepResult = {
    session,
    cancelledBookings: 0,
    releasedHolds: 0,
    expiredHolds: 0,
    removedWaitlist: 0,
    bookingCursor: cursor,
    finished: false,
  };
  if (session.status !== "cancelled") {
    throw new DomainError(409, "session_changed", "The session's status changed while it was being cancelled.");
  }
  const pendingKey = keys.sessionCancelPending(session.id);
  await d.load([markerKey(session), pendingKey]);
  if (d.get<SessionIndexEntry>(markerKey(session))?.status === "cancelled") {
    // Another run finished meanwhile.
    return { ...out, finished: true };
  }
  let bytes = 0;
  // Every step cleans up at least one record, even when other operations of its lane batch
  // already spent the budget: a step that did nothing would simply be run again.
  const full = () => {
    if (out.cancelledBookings + out.releasedHolds + out.expiredHolds + out.removedWaitlist === 0) return false;
    const size = d.size();
    return size.mutations >= STEP_MUTATIONS || size.checks >= STEP_CHECKS || bytes >= STEP_BYTES;
  };
  // Everything read below is read after the lane loaded `["seats", id]`, and every change to a
  // hold, booking or waitlist entry of this session writes that key: the commit's check on it
  // guards these reads. Records this batch's other operations already changed come from the draft.

  // 1. Holds and offers (expired or not): holds_by_session lists exactly the active ones.
  let complete = true;
  holds: for await (const page of pages(tx.draft.kv, { prefix: keys.holdsBySessionPrefix(session.id) })) {
    const ids = page.map((e) => String(e.value)).filter((h) => !skipHolds.has(h));
    const stored = await getMany<Hold>(tx.draft.kv, ids.map(keys.hold));
    for (const [i, holdId] of ids.entries()) {
      if (full()) {
        complete = false;
        break holds;
      }
      const hold = current<Hold>(d, keys.hold(holdId), stored[i]);
      if (!hold || hold.status !== "active" || hold.sessionId !== session.id) {
        // Ended earlier in this batch (its index entry is deleted in the draft) or a stray entry.
        if (!hold || hold.sessionId !== session.id || !d.has(keys.hold(holdId))) skipHolds.add(holdId);
        continue;
      }
      const ended = await tx.endHoldForSessionCancel(hold);
      if (ended.status === "expired") out.expiredHolds++;
      else out.releasedHolds++;
      bytes += JSON.stringify(ended).length + PER_ITEM_BYTES;
    }
  }
  // 2. Waiting learners.
  if (complete) {
    waiting: for await (const page of pages<WaitlistEntry>(tx.draft.kv, { prefix: keys.waitlistPrefix(session.id) })) {
      for (const e of page) {
        if (full()) {
          complete = false;
          break waiting;
        }
        if (d.has(e.key) && d.get(e.key) === null) continue; // left earlier in this batch
        tx.leaveWaitlist(e.value, { bySessionCancel: true });
        out.removedWaitlist++;
        bytes += JSON.stringify(e.value).length + PER_ITEM_BYTES;
      }
    }
  }
  // 3. Confirmed bookings, resuming after the last one an earlier step handled (a cancelled
  // session gets no new bookings, so the ones before the cursor are done).
  if (complete) {
    const prefix = keys.bookingsBySessionPrefix(session.id);
    const selector = cursor ? { prefix, start: cursor } : { prefix };
    bookings: for await (const page of pages<string>(tx.draft.kv, selector)) {
      const rows = page.filter((e) => !cursor || !sameKey(e.key, cursor));
      const stored = await getMany<Booking>(tx.draft.kv, rows.map((e) => keys.booking(e.value)));
      for (const [i, row] of rows.entries()) {
        if (full()) {
          complete = false;
          break bookings;
        }
        const booking = current<Booking>(d, keys.booking(row.value), stored[i]);
        if (booking?.status === "confirmed" && booking.sessionId === session.id) {
          const cancelled = tx.cancelBooking(booking, false, "session_cancelled");
          addEvent(d, tx.actor, "booking.cancelled", session.id, booking.learnerId, {
            bookingId: booking.id,
            registration: booking.registration,
            late: false,
            bySessionCancel: true,
          }, tx.now);
          out.cancelledBookings++;
          bytes += JSON.stringify(cancelled).length + PER_ITEM_BYTES;
        }
        out.bookingCursor = row.key;
      }
    }
  }
  if (!complete) return out;
  // 4. Nothing left: the index entries say cancelled, the work is no longer pending, and
  // session.cancelled closes the story.
  writeSession(d, session);
  d.delete(pendingKey);
  addEvent(d, tx.actor, "session.cancelled", session.id, null, {
    courseId: session.courseId,
    startsAt: session.startsAt,
    endsAt: session.endsAt,
  }, tx.now);
  return { ...out, finished: true };
}

/** Lists a selector in pages of up to 10 entries (one getMany's worth). */
async function* pages<T = unknown>(kv: Deno.Kv, selector: Deno.KvListSelector): AsyncGenerator<Deno.KvEntry<T>[]> {
  let page: Deno.KvEntry<T>[] = [];
  for await (const e of kv.list<T>(selector, { batchSize: 100 })) {
    page.push(e);
    if (page.length === 10) {
      yield page;
      page = [];
    }
  }
  if (page.length) yield page;
}

async function getMany<T>(kv: Deno.Kv, keyList: Deno.KvKey[]): Promise<(T | null)[]> {
  if (!keyList.length) return [];
  return (await kv.getMany<T[]>(keyList)).map((e) => e.value as T | null);
}
