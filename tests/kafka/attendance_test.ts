import assert from "node:assert/strict";
import { closeAttendance } from "../../lib/attendance/close.ts";
import { markAttendance } from "../../lib/attendance/marks.ts";
import { DEFAULT_ATTENDANCE_SETTINGS } from "../../lib/attendance/windows.ts";
import type { Actor } from "../../lib/booking/events.ts";
import type { Body } from "../api/client.ts";
import { skipKafka, startKafka } from "./broker.ts";
import { checkDelivered, readTopics, startRelayApp, statementProblems, waitUntilDrained } from "./relay_fixture.ts";

Deno.test({
  name:
    "[relay] attendance closes: attended statements reach nlj.training.attendance and completed ones nlj.training.completion, valid xAPI",
  ignore: skipKafka(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const broker = await startKafka();
    const f = await startRelayApp(broker.brokers, { idleMs: 200 });
    let reader: Awaited<ReturnType<typeof readTopics>> | null = null;
    try {
      const [ann, ben] = await f.learners(2);
      const session = await f.schedule({ capacity: 5 });
      for (const l of [ann, ben]) {
        const h = await l.api.post<Body>("/api/v1/holds", { sessionId: session.id });
        assert.equal((await l.api.post<Body>("/api/v1/bookings", { holdId: h.body.hold.id })).status, 201);
      }
      // The domain takes its clock: mark at the start, close after the end.
      const staff: Actor = { userId: f.instructor.id, roles: ["instructor"], origin: "web", correlationId: "kafka" };
      await markAttendance(
        f.kv,
        { sessionId: session.id, learnerId: ann.user.id, mark: "present", expectedRevision: 0 },
        staff,
        new Date(Date.parse(session.startsAt)),
        DEFAULT_ATTENDANCE_SETTINGS,
      );
      const closed = await closeAttendance(f.kv, session.id, staff, new Date(Date.parse(session.endsAt) + 60_000));
      assert.deepEqual([closed.counts.completed, closed.counts.no_show], [1, 1]);

      await waitUntilDrained(async () => (await f.admin.get<Body>("/api/calcom/topics")).body, 30_000);
      reader = await readTopics(broker.brokers);
      await checkDelivered(f.kv, reader);
      const mine = reader.forSessions(new Set([session.id]));
      const attended = mine.filter((r) => r.headers["event-type"] === "attendance.recorded");
      const completed = mine.filter((r) => r.headers["event-type"] === "course.completed");
      assert.equal(attended.length, 2);
      assert.equal(completed.length, 1);
      for (const r of attended) assert.equal(r.topic, "nlj.training.attendance");
      assert.equal(completed[0].topic, "nlj.training.completion");
      for (const r of [...attended, ...completed]) assert.deepEqual(statementProblems(JSON.parse(r.value)), []);
      const statement = JSON.parse(completed[0].value);
      assert.equal(statement.verb.id, "http://adlnet.gov/expapi/verbs/completed");
      assert.equal(statement.result.completion, true);
      const annAttended = attended.map((r) => JSON.parse(r.value)).find((s) =>
        s.actor.mbox === `mailto:${ann.user.email}`
      );
      assert.equal(annAttended.verb.id, "http://adlnet.gov/expapi/verbs/attended");
      assert.match(annAttended.result.duration, /^PT/);
    } finally {
      await reader?.stop().catch(() => {});
      await f.close();
      await broker.close();
    }
  },
});
