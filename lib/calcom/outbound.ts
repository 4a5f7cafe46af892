/**
 * Outbound sync (us → Cal.com). One worker per process (a KV lease keeps it to one sender):
 *
 * 1. **Consumer.** Reads the outbox (`listEvents`) after its cursor (meta `outbound_cursor`), in
 *    commit order. `booking.confirmed` / `booking.cancelled` mark that booking pending;
 *    `booking.rescheduled` marks the old and the new booking pending; `session.*` queue a job for
 *    the session's event type. A change whose origin is `calcom` is never sent back: its booking
 *    becomes `skipped`. No tenant for the session → `skipped`; a session already over → `skipped`
 *    (a first start reads the whole outbox; the past is not replayed to Cal.com). The cursor moves
 *    after marking, so a crash marks again (harmless: see 2).
 * 2. **Runner.** Takes what is due and brings Cal.com to OUR CURRENT state of that booking or
 *    session (desired state, not a replay of changes), so a repeat, a retry after a lost answer or
 *    an old event marked again sends nothing twice.
 * 3. **Retries** follow {@link decideRetry} (1 s, 5 s, 30 s; 429 honours Retry-After; other 4xx
 *    are final). A final failure sets `failed`, flags the booking and opens a review item; a later
 *    success resolves it ("synced on retry"). Every failure is stored and logged, secrets redacted.
 *
 * Wake-ups: the KV queue's events message (`wake()`, see lib/background.ts) and a poll every
 * `pollMs` (1 s), or sooner when a retry is due sooner.
 */
import type { Config } from "../config.ts";
import { type CommittedEvent, listEvents } from "../booking/events.ts";
import type { Session } from "../domain/mod.ts";
import { getBooking, listBookingsBySession } from "../store/bookings.ts";
import { getCourse } from "../store/courses.ts";
import { getLocation } from "../store/locations.ts";
import { getSession } from "../store/sessions.ts";
import { getUser } from "../store/users.ts";
import { type CalcomClient, createCalcomClient, type SeatBooking } from "./client.ts";
import { eventTypeInput } from "./outbound_event_type.ts";
import {
  classifyFailure,
  decideRetry,
  DEFAULT_RETRY_DELAYS_MS,
  isNotFound,
  OutboundDataError,
} from "./outbound_retry.ts";
import {
  deleteSessionJob,
  getSessionJob,
  holdOutboundLease,
  listDueSessionJobs,
  nextSessionJobDueAt,
  putSessionJob,
  queueSessionJob,
  releaseOutboundLease,
  sessionReviewId,
  type SessionSyncJob,
} from "./outbound_store.ts";
import {
  type EventTypeLink,
  flagForReview,
  getEventTypeLink,
  getReviewItem,
  getSeatLink,
  getSyncMeta,
  getSyncState,
  listDueSyncs,
  nextDueAt,
  pendingState,
  resolveReviewItem,
  saveEventTypeLink,
  saveSeatLink,
  setSyncMeta,
  syncReviewId,
  type SyncState,
  updateSyncState,
} from "./sync_store.ts";
import { canCallApi, listTenants, resolveTenant, type Tenant, tenantForSession } from "./tenants.ts";

/** Meta name of the consumer's cursor in the outbox. */
export const OUTBOUND_CURSOR = "outbound_cursor";
/** Note of a booking whose change came from Cal.com. */
export const NOTE_FROM_CALCOM = "came from Cal.com; not sent back";
/** Note of a booking whose session no tenant mirrors. */
export const NOTE_NO_TENANT = "no Cal.com tenant for this session";
/** Note of a booking whose session ended before the change was read (history is not replayed to Cal.com). */
export const NOTE_SESSION_OVER = "the session is over; not sent";
/** Note of a cancelled booking that never had a Cal.com seat. */
export const NOTE_NOTHING_ON_CALCOM = "nothing on Cal.com";

/** A tenant the sync can call. */
export type ApiTenant = Tenant & { baseUrl: string; apiKey: string };

/** Log levels of {@link OutboundSyncDeps.log}. */
export type OutboundLogLevel = "info" | "warn" | "error";

/** What the worker needs. */
export interface OutboundSyncDeps {
  kv: Deno.Kv;
  config: Config;
  /** The Cal.com client of a tenant (default: {@link createCalcomClient} with its URL and key). */
  clientFor?: (tenant: ApiTenant) => CalcomClient;
  /** Clock of sync states and due times (ms; default `Date.now`). */
  now?: () => number;
  /** Waits before the 2nd, 3rd, 4th attempt (default 1 s, 5 s, 30 s). */
  retryDelaysMs?: readonly number[];
  /** Longest idle wait between looks at the outbox and the due list (default 1 000 ms). */
  pollMs?: number;
  /** Per-request time limit of the default client (default 10 000 ms). */
  requestTimeoutMs?: number;
  /** Lease length (default 15 000 ms). */
  leaseMs?: number;
  /** Where messages go (default console); they never contain keys or secrets. */
  log?: (level: OutboundLogLevel, message: string) => void;
}

/** The worker's state for health pages. */
export interface OutboundStatus {
  /** standby: another process holds the lease. */
  state: "idle" | "running" | "standby" | "stopped";
  cursor: string | null;
  lastRunAt: string | null;
  lastError: { message: string; at: string } | null;
  /** Since start: bookings and sessions brought in line with Cal.com, failures (retried or not), flags. */
  synced: number;
  failures: number;
  flagged: number;
}

interface Outcome {
  status: "synced" | "skipped";
  note: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

function sameRound(a: SyncState, b: SyncState): boolean {
  return a.status === "pending" && a.changedAt === b.changedAt && a.attempts === b.attempts &&
    a.nextAttemptAt === b.nextAttemptAt;
}

function sameJobRound(a: SessionSyncJob, b: SessionSyncJob): boolean {
  return a.status === "pending" && a.changedAt === b.changedAt && a.attempts === b.attempts &&
    a.nextAttemptAt === b.nextAttemptAt;
}

function defaultLog(level: OutboundLogLevel, message: string): void {
  if (level === "error") console.error(message);
  else if (level === "warn") console.warn(message);
  else console.log(message);
}

/** Milliseconds of a ULID's time part (the wall-clock time an event's key was minted at commit). */
function ulidMs(key: string): number {
  const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  let t = 0;
  for (const ch of key.slice(0, 10)) t = t * 32 + alphabet.indexOf(ch);
  return t;
}

/** The outbound sync worker. `start()` once; `wake()` after commits; `stop()` in tests. */
export class OutboundSync {
  readonly #kv: Deno.Kv;
  readonly #config: Config;
  readonly #clientFor: (tenant: ApiTenant) => CalcomClient;
  readonly #now: () => number;
  readonly #delays: readonly number[];
  readonly #pollMs: number;
  readonly #leaseMs: number;
  readonly #log: (level: OutboundLogLevel, message: string) => void;
  readonly #owner = crypto.randomUUID();
  #leaseUntil = 0;
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #woken = false;
  #status: OutboundStatus = {
    state: "idle",
    cursor: null,
    lastRunAt: null,
    lastError: null,
    synced: 0,
    failures: 0,
    flagged: 0,
  };

  constructor(deps: OutboundSyncDeps) {
    this.#kv = deps.kv;
    this.#config = deps.config;
    const timeoutMs = deps.requestTimeoutMs ?? 10_000;
    this.#clientFor = deps.clientFor ??
      ((t) => createCalcomClient({ baseUrl: t.baseUrl, apiKey: t.apiKey, timeoutMs }));
    this.#now = deps.now ?? Date.now;
    this.#delays = deps.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.#pollMs = deps.pollMs ?? 1_000;
    this.#leaseMs = deps.leaseMs ?? 15_000;
    this.#log = deps.log ?? defaultLog;
  }

  /** A copy of the worker's state. */
  status(): OutboundStatus {
    return { ...this.#status, lastError: this.#status.lastError && { ...this.#status.lastError } };
  }

  /** Starts the loop (idempotent). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Cuts the idle wait short: events were committed or work was queued. */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /** Stops the loop after the current step and gives the lease up. */
  async stop(): Promise<void> {
    this.#running = false;
    this.wake();
    await this.#loop;
    this.#loop = null;
    this.#leaseUntil = 0;
    await releaseOutboundLease(this.#kv, this.#owner).catch(() => {});
    this.#status.state = "stopped";
  }

  /**
   * One pass without the loop: marks what the outbox holds after the cursor, then runs what is
   * due. Returns how many events were read and jobs run.
   */
  async syncOnce(): Promise<{ events: number; jobs: number }> {
    const events = await this.consumeEvents();
    const jobs = await this.runDue();
    return { events, jobs };
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.#wake === done) this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  async #holdLease(): Promise<boolean> {
    const now = Date.now();
    if (this.#leaseUntil - now > this.#leaseMs / 2) return true;
    const ok = await holdOutboundLease(this.#kv, this.#owner, this.#leaseMs, now);
    this.#leaseUntil = ok ? now + this.#leaseMs : 0;
    return ok;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let worked = 0;
      try {
        if (!(await this.#holdLease())) {
          this.#status.state = "standby";
          if (this.#running) await this.#sleep(this.#pollMs);
          continue;
        }
        this.#woken = false;
        worked = await this.consumeEvents();
        worked += await this.runDue();
        this.#status.state = "running";
        this.#status.lastRunAt = iso(Date.now());
      } catch (err) {
        const message = classifyFailure(err, await this.#secrets().catch(() => [])).message;
        this.#status.lastError = { message, at: iso(Date.now()) };
        this.#log("error", `calcom outbound: pass failed: ${message}`);
        worked = 0;
        if (this.#running) await this.#sleep(this.#pollMs);
        continue;
      }
      if (!this.#running || worked > 0 || this.#woken) continue;
      await this.#sleep(await this.#idleMs());
    }
  }

  async #idleMs(): Promise<number> {
    const [a, b] = await Promise.all([nextDueAt(this.#kv), nextSessionJobDueAt(this.#kv)]);
    const due = a === null ? b : b === null ? a : Math.min(a, b);
    if (due === null) return this.#pollMs;
    return Math.max(5, Math.min(this.#pollMs, due - this.#now()));
  }

  /** Every key and secret of every tenant (redacted from anything stored or logged). */
  async #secrets(): Promise<string[]> {
    const out = [this.#config.calcomApiKey, this.#config.calcomWebhookSecret];
    for (const t of await listTenants(this.#kv, this.#config)) out.push(t.apiKey, t.webhookSecret);
    return out.filter((s): s is string => typeof s === "string" && s !== "");
  }

  // ── consumer ──────────────────────────────────────────────────────────

  /** Marks the work of every event after the cursor, then moves the cursor. Returns events read. */
  async consumeEvents(limit = 200): Promise<number> {
    const cursor = await getSyncMeta<string>(this.#kv, OUTBOUND_CURSOR);
    const { events, nextCursor } = await listEvents(this.#kv, { after: cursor, limit });
    for (const event of events) await this.#mark(event);
    if (events.length > 0 && nextCursor) {
      await setSyncMeta(this.#kv, OUTBOUND_CURSOR, nextCursor);
      this.#status.cursor = nextCursor;
    }
    return events.length;
  }

  async #mark(event: CommittedEvent): Promise<void> {
    const data = event.data as Record<string, unknown>;
    const str = (v: unknown) => typeof v === "string" ? v : null;
    switch (event.type) {
      case "booking.confirmed":
      case "booking.cancelled": {
        const bookingId = str(data.bookingId);
        if (bookingId) await this.#markBooking(event, bookingId, event.sessionId);
        return;
      }
      case "booking.rescheduled": {
        const from = str(data.fromBookingId);
        const to = str(data.bookingId);
        if (from) await this.#markBooking(event, from, str(data.fromSessionId) ?? event.sessionId);
        if (to) await this.#markBooking(event, to, str(data.toSessionId) ?? event.sessionId);
        return;
      }
      case "session.scheduled":
      case "session.updated":
      case "session.cancelled":
        if (event.origin !== "calcom") await this.#markSession(event);
        return;
      default:
        return;
    }
  }

  async #markBooking(event: CommittedEvent, bookingId: string, sessionId: string): Promise<void> {
    const nowMs = this.#now();
    const changedMs = Math.min(nowMs, ulidMs(event.key));
    const base = (cur: SyncState | null, tenant: string | null) => ({
      ...pendingState(cur, { bookingId, sessionId, tenant, origin: event.origin, nowMs }),
      changedAt: iso(changedMs),
    });
    const skipped = (cur: SyncState | null, tenant: string | null, note: string): SyncState => ({
      ...base(cur, tenant),
      status: "skipped",
      nextAttemptAt: null,
      note,
    });
    if (event.origin === "calcom") {
      // The inbound step may have recorded it already (synced, verified): keep that.
      await updateSyncState(
        this.#kv,
        bookingId,
        (cur) =>
          cur && cur.origin === "calcom" && cur.status !== "pending"
            ? null
            : skipped(cur, cur?.tenant ?? null, NOTE_FROM_CALCOM),
      );
      return;
    }
    const session = await getSession(this.#kv, sessionId);
    const tenant = session ? await tenantForSession(this.#kv, this.#config, session) : null;
    if (!session || !tenant) {
      await updateSyncState(
        this.#kv,
        bookingId,
        (cur) => skipped(cur, null, session ? NOTE_NO_TENANT : "session not found"),
      );
      return;
    }
    if (Date.parse(session.endsAt) <= nowMs) {
      await updateSyncState(this.#kv, bookingId, (cur) => skipped(cur, tenant.slug, NOTE_SESSION_OVER));
      return;
    }
    await updateSyncState(this.#kv, bookingId, (cur) => base(cur, tenant.slug));
  }

  async #markSession(event: CommittedEvent): Promise<void> {
    const session = await getSession(this.#kv, event.sessionId);
    if (!session || Date.parse(session.endsAt) <= this.#now()) return;
    const link = await getEventTypeLink(this.#kv, session.id);
    // A session never mirrored needs nothing when it is cancelled.
    if (event.type === "session.cancelled" && !link) return;
    const tenant = link?.tenant ?? (await tenantForSession(this.#kv, this.#config, session))?.slug ?? null;
    if (!tenant) return;
    await queueSessionJob(this.#kv, session.id, tenant, this.#now());
  }

  // ── runner ────────────────────────────────────────────────────────────

  /** Runs due session jobs, then due bookings (up to 100). Returns how many ran. */
  async runDue(): Promise<number> {
    let n = 0;
    for (const job of await listDueSessionJobs(this.#kv, this.#now())) {
      await this.#runSessionJob(job);
      n++;
    }
    for (const bookingId of await listDueSyncs(this.#kv, this.#now(), 100)) {
      await this.#runBooking(bookingId);
      n++;
    }
    return n;
  }

  async #apiTenant(slug: string | null): Promise<ApiTenant | null> {
    if (!slug) return null;
    const tenant = await resolveTenant(this.#kv, this.#config, slug);
    return tenant && canCallApi(tenant) ? tenant : null;
  }

  async #runBooking(bookingId: string): Promise<void> {
    const state = await getSyncState(this.#kv, bookingId);
    if (!state || state.status !== "pending") return;
    try {
      const outcome = await this.#applyBooking(state);
      await this.#bookingDone(state, outcome);
    } catch (err) {
      await this.#bookingFailed(state, err);
    }
  }

  /**
   * Brings Cal.com to our current state of one booking.
   *
   * - confirmed, no active seat: ensure the session's event type, book a seat at the session's
   *   start (attendee = the learner, in the session's time zone; learners carry no zone of their
   *   own), keep Cal.com's booking uid and seat uid. On a retry it first looks for a seat an
   *   earlier attempt may have created before its answer was lost.
   * - cancelled with an active seat: cancel that seat only (`seatUid`); a 404 means it is gone.
   * - cancelled and never linked: skipped, nothing on Cal.com.
   *
   * A reschedule is two bookings: the old one (cancelled) and the new one (confirmed). With one
   * event type per session, a move BETWEEN sessions is therefore a seat cancel on the old
   * session's event type plus a new seat on the target's; a change of a session's TIME keeps the
   * bookings and moves each seat with `rescheduleSeat(bookingUid, seatUid, newStart)` (the session
   * job does that).
   */
  async #applyBooking(state: SyncState): Promise<Outcome> {
    const booking = await getBooking(this.#kv, state.bookingId);
    if (!booking) throw new OutboundDataError("BOOKING_NOT_FOUND", `booking ${state.bookingId} not found`);
    const link = await getSeatLink(this.#kv, booking.id);
    if (booking.status === "confirmed") {
      if (link?.status === "active") return { status: "synced", note: "the seat is on Cal.com" };
      const session = await getSession(this.#kv, booking.sessionId);
      if (!session) throw new OutboundDataError("SESSION_NOT_FOUND", `session ${booking.sessionId} not found`);
      const tenant = await this.#apiTenant(state.tenant);
      if (!tenant) return { status: "skipped", note: NOTE_NO_TENANT };
      const client = this.#clientFor(tenant);
      const eventType = await this.#ensureEventType(session, tenant, client);
      const learner = await getUser(this.#kv, booking.learnerId);
      if (!learner) throw new OutboundDataError("USER_NOT_FOUND", `learner ${booking.learnerId} not found`);
      let seat = state.attempts > 0
        ? await this.#findSeat(client, eventType.eventTypeId, learner.email, session.startsAt)
        : null;
      seat ??= await client.bookSeat({
        eventTypeId: eventType.eventTypeId,
        start: session.startsAt,
        attendee: { name: learner.name, email: learner.email, timeZone: session.timeZone, language: "en" },
        metadata: { bookingId: booking.id, sessionId: session.id },
      });
      await saveSeatLink(this.#kv, {
        bookingId: booking.id,
        sessionId: session.id,
        tenant: tenant.slug,
        eventTypeId: eventType.eventTypeId,
        calBookingUid: seat.bookingUid,
        seatUid: seat.seatUid,
        email: learner.email,
        status: "active",
        createdBy: "ours",
        linkedAt: iso(this.#now()),
      });
      return { status: "synced", note: "seat booked on Cal.com" };
    }
    if (!link) return { status: "skipped", note: NOTE_NOTHING_ON_CALCOM };
    if (link.status !== "active") return { status: "synced", note: "the seat is already cancelled on Cal.com" };
    await this.#cancelSeat(link);
    return { status: "synced", note: "seat cancelled on Cal.com" };
  }

  async #cancelSeat(link: NonNullable<Awaited<ReturnType<typeof getSeatLink>>>): Promise<void> {
    if (!link.seatUid) {
      throw new OutboundDataError("NO_SEAT_UID", `Cal.com booking ${link.calBookingUid} has no seat uid to cancel`);
    }
    const tenant = await this.#apiTenant(link.tenant);
    if (!tenant) throw new OutboundDataError("NO_API_ACCESS", `tenant ${link.tenant} has no Cal.com API access`);
    try {
      await this.#clientFor(tenant).cancelSeat(link.calBookingUid, link.seatUid);
    } catch (err) {
      if (!isNotFound(err)) throw err; // a 404: the seat is already gone
    }
    await saveSeatLink(this.#kv, { ...link, status: "cancelled" });
  }

  /** A seat for `email` at `start` that an earlier attempt created (its answer lost), or null. */
  async #findSeat(
    client: CalcomClient,
    eventTypeId: number,
    email: string,
    start: string,
  ): Promise<SeatBooking | null> {
    const page = await client.listBookings({ eventTypeId, attendeeEmail: email });
    for (const b of page.bookings) {
      if (b.status !== "accepted" || Date.parse(b.start) !== Date.parse(start)) continue;
      const attendee = b.attendees.find((a) => a.email.toLowerCase() === email.toLowerCase() && a.seatUid);
      if (attendee?.seatUid) return { bookingUid: b.uid, seatUid: attendee.seatUid, booking: b };
    }
    return null;
  }

  async #bookingDone(state: SyncState, outcome: Outcome): Promise<void> {
    const nowMs = this.#now();
    let wrote = false;
    await updateSyncState(this.#kv, state.bookingId, (s) => {
      wrote = !!s && sameRound(s, state);
      if (!s || !wrote) return null;
      const next: SyncState = {
        ...s,
        status: outcome.status,
        attempts: s.attempts + 1,
        lastAttemptAt: iso(nowMs),
        nextAttemptAt: null,
        errorCode: null,
        errorMessage: null,
        requiresManualReview: false,
        flaggedAt: null,
        note: outcome.note,
      };
      if (outcome.status === "synced") {
        next.verifiedAt = iso(nowMs);
        next.syncedAt = iso(nowMs);
        next.latencyMs = Math.max(0, nowMs - Date.parse(s.changedAt));
      }
      return next;
    });
    if (!wrote) return;
    this.#status.synced++;
    const item = await getReviewItem(this.#kv, syncReviewId(state.bookingId));
    if (item?.status === "open") {
      const comment = outcome.status === "synced" ? "synced on retry" : `nothing to send on retry: ${outcome.note}`;
      await resolveReviewItem(this.#kv, item.id, comment, null, nowMs);
    }
  }

  async #bookingFailed(state: SyncState, err: unknown): Promise<void> {
    const failure = classifyFailure(err, await this.#secrets());
    const attempts = state.attempts + 1;
    const decision = decideRetry(attempts, failure, this.#delays);
    const nowMs = this.#now();
    let wrote = false;
    await updateSyncState(this.#kv, state.bookingId, (s) => {
      wrote = !!s && sameRound(s, state);
      if (!s || !wrote) return null;
      const common = {
        ...s,
        attempts,
        lastAttemptAt: iso(nowMs),
        errorCode: failure.code,
        errorMessage: failure.message,
      };
      return decision.retry ? { ...common, nextAttemptAt: iso(nowMs + decision.delayMs) } : {
        ...common,
        status: "failed",
        nextAttemptAt: null,
        requiresManualReview: true,
        flaggedAt: iso(nowMs),
      };
    });
    this.#status.failures++;
    const what = `calcom outbound: booking ${state.bookingId} attempt ${attempts} failed (${failure.code})`;
    if (decision.retry) {
      this.#log("warn", `${what}; retrying in ${decision.delayMs} ms: ${failure.message}`);
      return;
    }
    const why = decision.reason === "exhausted" ? `retries exhausted after ${attempts} attempts` : "not retryable";
    this.#log("error", `${what}; ${why}, flagged for manual review: ${failure.message}`);
    if (!wrote) return;
    this.#status.flagged++;
    const link = await getSeatLink(this.#kv, state.bookingId);
    await flagForReview(this.#kv, {
      id: syncReviewId(state.bookingId),
      kind: "sync_failed",
      tenant: state.tenant,
      bookingId: state.bookingId,
      sessionId: state.sessionId,
      calBookingUid: link?.calBookingUid ?? null,
      email: link?.email ?? null,
      code: failure.code,
      message: `${failure.message} (${why})`,
      flaggedAt: iso(nowMs),
    });
  }

  // ── session jobs ──────────────────────────────────────────────────────

  async #eventTypeInputFor(session: Session) {
    const course = await getCourse(this.#kv, session.courseId);
    if (!course) throw new OutboundDataError("COURSE_NOT_FOUND", `course ${session.courseId} not found`);
    const location = session.locationId ? await getLocation(this.#kv, session.locationId) : null;
    return eventTypeInput(session, course, location);
  }

  /** The session's active event type, created on Cal.com first when it has none. */
  async #ensureEventType(session: Session, tenant: ApiTenant, client: CalcomClient): Promise<EventTypeLink> {
    const link = await getEventTypeLink(this.#kv, session.id);
    if (link?.status === "active") return link;
    const created = await client.createSeatedEventType(await this.#eventTypeInputFor(session));
    const saved: EventTypeLink = {
      sessionId: session.id,
      tenant: tenant.slug,
      eventTypeId: created.id,
      slug: created.slug,
      capacity: session.capacity,
      startsAt: session.startsAt,
      status: "active",
      syncedAt: iso(this.#now()),
    };
    await saveEventTypeLink(this.#kv, saved);
    return saved;
  }

  async #runSessionJob(job: SessionSyncJob): Promise<void> {
    try {
      await this.#applySession(job);
      const current = await getSessionJob(this.#kv, job.sessionId);
      if (current && sameJobRound(current, job)) await deleteSessionJob(this.#kv, job.sessionId);
      this.#status.synced++;
      const item = await getReviewItem(this.#kv, sessionReviewId(job.sessionId));
      if (item?.status === "open") await resolveReviewItem(this.#kv, item.id, "synced on retry", null, this.#now());
    } catch (err) {
      await this.#sessionJobFailed(job, err);
    }
  }

  /**
   * Brings a session's Cal.com event type to our current state: scheduled and not mirrored yet →
   * create it; mirrored → PATCH title, length, seats (capacity) and locations, and when the start
   * moved, reschedule every active seat to the new start (keeping each seat uid; Cal.com may put
   * them under a new booking uid, which is stored); cancelled → cancel its seats, then delete it.
   */
  async #applySession(job: SessionSyncJob): Promise<void> {
    const session = await getSession(this.#kv, job.sessionId);
    if (!session) throw new OutboundDataError("SESSION_NOT_FOUND", `session ${job.sessionId} not found`);
    const link = await getEventTypeLink(this.#kv, session.id);
    const tenant = await this.#apiTenant(link?.tenant ?? job.tenant);
    if (!tenant) throw new OutboundDataError("NO_API_ACCESS", `tenant ${job.tenant} has no Cal.com API access`);
    const client = this.#clientFor(tenant);
    if (session.status === "cancelled") {
      for (const booking of await listBookingsBySession(this.#kv, session.id)) {
        const seat = await getSeatLink(this.#kv, booking.id);
        if (seat?.status === "active") await this.#cancelSeat(seat);
      }
      if (link?.status === "active") {
        try {
          await client.deleteEventType(link.eventTypeId);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        await saveEventTypeLink(this.#kv, { ...link, status: "deleted", syncedAt: iso(this.#now()) });
      }
      return;
    }
    if (!link || link.status !== "active") {
      await this.#ensureEventType(session, tenant, client);
      return;
    }
    const input = await this.#eventTypeInputFor(session);
    await client.updateEventType(link.eventTypeId, {
      title: input.title,
      lengthInMinutes: input.lengthInMinutes,
      seats: input.seats,
      locations: input.locations,
    });
    if (Date.parse(link.startsAt) !== Date.parse(session.startsAt)) await this.#moveSeats(session, client, job);
    await saveEventTypeLink(this.#kv, {
      ...link,
      capacity: session.capacity,
      startsAt: session.startsAt,
      syncedAt: iso(this.#now()),
    });
  }

  async #moveSeats(session: Session, client: CalcomClient, job: SessionSyncJob): Promise<void> {
    for (const booking of await listBookingsBySession(this.#kv, session.id, { status: "confirmed" })) {
      const seat = await getSeatLink(this.#kv, booking.id);
      if (!seat || seat.status !== "active" || !seat.seatUid) continue;
      if (job.movedToStart === session.startsAt && job.movedToUid === seat.calBookingUid) continue;
      const moved = await client.rescheduleSeat(seat.calBookingUid, seat.seatUid, session.startsAt);
      await saveSeatLink(this.#kv, { ...seat, calBookingUid: moved.bookingUid, seatUid: moved.seatUid });
      job.movedToUid = moved.bookingUid;
      job.movedToStart = session.startsAt;
      const current = await getSessionJob(this.#kv, job.sessionId);
      if (current) {
        await putSessionJob(this.#kv, { ...current, movedToUid: job.movedToUid, movedToStart: job.movedToStart });
      }
    }
  }

  async #sessionJobFailed(job: SessionSyncJob, err: unknown): Promise<void> {
    const failure = classifyFailure(err, await this.#secrets());
    const attempts = job.attempts + 1;
    const decision = decideRetry(attempts, failure, this.#delays);
    const nowMs = this.#now();
    this.#status.failures++;
    const current = await getSessionJob(this.#kv, job.sessionId);
    const wrote = !!current && sameJobRound(current, job);
    const what = `calcom outbound: session ${job.sessionId} attempt ${attempts} failed (${failure.code})`;
    if (wrote) {
      const common: SessionSyncJob = {
        ...current!,
        attempts,
        lastAttemptAt: iso(nowMs),
        errorCode: failure.code,
        errorMessage: failure.message,
      };
      await putSessionJob(
        this.#kv,
        decision.retry ? { ...common, nextAttemptAt: iso(nowMs + decision.delayMs) } : {
          ...common,
          status: "failed",
          nextAttemptAt: null,
          requiresManualReview: true,
          flaggedAt: iso(nowMs),
        },
      );
    }
    if (decision.retry) {
      this.#log("warn", `${what}; retrying in ${decision.delayMs} ms: ${failure.message}`);
      return;
    }
    const why = decision.reason === "exhausted" ? `retries exhausted after ${attempts} attempts` : "not retryable";
    this.#log("error", `${what}; ${why}, flagged for manual review: ${failure.message}`);
    if (!wrote) return;
    this.#status.flagged++;
    await flagForReview(this.#kv, {
      id: sessionReviewId(job.sessionId),
      kind: "sync_failed",
      tenant: job.tenant,
      bookingId: null,
      sessionId: job.sessionId,
      calBookingUid: null,
      email: null,
      code: failure.code,
      message: `${failure.message} (${why})`,
      flaggedAt: iso(nowMs),
    });
  }
}

/**
 * Creates and starts the outbound worker. The app starts it always: with no tenant that can call
 * Cal.com, every booking simply ends `skipped` ("no Cal.com tenant for this session").
 */
export function startOutboundSync(deps: OutboundSyncDeps): OutboundSync {
  const sync = new OutboundSync(deps);
  sync.start();
  return sync;
}
