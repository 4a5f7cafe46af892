/**
 * Closing attendance: every booked learner gets a final outcome, and the session's attendance is
 * closed for good.
 *
 * - marked present or late (or joined online): attended time = check-in (or join) to check-out
 *   (or the end), within the session; `completed` when it meets the course's rule
 *   (completion.ts), else `attended`;
 * - marked absent, or recorded as a no-show by Cal.com: `no_show`; excused: `excused`;
 * - never marked and never joined: `no_show`, automatically.
 *
 * Each learner is closed in ONE atomic op: the final record, an audit line, the
 * `attendance.recorded` event (data: status, outcome, method, check-in, check-out, duration in
 * seconds, join count) and, when completed, the `course.completed` event and the course added to
 * the learner's `completedCourses` (which unlocks the courses requiring it). The close marker
 * `["attendance_closes", id]` is written last; a close interrupted midway is finished by the next
 * call (learners with an outcome are skipped), so nothing is recorded twice.
 */
import type { Course } from "../domain/course.ts";
import type { Session } from "../domain/session.ts";
import type { User } from "../domain/user.ts";
import { newId } from "../domain/ids.ts";
import { actsForSession } from "../booking/access.ts";
import { Draft } from "../booking/draft.ts";
import { DomainError, notFound } from "../booking/errors.ts";
import { type Actor, addEvent } from "../booking/events.ts";
import type { Booking } from "../booking/model.ts";
import { listBookingsBySession } from "../store/bookings.ts";
import { keys } from "../store/keys.ts";
import { mergeCompletedCourses } from "../store/users.ts";
import { completionRuleOf, meetsCompletion } from "./completion.ts";
import type { AttendanceAuditEntry, AttendanceMarkRecord, AttendanceOutcome } from "./marks.ts";
import { revisionOf } from "./marks.ts";
import { type OnlinePresence, presenceSeconds } from "./online.ts";
import { type AttendanceSettings, markWindow } from "./windows.ts";

/** `["attendance_closes", sessionId]`. */
export interface AttendanceClose {
  sessionId: string;
  closedAt: string;
  closedBy: string | null;
  /** True when the worker closed it at the end of the correction window. */
  automatic: boolean;
  counts: Record<AttendanceOutcome, number>;
}

/**
 * Attended seconds within the session (0 when nothing shows attendance): an instructor's present or
 * late mark counts from check-in to check-out (or the end); without a mark, the online time.
 */
export function attendedSeconds(
  record: AttendanceMarkRecord | null,
  session: Pick<Session, "startsAt" | "endsAt">,
  onlineSeconds = 0,
): number {
  const start = Date.parse(session.startsAt);
  const end = Date.parse(session.endsAt);
  if (!record?.mark && onlineSeconds > 0) return Math.min(onlineSeconds, (end - start) / 1000);
  if (!record) return 0;
  if (record.mark === "present" || record.mark === "late") {
    const from = Math.max(start, record.checkInAt ? Date.parse(record.checkInAt) : start);
    const to = Math.min(end, record.checkOutAt ? Date.parse(record.checkOutAt) : end);
    return Math.max(0, Math.round((to - from) / 1000));
  }
  // A Cal.com "attended" without times: the whole session.
  if (!record.mark && record.status === "attended") return Math.round((end - start) / 1000);
  return 0;
}

/** The final outcome of one booked learner (see the module rules). */
export function outcomeOf(
  record: AttendanceMarkRecord | null,
  session: Pick<Session, "startsAt" | "endsAt">,
  course: Pick<Course, "completionRule"> | null,
  onlineSeconds = 0,
): { outcome: AttendanceOutcome; seconds: number } {
  if (record?.mark === "excused" || (!record?.mark && record?.status === "excused")) {
    return { outcome: "excused", seconds: 0 };
  }
  const seconds = attendedSeconds(record, session, onlineSeconds);
  if (seconds <= 0) return { outcome: "no_show", seconds: 0 };
  const scheduled = (Date.parse(session.endsAt) - Date.parse(session.startsAt)) / 1000;
  return { outcome: meetsCompletion(completionRuleOf(course), seconds, scheduled) ? "completed" : "attended", seconds };
}

const STATUS_OF: Record<AttendanceOutcome, AttendanceMarkRecord["status"]> = {
  completed: "attended",
  attended: "attended",
  no_show: "no_show",
  excused: "excused",
};

const MAX_ATTEMPTS = 10;

/** Closes one learner (one atomic op); false when someone else closed them meanwhile. */
async function closeLearner(
  kv: Deno.Kv,
  session: Session,
  course: Course | null,
  booking: Booking,
  actor: Actor,
  now: Date,
): Promise<AttendanceOutcome> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const draft = new Draft(kv);
    const recordKey = keys.attendance(session.id, booking.learnerId);
    const presenceKey = keys.onlinePresence(session.id, booking.learnerId);
    await draft.load([recordKey, keys.user(booking.learnerId), keys.attendanceClose(session.id), presenceKey]);
    if (draft.get(keys.attendanceClose(session.id))) throw closedError();
    const current = draft.get<AttendanceMarkRecord>(recordKey);
    if (current?.outcome) return current.outcome;
    const presence = draft.get<OnlinePresence>(presenceKey);
    const { outcome, seconds } = outcomeOf(current, session, course, presenceSeconds(presence, session));
    const joinCount = presence?.joinCount ?? 0;
    const method = current?.mark
      ? current.method ?? "in_person"
      : joinCount > 0 || session.mode === "online"
      ? "online"
      : current?.method ?? "in_person";
    const record: AttendanceMarkRecord = {
      ...(current ?? {}),
      sessionId: session.id,
      learnerId: booking.learnerId,
      bookingId: booking.id,
      status: STATUS_OF[outcome],
      recordedAt: now.toISOString(),
      recordedBy: current?.recordedBy ?? null,
      origin: current?.origin ?? actor.origin,
      source: current?.source ?? "close:never_marked",
      method,
      revision: revisionOf(current) + 1,
      outcome,
    };
    draft.set(recordKey, record);
    const audit: AttendanceAuditEntry = {
      id: newId(),
      sessionId: session.id,
      learnerId: booking.learnerId,
      at: now.toISOString(),
      by: actor.userId,
      origin: actor.origin,
      action: "close",
      from: current
        ? {
          mark: current.mark ?? null,
          checkInAt: current.checkInAt ?? null,
          checkOutAt: current.checkOutAt ?? null,
          revision: revisionOf(current),
        }
        : null,
      to: {
        mark: record.mark ?? null,
        checkInAt: record.checkInAt ?? null,
        checkOutAt: record.checkOutAt ?? null,
        revision: record.revision,
        outcome,
      },
    };
    draft.set(keys.attendanceAudit(session.id, booking.learnerId, audit.id), audit);
    draft.set(keys.rosterTick(session.id), { at: now.toISOString() });
    addEvent(draft, actor, "attendance.recorded", session.id, booking.learnerId, {
      bookingId: booking.id,
      registration: booking.registration,
      status: record.status,
      outcome,
      source: "attendance_closed",
      previousStatus: current?.status ?? null,
      method,
      checkInAt: record.checkInAt ?? null,
      checkOutAt: record.checkOutAt ?? null,
      durationSeconds: seconds,
      joinCount,
      final: true,
    }, now);
    if (outcome === "completed") {
      const user = draft.get<User>(keys.user(booking.learnerId));
      if (user && !user.erasedAt) {
        draft.set(keys.user(user.id), {
          ...user,
          completedCourses: mergeCompletedCourses(user, [{ courseId: session.courseId, completedAt: session.endsAt }]),
        });
      }
      addEvent(draft, actor, "course.completed", session.id, booking.learnerId, {
        bookingId: booking.id,
        registration: booking.registration,
        courseId: session.courseId,
        method,
        durationSeconds: seconds,
        via: "attendance",
      }, now);
    }
    if (await draft.commit()) return outcome;
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
  }
  throw new DomainError(503, "busy", "Attendance is very busy; please try again.");
}

function closedError(): DomainError {
  return new DomainError(409, "attendance_closed", "Attendance of this session is already closed.");
}

/**
 * Closes the session's attendance (see the module doc). Staff may close once the session ended;
 * the system (`automatic`) closes when the correction window is over. 403 for others; 409
 * `session_not_ended`, `attendance_closed`.
 */
export async function closeAttendance(
  kv: Deno.Kv,
  sessionId: string,
  actor: Actor,
  now: Date,
  options: { automatic?: boolean } = {},
): Promise<AttendanceClose> {
  const session = (await kv.get<Session>(keys.session(sessionId))).value;
  if (!session) throw notFound("session", sessionId);
  if (!actsForSession(actor, session)) {
    throw new DomainError(403, "forbidden", "Only the session's instructor and admins close attendance.");
  }
  if (now.getTime() < Date.parse(session.endsAt)) {
    throw new DomainError(
      409,
      "session_not_ended",
      `Attendance can be closed once the session has ended (${session.endsAt} UTC).`,
    );
  }
  if ((await kv.get(keys.attendanceClose(sessionId))).value) throw closedError();
  const course = (await kv.get<Course>(keys.course(session.courseId))).value;
  const bookings = await listBookingsBySession(kv, sessionId, { status: "confirmed" });
  const counts: Record<AttendanceOutcome, number> = { completed: 0, attended: 0, no_show: 0, excused: 0 };
  for (const booking of bookings) counts[await closeLearner(kv, session, course, booking, actor, now)]++;
  const close: AttendanceClose = {
    sessionId,
    closedAt: now.toISOString(),
    closedBy: actor.userId,
    automatic: !!options.automatic,
    counts,
  };
  const res = await kv.atomic()
    .check({ key: keys.attendanceClose(sessionId), versionstamp: null })
    .set(keys.attendanceClose(sessionId), close)
    .set(keys.rosterTick(sessionId), { at: now.toISOString() })
    .commit();
  if (!res.ok) throw closedError();
  return close;
}

/** The close record, or null while attendance is open. */
export async function getAttendanceClose(kv: Deno.Kv, sessionId: string): Promise<AttendanceClose | null> {
  return (await kv.get<AttendanceClose>(keys.attendanceClose(sessionId))).value;
}

/**
 * Closes the attendance of every session whose correction window ended (the worker's cron):
 * sessions that ended between `lookbackDays` and `closeAfterDays` ago, not cancelled, not closed.
 */
export async function closeDueAttendance(
  kv: Deno.Kv,
  now: Date,
  settings: AttendanceSettings,
  lookbackDays = 60,
): Promise<number> {
  const day = 86_400_000;
  const prefix = keys.sessionsByStartPrefix();
  const from = new Date(now.getTime() - (settings.closeAfterDays + lookbackDays) * day).toISOString();
  const to = new Date(now.getTime() - settings.closeAfterDays * day).toISOString();
  const ids: string[] = [];
  for await (const e of kv.list({ start: [...prefix, from], end: [...prefix, to] })) ids.push(e.key[2] as string);
  const system: Actor = { userId: null, origin: "system", correlationId: crypto.randomUUID(), reason: "window ended" };
  let closed = 0;
  for (const id of ids) {
    const [s, c] = await kv.getMany<[Session, AttendanceClose]>([keys.session(id), keys.attendanceClose(id)]);
    const session = s.value;
    if (!session || session.status !== "scheduled" || c.value) continue;
    if (now.getTime() < Date.parse(markWindow(session, settings).closesAt)) continue;
    try {
      await closeAttendance(kv, id, system, now, { automatic: true });
      closed++;
    } catch (err) {
      if (!(err instanceof DomainError && err.code === "attendance_closed")) throw err;
    }
  }
  return closed;
}
