import assert from "node:assert/strict";
import { DomainError } from "../booking/errors.ts";
import type { Actor } from "../booking/events.ts";
import { listEvents } from "../booking/events.ts";
import { keys } from "../store/keys.ts";
import { getUser } from "../store/users.ts";
import { loadStatementContext, toStatement } from "../relay/xapi.ts";
import { MINUTE, putSession, putUser, self, setup, teardown } from "../../tests/booking/test_fixtures.ts";
import { closeAttendance } from "./close.ts";
import {
  countParticipants,
  endMeeting,
  type OnlinePresence,
  presenceSeconds,
  recordHeartbeat,
  recordJoin,
  recordLeave,
} from "./online.ts";
import { DEFAULT_ATTENDANCE_SETTINGS as SETTINGS } from "./windows.ts";

const is = (code: string, status: number) => (e: unknown) =>
  e instanceof DomainError && e.code === code && e.status === status;

/** An online 120-minute session starting 24 h after T0, with `n` booked learners. */
async function world(n: number) {
  const base = await setup();
  const instructor = await putUser(base.kv, { roles: ["instructor"] });
  const session = await putSession(base.kv, base.course.id, { instructorId: instructor.id, startsInHours: 24 });
  const learners = [];
  for (let i = 0; i < n; i++) {
    const l = await putUser(base.kv);
    const { hold } = await base.engine.placeHold(session.id, l.id, self(l.id));
    await base.engine.confirmHold(hold.id, self(l.id));
    learners.push(l);
  }
  const start = Date.parse(session.startsAt);
  const at = (m: number) => new Date(start + m * MINUTE);
  const who = (id: string) => ({ userId: id, roles: ["learner"] as const });
  return { ...base, instructor, session, learners, at, who };
}

Deno.test("[online] join: booked learners and staff inside the window (10 min before to the end); others 403, outside 409", async () => {
  const w = await world(1);
  try {
    const [ann] = w.learners;
    await assert.rejects(recordJoin(w.kv, w.session.id, w.who(ann.id), w.at(-11), SETTINGS), is("outside_window", 409));
    const joined = await recordJoin(w.kv, w.session.id, w.who(ann.id), w.at(-10), SETTINGS);
    assert.deepEqual([joined.url, joined.recorded, joined.presence?.joinCount], [w.session.joinUrl, true, 1]);
    const stranger = await putUser(w.kv);
    await assert.rejects(recordJoin(w.kv, w.session.id, w.who(stranger.id), w.at(0), SETTINGS), is("not_booked", 403));
    const staff = await recordJoin(
      w.kv,
      w.session.id,
      { userId: w.instructor.id, roles: ["instructor"] },
      w.at(0),
      SETTINGS,
    );
    assert.equal(staff.recorded, false);
    await assert.rejects(recordJoin(w.kv, w.session.id, w.who(ann.id), w.at(120), SETTINGS), is("outside_window", 409));
  } finally {
    await teardown(w.kv);
  }
});

Deno.test("[online] join, leave, rejoin: time summed over reconnections with the join count; heartbeats extend, silence ends a stay", async () => {
  const w = await world(1);
  try {
    const [ann] = w.learners;
    const id = w.session.id;
    await recordJoin(w.kv, id, w.who(ann.id), w.at(-5), SETTINGS); // counts from the start
    for (let m = -4.5; m < 10; m += 0.5) await recordHeartbeat(w.kv, id, ann.id, w.at(m));
    await recordLeave(w.kv, id, ann.id, w.at(10), "page");
    await recordJoin(w.kv, id, w.who(ann.id), w.at(20), SETTINGS);
    for (let m = 20.5; m <= 25; m += 0.5) await recordHeartbeat(w.kv, id, ann.id, w.at(m));
    // Silence for 10 minutes, then a heartbeat: the stay ended at 25, a new one starts at 35.
    const back = await recordHeartbeat(w.kv, id, ann.id, w.at(35));
    assert.equal(back.ignored, null);
    await recordHeartbeat(w.kv, id, ann.id, w.at(35.5));
    const p = (await w.kv.get<OnlinePresence>(keys.onlinePresence(id, ann.id))).value!;
    assert.equal(p.joinCount, 3);
    assert.equal(presenceSeconds(p, w.session), 10 * 60 + 5 * 60 + 30);
    assert.equal(await countParticipants(w.kv, id, w.at(36)), 1);
    assert.equal(await countParticipants(w.kv, id, w.at(38)), 0, "silent for more than 90 s");
    const late = await recordHeartbeat(w.kv, id, ann.id, w.at(120));
    assert.equal(late.ignored, "session_ended");
  } finally {
    await teardown(w.kv);
  }
});

Deno.test("[online] completion at 30 minutes (or 50 %), none below it; statements carry method online and the join count", async () => {
  const w = await world(3);
  try {
    const [full, below, never] = w.learners;
    const id = w.session.id;
    await recordJoin(w.kv, id, w.who(full.id), w.at(0), SETTINGS);
    await recordLeave(w.kv, id, full.id, w.at(10), "page");
    await recordJoin(w.kv, id, w.who(full.id), w.at(15), SETTINGS);
    await recordLeave(w.kv, id, full.id, w.at(35), "page"); // 10 + 20 = 30 min: completed
    await recordJoin(w.kv, id, w.who(below.id), w.at(0), SETTINGS);
    await recordLeave(w.kv, id, below.id, new Date(w.at(30).getTime() - 1000), "page"); // 29:59: attended
    const actor: Actor = { userId: w.instructor.id, roles: ["instructor"], origin: "web", correlationId: "c" };
    const closed = await closeAttendance(w.kv, id, actor, w.at(125));
    assert.deepEqual(closed.counts, { completed: 1, attended: 1, no_show: 1, excused: 0 });
    assert.ok((await getUser(w.kv, full.id))!.completedCourses.some((c) => c.courseId === w.course.id));
    assert.deepEqual((await getUser(w.kv, below.id))!.completedCourses, []);
    assert.deepEqual((await getUser(w.kv, never.id))!.completedCourses, []);
    const ev = (await listEvents(w.kv, { limit: 100 })).events.find((e) =>
      e.type === "attendance.recorded" && e.learnerId === full.id
    )!;
    const s = toStatement(ev, await loadStatementContext(w.kv, ev));
    assert.equal(s.result?.duration, "PT30M");
    assert.equal(s.result?.extensions["https://training.example.com/xapi/extensions/attendance-method"], "online");
    assert.equal(s.result?.extensions["https://training.example.com/xapi/extensions/join-count"], 2);
    const ignored = await recordHeartbeat(w.kv, id, full.id, w.at(100));
    assert.equal(ignored.ignored, "attendance_closed", "a heartbeat for a closed session is ignored");
  } finally {
    await teardown(w.kv);
  }
});

Deno.test("[online] Cal.com's MEETING_ENDED closes every open stay at the meeting's end", async () => {
  const w = await world(2);
  try {
    const id = w.session.id;
    for (const l of w.learners) await recordJoin(w.kv, id, w.who(l.id), w.at(0), SETTINGS);
    assert.equal(await endMeeting(w.kv, id, w.at(50)), 2);
    for (const l of w.learners) {
      const p = (await w.kv.get<OnlinePresence>(keys.onlinePresence(id, l.id))).value!;
      assert.deepEqual([p.openSince, p.seconds, p.joins[0].via], [null, 50 * 60, "calcom:MEETING_ENDED"]);
    }
  } finally {
    await teardown(w.kv);
  }
});
