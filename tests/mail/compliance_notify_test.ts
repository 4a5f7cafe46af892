/**
 * Notices from other parts of the product reach people by email: compliance alerts (their outbox,
 * lib/store/compliance.ts, read through lib/notify/compliance_bridge.ts) and recordings
 * (`recording.available`, written with the recording by lib/attendance/recording.ts).
 */
import assert from "node:assert/strict";
import { complianceEvent, saveAssignment } from "../../lib/store/compliance.ts";
import { newId } from "../../lib/domain/ids.ts";
import { keys } from "../../lib/store/keys.ts";
import { addRecording } from "../../lib/attendance/recording.ts";
import { runComplianceScan } from "../../lib/compliance/scan.ts";
import { DEFAULT_COMPLIANCE_SETTINGS } from "../../lib/compliance/state.ts";
import { putSession, putUser } from "../booking/test_fixtures.ts";
import { book, drain, notifyWorld } from "./notify_fixture.ts";

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

Deno.test("[notify] a recording added after the session: each booked learner gets one email linking to the player page", async () => {
  const w = await notifyWorld();
  try {
    const instructor = await putUser(w.kv, { roles: ["instructor"] });
    const session = await putSession(w.kv, w.course.id, { instructorId: instructor.id, startsInHours: 24 });
    const [ann, bob] = [await putUser(w.kv, { name: "Ann" }), await putUser(w.kv, { name: "Bob" })];
    for (const u of [ann, bob]) await book(w.engine, session.id, u.id);
    await drain(w.notifier);
    await w.mailpit.clear();
    const staff = { userId: instructor.id, roles: ["instructor"], origin: "web" as const, correlationId: "rec" };
    // An hour after the end (the reminders before the start went out on the way).
    w.clock.advance(Date.parse(session.endsAt) + 3_600_000 - w.clock.now().getTime());
    await drain(w.notifier);
    await w.mailpit.clear();
    await addRecording(w.kv, { sessionId: session.id, url: "https://video.example.com/r/1.mp4" }, staff, w.clock.now());
    await drain(w.notifier);
    await drain(w.notifier);
    const msgs = (await w.mailpit.messages()).filter((m) => /recording/i.test(m.Subject));
    assert.deepEqual(msgs.map((m) => m.To[0].Address).sort(), [ann.email, bob.email].sort());
    const full = await w.mailpit.message(msgs[0].ID);
    assert.match(full.Text, new RegExp(`/sessions/${session.id}/recording`));
  } finally {
    await w.close();
  }
});

Deno.test("[notify] overdue training: the learner and their manager are told; an escalation tells only the person above", async () => {
  const w = await notifyWorld();
  try {
    const boss = await putUser(w.kv, { name: "Dana Boss", roles: ["manager"] });
    const manager = await putUser(w.kv, { name: "Morgan Manager", roles: ["manager"] });
    const learner = await putUser(w.kv, { name: "Lee Learner" });
    const now = w.clock.now();
    const data = { dueOn: "2026-01-05", daysOverdue: 10 };
    for (
      const e of [
        complianceEvent("assignment.overdue", learner.id, w.course.id, [manager.id], data, now),
        complianceEvent("assignment.escalated", learner.id, w.course.id, [boss.id], data, now),
      ]
    ) await w.kv.set(keys.complianceOutbox(e.key), e);
    await drain(w.notifier);
    await drain(w.notifier);
    const msgs = await w.mailpit.messages();
    const to = (email: string) => msgs.filter((m) => m.To[0].Address === email).map((m) => m.Subject);
    assert.equal(msgs.length, 3, JSON.stringify(msgs.map((m) => [m.To[0].Address, m.Subject])));
    assert.match(to(learner.email).join(), /Training overdue/);
    assert.match(to(manager.email).join(), /Training overdue in your team/);
    assert.match(to(boss.email).join(), /escalated to you/);
    const forBoss = await w.mailpit.message(msgs.find((m) => m.To[0].Address === boss.email)!.ID);
    assert.match(forBoss.Text, /Lee Learner/);
  } finally {
    await w.close();
  }
});

Deno.test("[notify] training due soon: the scan's alert gives the learner one email, however often the scan runs", async () => {
  const w = await notifyWorld();
  try {
    const manager = await putUser(w.kv, { name: "Morgan Manager", roles: ["manager"] });
    const learner = await putUser(w.kv, { name: "Ada Lovelace", managerId: manager.id });
    const now = w.clock.now(); // 1 Mar 2026; due 12 Mar in Chicago, across the DST change of 8 Mar
    await saveAssignment(
      w.kv,
      {
        id: newId(),
        learnerId: learner.id,
        courseId: w.course.id,
        dueOn: "2026-03-12",
        note: "",
        assignedBy: manager.id,
        assignedAt: now.toISOString(),
      },
      complianceEvent("assignment.created", learner.id, w.course.id, [], { dueOn: "2026-03-12" }, now),
    );
    const scan = () => runComplianceScan(w.kv, { now: w.clock.now(), settings: DEFAULT_COMPLIANCE_SETTINGS });
    await Promise.all([scan(), scan()]);
    await drain(w.notifier);
    await scan();
    w.clock.advance(3_600_000);
    await scan();
    await drain(w.notifier);
    await drain(w.notifier);
    const soon = (await w.mailpit.messages()).filter((m) => /due soon/i.test(m.Subject));
    assert.deepEqual(soon.map((m) => m.To[0].Address), [learner.email], "one email, to the learner only");
    const full = await w.mailpit.message(soon[0].ID);
    assert.match(full.Text, /12 March 2026/, "the due date, as the calendar date it is");
    assert.match(full.Text, /due soon/i);
    assert.deepEqual(await Array.fromAsync(w.kv.list({ prefix: keys.complianceOutboxPrefix() })), []);
  } finally {
    await w.close();
  }
});
