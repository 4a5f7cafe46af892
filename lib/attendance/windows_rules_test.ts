/** The check-in window the admins set (`checkInWindowMinutes`): self check-in, the roster, marks. */
import assert from "node:assert/strict";
import { DomainError } from "../booking/errors.ts";
import type { Actor } from "../booking/events.ts";
import { defaultRules, saveRules } from "../booking/rules.ts";
import { keys } from "../store/keys.ts";
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
import { ensureCheckInCode, markAttendance, selfCheckIn } from "./marks.ts";
import { joinWindow } from "./online.ts";
import { getRoster, listTeachSessions } from "./roster.ts";
import { DEFAULT_ATTENDANCE_SETTINGS as SETTINGS, loadSettingsInForce } from "./windows.ts";

const is = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;

/** An in-person session 24 h after T0, its instructor and one booked learner. */
async function world() {
  const { kv, engine, clock } = await setup();
  const course = await putCourse(kv, { code: "CHK-100", title: "Check-in" });
  const location = await putLocation(kv);
  const instructor = await putUser(kv, { roles: ["instructor"] });
  const session = await putSession(kv, course.id, {
    mode: "in_person",
    locationId: location.id,
    joinUrl: null,
    instructorId: instructor.id,
    startsInHours: 24,
  });
  await kv.set(keys.sessionsByInstructor(instructor.id, session.startsAt, session.id), { id: session.id });
  const learner = await putUser(kv);
  const { hold } = await engine.placeHold(session.id, learner.id, self(learner.id));
  await engine.confirmHold(hold.id, self(learner.id));
  const ida: Actor = { userId: instructor.id, roles: ["instructor"], origin: "web", correlationId: "c" };
  return { kv, clock, session, learner, instructor, ida, start: Date.parse(session.startsAt) };
}

Deno.test("[attendance] the check-in window is the rule checkInWindowMinutes: self check-in, roster and marks follow a change", async () => {
  const w = await world();
  try {
    const code = await ensureCheckInCode(w.kv, w.session.id, new Date(T0));
    const at = (ms: number) => new Date(ms);
    const check = (ms: number) =>
      selfCheckIn(
        w.kv,
        { sessionId: w.session.id, learnerId: w.learner.id, code },
        self(w.learner.id),
        at(ms),
        SETTINGS,
      );
    // Default 30 min (CHECKIN_OPENS_MINUTES): 45 min before is too early.
    await assert.rejects(check(w.start - 45 * MINUTE), is("outside_window"));
    const before = await getRoster(w.kv, w.session.id, w.ida, at(w.start - HOUR), SETTINGS);
    assert.equal(before.attendance.checkIn.opensAt, new Date(w.start - 30 * MINUTE).toISOString());
    await saveRules(w.kv, { ...defaultRules(15), checkInWindowMinutes: 60 }, admin(), { now: at(T0) });
    const roster = await getRoster(w.kv, w.session.id, w.ida, at(w.start - HOUR), SETTINGS);
    assert.equal(
      roster.attendance.checkIn.opensAt,
      new Date(w.start - 60 * MINUTE).toISOString(),
      "the roster shows the rule",
    );
    assert.equal(roster.attendance.marks.opensAt, roster.attendance.checkIn.opensAt, "marks open with check-in");
    const rows = await listTeachSessions(w.kv, w.instructor.id, at(w.start - 50 * MINUTE), SETTINGS);
    assert.deepEqual(rows.upcoming.map((r) => r.attendance), ["open"]);
    const mine = await check(w.start - 45 * MINUTE);
    assert.equal(mine.checkInAt, new Date(w.start - 45 * MINUTE).toISOString());
    // Narrower again: an instructor's mark 20 min before is refused with the window in its details.
    await saveRules(w.kv, { ...defaultRules(15), checkInWindowMinutes: 10 }, admin(), { now: at(T0) });
    const refused = await markAttendance(
      w.kv,
      { sessionId: w.session.id, learnerId: w.learner.id, mark: "present", expectedRevision: 1 },
      w.ida,
      at(w.start - 20 * MINUTE),
      SETTINGS,
    ).catch((e) => e);
    assert.ok(is("outside_window")(refused), String(refused));
  } finally {
    await teardown(w.kv);
  }
});

Deno.test("[attendance] until rules are saved CHECKIN_OPENS_MINUTES is the window; the join window keeps JOIN_OPENS_MINUTES", async () => {
  const w = await world();
  try {
    const env = { ...SETTINGS, checkInOpensMinutes: 45, joinOpensMinutes: 10 };
    assert.equal((await loadSettingsInForce(w.kv, env)).checkInOpensMinutes, 45);
    await saveRules(w.kv, { ...defaultRules(15), checkInWindowMinutes: 5 }, admin(), { now: new Date(T0) });
    const inForce = await loadSettingsInForce(w.kv, env);
    assert.equal(inForce.checkInOpensMinutes, 5);
    assert.equal(joinWindow(w.session, inForce).opensAt, new Date(w.start - 10 * MINUTE).toISOString());
  } finally {
    await teardown(w.kv);
  }
});
