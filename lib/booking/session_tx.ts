/**
 * One session's seat state inside a Draft, and every single-session change as a method.
 * Lane batches and cross-session operations (reschedule) share this code.
 *
 * Seats taken = confirmed + holds − holds already past `expiresAt` (still indexed, not yet
 * cleaned up). Every write that changes a hold, booking or waitlist entry of the session also
 * writes `["seats", id]`, so the commit's check on that one key guards the range reads here.
 */
import { ulid } from "ulid";
import type { Draft } from "./draft.ts";
import { DomainError, notFound } from "./errors.ts";
import { type Actor, addEvent } from "./events.ts";
import { keys } from "../store/keys.ts";
import type { Booking, Hold, LearnerHolds, Place, SeatDoc, Session, WaitlistEntry } from "./model.ts";
import { waitlistOrder } from "./waitlist_order.ts";
import type { CourseWaitlistEntry } from "./course_waitlist.ts";
import { effectiveRules, type Rules } from "./rules.ts";

const HOUR = 3_600_000;

/** The offer windows of the rules (lib/booking/rules.ts), in hours. */
export type OfferWindows = Pick<Rules, "offerHours" | "offerHoursNearStart">;

/**
 * How long a waitlist offer lasts: `offerHours` (default 24), `offerHoursNearStart` (default 2)
 * when the session starts within 48 h, never past the start.
 */
export function offerExpiry(
  now: number,
  startsAtMs: number,
  windows: OfferWindows = { offerHours: 24, offerHoursNearStart: 2 },
): number {
  const hours = startsAtMs - now <= 48 * HOUR ? windows.offerHoursNearStart : windows.offerHours;
  return Math.min(now + hours * HOUR, startsAtMs);
}

/** What a lane restores in a {@link SessionTx} when an op is rolled back (with the draft's own checkpoint). */
export interface TxCheckpoint {
  expired: Set<string>;
  endedCourseOffers: number;
}

/** A session loaded into a draft. */
export class SessionTx {
  readonly #expired: Set<string>;
  /** Course-wide offers ended in this draft (declined, lapsed, session cancelled): their entry's other sessions get a pass. */
  readonly #endedCourseOffers: { learnerId: string; courseEntryId: string }[] = [];
  /** Whether the last waitlist pass left offers for a later commit (the check budget ran out). */
  #offersDeferred = false;
  readonly nowMs: number;

  private constructor(
    readonly draft: Draft,
    readonly sessionId: string,
    readonly now: Date,
    public actor: Actor,
    expired: Set<string>,
  ) {
    this.#expired = expired;
    this.nowMs = now.getTime();
  }

  /** Loads session, seat counters and the ids of holds already past expiry. */
  static async load(draft: Draft, sessionId: string, now: Date, actor: Actor): Promise<SessionTx> {
    const expired = new Set<string>();
    const prefix = keys.holdsBySessionPrefix(sessionId);
    await draft.load([keys.session(sessionId), keys.seats(sessionId)]);
    // Listed only after the seat counter is read. The commit checks the counter, so a list newer than
    // it is safe; an older one could count a hold another instance just expired as lapsed again and
    // free its seat twice (lane_test: "... expired by another instance while a batch loads ...").
    for await (const e of draft.kv.list({ start: prefix, end: [...prefix, now.getTime() + 1] })) {
      expired.add(String(e.key[3]));
    }
    if (!draft.get<Session>(keys.session(sessionId))) throw notFound("session", sessionId);
    return new SessionTx(draft, sessionId, now, actor, expired);
  }

  /** The state beside the draft's writes that an op changes, to restore after a failed step. */
  checkpoint(): TxCheckpoint {
    return { expired: new Set(this.#expired), endedCourseOffers: this.#endedCourseOffers.length };
  }

  rollback(saved: TxCheckpoint): void {
    this.#expired.clear();
    for (const id of saved.expired) this.#expired.add(id);
    this.#endedCourseOffers.length = saved.endedCourseOffers;
  }

  /**
   * Sessions whose waitlist should get a pass once this draft commits: this one when the check
   * budget deferred offers, and the other sessions where a learner whose course-wide offer ended
   * here is still waiting (they passed the learner over while that offer was live). Reads the
   * learner's places without checks: a place added or taken meanwhile gets its pass from its own
   * commit.
   */
  async sessionsToWake(): Promise<string[]> {
    const out = new Set<string>();
    if (this.#offersDeferred) out.add(this.sessionId);
    for (const { learnerId, courseEntryId } of this.#endedCourseOffers) {
      const prefix = keys.waitlistByLearnerPrefix(learnerId);
      for await (const e of this.draft.kv.list<WaitlistEntry>({ prefix })) {
        const w = e.value;
        if (w.courseEntryId === courseEntryId && w.status === "waiting" && w.sessionId !== this.sessionId) {
          out.add(w.sessionId);
        }
      }
    }
    return [...out];
  }

  get session(): Session {
    return this.draft.get<Session>(keys.session(this.sessionId))!;
  }

  get seats(): Required<SeatDoc> {
    const s = this.draft.get<SeatDoc>(keys.seats(this.sessionId)) ?? { confirmed: 0, holds: 0 };
    return { confirmed: s.confirmed, holds: s.holds, waiting: s.waiting ?? 0 };
  }

  #setSeats(change: Partial<Record<keyof SeatDoc, number>>): void {
    const s = this.seats;
    this.draft.set(keys.seats(this.sessionId), {
      confirmed: s.confirmed + (change.confirmed ?? 0),
      holds: s.holds + (change.holds ?? 0),
      waiting: s.waiting + (change.waiting ?? 0),
    });
  }

  /** Seats held or booked right now. */
  taken(): number {
    const s = this.seats;
    return s.confirmed + s.holds - this.#expired.size;
  }

  /** Seats still free right now. */
  free(): number {
    return Math.max(0, this.session.capacity - this.taken());
  }

  /**
   * Free seats a newcomer may take: those not owed to waiting learners. Equals `free()` once
   * `fillOffers` has offered every seat it could; less when a commit's check budget deferred offers.
   */
  freeForNewcomers(): number {
    return Math.max(0, this.free() - this.unofferedWaiting());
  }

  /**
   * Waiting learners a free seat is owed to but not offered yet: offers deferred by the check budget,
   * or a learner passed over while their course-wide offer elsewhere is live.
   */
  unofferedWaiting(): number {
    const s = this.session;
    const open = s.status === "scheduled" && s.waitlistEnabled && Date.parse(s.startsAt) > this.nowMs;
    return open ? Math.min(this.free(), this.seats.waiting) : 0;
  }

  /** Ids of holds past their expiry but not yet cleaned up. */
  expiredHoldIds(): string[] {
    return [...this.#expired];
  }

  /** Whether the session can take new holds at all. */
  assertOpen(): void {
    const s = this.session;
    if (s.status === "cancelled") throw new DomainError(409, "session_cancelled", "This session was cancelled.");
    if (Date.parse(s.startsAt) <= this.nowMs) {
      throw new DomainError(409, "session_started", "This session has already started.");
    }
  }

  /** Loads a learner's place in this session and their live-holds document. */
  async loadLearner(learnerId: string): Promise<void> {
    await this.draft.load([keys.place(this.sessionId, learnerId), keys.learnerHolds(learnerId)]);
  }

  place(learnerId: string): Place | null {
    return this.draft.get<Place>(keys.place(this.sessionId, learnerId));
  }

  #learnerHolds(learnerId: string): LearnerHolds {
    return this.draft.get<LearnerHolds>(keys.learnerHolds(learnerId)) ?? { items: [] };
  }

  /** Live (unexpired) holds of kind "hold" the learner has across all sessions. */
  activeHoldCount(learnerId: string): number {
    return this.#learnerHolds(learnerId).items.filter((i) => i.kind === "hold" && i.expiresAtMs > this.nowMs)
      .length;
  }

  /**
   * The learner's live place, after expiring a stale hold or offer that still occupies it.
   * Requires `loadLearner` first.
   */
  async livePlace(learnerId: string): Promise<Place | null> {
    const place = this.place(learnerId);
    if (!place) return null;
    if ((place.kind === "hold" || place.kind === "offer") && (place.expiresAtMs ?? 0) <= this.nowMs) {
      await this.expireHold(place.id);
      return this.place(learnerId);
    }
    return place;
  }

  /** Loads a hold of this session (null when missing or of another session). */
  async loadHold(holdId: string): Promise<Hold | null> {
    await this.draft.load([keys.hold(holdId)]);
    const hold = this.draft.get<Hold>(keys.hold(holdId));
    return hold && hold.sessionId === this.sessionId ? hold : null;
  }

  /** Writes a new hold (or waitlist offer) taking one seat. The caller checked capacity and place. */
  createHold(
    learnerId: string,
    kind: "hold" | "offer",
    expiresAtMs: number,
    idempotencyKey: string | null,
    alternativeOf: string | null = null,
    courseEntryId?: string,
  ): Hold {
    const hold: Hold = {
      id: ulid(this.nowMs),
      sessionId: this.sessionId,
      learnerId,
      kind,
      status: "active",
      createdAt: this.now.toISOString(),
      expiresAt: new Date(expiresAtMs).toISOString(),
      idempotencyKey,
      origin: this.actor.origin,
      ...(alternativeOf ? { alternativeOf } : {}),
      ...(courseEntryId ? { courseEntryId } : {}),
    };
    const d = this.draft;
    d.set(keys.hold(hold.id), hold);
    d.set(keys.holdBySession(this.sessionId, expiresAtMs, hold.id), hold.id);
    d.set(keys.holdByExpiry(expiresAtMs, hold.id), { holdId: hold.id, sessionId: this.sessionId });
    d.set(keys.place(this.sessionId, learnerId), { kind, id: hold.id, expiresAtMs } satisfies Place);
    const doc = this.#learnerHolds(learnerId);
    d.set(
      keys.learnerHolds(learnerId),
      {
        items: [...doc.items.filter((i) => i.expiresAtMs > this.nowMs), {
          holdId: hold.id,
          sessionId: this.sessionId,
          kind,
          expiresAtMs,
        }],
      } satisfies LearnerHolds,
    );
    this.#setSeats({ holds: 1 });
    // Released on time by the hold sweep (lib/worker/jobs.ts), which walks `holds_by_expiry`;
    // reads already stop counting it at `expiresAt`.
    return hold;
  }

  /** Ends a live hold: frees its seat and indexes; the place is the caller's business. */
  #endHold(hold: Hold, status: "released" | "expired" | "confirmed"): Hold {
    const d = this.draft;
    const ms = Date.parse(hold.expiresAt);
    const ended: Hold = { ...hold, status };
    d.set(keys.hold(hold.id), ended);
    d.delete(keys.holdBySession(this.sessionId, ms, hold.id));
    d.delete(keys.holdByExpiry(ms, hold.id));
    const doc = this.#learnerHolds(hold.learnerId);
    d.set(
      keys.learnerHolds(hold.learnerId),
      {
        items: doc.items.filter((i) => i.holdId !== hold.id && i.expiresAtMs > this.nowMs),
      } satisfies LearnerHolds,
    );
    this.#setSeats({ holds: -1 });
    this.#expired.delete(hold.id);
    if (hold.kind === "offer" && hold.courseEntryId && status !== "confirmed") {
      this.#endedCourseOffers.push({ learnerId: hold.learnerId, courseEntryId: hold.courseEntryId });
    }
    return ended;
  }

  /** Releases an active hold on request (learner or admin). An offer released is a declined offer. */
  async releaseHold(hold: Hold): Promise<Hold> {
    if (hold.status !== "active") {
      throw new DomainError(409, "hold_not_active", `This hold is already ${hold.status}.`);
    }
    await this.loadLearner(hold.learnerId);
    const ended = this.#endHold(hold, "released");
    this.draft.delete(keys.place(this.sessionId, hold.learnerId));
    if (hold.kind === "offer") this.draft.delete(keys.waitlistByLearner(hold.learnerId, this.sessionId));
    addEvent(this.draft, this.actor, "hold.released", this.sessionId, hold.learnerId, {
      holdId: hold.id,
      kind: hold.kind,
    }, this.now);
    return ended;
  }

  /** Expires a hold whose time is up; a no-op (null) when it is not active or not yet due. */
  async expireHold(holdId: string): Promise<Hold | null> {
    const hold = await this.loadHold(holdId);
    if (!hold || hold.status !== "active" || Date.parse(hold.expiresAt) > this.nowMs) return null;
    await this.loadLearner(hold.learnerId);
    const ended = this.#endHold(hold, "expired");
    const place = this.place(hold.learnerId);
    if (place?.id === hold.id) this.draft.delete(keys.place(this.sessionId, hold.learnerId));
    if (hold.kind === "offer") this.draft.delete(keys.waitlistByLearner(hold.learnerId, this.sessionId));
    addEvent(
      this.draft,
      { ...this.actor, origin: "system", userId: null, reason: "hold expired" },
      "hold.expired",
      this.sessionId,
      hold.learnerId,
      {
        holdId: hold.id,
        kind: hold.kind,
        expiresAt: hold.expiresAt,
      },
      this.now,
    );
    return ended;
  }

  /** Turns a live hold into a confirmed booking. */
  confirmHold(hold: Hold, registration = crypto.randomUUID()): Booking {
    const booking = this.#createBooking(hold.learnerId, hold.id, registration, null, hold.alternativeOf ?? null);
    this.#endHold(hold, "confirmed");
    if (hold.kind === "offer") this.draft.delete(keys.waitlistByLearner(hold.learnerId, this.sessionId));
    return booking;
  }

  #createBooking(
    learnerId: string,
    holdId: string | null,
    registration: string,
    from: string | null,
    alternativeOf: string | null = null,
  ): Booking {
    const at = this.now.toISOString();
    const booking: Booking = {
      id: ulid(this.nowMs),
      sessionId: this.sessionId,
      learnerId,
      status: "confirmed",
      registration,
      holdId,
      origin: this.actor.origin,
      createdAt: at,
      confirmedAt: at,
      cancelledAt: null,
      cancelReason: null,
      lateCancel: false,
      rescheduledFromBookingId: from,
      rescheduledToBookingId: null,
      audit: [{
        at,
        actorId: this.actor.userId,
        origin: this.actor.origin,
        action: from ? "rescheduled_in" : "confirmed",
        reason: this.actor.reason ?? null,
      }],
      ...(alternativeOf ? { alternativeOf } : {}),
    };
    const d = this.draft;
    d.set(keys.booking(booking.id), booking);
    d.set(keys.bookingBySession(this.sessionId, booking.id), booking.id);
    d.set(keys.bookingByLearner(learnerId, booking.id), booking.id);
    d.set(keys.place(this.sessionId, learnerId), { kind: "booking", id: booking.id } satisfies Place);
    this.#setSeats({ confirmed: 1 });
    return booking;
  }

  /** Books a learner straight into this session (reschedule target). Caller checked seat and place. */
  bookDirect(learnerId: string, registration: string, fromBookingId: string): Booking {
    return this.#createBooking(learnerId, null, registration, fromBookingId);
  }

  /** Cancels a confirmed booking and frees its seat. `late` is decided by the caller's cut-off. */
  cancelBooking(
    booking: Booking,
    late: boolean,
    action: "cancelled" | "rescheduled_out" | "session_cancelled",
    toBookingId?: string,
  ): Booking {
    if (booking.status !== "confirmed") {
      throw new DomainError(409, "booking_not_active", `This booking is already ${booking.status}.`);
    }
    const at = this.now.toISOString();
    const cancelled: Booking = {
      ...booking,
      status: "cancelled",
      cancelledAt: at,
      cancelReason: this.actor.reason ?? null,
      lateCancel: late,
      rescheduledToBookingId: toBookingId ?? null,
      audit: [...booking.audit, {
        at,
        actorId: this.actor.userId,
        origin: this.actor.origin,
        action,
        reason: this.actor.reason ?? null,
      }],
    };
    this.draft.set(keys.booking(booking.id), cancelled);
    this.draft.delete(keys.place(this.sessionId, booking.learnerId));
    this.#setSeats({ confirmed: -1 });
    return cancelled;
  }

  /**
   * Adds the learner to the waitlist; returns the entry and 1-based position in offer order
   * (lib/booking/waitlist_order.ts: a sooner compliance `deadline` first, then first come).
   * `joinedAt` is kept strictly after the current tail: learners who join in the same millisecond
   * (every op of a lane batch shares one `now`) stay in join order instead of falling into
   * learner-id order.
   */
  async joinWaitlist(
    learnerId: string,
    deadline: string | null = null,
    courseEntryId?: string,
  ): Promise<{ entry: WaitlistEntry; position: number }> {
    let tailMs = -Infinity;
    const prefix = keys.waitlistPrefix(this.sessionId);
    const queued: WaitlistEntry[] = [];
    for await (const e of this.draft.kv.list<WaitlistEntry>({ prefix })) {
      tailMs = Math.max(tailMs, Date.parse(e.value.joinedAt));
      if (!(this.draft.has(e.key) && this.draft.get(e.key) === null)) queued.push(e.value);
    }
    for (const w of this.draft.pendingSets<WaitlistEntry>(prefix)) {
      tailMs = Math.max(tailMs, Date.parse(w.value.joinedAt));
      queued.push(w.value);
    }
    const entry: WaitlistEntry = {
      sessionId: this.sessionId,
      learnerId,
      joinedAt: new Date(Math.max(this.nowMs, tailMs + 1)).toISOString(),
      status: "waiting",
      offerHoldId: null,
      ...(deadline ? { deadline } : {}),
      ...(courseEntryId ? { courseEntryId } : {}),
    };
    const d = this.draft;
    d.set(keys.waitlistEntry(this.sessionId, entry.joinedAt, learnerId), entry);
    d.set(keys.waitlistByLearner(learnerId, this.sessionId), entry);
    d.set(keys.place(this.sessionId, learnerId), { kind: "waitlist", id: entry.joinedAt } satisfies Place);
    this.#setSeats({ waiting: 1 });
    addEvent(d, this.actor, "waitlist.joined", this.sessionId, learnerId, {
      joinedAt: entry.joinedAt,
      ...(deadline ? { deadline } : {}),
      ...(courseEntryId ? { courseWide: true, courseEntryId } : {}),
    }, this.now);
    return { entry, position: queued.filter((q) => waitlistOrder(q, entry) < 0).length + 1 };
  }

  /** Removes a waiting learner from the waitlist; `data` adds to the waitlist.left event. */
  leaveWaitlist(entry: WaitlistEntry, data: Record<string, unknown> = {}): void {
    const d = this.draft;
    d.delete(keys.waitlistEntry(this.sessionId, entry.joinedAt, entry.learnerId));
    d.delete(keys.waitlistByLearner(entry.learnerId, this.sessionId));
    d.delete(keys.place(this.sessionId, entry.learnerId));
    this.#setSeats({ waiting: -1 });
    addEvent(d, this.actor, "waitlist.left", this.sessionId, entry.learnerId, {
      joinedAt: entry.joinedAt,
      ...data,
    }, this.now);
  }

  /**
   * Ends an active hold or offer of this session because the session is cancelled: released
   * (hold.released) while live, expired (hold.expired) when already past its time. The hold may
   * have been read outside the draft: every change to a hold also writes `["seats", id]`, which
   * the commit checks. Only the learner's cross-session holds document is loaded (one check).
   */
  async endHoldForSessionCancel(hold: Hold): Promise<Hold> {
    if (hold.status !== "active" || hold.sessionId !== this.sessionId) {
      throw new DomainError(409, "hold_not_active", `This hold is already ${hold.status}.`);
    }
    await this.draft.load([keys.learnerHolds(hold.learnerId)]);
    const lapsed = Date.parse(hold.expiresAt) <= this.nowMs;
    const ended = this.#endHold(hold, lapsed ? "expired" : "released");
    // An active hold (lapsed or not) is the learner's one place in the session.
    this.draft.delete(keys.place(this.sessionId, hold.learnerId));
    if (hold.kind === "offer") this.draft.delete(keys.waitlistByLearner(hold.learnerId, this.sessionId));
    if (lapsed) {
      addEvent(
        this.draft,
        { ...this.actor, origin: "system", userId: null },
        "hold.expired",
        this.sessionId,
        hold.learnerId,
        {
          holdId: hold.id,
          kind: hold.kind,
          expiresAt: hold.expiresAt,
          bySessionCancel: true,
        },
        this.now,
      );
    } else {
      addEvent(this.draft, this.actor, "hold.released", this.sessionId, hold.learnerId, {
        holdId: hold.id,
        kind: hold.kind,
        bySessionCancel: true,
      }, this.now);
    }
    return ended;
  }

  /**
   * Offers free seats to the head of the waitlist (sooner compliance deadline first, then FIFO:
   * lib/booking/waitlist_order.ts): each offer is a hold of kind "offer".
   * Runs after every change that may free a seat. Returns the offers made.
   */
  async fillOffers(reserve = 0): Promise<Hold[]> {
    this.#offersDeferred = false;
    const s = this.session;
    const startsAtMs = Date.parse(s.startsAt);
    if (s.status !== "scheduled" || !s.waitlistEnabled || startsAtMs <= this.nowMs) return [];
    // Each offer may cost two checks (the learner's place and holds document), three for a
    // course-wide entry (its course record): offer only what fits this commit, less `reserve`
    // checks kept for the operations still to run. The rest wait for a later commit (the lane
    // schedules one) and newcomers may not take those seats meanwhile.
    const limit = this.draft.limits.checksPerAtomic - reserve;
    const room = Math.floor((limit - this.draft.size().checks) / 2);
    const owed = Math.min(this.free(), this.seats.waiting);
    const want = Math.min(owed, Math.max(0, room));
    // Only the budget defers an offer; a waiting learner passed over (a live course-wide offer
    // elsewhere) gets their pass when that offer ends (sessionsToWake).
    this.#offersDeferred = want < owed;
    if (want <= 0) return [];
    let heads: WaitlistEntry[] = [];
    const prefix = keys.waitlistPrefix(this.sessionId);
    // The whole queue: a later joiner with a sooner compliance deadline goes first (waitlist_order.ts).
    for await (const e of this.draft.kv.list<WaitlistEntry>({ prefix })) {
      // Skip entries this draft already removed.
      if (this.draft.has(e.key) && this.draft.get(e.key) === null) continue;
      heads.push(e.value);
    }
    // Entries this draft added (joins earlier in the same lane batch) are in the queue too.
    heads.push(...this.draft.pendingSets<WaitlistEntry>(prefix).map((w) => w.value));
    heads = heads.sort(waitlistOrder);
    // The course's offer windows in force now (the instance's rules cache: no store read per offer).
    const windows = await effectiveRules(this.draft.kv, s.courseId);
    const offers: Hold[] = [];
    for (const entry of heads) {
      if (offers.length >= want) break;
      let course: CourseWaitlistEntry | null = null;
      if (this.draft.size().checks + (entry.courseEntryId ? 3 : 2) > limit) {
        this.#offersDeferred = true;
        break;
      }
      if (entry.courseEntryId) {
        course = await this.#courseEntryFor(entry);
        if (!course) continue;
      }
      await this.loadLearner(entry.learnerId);
      const expiresAtMs = offerExpiry(this.nowMs, startsAtMs, windows);
      const hold = this.createHold(entry.learnerId, "offer", expiresAtMs, null, null, entry.courseEntryId);
      if (course) {
        // The checked write that keeps two sessions from offering this learner at once.
        this.draft.set(
          keys.courseWaitlist(entry.learnerId, s.courseId),
          {
            ...course,
            offer: { holdId: hold.id, sessionId: this.sessionId, expiresAt: hold.expiresAt },
          } satisfies CourseWaitlistEntry,
        );
      }
      this.draft.delete(keys.waitlistEntry(this.sessionId, entry.joinedAt, entry.learnerId));
      this.draft.set(
        keys.waitlistByLearner(entry.learnerId, this.sessionId),
        {
          ...entry,
          status: "offered",
          offerHoldId: hold.id,
        } satisfies WaitlistEntry,
      );
      this.#setSeats({ waiting: -1 });
      addEvent(
        this.draft,
        { ...this.actor, origin: "system", userId: null },
        "waitlist.offered",
        this.sessionId,
        entry.learnerId,
        {
          holdId: hold.id,
          expiresAt: hold.expiresAt,
          joinedAt: entry.joinedAt,
          ...(entry.courseEntryId ? { courseWide: true, courseEntryId: entry.courseEntryId } : {}),
        },
        this.now,
      );
      offers.push(hold);
    }
    return offers;
  }

  /**
   * The course-wide entry behind a session's waitlist place, loaded (checked) into the draft, when
   * it may be offered now; null when it holds a live offer elsewhere (it stays queued here), or when
   * the entry was closed (left, or an offer accepted): then the stale place is removed.
   */
  async #courseEntryFor(entry: WaitlistEntry): Promise<CourseWaitlistEntry | null> {
    const key = keys.courseWaitlist(entry.learnerId, this.session.courseId);
    await this.draft.load([key]);
    const course = this.draft.get<CourseWaitlistEntry>(key);
    if (!course || course.id !== entry.courseEntryId) {
      this.leaveWaitlist(entry, {
        courseWide: true,
        courseEntryId: entry.courseEntryId,
        reason: "course_entry_closed",
      });
      return null;
    }
    const offer = course.offer;
    if (!offer || Date.parse(offer.expiresAt) <= this.nowMs) return course;
    // An offer ends without touching the course record (declined, lapsed, its session cancelled):
    // read the hold. An ended hold never becomes active again, so an unchecked read is enough.
    const holdKey = keys.hold(offer.holdId);
    const hold = this.draft.has(holdKey)
      ? this.draft.get<Hold>(holdKey)
      : (await this.draft.kv.get<Hold>(holdKey)).value;
    return hold?.status === "active" ? null : course;
  }

  /**
   * Closes the course-wide entry an accepted offer came from (the learner's other places from it
   * go: removed right after by the engine, and skipped and removed by any session meanwhile).
   */
  async closeCourseEntry(hold: Hold): Promise<void> {
    if (!hold.courseEntryId) return;
    const key = keys.courseWaitlist(hold.learnerId, this.session.courseId);
    await this.draft.load([key]);
    const course = this.draft.get<CourseWaitlistEntry>(key);
    if (course?.id === hold.courseEntryId) {
      this.draft.delete(key);
      this.draft.delete(keys.courseWaitlistByCourse(course.courseId, course.joinedAt, course.learnerId));
    }
  }
}
