/**
 * The personal-data export's newer sections (attendance audit, online presence, RSVPs, recording
 * views, notifications, compliance, course-wide waitlist, preferences, alternatives shown) and the
 * erasure of the same set. Two learners do the same things; each export holds only its owner's
 * records, and fits the published schema.
 */
import assert from "node:assert/strict";
import { markAttendance } from "../../lib/attendance/marks.ts";
import { recordJoin } from "../../lib/attendance/online.ts";
import { addRecording, openRecording, reportProgress } from "../../lib/attendance/recording.ts";
import { answerRsvp } from "../../lib/attendance/rsvp.ts";
import { DEFAULT_ATTENDANCE_SETTINGS } from "../../lib/attendance/windows.ts";
import { joinCourseWaitlist } from "../../lib/booking/course_waitlist.ts";
import type { BookingEngine } from "../../lib/booking/engine.ts";
import type { Booking, Session } from "../../lib/booking/model.ts";
import { PersonalDataExportSchema } from "../../lib/api/v1/privacy.ts";
import { setNotificationPrefs } from "../../lib/notify/manage.ts";
import type { Notification } from "../../lib/notify/notifier.ts";
import { eraseUser } from "../../lib/privacy/erase.ts";
import { exportUserData, type PersonalDataExport } from "../../lib/privacy/export.ts";
import { complianceEvent, saveAssignment } from "../../lib/store/compliance.ts";
import { keys } from "../../lib/store/keys.ts";
import { updateProfile } from "../../lib/store/profile.ts";
import type { User } from "../../lib/domain/user.ts";
import {
  admin,
  HOUR,
  MINUTE,
  putCourse,
  putLocation,
  putSession,
  putUser,
  putUsers,
  self,
  setup,
  teardown,
} from "../booking/test_fixtures.ts";
import { linesContaining } from "../kv_dump.ts";

const DAY = 24 * HOUR;

async function book(engine: BookingEngine, sessionId: string, learnerId: string): Promise<Booking> {
  const { hold } = await engine.placeHold(sessionId, learnerId, self(learnerId));
  return (await engine.confirmHold(hold.id, self(learnerId))).booking;
}

/** A message as the notifier stores it, with its inbox index. */
async function putMessage(kv: Deno.Kv, user: User, subject: string, createdAtMs: number): Promise<string> {
  const id = crypto.randomUUID().replaceAll("-", "");
  const message: Notification = {
    id,
    identity: `booking_confirmed:${id}`,
    kind: "booking_confirmed",
    userId: user.id,
    to: { address: user.email, name: user.name },
    status: "sent",
    dueAtMs: createdAtMs,
    createdAtMs,
    attempts: 1,
    lastError: null,
    sentAt: new Date(createdAtMs).toISOString(),
    skippedReason: null,
    vars: { name: user.name },
    calendar: null,
    guard: null,
    subject,
  };
  await kv.atomic()
    .set(keys.notifyMessage(id), message)
    .set(keys.notifyByUser(user.id, createdAtMs, id), null)
    .set(keys.notifyRate(user.id), { windowStartMs: createdAtMs, count: 1 })
    .commit();
  return id;
}

interface Fixture {
  kv: Deno.Kv;
  engine: BookingEngine;
  now: () => Date;
  ann: User;
  bob: User;
  live: Session;
  wideCourseId: string;
}

/** Ann and Bob, each with a record of every kind; Bob's differ where a value can. */
async function twoLearners(): Promise<Fixture> {
  const { kv, engine, clock } = await setup();
  const course = await putCourse(kv, { code: "CRT-310", certificationValidMonths: 12 });
  const other = await putCourse(kv, { code: "OTH-100" });
  const teacher = await putUser(kv, { roles: ["instructor"] });
  const home = await putLocation(kv);
  const completed = [{ courseId: course.id, completedAt: new Date(clock.ms - 350 * DAY).toISOString() }];
  const ann = await putUser(kv, { name: "Annika Exportova", completedCourses: completed });
  const bob = await putUser(kv, { name: "Bob Otherperson", completedCourses: completed });
  const teacherActor = { userId: teacher.id, roles: ["instructor"], origin: "web" as const, correlationId: "c" };

  // Course-wide waitlist of a full course, and the alternatives shown for it.
  const full = await putSession(kv, other.id, { startsInHours: 5 * 24, capacity: 1 });
  const [taker] = await putUsers(kv, 1);
  await book(engine, full.id, taker.id);
  for (const u of [ann, bob]) {
    await joinCourseWaitlist(engine, u.id, { courseId: other.id }, self(u.id));
    await kv.set(keys.alternativesOffered(u.id, full.id), { offeredAt: clock.now().toISOString(), sessionIds: [] });
  }
  // Preferences.
  await updateProfile(kv, ann.id, { preferredLocationId: home.id, preferredTimes: { weekdays: [1], dayParts: [] } });
  await updateProfile(kv, bob.id, { preferredLocationId: null, preferredTimes: { weekdays: [5], dayParts: [] } });
  await setNotificationPrefs(kv, ann.id, { off: ["reminder"], timeZone: "Europe/Berlin" });
  await setNotificationPrefs(kv, bob.id, { off: ["session_live"], timeZone: null });
  // Compliance: an assignment each, stored recommendations and an alert sent.
  for (const u of [ann, bob]) {
    const assignment = {
      id: crypto.randomUUID().replaceAll("-", "").slice(0, 26).toUpperCase(),
      learnerId: u.id,
      courseId: course.id,
      dueOn: new Date(clock.ms + 30 * DAY).toISOString().slice(0, 10),
      note: `for ${u.name}`,
      assignedBy: teacher.id,
      assignedAt: clock.now().toISOString(),
    };
    await saveAssignment(
      kv,
      assignment,
      complianceEvent("assignment.created", u.id, course.id, [], {}, clock.now()),
    );
    await kv.set(keys.recommendations(u.id), { learnerId: u.id, computedAt: clock.now().toISOString(), gaps: [] });
    await kv.set(keys.complianceAlert(u.id, `expiring:${u.id}`), { at: clock.now().toISOString() });
  }
  // An online session both book: RSVP, join, attendance mark, recording watched.
  const live = await putSession(kv, course.id, {
    startsInHours: 2,
    capacity: 5,
    instructorId: teacher.id,
  });
  const bookings = [await book(engine, live.id, ann.id), await book(engine, live.id, bob.id)];
  await kv.set(keys.notifyCalendar(bookings[0].id), { uid: `uid-${ann.id}`, sequence: 2 });
  await kv.set(keys.notifyCalendar(bookings[1].id), { uid: `uid-${bob.id}`, sequence: 1 });
  const noRelease = () => Promise.reject(new Error("not used"));
  await answerRsvp(
    kv,
    { sessionId: live.id, learnerId: ann.id, status: "confirmed" },
    self(ann.id),
    clock.now(),
    noRelease,
  );
  await answerRsvp(
    kv,
    { sessionId: live.id, learnerId: bob.id, status: "tentative" },
    self(bob.id),
    clock.now(),
    noRelease,
  );
  await putMessage(kv, ann, "Your seat is booked", clock.ms);
  await putMessage(kv, bob, "Bob's seat is booked", clock.ms);
  clock.advance(2 * HOUR - 5 * MINUTE); // inside the join window
  for (const u of [ann, bob]) {
    await recordJoin(kv, live.id, { userId: u.id, roles: ["learner"] }, clock.now(), DEFAULT_ATTENDANCE_SETTINGS);
  }
  clock.advance(10 * MINUTE);
  await markAttendance(
    kv,
    { sessionId: live.id, learnerId: ann.id, mark: "present", expectedRevision: 0 },
    teacherActor,
    clock.now(),
    DEFAULT_ATTENDANCE_SETTINGS,
  );
  await markAttendance(
    kv,
    { sessionId: live.id, learnerId: bob.id, mark: "late", expectedRevision: 0 },
    teacherActor,
    clock.now(),
    DEFAULT_ATTENDANCE_SETTINGS,
  );
  clock.advance(3 * HOUR); // the session has ended
  await addRecording(
    kv,
    { sessionId: live.id, url: "https://rec.example.com/1", durationSeconds: 3600 },
    teacherActor,
    clock.now(),
  );
  for (const [u, seconds] of [[ann, 600], [bob, 900]] as const) {
    await openRecording(kv, live.id, u.id, clock.now());
    clock.advance(seconds * 1000);
    await reportProgress(kv, { sessionId: live.id, learnerId: u.id, playedSeconds: seconds }, self(u.id), clock.now());
  }
  return { kv, engine, now: clock.now, ann, bob, live, wideCourseId: other.id };
}

function assertOnly(x: PersonalDataExport, ownerId: string, otherId: string): void {
  const text = JSON.stringify(x);
  assert.ok(!text.includes(otherId), "nothing of the other learner, not even their id");
  for (
    const list of [x.attendanceAudit, x.onlinePresence, x.rsvps, x.courseWaitlist, x.compliance.assignments] as {
      learnerId: string;
    }[][]
  ) {
    assert.ok(list.every((r) => r.learnerId === ownerId));
  }
  assert.ok(x.notifications.messages.every((m) => m.userId === ownerId));
}

Deno.test("[privacy] the export holds attendance audit, presence, RSVPs, recording views, notifications, compliance, course-wide waitlist and preferences: the person's own only", async () => {
  const f = await twoLearners();
  try {
    const x = (await exportUserData(f.kv, f.ann.id, f.now()))!;
    PersonalDataExportSchema.parse(x); // within the published document
    assertOnly(x, f.ann.id, f.bob.id);

    assert.deepEqual(x.attendanceAudit.map((a) => [a.sessionId, a.action, a.to?.mark]), [[
      f.live.id,
      "mark",
      "present",
    ]]);
    assert.equal(x.onlinePresence.length, 1);
    assert.equal(x.onlinePresence[0].joinCount, 1);
    assert.deepEqual(x.rsvps.map((r) => [r.sessionId, r.status]), [[f.live.id, "confirmed"]]);
    assert.deepEqual(x.recordingViews.map((v) => [v.sessionId, v.watchedSeconds]), [[f.live.id, 600]]);
    assert.deepEqual(x.courseWaitlist.map((e) => e.courseId), [f.wideCourseId]);
    assert.ok(x.waitlist.some((w) => w.courseEntryId === x.courseWaitlist[0].id), "its places stay in waitlist");
    assert.equal(x.alternativesOffered.length, 1);
    assert.deepEqual(x.notifications.messages.map((m) => m.subject), ["Your seat is booked"]);
    assert.ok(!("guard" in x.notifications.messages[0]) && !("identity" in x.notifications.messages[0]));
    assert.deepEqual(x.notifications.calendar.map((c) => c.uid), [`uid-${f.ann.id}`]);
    assert.ok(x.notifications.pacing, "the pacing state of the message sent");
    assert.deepEqual(x.preferences.notifications?.off, ["reminder"]);
    assert.equal(x.preferences.notifications?.timeZone, "Europe/Berlin");
    assert.deepEqual(x.preferences.profile.preferredTimes.weekdays, [1]);
    assert.ok(x.preferences.profile.preferredLocationId);
    assert.equal(x.compliance.assignments.length, 1);
    assert.equal(x.compliance.assignments[0].note, `for ${f.ann.name}`);
    assert.deepEqual(x.compliance.certifications.map((c) => c.status), ["expiring"], "350 days into 12 months");
    assert.equal(x.compliance.recommendations?.learnerId, f.ann.id);
    assert.deepEqual(x.compliance.alerts.map((a) => a.alertId), [`expiring:${f.ann.id}`]);

    const y = (await exportUserData(f.kv, f.bob.id, f.now()))!;
    assertOnly(y, f.bob.id, f.ann.id);
    assert.deepEqual(y.rsvps.map((r) => r.status), ["tentative"]);
    assert.deepEqual(y.recordingViews.map((v) => v.watchedSeconds), [900]);
    assert.deepEqual(y.attendanceAudit.map((a) => a.to?.mark), ["late"]);
  } finally {
    await teardown(f.kv);
  }
});

Deno.test("[privacy] erasure covers the export's newer sections: preferences, pacing, alternatives, compliance and course-wide entries go; the rest keeps ids only; the other learner keeps everything", async () => {
  const f = await twoLearners();
  try {
    const bobBefore = (await exportUserData(f.kv, f.bob.id, f.now()))!;
    const r = await eraseUser(f.kv, f.engine, f.ann.id, { actor: admin(), reason: "GDPR request" });
    assert.equal(r.outcome, "erased");
    const x = (await exportUserData(f.kv, f.ann.id, f.now()))!;
    PersonalDataExportSchema.parse(x);
    assert.deepEqual(x.preferences, {
      profile: { preferredLocationId: null, preferredTimes: { weekdays: [], dayParts: [] } },
      notifications: null,
    });
    assert.equal(x.notifications.pacing, null);
    assert.deepEqual(x.alternativesOffered, []);
    assert.deepEqual(x.courseWaitlist, []);
    assert.deepEqual(x.waitlist, []);
    assert.deepEqual(
      (await Array.fromAsync(f.kv.list({ prefix: keys.courseWaitlistByCoursePrefix(f.wideCourseId) })))
        .map((e) => e.key[3]),
      [f.bob.id],
      "the by-course index row goes with the entry",
    );
    assert.deepEqual(x.compliance.assignments, []);
    assert.equal(x.compliance.recommendations, null);
    assert.deepEqual(x.compliance.alerts, []);
    // Kept as ids, times and counters (like bookings): nothing in them names her any more.
    assert.equal(x.attendanceAudit.length, 1);
    assert.equal(x.rsvps.length, 1);
    assert.equal(x.recordingViews.length, 1);
    assert.equal(x.onlinePresence.length, 1);
    assert.equal(x.notifications.messages.length, 1);
    assert.deepEqual(await linesContaining(f.kv, [f.ann.name, f.ann.email, "Europe/Berlin"]), []);
    // Bob is untouched.
    const bobAfter = (await exportUserData(f.kv, f.bob.id, f.now()))!;
    assert.deepEqual({ ...bobAfter, exportedAt: null }, { ...bobBefore, exportedAt: null });
  } finally {
    await teardown(f.kv);
  }
});
