/**
 * Reminders follow the admins' rule `reminderHours` (global, a course's override first), planned
 * when the booking is made: the notifier's own steps on a hand-moved clock, a mailer that records
 * each send (tests/mail/reminder_rules_test.ts runs the same through Mailpit).
 */
import assert from "node:assert/strict";
import { defaultRules, saveCourseRules, saveRules } from "../booking/rules.ts";
import { admin, HOUR, MINUTE, putCourse, putSession, putUser, setup } from "../../tests/booking/test_fixtures.ts";
import type { Mailer, OutgoingMail } from "./mailer.ts";
import { Notifier } from "./notifier.ts";
import { book, drain } from "../../tests/mail/notify_fixture.ts";
import { loadReminderSchedule } from "./produce.ts";

Deno.test("[notify] reminders follow the rule reminderHours: a course's own schedule wins, bookings made before a change keep theirs, each sent once at its time", async () => {
  const { kv, engine, clock, course } = await setup();
  const sent: { to: string; subject: string; atMs: number }[] = [];
  const mailer: Mailer = {
    maxSendMs: 1_000,
    send(mail: OutgoingMail) {
      sent.push({ to: mail.to.address, subject: mail.subject, atMs: clock.ms });
      return Promise.resolve({ ok: true, response: "250 accepted" });
    },
    close: () => Promise.resolve(),
  };
  const notifier = new Notifier({
    kv,
    mailer,
    from: { name: "Training", email: "noreply@training.example" },
    siteUrl: "https://training.example.com",
    now: clock.now,
  });
  try {
    const quiet = await putCourse(kv, { code: "QUI-100", title: "Quiet" });
    const own = await putSession(kv, course.id, { startsInHours: 24 * 5 });
    const plain = await putSession(kv, quiet.id, { startsInHours: 24 * 5 });
    const start = Date.parse(own.startsAt);
    assert.equal(Date.parse(plain.startsAt), start);
    await saveRules(kv, { ...defaultRules(15), reminderHours: [48, 2] }, admin(), { now: clock.now() });
    await saveCourseRules(kv, course.id, { reminderHours: [6] }, admin(), { now: clock.now() });
    const [a, b, c] = [await putUser(kv), await putUser(kv), await putUser(kv)];
    await book(engine, own.id, a.id);
    await book(engine, plain.id, b.id);
    await drain(notifier);
    // The schedule changes: c books after it, b's reminders stay as planned.
    clock.advance(MINUTE);
    await saveRules(kv, { ...defaultRules(15), reminderHours: [24] }, admin(), { now: clock.now() });
    await book(engine, plain.id, c.id);
    await drain(notifier);
    assert.deepEqual(sent.map((m) => m.subject.split(":")[0]), ["Booked", "Booked", "Booked"]);
    for (const lead of [48, 24, 6, 2, 0]) {
      clock.ms = start - lead * HOUR - MINUTE;
      const before = sent.length;
      await drain(notifier);
      assert.equal(sent.length, before, `nothing early (${lead} h)`);
      clock.ms = start - lead * HOUR;
      await drain(notifier);
      await drain(notifier);
    }
    clock.ms = start + HOUR;
    await drain(notifier);
    const reminders = (email: string) =>
      sent.filter((m) => m.to === email && m.subject.startsWith("Reminder")).map((m) => (start - m.atMs) / HOUR);
    assert.deepEqual(reminders(a.email), [6], "the course's own schedule");
    assert.deepEqual(reminders(b.email), [48, 2], "booked before the change: the schedule of its booking");
    assert.deepEqual(reminders(c.email), [24], "booked after the change: the new schedule");
    for (const who of [a, b, c]) {
      const live = sent.filter((m) => m.to === who.email && m.subject.startsWith("Now live"));
      assert.deepEqual(live.map((m) => m.atMs), [start], "'now live' stays, once");
    }
    assert.equal(sent.length, 3 + 4 + 3, "three confirmations, four reminders, three 'now live'");
  } finally {
    await notifier.stop();
    kv.close();
  }
});

Deno.test("[notify] a course with reminderHours [] sends no reminders; REMINDER_OFFSETS is the schedule until rules are saved", async () => {
  const { kv, course, clock } = await setup();
  try {
    const deps = { kv, siteUrl: "https://x.example", reminderOffsetsMin: [2 * 24 * 60, 30] };
    assert.deepEqual(await loadReminderSchedule(deps, course.id), [2 * 24 * 60, 30], "the environment's, 30 min kept");
    await saveCourseRules(kv, course.id, { reminderHours: [] }, admin(), { now: clock.now() });
    assert.deepEqual(await loadReminderSchedule(deps, course.id), []);
    await saveCourseRules(kv, course.id, {}, admin(), { now: clock.now() });
    await saveRules(kv, { ...defaultRules(15), reminderHours: [72, 1] }, admin(), { now: clock.now() });
    assert.deepEqual(
      await loadReminderSchedule(deps, course.id),
      [72 * 60, 60],
      "saved rules replace the environment's",
    );
  } finally {
    kv.close();
  }
});
