/**
 * Inbound Cal.com sync: applies a stored webhook delivery (lib/calcom/webhook_intake.ts) to our
 * bookings, with origin `calcom` so that nothing is sent back.
 *
 * - BOOKING_CREATED: each attendee of a mirrored event type gets a seat ({@link importCalcomSeat});
 *   the webhook Cal.com fires for a booking WE created is recognised (a seat link for that uid and
 *   email, or the learner already booked in the session) and applied as a no-op.
 * - BOOKING_CANCELLED: each attendee's seat, matched by (tenant, uid, email), is cancelled
 *   ({@link cancelFromCalcom}); never another seat of that uid, never the session.
 * - BOOKING_RESCHEDULED: each attendee's booking under `rescheduleUid` moves to the session that
 *   starts at `startTime` ({@link rescheduleFromCalcom}) and is relinked to `uid`.
 * - BOOKING_NO_SHOW_UPDATED, MEETING_ENDED: attendance of linked seats ({@link attendanceFromCalcom}).
 * - BOOKING_REQUESTED, BOOKING_REJECTED, MEETING_STARTED: kept, not applied.
 *
 * Anything Cal.com holds that we cannot apply (full session, no session at the new time, a
 * duplicate seat, ...) is flagged for manual review (`calcom_conflict`) and reported in the
 * outcome; a webhook is never refused for it (Cal.com would not resend it anyway).
 *
 * Learners are found by email; an unknown attendee becomes a new learner user (name from Cal.com,
 * else the email's local part).
 */
import type { BookingEngine } from "../booking/engine.ts";
import { DomainError } from "../booking/errors.ts";
import type { Actor } from "../booking/events.ts";
import type { Booking } from "../booking/model.ts";
import type { AttendanceStatus } from "../domain/attendance.ts";
import { endMeeting } from "../attendance/online.ts";
import { addRecording } from "../attendance/recording.ts";
import type { User } from "../domain/user.ts";
import { keys } from "../store/keys.ts";
import { getBooking } from "../store/bookings.ts";
import { getSession } from "../store/sessions.ts";
import { getUserByEmail, upsertUserByEmail } from "../store/users.ts";
import {
  findBookingBySeat,
  findSessionByEventType,
  flagForReview,
  getEventTypeLink,
  getSeatLink,
  saveSeatLink,
  type SeatLink,
  setSyncMeta,
  type SyncState,
  updateSyncState,
} from "./sync_store.ts";
import {
  type ApplyOutcome,
  type Delivery,
  type SeatOutcome,
  type StoredDelivery,
  WEBHOOK_PAYLOADS,
} from "./webhook_payloads.ts";

export type { ApplyOutcome, SeatAction, SeatOutcome } from "./webhook_payloads.ts";

/** What applying needs. */
export interface InboundDeps {
  kv: Deno.Kv;
  engine: BookingEngine;
  /** Clock for link, sync-state and meta times (tests); the engine keeps its own. */
  now?: () => Date;
}

/** A Cal.com attendee as webhooks and the bookings API carry it. */
export interface CalcomAttendeeInput {
  email: string;
  name?: string;
  timeZone?: string;
}

/** The system actor of a Cal.com change: no user, origin calcom, the delivery id as correlation. */
export function calcomActor(trigger: string, correlationId: string): Actor {
  return { userId: null, roles: [], origin: "calcom", correlationId, reason: `Cal.com ${trigger}` };
}

const clock = (deps: InboundDeps) => (deps.now ?? (() => new Date()))();
const lower = (email: string) => email.trim().toLowerCase();

function reasonOf(err: DomainError): string {
  return `${err.code}: ${err.message}`;
}

/** The live end of a booking's reschedule chain (our own reschedules relink after Cal.com's echo). */
async function currentBooking(kv: Deno.Kv, bookingId: string): Promise<Booking | null> {
  let booking = await getBooking(kv, bookingId);
  for (let i = 0; i < 20 && booking?.status === "cancelled" && booking.rescheduledToBookingId; i++) {
    booking = await getBooking(kv, booking.rescheduledToBookingId);
  }
  return booking;
}

/** The learner with this email; an unknown attendee becomes a learner user. */
async function resolveLearner(kv: Deno.Kv, attendee: CalcomAttendeeInput): Promise<{ user: User; created: boolean }> {
  const known = await getUserByEmail(kv, attendee.email);
  if (known) return { user: known, created: false };
  const email = lower(attendee.email);
  const name = (attendee.name?.trim() || email.split("@")[0] || email).slice(0, 160);
  return await upsertUserByEmail(kv, { email, name, roles: ["learner"] });
}

/** A sync state saying the booking came from (or was changed on) Cal.com and is not sent back. */
async function markFromCalcom(
  kv: Deno.Kv,
  booking: { id: string; sessionId: string },
  tenant: string,
  note: string,
  now: Date,
): Promise<void> {
  const at = now.toISOString();
  await updateSyncState(kv, booking.id, (prior): SyncState => ({
    bookingId: booking.id,
    sessionId: booking.sessionId,
    tenant,
    status: "skipped",
    origin: "calcom",
    attempts: prior?.attempts ?? 0,
    lastAttemptAt: prior?.lastAttemptAt ?? null,
    nextAttemptAt: null,
    errorCode: null,
    errorMessage: null,
    verifiedAt: at,
    requiresManualReview: false,
    flaggedAt: null,
    changedAt: at,
    syncedAt: prior?.syncedAt ?? null,
    latencyMs: prior?.latencyMs ?? null,
    note,
  }));
}

/** Cal.com was seen to agree with a booking: its sync state (if any) gets `verifiedAt`. */
async function markVerified(kv: Deno.Kv, bookingId: string, now: Date): Promise<void> {
  await updateSyncState(kv, bookingId, (s) => s && { ...s, verifiedAt: now.toISOString() });
}

async function conflict(
  deps: InboundDeps,
  input: {
    tenant: string;
    calBookingUid: string;
    email: string;
    sessionId: string | null;
    bookingId?: string | null;
    code: string;
    message: string;
  },
): Promise<SeatOutcome> {
  const item = await flagForReview(deps.kv, {
    kind: "calcom_conflict",
    tenant: input.tenant,
    bookingId: input.bookingId ?? null,
    sessionId: input.sessionId,
    calBookingUid: input.calBookingUid,
    email: input.email,
    code: input.code,
    message: input.message,
    flaggedAt: clock(deps).toISOString(),
  });
  return {
    action: "flagged",
    email: input.email,
    ...(input.bookingId ? { bookingId: input.bookingId } : {}),
    ...(input.sessionId ? { sessionId: input.sessionId } : {}),
    reviewItemId: item.id,
    reason: `${input.code}: ${input.message}`,
  };
}

/** A Cal.com seat to mirror as one of our bookings. */
export interface CalcomSeatInput {
  tenant: string;
  eventTypeId: number;
  /** Cal.com's booking uid (for seats: the parent booking's). */
  calBookingUid: string;
  seatUid: string | null;
  startTime: string;
  attendee: CalcomAttendeeInput;
}

/**
 * Mirrors one Cal.com seat as our booking (BOOKING_CREATED, reconciliation's import):
 * - event type not mapped for this tenant → `ignored`;
 * - a seat link (tenant, uid, email) to a confirmed booking → `linked` (no change);
 * - the learner already booked in the session → `already_booked`: the echo of a booking we made;
 *   its seat link is saved if missing (`createdBy: "ours"`); a different active Cal.com booking
 *   for that seat is a duplicate → flagged `duplicate_seat`;
 * - otherwise {@link BookingEngine.bookFromCalcom} takes a seat → `created`, with a seat link
 *   (`createdBy: "calcom"`) and a `skipped` sync state (never sent back);
 * - full, cancelled or started session, or a start time that is not the session's → `flagged`
 *   (`calcom_conflict`), nothing booked.
 */
export async function importCalcomSeat(
  deps: InboundDeps,
  input: CalcomSeatInput,
  actor: Actor,
): Promise<SeatOutcome> {
  const { kv } = deps;
  const email = lower(input.attendee.email);
  const sessionId = await findSessionByEventType(kv, input.tenant, input.eventTypeId);
  if (!sessionId) return { action: "ignored", email, reason: "event type not mirrored" };
  const base = { tenant: input.tenant, calBookingUid: input.calBookingUid, email, sessionId };
  const session = await getSession(kv, sessionId);
  if (!session) return await conflict(deps, { ...base, code: "session_not_found", message: "The session is gone." });
  if (Date.parse(session.startsAt) !== Date.parse(input.startTime)) {
    return await conflict(deps, {
      ...base,
      code: "start_time_mismatch",
      message: `Cal.com booked ${input.startTime}; the session starts at ${session.startsAt}.`,
    });
  }
  const now = clock(deps);

  const linkedId = await findBookingBySeat(kv, input.tenant, input.calBookingUid, email);
  if (linkedId) {
    const linked = await getBooking(kv, linkedId);
    const link = await getSeatLink(kv, linkedId);
    if (linked?.status === "confirmed" && linked.sessionId === sessionId) {
      if (link && (link.status !== "active" || (input.seatUid && link.seatUid !== input.seatUid))) {
        await saveSeatLink(kv, { ...link, status: "active", seatUid: input.seatUid ?? link.seatUid });
      }
      await markVerified(kv, linkedId, now);
      return { action: "linked", email, bookingId: linkedId, sessionId };
    }
  }

  let learner: { user: User; created: boolean };
  try {
    learner = await resolveLearner(kv, input.attendee);
  } catch (err) {
    return await conflict(deps, {
      ...base,
      code: "invalid_attendee",
      message: `The attendee cannot become a learner: ${err instanceof Error ? err.message : err}`,
    });
  }
  const created = learner.created ? { learnerCreated: true } : {};
  let result: { booking: Booking; alreadyBooked: boolean };
  try {
    result = await deps.engine.bookFromCalcom(sessionId, learner.user.id, actor, {
      calBookingUid: input.calBookingUid,
      seatUid: input.seatUid,
    });
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    return { ...await conflict(deps, { ...base, code: err.code, message: err.message }), ...created };
  }
  const { booking } = result;
  const link: SeatLink = {
    bookingId: booking.id,
    sessionId,
    tenant: input.tenant,
    eventTypeId: input.eventTypeId,
    calBookingUid: input.calBookingUid,
    seatUid: input.seatUid,
    email,
    status: "active",
    createdBy: result.alreadyBooked ? "ours" : "calcom",
    linkedAt: now.toISOString(),
  };
  if (result.alreadyBooked) {
    const existing = await getSeatLink(kv, booking.id);
    if (existing && existing.status === "active" && existing.calBookingUid !== input.calBookingUid) {
      return await conflict(deps, {
        ...base,
        bookingId: booking.id,
        code: "duplicate_seat",
        message: `Cal.com holds a second seat (${input.calBookingUid}) for a learner already booked as ` +
          `${existing.calBookingUid}.`,
      });
    }
    if (!existing || existing.status !== "active" || (input.seatUid && existing.seatUid !== input.seatUid)) {
      await saveSeatLink(kv, existing ? { ...existing, ...link, createdBy: existing.createdBy } : link);
    }
    await markVerified(kv, booking.id, now);
    return { action: "already_booked", email, bookingId: booking.id, sessionId, ...created };
  }
  await saveSeatLink(kv, link);
  await markFromCalcom(kv, booking, input.tenant, "came from Cal.com; not sent back", now);
  return { action: "created", email, bookingId: booking.id, sessionId, ...created };
}

/**
 * Cancels the one booking linked to (tenant, Cal.com uid, attendee email): Cal.com's seat cancel
 * names only the attendee. Other seats of that uid and the session itself are never touched.
 * Unknown seat → `ignored`; already cancelled → `already_cancelled` (no change); a refusal of the
 * engine → `flagged`.
 */
export async function cancelFromCalcom(
  deps: InboundDeps,
  input: { tenant: string; calBookingUid: string; email: string },
  actor: Actor,
): Promise<SeatOutcome> {
  const { kv } = deps;
  const email = lower(input.email);
  const bookingId = await findBookingBySeat(kv, input.tenant, input.calBookingUid, email);
  if (!bookingId) return { action: "ignored", email, reason: "no booking is linked to this Cal.com seat" };
  const [booking, link] = await Promise.all([getBooking(kv, bookingId), getSeatLink(kv, bookingId)]);
  if (!booking) return { action: "ignored", email, reason: "the linked booking is gone" };
  const now = clock(deps);
  const closeLink = async () => {
    if (link && link.status !== "cancelled") await saveSeatLink(kv, { ...link, status: "cancelled" });
  };
  if (booking.status !== "confirmed") {
    await closeLink();
    return { action: "already_cancelled", email, bookingId, sessionId: booking.sessionId };
  }
  try {
    await deps.engine.cancelBooking(bookingId, actor);
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    if (err.code === "booking_not_active") {
      await closeLink();
      return { action: "already_cancelled", email, bookingId, sessionId: booking.sessionId };
    }
    return await conflict(deps, {
      tenant: input.tenant,
      calBookingUid: input.calBookingUid,
      email,
      sessionId: booking.sessionId,
      bookingId,
      code: err.code,
      message: err.message,
    });
  }
  await closeLink();
  await markFromCalcom(kv, booking, input.tenant, "cancelled on Cal.com; not sent back", now);
  return { action: "cancelled", email, bookingId, sessionId: booking.sessionId };
}

/**
 * The session a Cal.com booking at `startTime` belongs to: the one mapped to `eventTypeId` when
 * it starts then, else a scheduled session of `courseId` starting then (sessions_by_course).
 */
export async function findSessionAt(
  kv: Deno.Kv,
  tenant: string,
  eventTypeId: number,
  startTime: string,
  courseId: string,
): Promise<string | null> {
  const at = Date.parse(startTime);
  if (Number.isNaN(at)) return null;
  const mapped = await findSessionByEventType(kv, tenant, eventTypeId);
  if (mapped) {
    const s = await getSession(kv, mapped);
    if (s && s.status === "scheduled" && Date.parse(s.startsAt) === at) return s.id;
  }
  const prefix = [...keys.sessionsByCoursePrefix(courseId), new Date(at).toISOString()];
  for await (const e of kv.list<{ id: string; status?: string }>({ prefix })) {
    if (e.value.status === undefined || e.value.status === "scheduled") return String(e.key[3]);
  }
  return null;
}

/** A Cal.com reschedule of one attendee's seat. */
export interface CalcomRescheduleInput {
  tenant: string;
  /** The event type of the NEW booking. */
  eventTypeId: number;
  /** `rescheduleUid`: the old Cal.com booking. */
  fromUid: string;
  /** `uid`: the new Cal.com booking. */
  toUid: string;
  /** The seat's uid at the new booking, when Cal.com says (else the old one is kept). */
  seatUid: string | null;
  startTime: string;
  attendee: CalcomAttendeeInput;
}

/**
 * Moves the attendee's booking (linked under `fromUid`, or already under `toUid`) to the session
 * starting at `startTime` and relinks it to `toUid`: same session → relinked only (`linked`; also
 * the echo of our own reschedule); another session of the course → {@link
 * BookingEngine.rescheduleBooking} (`rescheduled`: a new booking id, linked to `toUid`, the old
 * link cancelled); no session then, full, or not movable → `flagged`. A booking we never knew is
 * imported at the new time ({@link importCalcomSeat}).
 */
export async function rescheduleFromCalcom(
  deps: InboundDeps,
  input: CalcomRescheduleInput,
  actor: Actor,
): Promise<SeatOutcome> {
  const { kv } = deps;
  const email = lower(input.attendee.email);
  const linkedId = await findBookingBySeat(kv, input.tenant, input.fromUid, email) ??
    await findBookingBySeat(kv, input.tenant, input.toUid, email);
  if (!linkedId) {
    return await importCalcomSeat(deps, {
      tenant: input.tenant,
      eventTypeId: input.eventTypeId,
      calBookingUid: input.toUid,
      seatUid: input.seatUid,
      startTime: input.startTime,
      attendee: input.attendee,
    }, actor);
  }
  const now = clock(deps);
  const oldLink = await getSeatLink(kv, linkedId);
  const booking = await currentBooking(kv, linkedId);
  const base = { tenant: input.tenant, calBookingUid: input.toUid, email };
  if (!booking || booking.status !== "confirmed") {
    return await conflict(deps, {
      ...base,
      sessionId: booking?.sessionId ?? null,
      bookingId: booking?.id ?? linkedId,
      code: "booking_not_active",
      message: "Cal.com moved a seat whose booking is cancelled here.",
    });
  }
  const currentLink = booking.id === linkedId ? oldLink : await getSeatLink(kv, booking.id);
  const session = await getSession(kv, booking.sessionId);
  const targetId = session && Date.parse(session.startsAt) === Date.parse(input.startTime)
    ? session.id
    : session
    ? await findSessionAt(kv, input.tenant, input.eventTypeId, input.startTime, session.courseId)
    : null;
  if (!targetId) {
    return await conflict(deps, {
      ...base,
      sessionId: booking.sessionId,
      bookingId: booking.id,
      code: "no_matching_session",
      message: `No session of this course starts at ${input.startTime}.`,
    });
  }
  const linkFor = async (b: Booking, prior: SeatLink | null): Promise<SeatLink> => ({
    bookingId: b.id,
    sessionId: b.sessionId,
    tenant: input.tenant,
    eventTypeId: (await getEventTypeLink(kv, b.sessionId))?.eventTypeId ?? input.eventTypeId,
    calBookingUid: input.toUid,
    seatUid: input.seatUid ?? prior?.seatUid ?? null,
    email,
    status: "active",
    createdBy: prior?.createdBy ?? "calcom",
    linkedAt: now.toISOString(),
  });

  if (targetId === booking.sessionId) {
    await saveSeatLink(kv, await linkFor(booking, currentLink ?? oldLink));
    await markVerified(kv, booking.id, now);
    return { action: "linked", email, bookingId: booking.id, sessionId: booking.sessionId };
  }
  let moved: Booking;
  try {
    moved = (await deps.engine.rescheduleBooking(booking.id, targetId, actor)).booking;
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    return await conflict(deps, {
      ...base,
      sessionId: targetId,
      bookingId: booking.id,
      code: err.code,
      message: err.message,
    });
  }
  const prior = currentLink ?? oldLink;
  if (prior) await saveSeatLink(kv, { ...prior, status: "cancelled" });
  await saveSeatLink(kv, await linkFor(moved, prior));
  await markFromCalcom(kv, moved, input.tenant, "rescheduled on Cal.com; not sent back", now);
  return { action: "rescheduled", email, bookingId: moved.id, sessionId: targetId };
}

/**
 * Records Cal.com's attendance for the seat linked to (tenant, uid, email): `ignored` when no
 * booking is linked under THIS tenant (a webhook never touches another tenant's bookings) or the
 * booking is cancelled; `attendance_kept` when an instructor's record stands or nothing changed.
 */
export async function attendanceFromCalcom(
  deps: InboundDeps,
  input: { tenant: string; calBookingUid: string; email: string; status: AttendanceStatus; source: string },
  actor: Actor,
): Promise<SeatOutcome> {
  const { kv } = deps;
  const email = lower(input.email);
  const linkedId = await findBookingBySeat(kv, input.tenant, input.calBookingUid, email);
  if (!linkedId) return { action: "ignored", email, reason: "no booking is linked to this Cal.com seat" };
  const booking = await currentBooking(kv, linkedId);
  if (!booking) return { action: "ignored", email, reason: "the linked booking is gone" };
  try {
    const result = await deps.engine.recordAttendance({
      sessionId: booking.sessionId,
      learnerId: booking.learnerId,
      bookingId: booking.id,
      status: input.status,
      source: input.source,
    }, actor);
    return {
      action: result.recorded ? "attendance_recorded" : "attendance_kept",
      email,
      bookingId: booking.id,
      sessionId: booking.sessionId,
      ...(result.reason ? { reason: result.reason } : {}),
    };
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    return { action: "ignored", email, bookingId: booking.id, reason: reasonOf(err) };
  }
}

function summarise(trigger: string, seats: SeatOutcome[], reason?: string): ApplyOutcome {
  const actions = new Set(seats.map((s) => s.action));
  const action = seats.length === 0 ? "ignored" : actions.size === 1 ? seats[0].action : "mixed";
  const out: ApplyOutcome = { trigger, action, seats };
  if (reason) out.reason = reason;
  else if (seats.length === 1 && seats[0].reason) out.reason = seats[0].reason;
  return out;
}

async function applyTrigger(deps: InboundDeps, tenant: string, delivery: Delivery): Promise<ApplyOutcome> {
  const trigger = delivery.trigger;
  const actor = calcomActor(trigger, delivery.id);
  const each = async <A>(items: A[], fn: (a: A) => Promise<SeatOutcome>) => {
    const out: SeatOutcome[] = [];
    for (const item of items) out.push(await fn(item));
    return out;
  };
  switch (trigger) {
    case "BOOKING_CREATED": {
      const p = WEBHOOK_PAYLOADS.BOOKING_CREATED.parse(delivery.payload);
      if (!await findSessionByEventType(deps.kv, tenant, p.eventTypeId)) {
        return summarise(trigger, [], "event type not mirrored");
      }
      const seats = await each(p.attendees, (a) =>
        importCalcomSeat(deps, {
          tenant,
          eventTypeId: p.eventTypeId,
          calBookingUid: p.uid,
          seatUid: p.attendeeSeatId ?? null,
          startTime: p.startTime,
          attendee: a,
        }, actor));
      return summarise(trigger, seats);
    }
    case "BOOKING_CANCELLED": {
      const p = WEBHOOK_PAYLOADS.BOOKING_CANCELLED.parse(delivery.payload);
      const seats = await each(
        p.attendees,
        (a) => cancelFromCalcom(deps, { tenant, calBookingUid: p.uid, ...a }, actor),
      );
      return summarise(trigger, seats);
    }
    case "BOOKING_RESCHEDULED": {
      const p = WEBHOOK_PAYLOADS.BOOKING_RESCHEDULED.parse(delivery.payload);
      const seatUid = typeof p.attendeeSeatId === "string"
        ? p.attendeeSeatId
        : typeof p.seatUid === "string"
        ? p.seatUid
        : null;
      const seats = await each(p.attendees, (a) =>
        rescheduleFromCalcom(deps, {
          tenant,
          eventTypeId: p.eventTypeId,
          fromUid: p.rescheduleUid,
          toUid: p.uid,
          seatUid,
          startTime: p.startTime,
          attendee: a,
        }, actor));
      return summarise(trigger, seats);
    }
    case "BOOKING_NO_SHOW_UPDATED": {
      const p = WEBHOOK_PAYLOADS.BOOKING_NO_SHOW_UPDATED.parse(delivery.payload);
      const seats = await each(p.attendees, (a) =>
        attendanceFromCalcom(deps, {
          tenant,
          calBookingUid: p.bookingUid,
          email: a.email,
          status: a.noShow ? "no_show" : "attended",
          source: `calcom:${trigger}`,
        }, actor));
      return summarise(trigger, seats);
    }
    case "MEETING_ENDED": {
      const p = WEBHOOK_PAYLOADS.MEETING_ENDED.parse(delivery.payload);
      const seats = await each(p.attendees, (a) =>
        attendanceFromCalcom(deps, {
          tenant,
          calBookingUid: p.uid,
          email: a.email,
          status: a.noShow === true ? "no_show" : "attended",
          source: `calcom:${trigger}`,
        }, actor));
      // Cal.com hosts this meeting: whoever joined through us and is still in it leaves now.
      const sessions = new Set(seats.map((s) => s.sessionId).filter((id): id is string => !!id));
      for (const id of sessions) await endMeeting(deps.kv, id, clock(deps));
      return summarise(trigger, seats);
    }
    case "RECORDING_READY": {
      const p = WEBHOOK_PAYLOADS.RECORDING_READY.parse(delivery.payload);
      const sessionId = await findSessionByEventType(deps.kv, tenant, p.eventTypeId);
      if (!sessionId) return summarise(trigger, [], "event type not mirrored");
      try {
        await addRecording(deps.kv, { sessionId, url: p.downloadLink }, actor, clock(deps));
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        return summarise(trigger, [], reasonOf(err));
      }
      return { trigger, action: "recording_added", seats: [] };
    }
    default:
      return summarise(trigger, [], `${trigger} is kept but not applied`);
  }
}

/**
 * Applies one stored delivery of `tenant` to our bookings (see the module doc), stores the outcome
 * on the delivery record (`appliedAt`, `outcome`) and sets the sync meta `last_webhook:<tenant>` =
 * `{at, trigger, deliveryId}`. A delivery already applied returns its stored outcome unchanged.
 * An unexpected failure is caught, flagged for review (`apply_failed`) and reported as `error`.
 */
export async function applyDelivery(deps: InboundDeps, tenant: string, delivery: Delivery): Promise<ApplyOutcome> {
  const key = keys.calcomDelivery(tenant, delivery.id);
  const stored = await deps.kv.get<StoredDelivery>(key);
  if (stored.value?.appliedAt && stored.value.outcome) return stored.value.outcome;
  let outcome: ApplyOutcome;
  try {
    outcome = await applyTrigger(deps, tenant, delivery);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const item = await flagForReview(deps.kv, {
      kind: "calcom_conflict",
      tenant,
      bookingId: null,
      sessionId: null,
      calBookingUid: typeof delivery.payload.uid === "string" ? delivery.payload.uid : null,
      email: null,
      code: "apply_failed",
      message: `Applying ${delivery.trigger} delivery ${delivery.id} failed: ${message}`,
      flaggedAt: clock(deps).toISOString(),
    });
    outcome = { trigger: delivery.trigger, action: "error", seats: [], reason: message, reviewItemId: item.id };
  }
  const at = clock(deps).toISOString();
  const { id: _id, ...record } = delivery;
  await deps.kv.set(key, { ...(stored.value ?? record), appliedAt: at, outcome } satisfies StoredDelivery);
  await setSyncMeta(deps.kv, `last_webhook:${tenant}`, { at, trigger: delivery.trigger, deliveryId: delivery.id });
  return outcome;
}
