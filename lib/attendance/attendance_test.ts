import assert from "node:assert/strict";
import xapiValidation from "@learninglocker/xapi-validation";
import { DomainError } from "../booking/errors.ts";
import { type Actor, listEvents } from "../booking/events.ts";
import type { Session } from "../domain/session.ts";
import { keys } from "../store/keys.ts";
import { getUser } from "../store/users.ts";
import { loadStatementContext, topicFor, toStatement } from "../relay/xapi.ts";
import {
  admin,
  HOUR,
  MINUTE,
  putCourse,
  putLocation,
  putSession,
  putUser,
  self,
  setup,
  T0,
  teardown,
} from "../../tests/booking/test_fixtures.ts";
import { closeAttendance, closeDueAttendance, outcomeOf } from "./close.ts";
import { describeCompletionRule, isoDuration, meetsCompletion } from "./completion.ts";
import {
  type AttendanceMarkRecord,
  ensureCheckInCode,
  listAttendanceAudit,
  markAllPresent,
  markAttendance,
  selfCheckIn,
} from "./marks.ts";
import { getRoster, listTeachSessions } from "./roster.ts";
import { DEFAULT_ATTENDANCE_SETTINGS as SETTINGS } from "./windows.ts";

const validate = xapiValidation.default;

function instructorActor(userId: string): Actor {
  return { userId, roles: ["instructor"], origin: "web", correlationId: crypto.randomUUID() };
}

const is = (code: string, status?: number) => (e: unknown) =>
  e instanceof DomainError && e.code === code && (status === undefined || e.status === status);

/** An in-person session starting 24 h after T0 (2 h long), its instructor, and `n` booked learners. */
async function world(n = 3, courseOver: Parameters<typeof putCourse>[1] = {}) {
  const base = await setup();
  const { kv, engine, clock } = base;
  const basics = await putCourse(kv, { code: "SAF-100", title: "Safety Basics" });
  const advanced = await putCourse(kv, {
    code: "SAF-200",
    title: "Advanced Safety",
    prerequisiteCourseIds: [basics.id],
  });
  const course = await putCourse(kv, { code: "SAF-150", title: "Lifting", ...courseOver });
  const location = await putLocation(kv);
  const instructor = await putUser(kv, { name: "Ida Instructor", roles: ["instructor"] });
  const session = await putSession(kv, course.id, {
    mode: "in_person",
    locationId: location.id,
    joinUrl: null,
    instructorId: instructor.id,
    startsInHours: 24,
  });
  await kv.set(keys.sessionsByInstructor(instructor.id, session.startsAt, session.id), { id: session.id });
  await kv.set(keys.sessionsByStart(session.startsAt, session.id), { id: session.id });
  const learners = [];
  for (let i = 0; i < n; i++) {
    const learner = await putUser(kv, { name: `Learner ${i}` });
    const { hold } = await engine.placeHold(session.id, learner.id, self(learner.id));
    await engine.confirmHold(hold.id, self(learner.id));
    learners.push(learner);
  }
  const start = Date.parse(session.startsAt);
  return { ...base, kv, clock, course, basics, advanced, session, instructor, learners, start };
}

Deno.test("[attendance] marks: window, roster, access; corrections keep times; all present skips marked learners", async () => {
  const w = await world(3);
  try {
    const ida = instructorActor(w.instructor.id);
    const mark = (learnerId: string, m: "present" | "late" | "absent" | "excused", rev: number, at: number) =>
      markAttendance(
        w.kv,
        { sessionId: w.session.id, learnerId, mark: m, expectedRevision: rev },
        ida,
        new Date(at),
        SETTINGS,
      );
    // 31 minutes before the start: outside the window, which the message names.
    await assert.rejects(
      mark(w.learners[0].id, "present", 0, w.start - 31 * MINUTE),
      (e) =>
        is("outside_window", 409)(e) && (e as Error).message.includes(new Date(w.start - 30 * MINUTE).toISOString()),
    );
    const stranger = await putUser(w.kv);
    await assert.rejects(mark(stranger.id, "present", 0, w.start), is("not_on_roster", 404));
    const other = instructorActor((await putUser(w.kv, { roles: ["instructor"] })).id);
    await assert.rejects(
      markAttendance(
        w.kv,
        { sessionId: w.session.id, learnerId: w.learners[0].id, mark: "present", expectedRevision: 0 },
        other,
        new Date(w.start),
        SETTINGS,
      ),
      is("forbidden", 403),
    );
    await assert.rejects(
      markAttendance(
        w.kv,
        { sessionId: w.session.id, learnerId: w.learners[0].id, mark: "present", expectedRevision: 0 },
        self(w.learners[0].id),
        new Date(w.start),
        SETTINGS,
      ),
      is("forbidden", 403),
    );
    // Exactly 30 minutes before: open.
    const first = await mark(w.learners[0].id, "present", 0, w.start - 30 * MINUTE);
    assert.deepEqual([first.mark, first.status, first.revision], ["present", "attended", 1]);
    assert.equal(first.checkInAt, new Date(w.start - 30 * MINUTE).toISOString());
    // A correction to late keeps the check-in time; check-out sets the end.
    const late = await mark(w.learners[0].id, "late", 1, w.start + 5 * MINUTE);
    assert.equal(late.checkInAt, first.checkInAt);
    const out = await markAttendance(
      w.kv,
      { sessionId: w.session.id, learnerId: w.learners[0].id, mark: "late", expectedRevision: 2, checkOut: true },
      ida,
      new Date(w.start + 90 * MINUTE),
      SETTINGS,
    );
    assert.equal(out.checkOutAt, new Date(w.start + 90 * MINUTE).toISOString());
    await assert.rejects(
      markAttendance(
        w.kv,
        {
          sessionId: w.session.id,
          learnerId: w.learners[0].id,
          mark: "late",
          expectedRevision: 3,
          checkOutAt: new Date(w.start - HOUR).toISOString(),
        },
        ida,
        new Date(w.start + 91 * MINUTE),
        SETTINGS,
      ),
      is("invalid_time", 422),
    );
    await mark(w.learners[1].id, "absent", 0, w.start);
    const all = await markAllPresent(
      w.kv,
      w.session.id,
      w.learners.map((l) => l.id),
      ida,
      new Date(w.start + MINUTE),
      SETTINGS,
    );
    assert.deepEqual(all, { marked: [w.learners[2].id], skipped: [w.learners[0].id, w.learners[1].id] });
    // Corrections are accepted until 7 days after the end, not after.
    const end = Date.parse(w.session.endsAt);
    await mark(w.learners[1].id, "excused", 1, end + 7 * 24 * HOUR - 1);
    await assert.rejects(mark(w.learners[1].id, "present", 2, end + 7 * 24 * HOUR), is("outside_window", 409));
    const audit = await listAttendanceAudit(w.kv, w.session.id);
    assert.deepEqual(
      audit.map((a) => [a.learnerId === w.learners[0].id ? 0 : a.learnerId === w.learners[1].id ? 1 : 2, a.action]),
      [[0, "mark"], [0, "mark"], [0, "mark"], [1, "mark"], [2, "all_present"], [1, "mark"]],
    );
    assert.deepEqual(audit[1].from?.mark, "present");
    assert.deepEqual(audit[1].to?.mark, "late");
  } finally {
    await teardown(w.kv);
  }
});

Deno.test("[attendance] two staff marking the same learner at once: one wins, the other gets 409 with the current state; both audited", async () => {
  const w = await world(1);
  try {
    const ida = instructorActor(w.instructor.id);
    const boss: Actor = admin();
    const at = new Date(w.start);
    const input = (mark: "present" | "absent") => ({
      sessionId: w.session.id,
      learnerId: w.learners[0].id,
      mark,
      expectedRevision: 0,
    });
    for (let round = 0; round < 5; round++) {
      if (round > 0) await w.kv.delete(keys.attendance(w.session.id, w.learners[0].id));
      const results = await Promise.allSettled([
        markAttendance(w.kv, input("present"), ida, at, SETTINGS),
        markAttendance(w.kv, input("absent"), boss, at, SETTINGS),
      ]);
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      assert.equal(won.length, 1, `round ${round}: exactly one mark wins`);
      assert.equal(lost.length, 1);
      assert.ok(is("stale_mark", 409)(lost[0].reason));
      const current = (lost[0].reason as DomainError).details as { current: AttendanceMarkRecord };
      const stored = (await w.kv.get<AttendanceMarkRecord>(keys.attendance(w.session.id, w.learners[0].id))).value!;
      assert.deepEqual(current.current, stored, "the loser sees what is stored");
      assert.equal(stored.mark, (won[0] as PromiseFulfilledResult<AttendanceMarkRecord>).value.mark);
    }
    const audit = await listAttendanceAudit(w.kv, w.session.id);
    assert.equal(audit.filter((a) => a.action === "mark").length, 5);
    assert.equal(audit.filter((a) => a.action === "refused_stale").length, 5);
  } finally {
    await teardown(w.kv);
  }
});

Deno.test("[attendance] self check-in: wrong code 403, before the window 409, after the end 410, not booked 403, only once; late after 10 min", async () => {
  const w = await world(2);
  try {
    const code = await ensureCheckInCode(w.kv, w.session.id, new Date(T0));
    assert.equal(await ensureCheckInCode(w.kv, w.session.id, new Date(T0)), code, "one code per session");
    assert.match(code, /^[2-9A-HJ-NP-Z]{6}$/);
    const [a, b] = w.learners;
    const check = (learnerId: string, typed: string, at: number) =>
      selfCheckIn(w.kv, { sessionId: w.session.id, learnerId, code: typed }, self(learnerId), new Date(at), SETTINGS);
    await assert.rejects(check(a.id, code, w.start - 31 * MINUTE), is("outside_window", 409));
    await assert.rejects(check(a.id, code === "ABCDEF" ? "ABCDEG" : "ABCDEF", w.start), is("wrong_code", 403));
    const stranger = await putUser(w.kv);
    await assert.rejects(check(stranger.id, code, w.start), is("not_booked", 403));
    const typed = `${code.slice(0, 3).toLowerCase()} ${code.slice(3)}`;
    const mine = await check(a.id, typed, w.start - 5 * MINUTE);
    assert.deepEqual([mine.mark, mine.checkInAt, mine.source], [
      "present",
      new Date(w.start - 5 * MINUTE).toISOString(),
      "self_check_in",
    ]);
    await assert.rejects(check(a.id, code, w.start), is("already_checked_in", 409));
    const late = await check(b.id, code, w.start + 11 * MINUTE);
    assert.equal(late.mark, "late");
    await assert.rejects(check(b.id, code, Date.parse(w.session.endsAt)), is("code_expired", 410));
    // Concurrent double check-in by the same learner: exactly one lands.
    await w.kv.delete(keys.attendance(w.session.id, a.id));
    const twice = await Promise.allSettled([check(a.id, code, w.start), check(a.id, code, w.start)]);
    assert.equal(twice.filter((r) => r.status === "fulfilled").length, 1);
  } finally {
    await teardown(w.kv);
  }
});

Deno.test("[attendance] close: completed, attended, no-show (automatic for the unmarked), excused; completion unlocks the next course; events are valid xAPI on the right topics", async () => {
  // The course of the session is the prerequisite of "advanced": completing it unlocks that one.
  const w = await world(5);
  try {
    await w.kv.set(keys.course(w.advanced.id), { ...w.advanced, prerequisiteCourseIds: [w.course.id] });
    const ida = instructorActor(w.instructor.id);
    const [full, brief, absent, excused, never] = w.learners;
    const at = (m: number) => new Date(w.start + m * MINUTE);
    const mark = (l: { id: string }, m: "present" | "late" | "absent" | "excused", extra = {}) =>
      markAttendance(
        w.kv,
        { sessionId: w.session.id, learnerId: l.id, mark: m, expectedRevision: 0, ...extra },
        ida,
        at(0),
        SETTINGS,
      );
    await mark(full, "present");
    // 29 minutes of a 120-minute session: below both 30 min and 50 %.
    await mark(brief, "late", { checkInAt: at(0).toISOString(), checkOutAt: at(29).toISOString() });
    await mark(absent, "absent");
    await mark(excused, "excused");
    await assert.rejects(closeAttendance(w.kv, w.session.id, ida, at(119)), is("session_not_ended", 409));
    await assert.rejects(
      closeAttendance(
        w.kv,
        w.session.id,
        instructorActor((await putUser(w.kv, { roles: ["instructor"] })).id),
        at(120),
      ),
      is("forbidden", 403),
    );
    const learnerBefore = (await getUser(w.kv, full.id))!;
    assert.ok(!learnerBefore.completedCourses.some((c) => c.courseId === w.course.id));
    const missingBefore = await w.engine.missingPrerequisites(
      { ...w.advanced, prerequisiteCourseIds: [w.course.id] },
      learnerBefore,
    );
    assert.equal(missingBefore.length, 1);

    const closed = await closeAttendance(w.kv, w.session.id, ida, at(130));
    assert.deepEqual(closed.counts, { completed: 1, attended: 1, no_show: 2, excused: 1 });
    await assert.rejects(closeAttendance(w.kv, w.session.id, ida, at(131)), is("attendance_closed", 409));
    await assert.rejects(
      markAttendance(
        w.kv,
        { sessionId: w.session.id, learnerId: never.id, mark: "present", expectedRevision: 0 },
        ida,
        at(140),
        SETTINGS,
      ),
      is("attendance_closed", 409),
    );
    const outcome = async (l: { id: string }) =>
      (await w.kv.get<AttendanceMarkRecord>(keys.attendance(w.session.id, l.id))).value?.outcome;
    assert.deepEqual(
      await Promise.all([full, brief, absent, excused, never].map(outcome)),
      ["completed", "attended", "no_show", "excused", "no_show"],
    );
    const learnerAfter = (await getUser(w.kv, full.id))!;
    assert.deepEqual(learnerAfter.completedCourses.map((c) => c.courseId), [w.course.id]);
    const missingAfter = await w.engine.missingPrerequisites(
      { ...w.advanced, prerequisiteCourseIds: [w.course.id] },
      learnerAfter,
    );
    assert.deepEqual(missingAfter, [], "the course requiring this one is unlocked");
    assert.deepEqual((await getUser(w.kv, brief.id))!.completedCourses, []);

    const { events } = await listEvents(w.kv, { limit: 1000 });
    const recorded = events.filter((e) => e.type === "attendance.recorded");
    const completed = events.filter((e) => e.type === "course.completed");
    assert.equal(recorded.length, 5);
    assert.deepEqual(completed.map((e) => e.learnerId), [full.id]);
    for (const ev of [...recorded, ...completed]) {
      const statement = toStatement(ev, await loadStatementContext(w.kv, ev));
      assert.deepEqual(validate(statement).map((x) => x.path.join(".")), [], JSON.stringify(statement));
      assert.equal(
        topicFor(ev),
        ev.type === "course.completed" ? "nlj.training.completion" : "nlj.training.attendance",
      );
      if (ev.type === "course.completed") {
        assert.equal(statement.verb.id, "http://adlnet.gov/expapi/verbs/completed");
        assert.equal(statement.result?.completion, true);
        assert.equal(statement.result?.duration, "PT2H");
      } else {
        assert.equal(statement.verb.id, "http://adlnet.gov/expapi/verbs/attended");
        assert.match(statement.result!.duration!, /^PT(\d+H)?(\d+M)?(\d+S)?$/);
        const x = statement.result!.extensions;
        assert.equal(x["https://training.example.com/xapi/extensions/attendance-method"], "in_person");
        assert.equal(x["https://training.example.com/xapi/extensions/join-count"], 0);
        assert.ok("https://training.example.com/xapi/extensions/check-in" in x);
        assert.ok("https://training.example.com/xapi/extensions/check-out" in x);
      }
    }
    const briefEvent = recorded.find((e) => e.learnerId === brief.id)!;
    assert.equal(toStatement(briefEvent, await loadStatementContext(w.kv, briefEvent)).result?.duration, "PT29M");
    const neverEvent = recorded.find((e) => e.learnerId === never.id)!;
    assert.deepEqual([neverEvent.data.status, neverEvent.data.outcome], ["no_show", "no_show"]);
  } finally {
    await teardown(w.kv);
  }
});

Deno.test("[attendance] the worker closes attendance 7 days after the end, marking the unmarked as no-shows", async () => {
  const w = await world(2);
  try {
    const end = Date.parse(w.session.endsAt);
    assert.equal(await closeDueAttendance(w.kv, new Date(end + 7 * 24 * HOUR - 1), SETTINGS), 0);
    assert.equal(await closeDueAttendance(w.kv, new Date(end + 7 * 24 * HOUR), SETTINGS), 1);
    const close =
      (await w.kv.get<{ automatic: boolean; counts: Record<string, number> }>(keys.attendanceClose(w.session.id)))
        .value!;
    assert.equal(close.automatic, true);
    assert.equal(close.counts.no_show, 2);
    assert.equal(await closeDueAttendance(w.kv, new Date(end + 8 * 24 * HOUR), SETTINGS), 0, "closed once");
  } finally {
    await teardown(w.kv);
  }
});

Deno.test("[attendance] completion rule: 30 min or 50 %, whichever first; per course; ISO durations", () => {
  const rule = { minMinutes: 30, minPercent: 50 };
  assert.equal(meetsCompletion(rule, 30 * 60, 120 * 60), true);
  assert.equal(meetsCompletion(rule, 30 * 60 - 1, 120 * 60), false);
  // A 40-minute session: 50 % (20 min) comes first.
  assert.equal(meetsCompletion(rule, 20 * 60, 40 * 60), true);
  assert.equal(meetsCompletion(rule, 20 * 60 - 1, 40 * 60), false);
  assert.match(describeCompletionRule(rule, 40 * 60), /30 minutes or 50 %.*20 minutes/);
  const session = { startsAt: "2026-03-02T15:00:00.000Z", endsAt: "2026-03-02T17:00:00.000Z" } as Session;
  const rec = (checkInAt: string, checkOutAt: string | null) =>
    ({ mark: "present", checkInAt, checkOutAt }) as AttendanceMarkRecord;
  assert.equal(
    outcomeOf(rec("2026-03-02T15:00:00.000Z", "2026-03-02T15:45:00.000Z"), session, {
      completionRule: { minMinutes: 60, minPercent: 90 },
    }).outcome,
    "attended",
  );
  assert.equal(
    outcomeOf(rec("2026-03-02T14:40:00.000Z", "2026-03-02T15:30:00.000Z"), session, null).outcome,
    "completed",
  );
  assert.equal(outcomeOf(null, session, null).outcome, "no_show");
  assert.deepEqual([isoDuration(0), isoDuration(5400), isoDuration(3661)], ["PT0S", "PT1H30M", "PT1H1M1S"]);
});

Deno.test("[attendance] roster and /teach rows: seats, waitlist, marks, prerequisites, phase; staff only", async () => {
  const w = await world(2, {});
  try {
    await w.kv.set(keys.course(w.course.id), { ...w.course, prerequisiteCourseIds: [w.basics.id] });
    const ida = instructorActor(w.instructor.id);
    await markAttendance(
      w.kv,
      { sessionId: w.session.id, learnerId: w.learners[0].id, mark: "present", expectedRevision: 0 },
      ida,
      new Date(w.start),
      SETTINGS,
    );
    const roster = await getRoster(w.kv, w.session.id, ida, new Date(w.start + MINUTE), SETTINGS);
    assert.equal(roster.phase, "live");
    assert.equal(roster.attendance.state, "open");
    assert.deepEqual([roster.counts.booked, roster.counts.present, roster.counts.marked], [2, 1, 1]);
    assert.deepEqual(roster.rows.map((r) => [r.name, r.mark, r.revision, r.missingPrerequisites, r.minutes]), [
      ["Learner 0", "present", 1, ["Safety Basics"], 1],
      ["Learner 1", null, 0, ["Safety Basics"], null],
    ]);
    await assert.rejects(
      getRoster(w.kv, w.session.id, self(w.learners[0].id), new Date(w.start), SETTINGS),
      is("forbidden", 403),
    );
    const early = await listTeachSessions(w.kv, w.instructor.id, new Date(w.start - HOUR), SETTINGS);
    assert.deepEqual(early.upcoming.map((r) => [r.id, r.taken, r.capacity, r.phase, r.attendance]), [
      [w.session.id, 2, 10, "scheduled", "not_open"],
    ]);
    const home = await listTeachSessions(w.kv, w.instructor.id, new Date(w.start - 10 * MINUTE), SETTINGS);
    assert.deepEqual(home.upcoming.map((r) => [r.id, r.phase, r.attendance]), [[w.session.id, "scheduled", "open"]]);
    const later = await listTeachSessions(w.kv, w.instructor.id, new Date(w.start + 3 * HOUR), SETTINGS);
    assert.deepEqual(later.recent.map((r) => [r.id, r.phase]), [[w.session.id, "ended"]]);
  } finally {
    await teardown(w.kv);
  }
});
