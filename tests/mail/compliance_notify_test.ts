/**
 * Compliance alerts reach people by email: the compliance work's outbox (lib/store/compliance.ts) is
 * read by the notify job through lib/notify/compliance_bridge.ts, each alert becomes one message, and
 * the pending entry goes with it.
 */
import assert from "node:assert/strict";
import { complianceEvent, saveAssignment } from "../../lib/store/compliance.ts";
import { newId } from "../../lib/domain/ids.ts";
import { keys } from "../../lib/store/keys.ts";
import { putUser } from "../booking/test_fixtures.ts";
import { drain, notifyWorld } from "./notify_fixture.ts";

Deno.test("[notify] compliance alerts: an assignment and an expiring certification each give one email; other alerts none", async () => {
  const w = await notifyWorld();
  try {
    const learner = await putUser(w.kv, { name: "Grace Hopper" });
    const now = w.clock.now();
    await saveAssignment(
      w.kv,
      {
        id: newId(),
        learnerId: learner.id,
        courseId: w.course.id,
        dueOn: "2027-01-14",
        note: "",
        assignedBy: null,
        assignedAt: now.toISOString(),
      },
      complianceEvent("assignment.created", learner.id, w.course.id, [], { dueOn: "2027-01-14" }, now),
    );
    for (
      const e of [
        complianceEvent("certification.expiring", learner.id, w.course.id, [], {
          expiresOn: "2027-02-01",
          daysLeft: 30,
          threshold: 30,
        }, now),
        complianceEvent("certification.expired", learner.id, w.course.id, [], { expiresOn: "2026-01-01" }, now),
      ]
    ) await w.kv.set(keys.complianceOutbox(e.key), e);

    await drain(w.notifier);
    await drain(w.notifier);
    const msgs = await w.mailpit.messages();
    assert.deepEqual(msgs.map((m) => m.To[0].Address), [learner.email, learner.email]);
    const subjects = msgs.map((m) => m.Subject).sort();
    assert.match(subjects[0], /Certification expiring/);
    assert.match(subjects[1], /New training assigned/);
    const assigned = await w.mailpit.message(msgs.find((m) => /assigned/.test(m.Subject))!.ID);
    assert.match(assigned.Text, /14 January 2027/, "the due date, as the calendar date it is");
    assert.deepEqual(await Array.fromAsync(w.kv.list({ prefix: keys.complianceOutboxPrefix() })), []);
  } finally {
    await w.close();
  }
});
