/**
 * In-person attendance: instructor marks (present, late, absent, excused; all present at once),
 * check-in and check-out times, learner self check-in by the session's short code, and the audit of
 * every change.
 *
 * The record lives at `["attendance", sessionId, learnerId]` (the same record Cal.com's no-show and
 * meeting-ended webhooks write, lib/booking/attendance.ts) with a `revision` that grows with every
 * write. A mark names the revision it was made against (`expectedRevision`): when the record moved
 * on meanwhile the mark is refused with 409 `stale_mark` and the current record, so a later mark
 * never silently overwrites a newer one. Each write is one atomic op guarded by the record's
 * versionstamp, so of two marks made at once against the same revision exactly one commits.
 * Events (`attendance.recorded`, `course.completed`) are written when attendance closes (close.ts):
 * one statement per learner with the final outcome, not one per correction.
 */
import type { Session } from "../domain/session.ts";
import { newId } from "../domain/ids.ts";
import type { Actor } from "../booking/events.ts";
import { DomainError, notFound } from "../booking/errors.ts";
import { assertMayManageSession } from "../booking/access.ts";
import type { StoredAttendance } from "../booking/attendance.ts";
import type { Booking, Place } from "../booking/model.ts";
import { keys } from "../store/keys.ts";
import {
  type AttendanceSettings,
  checkInWindow,
  describeWindow,
  inWindow,
  loadSettingsInForce,
  markWindow,
  type TimeWindow,
} from "./windows.ts";

/** What an instructor records for a learner. */
export const MARKS = ["present", "late", "absent", "excused"] as const;
export type Mark = typeof MARKS[number];

/** How the learner took part. */
export type AttendanceMethod = "in_person" | "online";

/** What close.ts decides for each booked learner. */
export type AttendanceOutcome = "completed" | "attended" | "no_show" | "excused";

/** The stored attendance record, with the fields of in-person marks and of closing. */
export interface AttendanceMarkRecord extends StoredAttendance {
  mark?: Mark | null;
  checkInAt?: string | null;
  checkOutAt?: string | null;
  method?: AttendanceMethod;
  /** 1 for the first write, +1 for each later one; absent on records older than marks (read as 1). */
  revision?: number;
  /** Set when attendance closed. */
  outcome?: AttendanceOutcome;
}

/** One line of the audit: a change, or a mark refused because the record had moved on. */
export interface AttendanceAuditEntry {
  id: string;
  sessionId: string;
  learnerId: string;
  at: string;
  by: string | null;
  origin: Actor["origin"];
  action: "mark" | "all_present" | "self_check_in" | "close" | "refused_stale";
  from: Pick<AttendanceMarkRecord, "mark" | "checkInAt" | "checkOutAt" | "revision"> | null;
  to: Pick<AttendanceMarkRecord, "mark" | "checkInAt" | "checkOutAt" | "revision" | "outcome"> | null;
}

/** The status the booking domain knows (attended, no_show, excused) of a mark. */
export function statusOfMark(mark: Mark): StoredAttendance["status"] {
  if (mark === "absent") return "no_show";
  if (mark === "excused") return "excused";
  return "attended";
}

/** The revision of a stored record (0: none). */
export function revisionOf(record: AttendanceMarkRecord | null): number {
  if (!record) return 0;
  return record.revision ?? 1;
}

/** A mark to record. */
export interface MarkInput {
  sessionId: string;
  learnerId: string;
  mark: Mark;
  /** The record's revision the mark was made against (0 when there was none). */
  expectedRevision: number;
  /** Corrections: explicit times (ISO 8601); otherwise check-in is now for present/late. */
  checkInAt?: string | null;
  checkOutAt?: string | null;
  /** Sets the check-out time to now. */
  checkOut?: boolean;
}

const MAX_ATTEMPTS = 10;

/** Reads of one learner's attendance in one session, guarded by their versionstamps. */
interface Loaded {
  session: Session;
  booking: Booking | null;
  record: Deno.KvEntryMaybe<AttendanceMarkRecord>;
  entries: Deno.KvEntryMaybe<unknown>[];
  closed: boolean;
}

/** Reads the learner's place; `booking` null unless they hold a confirmed booking in the session. */
async function loadLearner(kv: Deno.Kv, sessionId: string, learnerId: string): Promise<Loaded> {
  const [sessionE, placeE, recordE, closeE] = await kv.getMany([
    keys.session(sessionId),
    keys.place(sessionId, learnerId),
    keys.attendance(sessionId, learnerId),
    keys.attendanceClose(sessionId),
  ]) as [
    Deno.KvEntryMaybe<Session>,
    Deno.KvEntryMaybe<Place>,
    Deno.KvEntryMaybe<AttendanceMarkRecord>,
    Deno.KvEntryMaybe<unknown>,
  ];
  if (!sessionE.value) throw notFound("session", sessionId);
  const place = placeE.value;
  const bookingE = place?.kind === "booking" ? await kv.get<Booking>(keys.booking(place.id)) : null;
  const booking = bookingE?.value;
  const confirmed = booking && booking.status === "confirmed" && booking.learnerId === learnerId ? booking : null;
  return {
    session: sessionE.value,
    booking: confirmed,
    record: recordE,
    entries: bookingE ? [sessionE, placeE, bookingE, recordE, closeE] : [sessionE, placeE, recordE, closeE],
    closed: closeE.value !== null,
  };
}

function outsideWindow(what: string, window: TimeWindow): DomainError {
  return new DomainError(409, "outside_window", `${what} are accepted ${describeWindow(window)} (UTC).`, { window });
}

function parseTime(value: string | null | undefined, field: string): string | null | undefined {
  if (value === undefined || value === null) return value;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) {
    throw new DomainError(422, "invalid_time", `${field} must be an ISO 8601 date-time.`);
  }
  return new Date(ms).toISOString();
}

function snapshot(r: AttendanceMarkRecord | null) {
  return r
    ? {
      mark: r.mark ?? null,
      checkInAt: r.checkInAt ?? null,
      checkOutAt: r.checkOutAt ?? null,
      revision: revisionOf(r),
    }
    : null;
}

/** The audit line of a change from `current` to `record`. */
function auditOf(
  record: AttendanceMarkRecord,
  current: AttendanceMarkRecord | null,
  actor: Actor,
  now: Date,
  action: AttendanceAuditEntry["action"],
): AttendanceAuditEntry {
  return {
    id: newId(),
    sessionId: record.sessionId,
    learnerId: record.learnerId,
    at: now.toISOString(),
    by: actor.userId,
    origin: actor.origin,
    action,
    from: snapshot(current),
    to: snapshot(record),
  };
}

/** Commits a record, its audit line and the roster tick, checking every read entry; false on a race. */
async function commitRecord(
  kv: Deno.Kv,
  loaded: Loaded,
  record: AttendanceMarkRecord,
  audit: AttendanceAuditEntry,
): Promise<boolean> {
  const op = kv.atomic();
  for (const e of loaded.entries) op.check(e);
  op.set(keys.attendance(record.sessionId, record.learnerId), record);
  op.set(keys.attendanceAudit(record.sessionId, record.learnerId, audit.id), audit);
  op.set(keys.rosterTick(record.sessionId), { at: audit.at });
  return (await op.commit()).ok;
}

/** Writes an audit line for a refused stale mark (best effort: the refusal stands either way). */
async function auditRefusal(
  kv: Deno.Kv,
  input: MarkInput,
  actor: Actor,
  current: AttendanceMarkRecord | null,
  now: Date,
) {
  const entry: AttendanceAuditEntry = {
    id: newId(),
    sessionId: input.sessionId,
    learnerId: input.learnerId,
    at: now.toISOString(),
    by: actor.userId,
    origin: actor.origin,
    action: "refused_stale",
    from: snapshot(current),
    to: {
      mark: input.mark,
      checkInAt: input.checkInAt ?? null,
      checkOutAt: input.checkOutAt ?? null,
      revision: input.expectedRevision,
    },
  };
  await kv.set(keys.attendanceAudit(input.sessionId, input.learnerId, entry.id), entry);
}

/**
 * Records an instructor's (or admin's) mark for a booked learner. 403 for anyone else; 404
 * `not_on_roster`; 409 `attendance_closed`, `outside_window` (the window in the message and
 * details), `stale_mark` (details.current: the record now stored); 422 `invalid_time` when
 * check-out precedes check-in.
 */
export async function markAttendance(
  kv: Deno.Kv,
  input: MarkInput,
  actor: Actor,
  now: Date,
  settings: AttendanceSettings,
  action: "mark" | "all_present" = "mark",
): Promise<AttendanceMarkRecord> {
  settings = await loadSettingsInForce(kv, settings);
  const givenIn = parseTime(input.checkInAt, "checkInAt");
  const givenOut = parseTime(input.checkOutAt, "checkOutAt");
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const loaded = await loadLearner(kv, input.sessionId, input.learnerId);
    assertMayManageSession(actor, loaded.session);
    const booking = loaded.booking;
    if (!booking) throw new DomainError(404, "not_on_roster", "This learner is not booked in this session.");
    if (loaded.closed || loaded.record.value?.outcome) {
      throw new DomainError(409, "attendance_closed", "Attendance of this session is closed; marks are final.");
    }
    const window = markWindow(loaded.session, settings);
    if (!inWindow(window, now)) throw outsideWindow("Marks", window);
    const current = loaded.record.value;
    if (revisionOf(current) !== input.expectedRevision) {
      await auditRefusal(kv, input, actor, current, now);
      throw new DomainError(
        409,
        "stale_mark",
        "Someone changed this learner's attendance since you loaded it; here is what is recorded now.",
        { current },
      );
    }
    const attended = input.mark === "present" || input.mark === "late";
    // Marked present after the end (a later correction): they came at the start.
    const defaultIn = now.getTime() < Date.parse(loaded.session.endsAt) ? now.toISOString() : loaded.session.startsAt;
    const checkInAt = !attended ? null : givenIn ?? current?.checkInAt ?? defaultIn;
    let checkOutAt = !attended ? null : givenOut !== undefined ? givenOut : current?.checkOutAt ?? null;
    if (attended && input.checkOut) checkOutAt = now.toISOString();
    if (checkInAt && checkOutAt && Date.parse(checkOutAt) < Date.parse(checkInAt)) {
      throw new DomainError(422, "invalid_time", "The check-out time must not be before the check-in time.");
    }
    const record: AttendanceMarkRecord = {
      ...(current ?? {}),
      sessionId: input.sessionId,
      learnerId: input.learnerId,
      bookingId: booking.id,
      status: statusOfMark(input.mark),
      recordedAt: now.toISOString(),
      recordedBy: actor.userId,
      origin: actor.origin,
      source: action === "all_present" ? "instructor:all_present" : "instructor",
      mark: input.mark,
      checkInAt,
      checkOutAt,
      method: current?.method ?? "in_person",
      revision: revisionOf(current) + 1,
    };
    if (await commitRecord(kv, loaded, record, auditOf(record, current, actor, now, action))) return record;
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
  }
  throw new DomainError(503, "busy", "The attendance record is very busy; please try again.");
}

/** What {@link markAllPresent} did. */
export interface AllPresentResult {
  marked: string[];
  /** Learners who already had a mark (never overwritten). */
  skipped: string[];
}

/**
 * Marks every booked learner without a mark present (learners already marked keep their mark).
 * Same access and window rules as {@link markAttendance}.
 */
export async function markAllPresent(
  kv: Deno.Kv,
  sessionId: string,
  learnerIds: readonly string[],
  actor: Actor,
  now: Date,
  settings: AttendanceSettings,
): Promise<AllPresentResult> {
  const out: AllPresentResult = { marked: [], skipped: [] };
  for (const learnerId of learnerIds) {
    const current = (await kv.get<AttendanceMarkRecord>(keys.attendance(sessionId, learnerId))).value;
    if (current?.mark) {
      out.skipped.push(learnerId);
      continue;
    }
    try {
      await markAttendance(
        kv,
        { sessionId, learnerId, mark: "present", expectedRevision: revisionOf(current) },
        actor,
        now,
        settings,
        "all_present",
      );
      out.marked.push(learnerId);
    } catch (err) {
      // Someone marked this learner meanwhile, or the seat was cancelled: theirs stands.
      if (err instanceof DomainError && (err.code === "stale_mark" || err.code === "not_on_roster")) {
        out.skipped.push(learnerId);
        continue;
      }
      throw err;
    }
  }
  return out;
}

/** Unambiguous characters of check-in codes (no 0/O, 1/I/L). */
const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/** Length of a check-in code. */
export const CODE_LENGTH = 6;

function randomCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(CODE_LENGTH));
  return [...bytes].map((b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join("");
}

/** The session's self check-in code, made (once, whoever asks first) when missing. */
export async function ensureCheckInCode(kv: Deno.Kv, sessionId: string, now: Date): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = await kv.get<{ code: string }>(keys.checkInCode(sessionId));
    if (existing.value) return existing.value.code;
    const code = randomCode();
    const res = await kv.atomic().check(existing).set(keys.checkInCode(sessionId), {
      code,
      createdAt: now.toISOString(),
    }).commit();
    if (res.ok) return code;
  }
  const again = await kv.get<{ code: string }>(keys.checkInCode(sessionId));
  if (again.value) return again.value.code;
  throw new DomainError(503, "busy", "Could not create the check-in code; please try again.");
}

/** Normalises what a learner typed: upper case, no spaces or dashes. */
export function normaliseCode(typed: string): string {
  return typed.toUpperCase().replace(/[\s-]/g, "");
}

/**
 * A learner checks themself in with the session's code. 404 unknown session; 410 `code_expired`
 * after the session ended; 409 `outside_window` before the window opens; 403 `wrong_code`; 403
 * `not_booked` for a learner without a confirmed booking; 409 `already_checked_in` on a second
 * try (or when the instructor marked them already). Late after `lateAfterMinutes`.
 */
export async function selfCheckIn(
  kv: Deno.Kv,
  input: { sessionId: string; learnerId: string; code: string },
  actor: Actor,
  now: Date,
  settings: AttendanceSettings,
): Promise<AttendanceMarkRecord> {
  const session = (await kv.get<Session>(keys.session(input.sessionId))).value;
  if (!session) throw notFound("session", input.sessionId);
  const window = checkInWindow(session, await loadSettingsInForce(kv, settings));
  if (now.getTime() >= Date.parse(window.closesAt)) {
    throw new DomainError(
      410,
      "code_expired",
      `This check-in code expired when the session ended (${window.closesAt} UTC).`,
      {
        window,
      },
    );
  }
  if (!inWindow(window, now)) throw outsideWindow("Self check-ins", window);
  const stored = (await kv.get<{ code: string }>(keys.checkInCode(input.sessionId))).value;
  if (!stored || normaliseCode(input.code) !== stored.code) {
    throw new DomainError(403, "wrong_code", "That code is not this session's check-in code. Check it and try again.");
  }
  if (actor.userId !== input.learnerId) {
    throw new DomainError(403, "forbidden", "Learners check in for themselves only.");
  }
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const loaded = await loadLearner(kv, input.sessionId, input.learnerId);
    const booking = loaded.booking;
    if (!booking) {
      throw new DomainError(403, "not_booked", "You are not booked in this session, so you cannot check in.");
    }
    if (loaded.closed || loaded.record.value?.outcome) {
      throw new DomainError(409, "attendance_closed", "Attendance of this session is closed.");
    }
    const current = loaded.record.value;
    if (current?.checkInAt || current?.mark) {
      throw new DomainError(409, "already_checked_in", "Your attendance is already recorded for this session.", {
        current,
      });
    }
    const late = now.getTime() > Date.parse(session.startsAt) + settings.lateAfterMinutes * 60_000;
    const mark: Mark = late ? "late" : "present";
    const record: AttendanceMarkRecord = {
      ...(current ?? {}),
      sessionId: input.sessionId,
      learnerId: input.learnerId,
      bookingId: booking.id,
      status: "attended",
      recordedAt: now.toISOString(),
      recordedBy: actor.userId,
      origin: actor.origin,
      source: "self_check_in",
      mark,
      checkInAt: now.toISOString(),
      checkOutAt: null,
      method: "in_person",
      revision: revisionOf(current) + 1,
    };
    if (await commitRecord(kv, loaded, record, auditOf(record, current, actor, now, "self_check_in"))) return record;
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
  }
  throw new DomainError(503, "busy", "The attendance record is very busy; please try again.");
}

/** The audit of one session (every learner), oldest first. */
export async function listAttendanceAudit(kv: Deno.Kv, sessionId: string): Promise<AttendanceAuditEntry[]> {
  const out: AttendanceAuditEntry[] = [];
  for await (const e of kv.list<AttendanceAuditEntry>({ prefix: keys.attendanceAuditPrefix(sessionId) })) {
    out.push(e.value);
  }
  return out.sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
