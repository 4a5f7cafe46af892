/** The demo learner's course-wide waitlist entry: seeded through the engine, once per store. */
import assert from "node:assert/strict";
import { BookingEngine } from "../booking/engine.ts";
import { listCourseWaitlists } from "../booking/course_waitlist.ts";
import { checkConsistency } from "../booking/consistency.ts";
import { getUserByEmail } from "../store/users.ts";
import { DEMO_EMAILS } from "./build_people.ts";
import { seedCourseWaitlistDemo } from "./course_waitlist.ts";
import { seedDemoData } from "./seed.ts";

Deno.test("[seed] the demo learner waits for any date of one full course; seeded once", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const now = new Date("2027-01-20T15:00:00.000Z");
    await seedDemoData(kv, { now });
    const engine = new BookingEngine(kv, { holdMinutes: 15, now: () => now });
    assert.equal(await seedCourseWaitlistDemo(engine), true);
    const learner = (await getUserByEmail(kv, DEMO_EMAILS.learner))!;
    const views = await listCourseWaitlists(kv, learner.id);
    assert.equal(views.length, 1);
    assert.ok(views[0].sessions.length >= 1, "it waits on at least the full session");
    assert.equal(await seedCourseWaitlistDemo(engine), false, "once per store");
    assert.equal((await listCourseWaitlists(kv, learner.id)).length, 1);
    assert.deepEqual((await checkConsistency(kv, now)).problems, []);
  } finally {
    kv.close();
  }
});
