/**
 * Attendance: what happened to one booked learner at one session, stored at
 * `["attendance", sessionId, learnerId]` together with an `attendance.recorded` event in the same
 * atomic op (the outbox rule of events.ts).
 *
 * Who wins: a record made by a person (an instructor or admin, any origin but `calcom`) is never
 * overridden by Cal.com (`origin: "calcom"`, e.g. BOOKING_NO_SHOW_UPDATED or MEETING_ENDED); a
 * Cal.com record may be replaced by a later Cal.com one or by staff.
 */
import type { AttendanceRecord, AttendanceStatus } from "../domain/attendance.ts";
import { keys } from "../store/keys.ts";
import { Draft } from "./draft.ts";
import { DomainError, notFound } from "./errors.ts";
import { type Actor, addEvent } from "./events.ts";
import type { Booking, Session } from "./model.ts";
import { actsForSession } from "./access.ts";

/** What to record. */
export interface AttendanceInput {
  sessionId: string;
  learnerId: string;
  /** The learner's booking in that session (must be confirmed). */
  bookingId: string;
  status: AttendanceStatus;
  /** Where the fact comes from, e.g. `calcom:BOOKING_NO_SHOW_UPDATED` or `instructor`. */
  source: string;
}

/**
 * The stored record. `recordedBy` is null when no person recorded it (Cal.com, the system): the
 * domain schema's `recordedBy` is a user id, so such records carry `origin` instead.
 */
export type StoredAttendance = Omit<AttendanceRecord, "recordedBy"> & { recordedBy: string | null; source: string };

/** What {@link recordAttendance} did. */
export interface AttendanceResult {
  /** True when a record (and an event) was written. */
  recorded: boolean;
  /** The record now stored (null only when none exists). */
  record: StoredAttendance | null;
  /** Why nothing was written: the same status was already recorded, or a person's record stands. */
  reason?: "unchanged" | "kept_staff_record";
}

const MAX_ATTEMPTS = 10;

/**
 * Records attendance for a learner's confirmed booking in one atomic op with its
 * `attendance.recorded` event (data `{bookingId, registration, status, source, previousStatus}`).
 * A Cal.com actor never overrides a record made with another origin (`kept_staff_record`); the same
 * status from the same origin writes nothing (`unchanged`). 403 for people other than the session's
 * instructor and admins (lib/booking/access.ts), 404
 * unknown booking, 422 `booking_mismatch` when the booking is not that learner's in that session,
 * 409 `booking_not_active` for a cancelled booking.
 */
export async function recordAttendance(
  kv: Deno.Kv,
  input: AttendanceInput,
  actor: Actor,
  now: Date = new Date(),
): Promise<AttendanceResult> {
  const recordKey = keys.attendance(input.sessionId, input.learnerId);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const draft = new Draft(kv);
    await draft.load([keys.session(input.sessionId), keys.booking(input.bookingId), recordKey]);
    const session = draft.get<Session>(keys.session(input.sessionId));
    if (!session) throw notFound("session", input.sessionId);
    if (!actsForSession(actor, session)) {
      throw new DomainError(403, "forbidden", "Only the session's instructor and admins record attendance.");
    }
    const booking = draft.get<Booking>(keys.booking(input.bookingId));
    if (!booking) throw notFound("booking", input.bookingId);
    if (booking.sessionId !== input.sessionId || booking.learnerId !== input.learnerId) {
      throw new DomainError(422, "booking_mismatch", "This booking is not that learner's seat in that session.");
    }
    if (booking.status !== "confirmed") {
      throw new DomainError(409, "booking_not_active", `This booking is already ${booking.status}.`);
    }
    const existing = draft.get<StoredAttendance>(recordKey);
    if (existing && actor.origin === "calcom" && existing.origin !== "calcom") {
      return { recorded: false, record: existing, reason: "kept_staff_record" };
    }
    if (existing && existing.status === input.status && existing.origin === actor.origin) {
      return { recorded: false, record: existing, reason: "unchanged" };
    }
    // Fields of instructor marks (lib/attendance/marks.ts) are kept; the revision moves on so a
    // mark made against the older record is refused as stale.
    const record: StoredAttendance & { revision: number } = {
      ...(existing ?? {}),
      revision: ((existing as { revision?: number } | null)?.revision ?? (existing ? 1 : 0)) + 1,
      sessionId: input.sessionId,
      learnerId: input.learnerId,
      bookingId: input.bookingId,
      status: input.status,
      recordedAt: now.toISOString(),
      recordedBy: actor.userId,
      origin: actor.origin,
      source: input.source,
    };
    draft.set(recordKey, record);
    draft.set(keys.rosterTick(input.sessionId), { at: now.toISOString() });
    addEvent(draft, actor, "attendance.recorded", input.sessionId, input.learnerId, {
      bookingId: input.bookingId,
      registration: booking.registration,
      status: input.status,
      source: input.source,
      previousStatus: existing?.status ?? null,
    }, now);
    if (await draft.commit()) return { recorded: true, record };
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
  }
  throw new DomainError(503, "busy", "The attendance record is very busy; please try again.");
}

/** The attendance record of a learner in a session, or null. */
export async function getAttendance(
  kv: Deno.Kv,
  sessionId: string,
  learnerId: string,
): Promise<StoredAttendance | null> {
  return (await kv.get<StoredAttendance>(keys.attendance(sessionId, learnerId))).value;
}
