/**
 * The booking engine: every seat rule of the product. Single-session changes run through the
 * session's lane (group commit); reschedule spans two sessions in one optimistic transaction.
 * Each change writes its domain events in the same atomic op (see events.ts).
 */
import type { Course, NewSession, SessionPatch, User } from "../domain/mod.ts";
import { actsForSession, assertMayActOnPlace, assertMayManageSession, mayActOnPlace } from "./access.ts";
import { keys } from "../store/keys.ts";
import { getSession } from "../store/sessions.ts";
import { acceptedAlternativeOf, findAlternatives, recordAlternativesOffer } from "./alternatives.ts";
import { type CourseDuplicate, findCourseDuplicate } from "./duplicates.ts";
import { addCourseWaitlistLearners, removeCourseEntryPlaces } from "./course_waitlist.ts";
import { type AttendanceInput, type AttendanceResult, recordAttendance } from "./attendance.ts";
import { Draft } from "./draft.ts";
import { DomainError, notFound } from "./errors.ts";
import { type Actor, addEvent } from "./events.ts";
import { type IdempotencyRequest, lookupIdempotent, storeIdempotent } from "./idempotency.ts";
import { Lanes } from "./lane.ts";
import { type Booking, type Hold, type LearnerHolds, type Session, type WaitlistEntry } from "./model.ts";
import {
  cancelSession,
  type CancelSessionResult,
  type LifecycleDeps,
  offerFreedSeats,
  type ResumeCancelsResult,
  resumeSessionCancels,
  scheduleSession,
  updateSession,
  type UpdateSessionOptions,
} from "./session_lifecycle.ts";
import { SessionTx } from "./session_tx.ts";
import { effectiveRules } from "./rules.ts";
import { TtlCache } from "../store/ttl_cache.ts";
import { waitlistOrder } from "./waitlist_order.ts";
import { deadlineFor, loadDeadlineInputs } from "../compliance/priority.ts";
import { type ComplianceSettings, DEFAULT_COMPLIANCE_SETTINGS } from "../compliance/state.ts";

const HOUR = 3_600_000;

/** Engine settings. */
export interface EngineOptions {
  holdMinutes: number;
  /** Default late-cancellation cut-off when a course sets none. */
  cancelCutoffHours?: number;
  now?: () => Date;
  /** Pause before each session-cancel step (default 0). Only crash tests set it, to kill a cancel midway. */
  cancelStepPauseMs?: number;
  /** Compliance rules for waitlist priority and the duplicate warning's expiry (default: lib/compliance/state.ts). */
  compliance?: Pick<ComplianceSettings, "timeZone" | "expiringWindowDays">;
}

/** What a learner has across sessions right now (GET /api/v1/me/bookings). */
export interface LearnerPlaces {
  /** Live holds and waitlist offers (`kind`), soonest to expire first; lapsed ones are left out. */
  holds: Hold[];
  /** Every booking, confirmed or cancelled, newest first (by `createdAt`). */
  bookings: Booking[];
  /** Waitlists the learner is queued on, with 1-based positions (an offer is in `holds` instead). */
  waitlist: { entry: WaitlistEntry; position: number }[];
}

/** Result of an idempotent operation: `replayed` when an earlier identical request produced it. */
export type Idempotent<T> = T & { replayed: boolean };

/**
 * How long a hold may use a session read before its lane for the course (prerequisites, rules, duplicate warning):
 * a change of a session's course shows in holds within this time on every instance, at once on the one that made it.
 */
export const SESSION_CACHE_MS = 2_000;

/** Seat rules over one KV store. */
export class BookingEngine {
  readonly lanes: Lanes;
  readonly #now: () => Date;
  /** Courses for the prerequisite check before a hold; a course edit shows within 30 s. */
  readonly #courses = new TtlCache<Course | null>(30_000, 1_000);
  /**
   * Sessions as a hold reads them before its lane, for the course and the access pre-check only: the lane re-reads
   * the session and decides on that (status, seats, access). Found sessions only, for {@link SESSION_CACHE_MS}.
   */
  readonly #sessionsBeforeLane = new TtlCache<Session>(SESSION_CACHE_MS, 10_000);

  constructor(readonly kv: Deno.Kv, readonly options: EngineOptions) {
    this.#now = options.now ?? (() => new Date());
    this.lanes = new Lanes(kv, this.#now);
  }

  now(): Date {
    return this.#now();
  }

  async #get<T>(key: Deno.KvKey): Promise<T | null> {
    return (await this.kv.get<T>(key)).value;
  }

  async #requireSession(id: string): Promise<Session> {
    const s = await getSession(this.kv, id);
    if (!s) throw notFound("session", id);
    return s;
  }

  /** {@link #requireSession} through the short cache of {@link #sessionsBeforeLane} (one KV read less per hold). */
  async #sessionBeforeLane(id: string): Promise<Session> {
    return await this.#sessionsBeforeLane.get(id, () => this.#requireSession(id));
  }

  /**
   * A full (409) or expired (410) refusal carries the alternatives, and the offer is recorded here, in one place for
   * the pages and the API, for the reports' acceptance rate. Recording is its own small commit after the refusal
   * (deduplicated per learner and session for 24 h); when it fails the refusal still stands.
   */
  async #withAlternatives(
    err: unknown,
    sessionOrId: Session | string,
    learnerId: string,
    actor: Actor,
  ): Promise<never> {
    if (err instanceof DomainError && (err.code === "session_full" || err.code === "hold_expired")) {
      const session = typeof sessionOrId === "string" ? await this.#requireSession(sessionOrId) : sessionOrId;
      const now = this.now();
      const alternatives = await findAlternatives(this.kv, session, learnerId, now);
      await recordAlternativesOffer(this.kv, session.id, learnerId, alternatives, now, actor, "refusal").catch((e) =>
        console.error(`alternatives offer on ${session.id}: not recorded:`, e instanceof Error ? e.message : e)
      );
      throw new DomainError(err.status, err.code, err.message, {
        ...(err.details as object ?? {}),
        waitlistOpen: session.waitlistEnabled && session.status === "scheduled",
        alternatives,
      });
    }
    throw err;
  }

  /** Courses listed as prerequisites that the learner has not completed. */
  async missingPrerequisites(course: Course, learner: User): Promise<{ courseId: string; title: string }[]> {
    const done = new Set(learner.completedCourses.map((c) => c.courseId));
    const missing = course.prerequisiteCourseIds.filter((id) => !done.has(id));
    if (!missing.length) return [];
    const courses = await this.kv.getMany<Course[]>(missing.slice(0, 10).map(keys.course));
    return missing.map((id, i) => ({ courseId: id, title: courses[i]?.value?.title ?? id }));
  }

  /** 422 naming the prerequisite courses the learner has not completed. */
  async #assertPrerequisites(course: Course | null, learner: User): Promise<void> {
    if (!course) return;
    const missing = await this.missingPrerequisites(course, learner);
    if (missing.length) {
      throw new DomainError(
        422,
        "prerequisites_missing",
        `Complete ${missing.map((m) => m.title).join(", ")} before booking this course.`,
        { missing },
      );
    }
  }

  /**
   * Places a hold on one seat for the rules' holdMinutes (HOLD_MINUTES until an admin sets it;
   * lib/booking/rules.ts). 409 full (with alternatives), 422 prerequisites, 429 too many.
   * `alternativeOf`: the full session whose offered alternatives this hold takes up; kept on the hold (and its
   * booking) only when they were offered to the learner less than 24 h ago and listed this session.
   * `warnDuplicate` (the API and pages set it unless the person confirmed "book anyway"): 409 `duplicate_course`
   * (details: a {@link CourseDuplicate}) when the learner already has a confirmed seat in another session of the
   * course, or a valid completion of it. A warning for people, not a seat rule, so other callers are not asked.
   */
  async placeHold(
    sessionId: string,
    learnerId: string,
    actor: Actor,
    idem?: IdempotencyRequest,
    known: { learner?: User; alternativeOf?: string | null; warnDuplicate?: boolean } = {},
  ): Promise<Idempotent<{ hold: Hold }>> {
    const [session, learner] = await Promise.all([
      this.#sessionBeforeLane(sessionId),
      known.learner?.id === learnerId ? known.learner : this.#get<User>(keys.user(learnerId)),
    ]);
    assertMayActOnPlace(actor, learnerId, session);
    if (idem) {
      const prior = await lookupIdempotent<{ hold: Hold }>(this.kv, idem);
      if (prior) return { ...prior.result, replayed: true };
    }
    if (!learner) throw notFound("user", learnerId);
    const course = await this.#courses.get(session.courseId, () => this.#get<Course>(keys.course(session.courseId)));
    // A caller's cached user may predate a completion that just unlocked this course: re-read before refusing.
    const stale = learner === known.learner && course && (await this.missingPrerequisites(course, learner)).length;
    await this.#assertPrerequisites(course, stale ? await this.#get<User>(keys.user(learnerId)) ?? learner : learner);
    // Read alongside the lane's own load, not before queueing (one round trip less before the lane).
    const duplicate = known.warnDuplicate
      ? findCourseDuplicate(this.kv, learner, session, course, this.now(), this.options.compliance?.timeZone)
      : undefined;
    duplicate?.catch(() => {}); // awaited (and any failure raised) in the op
    const alternativeOf = await acceptedAlternativeOf(this.kv, learnerId, sessionId, known.alternativeOf, this.now());
    // The rules in force when the action starts (a later change applies to later holds).
    const rules = await effectiveRules(this.kv, session.courseId, this.options.holdMinutes);
    const prefetch: Deno.KvKey[] = [keys.place(sessionId, learnerId), keys.learnerHolds(learnerId)];
    if (idem) prefetch.push(keys.idempotency(idem.scope, idem.key));
    try {
      return await this.lanes.run(
        sessionId,
        actor,
        async (tx) => {
          if (idem) {
            const prior = await lookupIdempotent<{ hold: Hold }>(tx.draft, idem);
            if (prior) return { ...prior.result, replayed: true };
          }
          assertMayActOnPlace(tx.actor, learnerId, tx.session);
          tx.assertOpen();
          await tx.loadLearner(learnerId);
          const place = await tx.livePlace(learnerId);
          if (place) throw placeTaken(place.kind);
          if (tx.activeHoldCount(learnerId) >= rules.maxLiveHolds) {
            throw new DomainError(
              429,
              "too_many_holds",
              `You already hold ${rules.maxLiveHolds} seats. Book or release one of them first.`,
            );
          }
          // A seat freed earlier in this batch belongs to the head of the waitlist, not to a newcomer.
          await offerFreedSeats(tx);
          if (tx.freeForNewcomers() <= 0) throw new DomainError(409, "session_full", "This session is full.");
          // Asked only when a seat could be had: a full session says so first.
          const dup = await duplicate;
          if (dup) throw duplicateCourse(dup);
          const expiresAtMs = tx.nowMs + (tx.session.holdMinutes ?? rules.holdMinutes) * 60_000;
          const hold = tx.createHold(learnerId, "hold", expiresAtMs, idem?.key ?? null, alternativeOf);
          addEvent(tx.draft, tx.actor, "hold.placed", sessionId, learnerId, {
            holdId: hold.id,
            expiresAt: hold.expiresAt,
            ...(alternativeOf ? { alternativeOf } : {}),
          }, tx.now);
          if (idem) storeIdempotent(tx.draft, idem, { hold }, tx.now);
          return { hold, replayed: false };
        },
        prefetch,
        duplicate,
      );
    } catch (err) {
      return this.#withAlternatives(err, session, learnerId, actor);
    }
  }

  /**
   * 403 unless the actor may act on the learner's place in the session (lib/booking/access.ts).
   * Checked before anything else is read or said about the place; lane ops check again against
   * the session they commit with.
   */
  async #assertMayActOn(actor: Actor, learnerId: string, sessionId: string): Promise<void> {
    // The learner themself, admins and the system need no session to decide; instructors do.
    if (mayActOnPlace(actor, learnerId, null)) return;
    assertMayActOnPlace(actor, learnerId, await this.#requireSession(sessionId));
  }

  async #requireHold(holdId: string, actor: Actor): Promise<Hold> {
    const hold = await this.#get<Hold>(keys.hold(holdId));
    if (!hold) throw notFound("hold", holdId);
    await this.#assertMayActOn(actor, hold.learnerId, hold.sessionId);
    return hold;
  }

  /** Turns the learner's own unexpired hold (or waitlist offer) into a confirmed booking. 410 when expired. */
  async confirmHold(
    holdId: string,
    actor: Actor,
    idem?: IdempotencyRequest,
  ): Promise<Idempotent<{ booking: Booking }>> {
    if (idem) {
      const prior = await lookupIdempotent<{ booking: Booking }>(this.kv, idem);
      if (prior) return { ...prior.result, replayed: true };
    }
    const first = await this.#requireHold(holdId, actor);
    const prefetch: Deno.KvKey[] = [
      keys.hold(holdId),
      keys.place(first.sessionId, first.learnerId),
      keys.learnerHolds(first.learnerId),
    ];
    if (idem) prefetch.push(keys.idempotency(idem.scope, idem.key));
    try {
      const out = await this.lanes.run(first.sessionId, actor, async (tx) => {
        if (idem) {
          const prior = await lookupIdempotent<{ booking: Booking }>(tx.draft, idem);
          if (prior) return { ...prior.result, replayed: true };
        }
        const hold = (await tx.loadHold(holdId))!;
        assertMayActOnPlace(tx.actor, hold.learnerId, tx.session);
        if (hold.status === "confirmed") {
          throw new DomainError(409, "hold_already_confirmed", "This hold was already turned into a booking.");
        }
        if (hold.status === "released") throw new DomainError(410, "hold_released", "This hold was released.");
        if (hold.status === "expired" || Date.parse(hold.expiresAt) <= tx.nowMs) {
          throw new DomainError(410, "hold_expired", "Your hold expired and the seat was released.", {
            expiredAt: hold.expiresAt,
          });
        }
        tx.assertOpen();
        await tx.loadLearner(hold.learnerId);
        await tx.closeCourseEntry(hold);
        const booking = tx.confirmHold(hold);
        addEvent(tx.draft, tx.actor, "booking.confirmed", tx.sessionId, hold.learnerId, {
          bookingId: booking.id,
          holdId: hold.id,
          registration: booking.registration,
          viaOffer: hold.kind === "offer",
          ...(booking.alternativeOf ? { alternativeOf: booking.alternativeOf } : {}),
        }, tx.now);
        if (idem) storeIdempotent(tx.draft, idem, { booking }, tx.now);
        return { booking, replayed: false };
      }, prefetch);
      // An accepted course-wide offer: the learner's other places from that entry go.
      if (first.courseEntryId && !out.replayed) {
        // Best effort: the booking stands; a session meeting a leftover place removes it itself.
        await removeCourseEntryPlaces(this, first.learnerId, first.courseEntryId, actor, "accepted").catch((err) =>
          console.error(
            `course waitlist ${first.courseEntryId}: cleanup failed:`,
            err instanceof Error ? err.message : err,
          )
        );
      }
      return out;
    } catch (err) {
      return this.#withAlternatives(err, first.sessionId, first.learnerId, actor);
    }
  }

  /**
   * Books a learner straight into a session for a booking that already exists on Cal.com (a
   * webhook or reconciliation), in ONE atomic lane op. No hold comes first and prerequisites are
   * NOT checked: the seat is already taken on Cal.com, so refusing it here would only leave the two
   * sides apart (a conflict is flagged for review by the caller instead). Capacity IS enforced:
   *
   * - the learner already booked in the session → that booking, `alreadyBooked: true`, no event
   *   (this is how the webhook for a booking we created ourselves is recognised);
   * - the learner holds a seat or a waitlist offer → that hold is confirmed (its seat is used);
   * - the learner is on the waitlist → taken off it (waitlist.left), then booked if a seat is free;
   * - otherwise a free seat is taken; freed seats go to the waitlist first, as for every newcomer.
   *
   * Emits `booking.confirmed` with `{bookingId, holdId, registration, viaOffer, calBookingUid?,
   * seatUid?}`. 409 `session_full` (never oversold), 409 `session_cancelled`, 409
   * `session_started`, 404 for an unknown session or learner. `actor` is normally a Cal.com
   * system actor (`origin: "calcom"`, `userId: null`); people may only book themselves.
   */
  async bookFromCalcom(
    sessionId: string,
    learnerId: string,
    actor: Actor,
    ref: { calBookingUid?: string | null; seatUid?: string | null } = {},
  ): Promise<{ booking: Booking; alreadyBooked: boolean }> {
    await this.#assertMayActOn(actor, learnerId, sessionId);
    const learner = await this.#get<User>(keys.user(learnerId));
    if (!learner) throw notFound("user", learnerId);
    const calRef: Record<string, unknown> = {};
    if (ref.calBookingUid) calRef.calBookingUid = ref.calBookingUid;
    if (ref.seatUid) calRef.seatUid = ref.seatUid;
    const prefetch: Deno.KvKey[] = [keys.place(sessionId, learnerId), keys.learnerHolds(learnerId)];
    return await this.lanes.run(sessionId, actor, async (tx) => {
      assertMayActOnPlace(tx.actor, learnerId, tx.session);
      await tx.loadLearner(learnerId);
      const place = await tx.livePlace(learnerId);
      if (place?.kind === "booking") {
        await tx.draft.load([keys.booking(place.id)]);
        const existing = tx.draft.get<Booking>(keys.booking(place.id));
        if (existing?.status === "confirmed") return { booking: existing, alreadyBooked: true };
      }
      tx.assertOpen();
      if (place?.kind === "hold" || place?.kind === "offer") {
        const hold = await tx.loadHold(place.id);
        if (hold?.status === "active") {
          await tx.closeCourseEntry(hold);
          const booking = tx.confirmHold(hold);
          addEvent(tx.draft, tx.actor, "booking.confirmed", tx.sessionId, learnerId, {
            bookingId: booking.id,
            holdId: hold.id,
            registration: booking.registration,
            viaOffer: hold.kind === "offer",
            ...calRef,
          }, tx.now);
          return { booking, alreadyBooked: false };
        }
      }
      if (place?.kind === "waitlist") {
        await tx.draft.load([keys.waitlistByLearner(learnerId, sessionId)]);
        const entry = tx.draft.get<WaitlistEntry>(keys.waitlistByLearner(learnerId, sessionId));
        if (entry?.status === "waiting") tx.leaveWaitlist(entry, { byCalcomBooking: true });
      }
      await offerFreedSeats(tx);
      if (tx.freeForNewcomers() <= 0) throw new DomainError(409, "session_full", "This session is full.");
      // bookDirect is the reschedule path; an empty "from" makes it a plain booking, which is then
      // recorded as imported (no reschedule link).
      const direct = tx.bookDirect(learnerId, crypto.randomUUID(), "");
      const booking: Booking = {
        ...direct,
        rescheduledFromBookingId: null,
        audit: direct.audit.map((a) => ({ ...a, action: "imported" })),
      };
      tx.draft.set(keys.booking(booking.id), booking);
      addEvent(tx.draft, tx.actor, "booking.confirmed", tx.sessionId, learnerId, {
        bookingId: booking.id,
        holdId: null,
        registration: booking.registration,
        viaOffer: false,
        ...calRef,
      }, tx.now);
      return { booking, alreadyBooked: false };
    }, prefetch);
  }

  /**
   * Records a learner's attendance at a session (see {@link recordAttendance} in attendance.ts):
   * the `["attendance", sessionId, learnerId]` record and an `attendance.recorded` event in one
   * atomic op; a record made by an instructor or admin is never overridden by a Cal.com one.
   */
  recordAttendance(input: AttendanceInput, actor: Actor): Promise<AttendanceResult> {
    return recordAttendance(this.kv, input, actor, this.now());
  }

  /** Releases a hold (or declines a waitlist offer). Releasing an already expired hold reports it expired. */
  async releaseHold(holdId: string, actor: Actor): Promise<Hold> {
    const first = await this.#requireHold(holdId, actor);
    return await this.lanes.run(first.sessionId, actor, async (tx) => {
      const hold = (await tx.loadHold(holdId))!;
      assertMayActOnPlace(tx.actor, hold.learnerId, tx.session);
      if (hold.status === "active" && Date.parse(hold.expiresAt) <= tx.nowMs) {
        return (await tx.expireHold(holdId))!;
      }
      return await tx.releaseHold(hold);
    });
  }

  /** Expires a hold whose time is up (the hold sweep). Returns null when nothing was due. */
  async expireHold(holdId: string): Promise<Hold | null> {
    const hold = await this.#get<Hold>(keys.hold(holdId));
    if (!hold || hold.status !== "active") return null;
    const actor: Actor = { userId: null, origin: "system", correlationId: crypto.randomUUID(), reason: "hold expired" };
    return await this.lanes.run(hold.sessionId, actor, (tx) => tx.expireHold(holdId));
  }

  /** Expires holds past their time (up to 500 per call; the hold sweep). Returns how many it expired. */
  async sweepExpiredHolds(): Promise<number> {
    const end = [...keys.holdsByExpiryPrefix(), this.now().getTime() + 1];
    const ids: string[] = [];
    for await (
      const e of this.kv.list<{ holdId: string }>({ start: keys.holdsByExpiryPrefix(), end }, { limit: 500 })
    ) {
      ids.push(e.value.holdId);
    }
    const done = await Promise.all(ids.map((id) => this.expireHold(id).catch(() => null)));
    return done.filter(Boolean).length;
  }

  /** When the next hold or offer is due to expire (ms, engine clock), or null when none is live. */
  async nextHoldExpiryMs(): Promise<number | null> {
    for await (const e of this.kv.list({ prefix: keys.holdsByExpiryPrefix() }, { limit: 1 })) return Number(e.key[1]);
    return null;
  }

  async #cutoffHours(session: Session): Promise<number> {
    const course = await this.#get<Course>(keys.course(session.courseId));
    return session.lateCancelCutoffHours ?? course?.lateCancelCutoffHours ?? this.options.cancelCutoffHours ??
      (await effectiveRules(this.kv, session.courseId, this.options.holdMinutes)).cancelCutoffHours;
  }

  #isLate(session: Session, cutoffHours: number, now: Date): boolean {
    return now.getTime() > Date.parse(session.startsAt) - cutoffHours * HOUR;
  }

  async #requireBooking(bookingId: string, actor: Actor): Promise<Booking> {
    const booking = await this.#get<Booking>(keys.booking(bookingId));
    if (!booking) throw notFound("booking", bookingId);
    await this.#assertMayActOn(actor, booking.learnerId, booking.sessionId);
    return booking;
  }

  /** Cancels a confirmed booking; later than the course's cut-off it is marked late. */
  async cancelBooking(bookingId: string, actor: Actor): Promise<Booking> {
    const first = await this.#requireBooking(bookingId, actor);
    const session = await this.#requireSession(first.sessionId);
    const cutoff = await this.#cutoffHours(session);
    return await this.lanes.run(first.sessionId, actor, async (tx) => {
      await tx.draft.load([keys.booking(bookingId)]);
      const booking = tx.draft.get<Booking>(keys.booking(bookingId))!;
      assertMayActOnPlace(tx.actor, booking.learnerId, tx.session);
      if (Date.parse(tx.session.startsAt) <= tx.nowMs && !actsForSession(tx.actor, tx.session)) {
        throw new DomainError(409, "session_started", "This session has started; ask an admin to cancel.");
      }
      const late = this.#isLate(tx.session, cutoff, tx.now);
      const cancelled = tx.cancelBooking(booking, late, "cancelled");
      addEvent(tx.draft, tx.actor, "booking.cancelled", tx.sessionId, booking.learnerId, {
        bookingId,
        registration: booking.registration,
        late,
        cutoffHours: cutoff,
      }, tx.now);
      return cancelled;
    });
  }

  /**
   * Moves a booking to another session of the same course, all or nothing: the new seat is taken
   * in the same atomic op that frees the old one. 409 (with alternatives) when the target is full.
   */
  async rescheduleBooking(
    bookingId: string,
    targetSessionId: string,
    actor: Actor,
    idem?: IdempotencyRequest,
  ): Promise<Idempotent<{ booking: Booking; previous: Booking }>> {
    if (idem) {
      const prior = await lookupIdempotent<{ booking: Booking; previous: Booking }>(this.kv, idem);
      if (prior) return { ...prior.result, replayed: true };
    }
    const first = await this.#requireBooking(bookingId, actor);
    if (first.sessionId === targetSessionId) {
      throw new DomainError(422, "same_session", "The booking is already in that session.");
    }
    const [from, target] = await Promise.all([
      this.#requireSession(first.sessionId),
      this.#requireSession(targetSessionId),
    ]);
    assertMayActOnPlace(actor, first.learnerId, target);
    if (from.courseId !== target.courseId) {
      throw new DomainError(422, "different_course", "You can only reschedule to a session of the same course.");
    }
    const cutoff = await this.#cutoffHours(from);
    try {
      for (let attempt = 0; attempt < 20; attempt++) {
        const draft = new Draft(this.kv);
        const now = this.now();
        const out = await this.#applyReschedule(draft, bookingId, targetSessionId, actor, now, cutoff, idem);
        if ("replayed" in out && out.replayed) return out;
        if (await draft.commit()) return out;
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 2 ** attempt)));
      }
      throw new DomainError(503, "busy", "The sessions are very busy; please try again.");
    } catch (err) {
      return this.#withAlternatives(err, target, first.learnerId, actor);
    }
  }

  async #applyReschedule(
    draft: Draft,
    bookingId: string,
    targetSessionId: string,
    actor: Actor,
    now: Date,
    cutoff: number,
    idem?: IdempotencyRequest,
  ): Promise<Idempotent<{ booking: Booking; previous: Booking }>> {
    if (idem) {
      const prior = await lookupIdempotent<{ booking: Booking; previous: Booking }>(draft, idem);
      if (prior) return { ...prior.result, replayed: true };
    }
    await draft.load([keys.booking(bookingId)]);
    const booking = draft.get<Booking>(keys.booking(bookingId))!;
    if (booking.status !== "confirmed") {
      throw new DomainError(409, "booking_not_active", `This booking is already ${booking.status}.`);
    }
    const from = await SessionTx.load(draft, booking.sessionId, now, actor);
    const to = await SessionTx.load(draft, targetSessionId, now, actor);
    assertMayActOnPlace(actor, booking.learnerId, from.session);
    assertMayActOnPlace(actor, booking.learnerId, to.session);
    // Seats freed by lapsed holds go to the target's waitlist first (as in every lane batch).
    to.actor = { ...actor, origin: "system", userId: null };
    // Room for the keys loaded next (the learner's place and holds, a stale hold): KV Connect allows 10.
    await to.fillOffers(3);
    to.actor = actor;
    to.assertOpen();
    if (Date.parse(from.session.startsAt) <= now.getTime() && !actsForSession(actor, from.session)) {
      throw new DomainError(409, "session_started", "This booking's session has started.");
    }
    await to.loadLearner(booking.learnerId);
    const place = await to.livePlace(booking.learnerId);
    if (place) throw placeTaken(place.kind);
    if (to.freeForNewcomers() <= 0) throw new DomainError(409, "session_full", "The session you chose is full.");
    const moved = to.bookDirect(booking.learnerId, booking.registration, booking.id);
    const previous = from.cancelBooking(booking, this.#isLate(from.session, cutoff, now), "rescheduled_out", moved.id);
    addEvent(draft, actor, "booking.rescheduled", targetSessionId, booking.learnerId, {
      bookingId: moved.id,
      fromBookingId: booking.id,
      fromSessionId: booking.sessionId,
      toSessionId: targetSessionId,
      registration: booking.registration,
      late: previous.lateCancel,
    }, now);
    from.actor = { ...actor, origin: "system", userId: null };
    await from.fillOffers();
    if (idem) storeIdempotent(draft, idem, { booking: moved, previous }, now);
    return { booking: moved, previous, replayed: false };
  }

  /**
   * Joins a full session's waitlist; returns the learner's position. Offer order: a sooner
   * compliance deadline for the course first, then first come (lib/booking/waitlist_order.ts).
   */
  async joinWaitlist(
    sessionId: string,
    learnerId: string,
    actor: Actor,
  ): Promise<{ entry: WaitlistEntry; position: number }> {
    const session = await this.#requireSession(sessionId);
    assertMayActOnPlace(actor, learnerId, session);
    // The compliance deadline's inputs are read with the learner, so joining reaches the lane as soon as before.
    const [learner, course, deadlineInputs] = await Promise.all([
      this.#get<User>(keys.user(learnerId)),
      this.#get<Course>(keys.course(session.courseId)),
      loadDeadlineInputs(this.kv, learnerId),
    ]);
    if (!learner) throw notFound("user", learnerId);
    // A waitlist place turns into an offer the learner can confirm: same prerequisites as a hold.
    await this.#assertPrerequisites(course, learner);
    const settings = this.options.compliance ?? DEFAULT_COMPLIANCE_SETTINGS;
    const deadline = course ? deadlineFor(learner, course, deadlineInputs, this.now(), settings) : null;
    return await this.lanes.run(sessionId, actor, async (tx) => {
      assertMayActOnPlace(tx.actor, learnerId, tx.session);
      tx.assertOpen();
      if (!tx.session.waitlistEnabled) {
        throw new DomainError(409, "waitlist_closed", "This session has no waitlist.");
      }
      await tx.loadLearner(learnerId);
      const place = await tx.livePlace(learnerId);
      if (place) throw placeTaken(place.kind);
      await offerFreedSeats(tx);
      if (tx.freeForNewcomers() > 0) {
        throw new DomainError(409, "seats_available", "Seats are available: hold one instead of waiting.");
      }
      return await tx.joinWaitlist(learnerId, deadline);
    });
  }

  /**
   * Leaves a waitlist; a pending offer is declined (its seat passes to the next learner). 404
   * `not_on_waitlist` when the learner is not on it, including when their offer has lapsed: a
   * lapsed offer took them off the list whether or not it was cleaned up yet (this call cleans it
   * up, with hold.expired, before answering).
   */
  async leaveWaitlist(
    sessionId: string,
    learnerId: string,
    actor: Actor,
    data: Record<string, unknown> = {},
  ): Promise<void> {
    await this.#assertMayActOn(actor, learnerId, sessionId);
    const left = await this.lanes.run(sessionId, actor, async (tx) => {
      assertMayActOnPlace(tx.actor, learnerId, tx.session);
      await tx.draft.load([keys.waitlistByLearner(learnerId, sessionId)]);
      const entry = tx.draft.get<WaitlistEntry>(keys.waitlistByLearner(learnerId, sessionId));
      if (entry?.status === "waiting") {
        await tx.loadLearner(learnerId);
        tx.leaveWaitlist(entry, data);
        return true;
      }
      if (entry?.status === "offered" && entry.offerHoldId) {
        const hold = await tx.loadHold(entry.offerHoldId);
        if (hold?.status === "active" && Date.parse(hold.expiresAt) <= tx.nowMs) {
          // Lapsed: expire it (committed) and answer 404 below.
          await tx.expireHold(hold.id);
          return false;
        }
        if (hold?.status === "active") {
          await tx.releaseHold(hold);
          return true;
        }
      }
      throw new DomainError(404, "not_on_waitlist", "You are not on this session's waitlist.");
    });
    if (!left) {
      throw new DomainError(404, "not_on_waitlist", "Your seat offer lapsed, so you are no longer on this waitlist.");
    }
  }

  #deps(): LifecycleDeps {
    return { kv: this.kv, lanes: this.lanes, now: this.#now, cancelStepPauseMs: this.options.cancelStepPauseMs };
  }

  /**
   * Schedules a new session (an admin, or an instructor for themself; 403 otherwise): the session, its index entries,
   * zeroed seat counters and a `session.scheduled` event in one atomic op. ValidationError (from
   * lib/domain/validation.ts) for bad input or an unknown course, location or instructor (issue
   * paths `courseId`, `locationId`, `instructorId`); 409 `session_exists` when the id is taken.
   */
  async scheduleSession(input: NewSession, actor: Actor): Promise<Session> {
    assertMayManageSession(actor, input);
    const session = await scheduleSession(this.#deps(), input, actor);
    await this.#coverCourseWaitlists(session.id);
    return session;
  }

  /**
   * Adds the course's course-wide waitlist entries to a session just scheduled or changed (see
   * addCourseWaitlistLearners). Best effort here: the session change stands, and the worker
   * finishes a walk that failed (its record stays).
   */
  async #coverCourseWaitlists(sessionId: string): Promise<void> {
    await addCourseWaitlistLearners(this, sessionId).catch((err) =>
      console.error(
        `course waitlist cover ${sessionId}: left for the worker:`,
        err instanceof Error ? err.message : err,
      )
    );
  }

  /**
   * Changes a session (an admin, or its instructor, who may hand it only to themself; 403 otherwise) in its lane; `session.updated` carries
   * `data.changes` = `{field: {from, to}}`, and a patch that changes nothing writes nothing.
   * 404 `session_not_found`; 409 `session_cancelled`; 409 `capacity_below_taken` with details
   * `{taken, requested}`; ValidationError for an invalid result, an unknown reference, or a
   * `status` change (cancel with {@link cancelSession}). Seats a larger capacity frees are offered
   * to the waitlist in the same commit. With `ifUpdatedAt`, 409 `stale_edit` (details `{current}`)
   * when the session changed since that version.
   */
  async updateSession(
    id: string,
    patch: SessionPatch,
    actor: Actor,
    options: UpdateSessionOptions = {},
  ): Promise<Session> {
    assertMayManageSession(actor, await this.#requireSession(id));
    if (patch.instructorId) assertMayManageSession(actor, { instructorId: patch.instructorId });
    const session = await updateSession(this.#deps(), id, patch, actor, options);
    this.#sessionsBeforeLane.delete(id);
    if ((await this.kv.get(keys.courseWaitlistCover(id))).value) await this.#coverCourseWaitlists(id);
    return session;
  }

  /**
   * Cancels a session (an admin or its instructor; 403 otherwise) and everything in it: bookings
   * (booking.cancelled, `bySessionCancel`), holds and offers (hold.released, or hold.expired for
   * ones already lapsed), waiting learners (waitlist.left), then `session.cancelled`. Done in
   * atomic steps that fit KV's limits; a cancel cut short is left pending and finished by
   * {@link resumeSessionCancels} (or by re-running it, which returns what that run did). 404 `session_not_found`; 409 `session_cancelled` when a previous
   * cancellation already finished.
   */
  async cancelSession(id: string, actor: Actor): Promise<CancelSessionResult> {
    assertMayManageSession(actor, await this.#requireSession(id));
    this.#sessionsBeforeLane.delete(id);
    return await cancelSession(this.#deps(), id, actor);
  }

  /**
   * Finishes every session cancel left pending by a crash or a failure midway, in the name of
   * whoever asked for it (startup and a cron run this). Idempotent, and safe beside a cancel or
   * another resumer running in this or another process. `minAgeMs` skips cancels begun more recently.
   */
  async resumeSessionCancels(options: { minAgeMs?: number } = {}): Promise<ResumeCancelsResult> {
    return await resumeSessionCancels(this.#deps(), options);
  }

  /**
   * The learner's live holds and offers, bookings (confirmed and cancelled) and waitlist places
   * with positions. A hold or offer past its `expiresAt` is not reported, cleaned up or not.
   */
  async listLearnerPlaces(learnerId: string): Promise<LearnerPlaces> {
    const nowMs = this.now().getTime();
    const [holdsDoc, bookingIds, waitlisted] = await Promise.all([
      this.#get<LearnerHolds>(keys.learnerHolds(learnerId)),
      listValues<string>(this.kv, keys.bookingsByLearnerPrefix(learnerId)),
      listValues<WaitlistEntry>(this.kv, keys.waitlistByLearnerPrefix(learnerId)),
    ]);
    const holdIds = (holdsDoc?.items ?? []).filter((i) => i.expiresAtMs > nowMs).map((i) => i.holdId);
    const [holds, bookings] = await Promise.all([
      getValues<Hold>(this.kv, holdIds.map(keys.hold)),
      getValues<Booking>(this.kv, bookingIds.map(keys.booking)),
    ]);
    const waiting = waitlisted.filter((w) => w.status === "waiting");
    const positions = await Promise.all(waiting.map((w) => this.#positionOf(w)));
    return {
      holds: holds.filter((h) => h.status === "active" && Date.parse(h.expiresAt) > nowMs)
        .sort((a, b) => Date.parse(a.expiresAt) - Date.parse(b.expiresAt)),
      bookings: bookings.filter((b) => b.learnerId === learnerId)
        .sort((a, b) => a.createdAt !== b.createdAt ? (a.createdAt < b.createdAt ? 1 : -1) : a.id < b.id ? 1 : -1),
      waitlist: waiting.flatMap((entry, i) => positions[i] === null ? [] : [{ entry, position: positions[i]! }]),
    };
  }

  /** 1-based position of a waiting entry in its queue, or null when it is not queued any more. */
  async #positionOf(entry: WaitlistEntry): Promise<number | null> {
    return await this.waitlistPosition(entry.sessionId, entry.learnerId);
  }

  /** 1-based position of a learner among those waiting, in offer order (waitlist_order.ts), or null. */
  async waitlistPosition(sessionId: string, learnerId: string): Promise<number | null> {
    const queue = await listValues<WaitlistEntry>(this.kv, keys.waitlistPrefix(sessionId));
    const i = queue.sort(waitlistOrder).findIndex((e) => e.learnerId === learnerId);
    return i < 0 ? null : i + 1;
  }
}

/** Every value under a prefix. */
async function listValues<T>(kv: Deno.Kv, prefix: Deno.KvKey): Promise<T[]> {
  const out: T[] = [];
  for await (const e of kv.list<T>({ prefix })) out.push(e.value);
  return out;
}

/** Values of many keys (getMany in chunks of 10), missing ones left out, in key order. */
async function getValues<T>(kv: Deno.Kv, keyList: Deno.KvKey[]): Promise<T[]> {
  const chunks: Deno.KvKey[][] = [];
  for (let i = 0; i < keyList.length; i += 10) chunks.push(keyList.slice(i, i + 10));
  const results = await Promise.all(chunks.map((c) => kv.getMany<T[]>(c)));
  return results.flat().flatMap((e) => e.value === null ? [] : [e.value as T]);
}

/** 409 `duplicate_course`: booking would repeat a course the learner is booked on or completed. */
function duplicateCourse(dup: CourseDuplicate): DomainError {
  return new DomainError(
    409,
    "duplicate_course",
    dup.reason === "booked"
      ? "You are already booked on another session of this course. Confirm to book it again anyway."
      : "You have already completed this course. Confirm to book it again anyway.",
    dup,
  );
}

function placeTaken(kind: string): DomainError {
  const messages: Record<string, [string, string]> = {
    hold: ["already_holding", "You already hold a seat in this session."],
    offer: ["offer_pending", "A seat in this session is already offered to you."],
    booking: ["already_booked", "You are already booked in this session."],
    waitlist: ["already_waitlisted", "You are already on this session's waitlist."],
  };
  const [code, message] = messages[kind] ?? ["place_taken", "You already have a place in this session."];
  return new DomainError(409, code, message);
}
