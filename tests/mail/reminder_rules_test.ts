/**
 * The reminder schedule admins set (`reminderHours`, lib/booking/rules.ts) end to end through
 * Mailpit: the notifier's steps on a hand-moved clock, each reminder counted when it arrives.
 */
import assert from "node:assert/strict";
import { defaultRules, saveCourseRules, saveRules } from "../../lib/booking/rules.ts";
import { admin, HOUR, MINUTE, putCourse, putSession, putUser } from "../booking/test_fixtures.ts";
import { book, drain, notifyWorld } from "./notify_fixture.ts";

Deno.test("[notify] through Mailpit: reminders at the hours the rules say, a course's own schedule first, each exactly once; bookings before a change keep theirs", async () => {
  const w = await notifyWorld();
  try {
    const quiet = await putCourse(w.kv, { code: "QUI-100", title: "Quiet Course" });
    const own = await putSession(w.kv, w.course.id, { startsInHours: 24 * 5 });
    const plain = await putSession(w.kv, quiet.id, { startsInHours: 24 * 5, startsAt: own.startsAt });
    const start = Date.parse(own.startsAt);
    await saveRules(w.kv, { ...defaultRules(15), reminderHours: [48, 2] }, admin(), { now: w.clock.now() });
    await saveCourseRules(w.kv, w.course.id, { reminderHours: [6] }, admin(), { now: w.clock.now() });
    const [a, b, c] = [await putUser(w.kv), await putUser(w.kv), await putUser(w.kv)];
    await book(w.engine, own.id, a.id);
    await book(w.engine, plain.id, b.id);
    await drain(w.notifier);
    w.clock.advance(MINUTE);
    await saveRules(w.kv, { ...defaultRules(15), reminderHours: [24] }, admin(), { now: w.clock.now() });
    await book(w.engine, plain.id, c.id);
    await drain(w.notifier);
    assert.equal((await w.mailpit.messages()).length, 3, "the three confirmations");
    // Which reminders arrive at each lead (hours before the start), and nothing a minute early.
    const arrived: Record<number, string[]> = {};
    for (const lead of [48, 24, 6, 2]) {
      w.clock.ms = start - lead * HOUR - MINUTE;
      const before = (await w.mailpit.messages()).length;
      await drain(w.notifier);
      assert.equal((await w.mailpit.messages()).length, before, `nothing early (${lead} h)`);
      w.clock.ms = start - lead * HOUR;
      await drain(w.notifier);
      await drain(w.notifier);
      const now = await w.mailpit.messages();
      arrived[lead] = now.slice(before).filter((m) => m.Subject.startsWith("Reminder")).map((m) => m.To[0].Address)
        .sort();
    }
    assert.deepEqual(arrived, { 48: [b.email], 24: [c.email], 6: [a.email], 2: [b.email] });
    w.clock.ms = start;
    await drain(w.notifier);
    w.clock.ms = start + HOUR;
    await drain(w.notifier);
    const all = await w.mailpit.messages();
    assert.equal(all.filter((m) => m.Subject.startsWith("Reminder")).length, 4, "each reminder exactly once");
    assert.equal(all.filter((m) => m.Subject.startsWith("Now live")).length, 3, "'now live' for each learner");
  } finally {
    await w.close();
  }
});
