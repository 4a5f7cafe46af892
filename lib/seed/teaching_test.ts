import assert from "node:assert/strict";
import { getRoster, listTeachSessions } from "../attendance/roster.ts";
import { DEFAULT_ATTENDANCE_SETTINGS as SETTINGS } from "../attendance/windows.ts";
import { getUserByEmail } from "../store/users.ts";
import { listBookingsBySession } from "../store/bookings.ts";
import { DEMO_EMAILS } from "./build_people.ts";
import { seedDemoData } from "./seed.ts";
import { seedTeachingDemo } from "./teaching.ts";

const NOW = new Date("2026-06-10T14:00:00.000Z");

Deno.test("[seed] instructor demo: closed and open past sessions, a live online session and one open for check-in; live again on a later start", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await seedDemoData(kv, { now: NOW });
    const first = await seedTeachingDemo(kv, NOW);
    assert.equal(first.past.length, 2);
    const instructor = (await getUserByEmail(kv, DEMO_EMAILS.instructor))!;
    const who = { userId: instructor.id, roles: instructor.roles };
    const home = await listTeachSessions(kv, instructor.id, NOW, SETTINGS);
    const live = home.upcoming.find((s) => s.id === first.live)!;
    assert.deepEqual([live.phase, live.mode, live.taken], ["live", "online", 6]);
    const liveRoster = await getRoster(kv, first.live!, who, NOW, SETTINGS);
    assert.deepEqual([liveRoster.counts.participants, liveRoster.counts.confirmed, liveRoster.counts.tentative], [
      3,
      2,
      1,
    ]);
    assert.ok(liveRoster.rows.some((r) => r.online?.joinCount === 2), "a reconnection");
    const soon = home.upcoming.find((s) => s.id === first.checkIn)!;
    assert.deepEqual([soon.phase, soon.attendance], ["scheduled", "open"]);
    const cancelled = await listBookingsBySession(kv, soon.id, { status: "cancelled" });
    assert.deepEqual(cancelled.map((b) => b.lateCancel), [true], "a late cancellation");
    const [closedId, openId] = first.past;
    const closed = await getRoster(kv, closedId, who, NOW, SETTINGS);
    assert.equal(closed.attendance.state, "closed");
    assert.deepEqual(closed.attendance.closed!.counts, { completed: 4, attended: 0, no_show: 2, excused: 0 });
    const open = await getRoster(kv, openId, who, NOW, SETTINGS);
    assert.equal(open.attendance.state, "open");
    assert.deepEqual(open.rows.map((r) => r.mark).sort(), ["late", "present", "present", "present", null].sort());
    // A completion unlocked a course: each completed learner has the course now.
    for (const r of closed.rows.filter((r) => r.outcome === "completed")) {
      const u = (await kv.get<{ completedCourses: { courseId: string }[] }>(["users", r.learnerId])).value!;
      assert.ok(u.completedCourses.some((c) => c.courseId === closed.course.id));
    }
    assert.deepEqual(await seedTeachingDemo(kv, new Date(NOW.getTime() + 60_000)), {
      past: [],
      live: null,
      checkIn: null,
    });
    const later = await seedTeachingDemo(kv, new Date(NOW.getTime() + 3 * 86_400_000));
    assert.deepEqual(later.past, []);
    assert.ok(later.live && later.live !== first.live, "a new live session on a later start");
  } finally {
    kv.close();
  }
});
