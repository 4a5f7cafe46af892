/**
 * Demo data of the instructor pages, for the demo instructor (instructor@example.com), relative to
 * `now`:
 * - a session that ended 10 days ago, attendance closed: completions (the course unlocks the
 *   course that requires it), a learner marked absent and one never marked (no-shows);
 * - a session that ended 2 days ago, attendance still open for corrections: present, late with an
 *   early check-out, and one learner not marked yet;
 * - an online session live now and an in-person session starting in 20 minutes (check-in open),
 *   both with the demo learner (learner@example.com) booked, and a late cancellation of the latter. These two are made again whenever the
 *   demo starts and the previous ones are over, so something is always live.
 * Kept apart from the main seed (lib/seed/seed.ts), whose data set it leaves as it is.
 */
import type { Course } from "../domain/course.ts";
import type { Session } from "../domain/session.ts";
import type { User } from "../domain/user.ts";
import type { Actor } from "../booking/events.ts";
import { closeAttendance } from "../attendance/close.ts";
import { recordHeartbeat, recordJoin, recordLeave } from "../attendance/online.ts";
import { answerRsvp } from "../attendance/rsvp.ts";
import { BookingEngine } from "../booking/engine.ts";
import { markAttendance, type MarkInput } from "../attendance/marks.ts";
import { type AttendanceSettings, DEFAULT_ATTENDANCE_SETTINGS } from "../attendance/windows.ts";
import { importConfirmedBookings } from "../store/bookings.ts";
import { listCourses } from "../store/courses.ts";
import { keys } from "../store/keys.ts";
import { createSession } from "../store/sessions.ts";
import { getUserByEmail } from "../store/users.ts";
import { listLocations } from "../store/locations.ts";
import { DEMO_EMAILS } from "./build_people.ts";

const MINUTE = 60_000;
const DAY = 86_400_000;

/** `["meta", "seed_teaching"]`. */
export interface TeachingSeedMarker {
  pastSeeded: boolean;
  liveSessionId: string | null;
  checkInSessionId: string | null;
}

/** What {@link seedTeachingDemo} made this time (ids; empty when nothing was due). */
export interface TeachingSeedResult {
  past: string[];
  live: string | null;
  checkIn: string | null;
}

async function learnersFor(kv: Deno.Kv, count: number, exclude: Set<string>): Promise<User[]> {
  const out: User[] = [];
  for await (const e of kv.list<User>({ prefix: keys.usersPrefix() })) {
    const u = e.value;
    if (u.roles.length === 1 && u.roles[0] === "learner" && !exclude.has(u.id) && u.email !== DEMO_EMAILS.learner) {
      out.push(u);
      if (out.length === count) break;
    }
  }
  return out;
}

/** Adds the demo of the instructor pages (see the module doc); does nothing without the demo instructor. */
export async function seedTeachingDemo(
  kv: Deno.Kv,
  now: Date = new Date(),
  settings: AttendanceSettings = DEFAULT_ATTENDANCE_SETTINGS,
): Promise<TeachingSeedResult> {
  const result: TeachingSeedResult = { past: [], live: null, checkIn: null };
  const instructor = await getUserByEmail(kv, DEMO_EMAILS.instructor);
  const demoLearner = await getUserByEmail(kv, DEMO_EMAILS.learner);
  if (!instructor || !demoLearner) return result;
  const markerKey = keys.teachingSeedMarker();
  const marker = (await kv.get<TeachingSeedMarker>(markerKey)).value ??
    { pastSeeded: false, liveSessionId: null, checkInSessionId: null };
  const courses = await listCourses(kv);
  const location = (await listLocations(kv))[0];
  // A course another course requires: completing it unlocks that one.
  const required = new Set(courses.flatMap((c) => c.prerequisiteCourseIds));
  const basic = courses.find((c) => c.prerequisiteCourseIds.length === 0 && required.has(c.id)) ?? courses[0];
  const plain = courses.filter((c) => c.prerequisiteCourseIds.length === 0);
  const staff: Actor = {
    userId: instructor.id,
    roles: instructor.roles,
    origin: "web",
    correlationId: crypto.randomUUID(),
    reason: "demo data",
  };
  const used = new Set<string>([demoLearner.id]);
  const make = async (course: Course, startMs: number, mode: "online" | "in_person", learners: User[]) => {
    const session = await createSession(kv, {
      courseId: course.id,
      startsAt: new Date(startMs).toISOString(),
      endsAt: new Date(startMs + 120 * MINUTE).toISOString(),
      timeZone: location.timeZone,
      mode,
      locationId: mode === "online" ? null : location.id,
      joinUrl: mode === "online" ? `https://meet.example.com/${course.code.toLowerCase()}-live` : null,
      capacity: 12,
      instructorId: instructor.id,
    });
    await importConfirmedBookings(kv, learners.map((l) => ({ sessionId: session.id, learnerId: l.id, origin: "web" })));
    return session;
  };
  const mark = (session: Session, learner: User, m: MarkInput["mark"], at: number, extra: Partial<MarkInput> = {}) =>
    markAttendance(
      kv,
      { sessionId: session.id, learnerId: learner.id, mark: m, expectedRevision: 0, ...extra },
      staff,
      new Date(at),
      settings,
    );

  if (!marker.pastSeeded) {
    const closedLearners = await learnersFor(kv, 6, used);
    closedLearners.forEach((l) => used.add(l.id));
    const closedStart = now.getTime() - 10 * DAY - 120 * MINUTE;
    const closed = await make(basic, closedStart, "in_person", closedLearners);
    for (const l of closedLearners.slice(0, 4)) await mark(closed, l, "present", closedStart - 5 * MINUTE);
    await mark(closed, closedLearners[4], "absent", closedStart + 15 * MINUTE);
    await closeAttendance(kv, closed.id, staff, new Date(closedStart + 130 * MINUTE));

    const openLearners = await learnersFor(kv, 5, used);
    openLearners.forEach((l) => used.add(l.id));
    const openStart = now.getTime() - 2 * DAY - 120 * MINUTE;
    const open = await make(plain[1] ?? basic, openStart, "in_person", openLearners);
    for (const l of openLearners.slice(0, 3)) await mark(open, l, "present", openStart - 10 * MINUTE);
    await mark(open, openLearners[3], "late", openStart + 25 * MINUTE, {
      checkOutAt: new Date(openStart + 45 * MINUTE).toISOString(),
    });
    marker.pastSeeded = true;
    result.past = [closed.id, open.id];
  }

  const current = marker.liveSessionId ? (await kv.get<Session>(keys.session(marker.liveSessionId))).value : null;
  if (!current || Date.parse(current.endsAt) <= now.getTime() + 30 * MINUTE) {
    const liveLearners = await learnersFor(kv, 5, used);
    liveLearners.forEach((l) => used.add(l.id));
    const live = await make(plain[2] ?? basic, now.getTime() - 15 * MINUTE, "online", [demoLearner, ...liveLearners]);
    // Some learners joined (and answered the RSVP); one of them left and came back.
    for (const [i, l] of liveLearners.slice(0, 3).entries()) {
      const who = { userId: l.id, roles: l.roles };
      await recordJoin(kv, live.id, who, new Date(now.getTime() - 14 * MINUTE), settings);
      if (i === 0) {
        await recordLeave(kv, live.id, l.id, new Date(now.getTime() - 8 * MINUTE), "page");
        await recordJoin(kv, live.id, who, new Date(now.getTime() - 5 * MINUTE), settings);
      }
      await recordHeartbeat(kv, live.id, l.id, now);
      const me: Actor = { userId: l.id, roles: l.roles, origin: "web", correlationId: crypto.randomUUID() };
      const noRelease = () => Promise.reject(new Error("the demo releases no seat"));
      await answerRsvp(
        kv,
        { sessionId: live.id, learnerId: l.id, status: i === 2 ? "tentative" : "confirmed" },
        me,
        now,
        noRelease,
      );
    }
    const soonLearners = await learnersFor(kv, 4, used);
    const soon = await make(plain[3] ?? basic, now.getTime() + 20 * MINUTE, "in_person", [
      demoLearner,
      ...soonLearners,
    ]);
    // A late cancellation: booked, then cancelled inside the course's cut-off.
    const [canceller] = await learnersFor(kv, 1, new Set([...used, ...soonLearners.map((l) => l.id)]));
    if (canceller) {
      const engine = new BookingEngine(kv, { holdMinutes: 15, now: () => now });
      const me: Actor = {
        userId: canceller.id,
        roles: canceller.roles,
        origin: "web",
        correlationId: crypto.randomUUID(),
      };
      const { hold } = await engine.placeHold(soon.id, canceller.id, me);
      const { booking } = await engine.confirmHold(hold.id, me);
      await engine.cancelBooking(booking.id, { ...me, reason: "demo: a late cancellation" });
    }
    marker.liveSessionId = live.id;
    marker.checkInSessionId = soon.id;
    result.live = live.id;
    result.checkIn = soon.id;
  }
  await kv.set(markerKey, marker);
  return result;
}
