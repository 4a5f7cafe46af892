/**
 * What instructors see: their sessions (the `/teach` home) and a session's roster (booked
 * learners with dealer, prerequisites, attendance), read from the store. Only the session's
 * instructor and admins may read a roster (403 otherwise).
 */
import type { Course } from "../domain/course.ts";
import type { Dealer } from "../domain/dealer.ts";
import type { Session } from "../domain/session.ts";
import type { User } from "../domain/user.ts";
import { type Acting, assertMayManageSession } from "../booking/access.ts";
import { getAvailability } from "../booking/availability.ts";
import { notFound } from "../booking/errors.ts";
import { listBookingsBySession } from "../store/bookings.ts";
import { keys } from "../store/keys.ts";
import { getSessions } from "../store/sessions.ts";
import { getUsers } from "../store/users.ts";
import { getValuesById } from "../store/batch.ts";
import { type AttendanceClose, attendedSeconds } from "./close.ts";
import { completionRuleOf, describeCompletionRule } from "./completion.ts";
import { type AttendanceMarkRecord, ensureCheckInCode, type Mark, revisionOf } from "./marks.ts";
import { listRsvps, type RsvpStatus } from "./rsvp.ts";
import { listPresence, type OnlinePresence, presenceSeconds, STALE_AFTER_MS } from "./online.ts";
import {
  type AttendanceSettings,
  type AttendanceState,
  attendanceState,
  checkInWindow,
  loadSettingsInForce,
  markWindow,
  type SessionPhase,
  sessionPhase,
  type TimeWindow,
} from "./windows.ts";

/** One booked learner on the roster. */
export interface RosterRow {
  learnerId: string;
  bookingId: string;
  name: string;
  email: string;
  dealer: string | null;
  /** Titles of prerequisite courses the learner has not completed (empty: met). */
  missingPrerequisites: string[];
  mark: Mark | null;
  /** attended, no_show or excused once anything is recorded. */
  status: string | null;
  checkInAt: string | null;
  checkOutAt: string | null;
  /** Attended minutes so far (check-in to check-out or the end), when checked in. */
  minutes: number | null;
  /** The revision a mark must name (`expectedRevision`). */
  revision: number;
  outcome: string | null;
  /** Online sessions: joins and minutes so far (summed over reconnections); null when never joined. */
  online: { joinCount: number; minutes: number; inMeeting: boolean } | null;
  /** Online sessions: the learner's answer, or null. */
  rsvp: RsvpStatus | null;
}

/** A session's roster. */
export interface Roster {
  session: Pick<Session, "id" | "startsAt" | "endsAt" | "timeZone" | "mode" | "capacity" | "status" | "instructorId">;
  course: { id: string; code: string; title: string };
  phase: SessionPhase;
  attendance: {
    state: AttendanceState;
    checkIn: TimeWindow;
    marks: TimeWindow;
    closed: AttendanceClose | null;
  };
  counts: {
    booked: number;
    capacity: number;
    waiting: number;
    marked: number;
    present: number;
    late: number;
    absent: number;
    excused: number;
    /** Learners in the online meeting now. */
    participants: number;
    /** RSVP answers (online sessions). */
    confirmed: number;
    tentative: number;
    declined: number;
  };
  /** The completion rule in words (shown to learners too). */
  completionRule: string;
  /** The self check-in code (made on first read). */
  checkInCode: string;
  rows: RosterRow[];
}

/** The roster of a session for its staff. 404 unknown session, 403 for anyone but its instructor and admins. */
export async function getRoster(
  kv: Deno.Kv,
  sessionId: string,
  who: Acting,
  now: Date,
  settings: AttendanceSettings,
): Promise<Roster> {
  settings = await loadSettingsInForce(kv, settings);
  const session = (await kv.get<Session>(keys.session(sessionId))).value;
  if (!session) throw notFound("session", sessionId);
  assertMayManageSession(who, session);
  const [courseE, closeE] = await kv.getMany<[Course, AttendanceClose]>([
    keys.course(session.courseId),
    keys.attendanceClose(sessionId),
  ]);
  const course = courseE.value;
  const bookings = await listBookingsBySession(kv, sessionId, { status: "confirmed" });
  const learnerIds = bookings.map((b) => b.learnerId);
  const [users, records, availability, code, presence] = await Promise.all([
    getUsers(kv, learnerIds),
    getValuesById<AttendanceMarkRecord>(kv, learnerIds, (id) => keys.attendance(sessionId, id)),
    getAvailability(kv, [session], now),
    ensureCheckInCode(kv, sessionId, now),
    listPresence(kv, sessionId),
  ]);
  const rsvps = await listRsvps(kv, sessionId);
  const inMeeting = (p: OnlinePresence) =>
    !!p.openSince && now.getTime() - Date.parse(p.lastSeenAt ?? p.openSince) <= STALE_AFTER_MS;
  const dealerIds = [...new Set([...users.values()].map((u) => u.dealerId).filter((d): d is string => !!d))];
  const prereqIds = course?.prerequisiteCourseIds ?? [];
  const [dealers, prereqs] = await Promise.all([
    getValuesById<Dealer>(kv, dealerIds, keys.dealer),
    getValuesById<Course>(kv, prereqIds, keys.course),
  ]);
  const soFar = {
    startsAt: session.startsAt,
    endsAt: new Date(Math.min(Date.parse(session.endsAt), now.getTime())).toISOString(),
  };
  const rows = bookings.map((b): RosterRow => {
    const user = users.get(b.learnerId) as User | undefined;
    const record = records.get(b.learnerId) ?? null;
    const done = new Set(user?.completedCourses.map((c) => c.courseId) ?? []);
    // Minutes so far: up to now while the session runs.
    const seconds = record?.checkInAt ? attendedSeconds(record, soFar) : null;
    return {
      learnerId: b.learnerId,
      bookingId: b.id,
      name: user?.name ?? "Unknown learner",
      email: user?.email ?? "",
      dealer: user?.dealerId ? dealers.get(user.dealerId)?.name ?? null : null,
      missingPrerequisites: prereqIds.filter((id) => !done.has(id)).map((id) => prereqs.get(id)?.title ?? id),
      mark: record?.mark ?? null,
      status: record?.status ?? null,
      checkInAt: record?.checkInAt ?? null,
      checkOutAt: record?.checkOutAt ?? null,
      minutes: seconds === null ? null : Math.round(seconds / 60),
      revision: revisionOf(record),
      outcome: record?.outcome ?? null,
      online: presence.has(b.learnerId)
        ? {
          joinCount: presence.get(b.learnerId)!.joinCount,
          minutes: Math.round(presenceSeconds(presence.get(b.learnerId)!, session) / 60),
          inMeeting: inMeeting(presence.get(b.learnerId)!),
        }
        : null,
      rsvp: rsvps.get(b.learnerId)?.status ?? null,
    };
  }).sort((a, b) => a.name.localeCompare(b.name));
  const count = (m: Mark) => rows.filter((r) => r.mark === m).length;
  const avail = availability.get(sessionId);
  const scheduled = (Date.parse(session.endsAt) - Date.parse(session.startsAt)) / 1000;
  return {
    session: {
      id: session.id,
      startsAt: session.startsAt,
      endsAt: session.endsAt,
      timeZone: session.timeZone,
      mode: session.mode,
      capacity: session.capacity,
      status: session.status,
      instructorId: session.instructorId,
    },
    course: { id: session.courseId, code: course?.code ?? "", title: course?.title ?? "Course" },
    phase: sessionPhase(session, now),
    attendance: {
      state: attendanceState(session, settings, closeE.value !== null, now),
      checkIn: checkInWindow(session, settings),
      marks: markWindow(session, settings),
      closed: closeE.value,
    },
    counts: {
      booked: rows.length,
      capacity: session.capacity,
      waiting: avail?.waiting ?? 0,
      marked: rows.filter((r) => r.mark).length,
      present: count("present"),
      late: count("late"),
      absent: count("absent"),
      excused: count("excused"),
      participants: rows.filter((r) => r.online?.inMeeting).length,
      confirmed: rows.filter((r) => r.rsvp === "confirmed").length,
      tentative: rows.filter((r) => r.rsvp === "tentative").length,
      declined: rows.filter((r) => r.rsvp === "declined").length,
    },
    completionRule: describeCompletionRule(completionRuleOf(course), scheduled),
    checkInCode: code,
    rows,
  };
}

/** One line of the instructor's home. */
export interface TeachSessionRow {
  id: string;
  courseTitle: string;
  startsAt: string;
  endsAt: string;
  timeZone: string;
  mode: Session["mode"];
  taken: number;
  capacity: number;
  waiting: number;
  phase: SessionPhase;
  attendance: AttendanceState;
}

/**
 * The instructor's sessions from `recentDays` ago to `upcomingDays` ahead (by start), split into
 * upcoming (including live) and recent (ended), each with seats, waitlist and states.
 */
export async function listTeachSessions(
  kv: Deno.Kv,
  instructorId: string,
  now: Date,
  settings: AttendanceSettings,
  options: { recentDays?: number; upcomingDays?: number } = {},
): Promise<{ upcoming: TeachSessionRow[]; recent: TeachSessionRow[] }> {
  settings = await loadSettingsInForce(kv, settings);
  const day = 86_400_000;
  const prefix = keys.sessionsByInstructorPrefix(instructorId);
  const from = new Date(now.getTime() - (options.recentDays ?? 30) * day).toISOString();
  const to = new Date(now.getTime() + (options.upcomingDays ?? 60) * day).toISOString();
  const ids: string[] = [];
  for await (const e of kv.list({ start: [...prefix, from], end: [...prefix, to] }, { limit: 200 })) {
    ids.push(e.key[3] as string);
  }
  const sessions = [...(await getSessions(kv, ids)).values()];
  const courses = await getValuesById<Course>(kv, [...new Set(sessions.map((s) => s.courseId))], keys.course);
  const closes = await getValuesById<AttendanceClose>(kv, ids, keys.attendanceClose);
  const availability = await getAvailability(kv, sessions, now);
  const rows = sessions.map((s): TeachSessionRow => {
    const a = availability.get(s.id);
    return {
      id: s.id,
      courseTitle: courses.get(s.courseId)?.title ?? "Course",
      startsAt: s.startsAt,
      endsAt: s.endsAt,
      timeZone: s.timeZone,
      mode: s.mode,
      taken: a?.taken ?? 0,
      capacity: s.capacity,
      waiting: a?.waiting ?? 0,
      phase: sessionPhase(s, now),
      attendance: attendanceState(s, settings, closes.has(s.id), now),
    };
  }).sort((a, b) => a.startsAt < b.startsAt ? -1 : 1);
  return {
    upcoming: rows.filter((r) => r.phase === "scheduled" || r.phase === "live"),
    recent: rows.filter((r) => r.phase === "ended" || r.phase === "cancelled").reverse(),
  };
}
