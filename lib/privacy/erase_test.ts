import assert from "node:assert/strict";
import { checkConsistency } from "../booking/consistency.ts";
import { listEvents } from "../booking/events.ts";
import { joinCourseWaitlist, listCourseWaitlists } from "../booking/course_waitlist.ts";
import { keys } from "../store/keys.ts";
import { admin, listValues, putSession, putUsers, self, setup, teardown } from "../../tests/booking/test_fixtures.ts";
import { eraseUser } from "./erase.ts";

Deno.test("[privacy] two erasures of one person at once: one erases, the other finds it done; everything happens once", async () => {
  const { kv, engine, course, clock } = await setup();
  try {
    const [ann, bob] = await putUsers(kv, 2);
    const sessions = await Promise.all([1, 2, 3].map(() => putSession(kv, course.id, { capacity: 1 })));
    for (const s of sessions) {
      const { hold } = await engine.placeHold(s.id, ann.id, self(ann.id));
      await engine.confirmHold(hold.id, self(ann.id));
      await engine.joinWaitlist(s.id, bob.id, self(bob.id));
    }
    const results = await Promise.all([
      eraseUser(kv, engine, ann.id, { actor: admin(), reason: "GDPR request" }),
      eraseUser(kv, engine, ann.id, { actor: admin(), reason: "GDPR request" }),
    ]);
    assert.deepEqual(results.map((r) => r.outcome).sort(), ["already_erased", "erased"]);
    const final = results.map((r) => r.outcome === "not_found" ? null : r.record);
    const last = await eraseUser(kv, engine, ann.id, { actor: admin(), reason: "again" });
    assert.equal(last.outcome, "already_erased");
    if (last.outcome !== "already_erased") return;
    assert.deepEqual(last.record.cancelled, { bookings: 3, holds: 0, waitlist: 0 }, JSON.stringify(final));

    const { events } = await listEvents(kv, { limit: 1000 });
    assert.equal(events.filter((e) => e.type === "user.erased").length, 1);
    assert.equal(events.filter((e) => e.type === "booking.cancelled" && e.learnerId === ann.id).length, 3);
    // Each freed seat went to Bob, first on each waitlist.
    assert.equal(events.filter((e) => e.type === "waitlist.offered" && e.learnerId === bob.id).length, 3);
    assert.deepEqual((await checkConsistency(kv, clock.now)).problems, []);
  } finally {
    await teardown(kv);
  }
});

Deno.test("[privacy] erasure ends a course-wide waitlist entry and every place it holds", async () => {
  const { kv, engine, course, clock } = await setup();
  try {
    const [ann, taker] = await putUsers(kv, 2);
    const sessions = await Promise.all(
      [48, 96].map((h) => putSession(kv, course.id, { capacity: 1, startsInHours: h })),
    );
    for (const s of sessions) {
      const { hold } = await engine.placeHold(s.id, taker.id, self(taker.id));
      await engine.confirmHold(hold.id, self(taker.id));
    }
    await joinCourseWaitlist(engine, ann.id, { courseId: course.id }, self(ann.id));
    const result = await eraseUser(kv, engine, ann.id, { actor: admin(), reason: "GDPR request" });
    assert.equal(result.outcome, "erased");
    assert.deepEqual(await listCourseWaitlists(kv, ann.id), []);
    assert.deepEqual(await listValues(kv, keys.waitlistByLearnerPrefix(ann.id)), []);
    assert.deepEqual((await checkConsistency(kv, clock.now)).problems, []);
  } finally {
    await teardown(kv);
  }
});
