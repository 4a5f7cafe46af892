import assert from "node:assert/strict";
import { BookingEngine } from "../booking/engine.ts";
import { newId } from "../domain/ids.ts";
import { createCourse } from "../store/courses.ts";
import { createLocation } from "../store/locations.ts";
import { createSession, updateSession } from "../store/sessions.ts";
import { createUser } from "../store/users.ts";
import { readComplianceOutbox, saveAssignment, saveRequirement } from "../store/compliance.ts";
import { complianceEvent } from "../store/compliance.ts";
import { eraseUser } from "../privacy/erase.ts";
import { getRecommendations, runComplianceScan } from "./scan.ts";
import { DEFAULT_COMPLIANCE_SETTINGS as S } from "./state.ts";

const T0 = Date.parse("2026-03-02T15:00:00.000Z");
const HOUR = 3_600_000;
const at = (hours: number) => new Date(T0 + hours * HOUR).toISOString();
const address = {
  line1: "1 Main St",
  city: "Atlanta",
  region: "GA" as const,
  postalCode: "30309",
  country: "US" as const,
};
const system = { userId: null, origin: "system" as const, correlationId: "test" };

async function world() {
  const kv = await Deno.openKv(":memory:");
  const now = () => new Date(T0);
  const engine = new BookingEngine(kv, { holdMinutes: 15, now });
  const atlanta = await createLocation(kv, {
    slug: "atlanta",
    name: "Atlanta",
    address,
    lat: 33.75,
    lng: -84.39,
    timeZone: "America/New_York",
  });
  const denver = await createLocation(kv, {
    slug: "denver",
    name: "Denver",
    address: { ...address, city: "Denver", region: "CO" },
    lat: 39.74,
    lng: -104.99,
    timeZone: "America/Denver",
  });
  const course = (code: string, over: Record<string, unknown> = {}) =>
    createCourse(kv, {
      code,
      title: code,
      summary: "s",
      topic: "safety",
      programType: "compliance",
      durationMinutes: 60,
      ...over,
    });
  const safety = await course("SAF-101", { certificationValidMonths: 12 });
  const basics = await course("BAS-101");
  const advanced = await course("ADV-201", { prerequisiteCourseIds: [basics.id] });
  const instructorId = newId();
  const session = (courseId: string, hours: number, over: Record<string, unknown> = {}) =>
    createSession(kv, {
      courseId,
      startsAt: at(hours),
      endsAt: at(hours + 2),
      timeZone: "America/New_York",
      mode: "in_person",
      locationId: atlanta.id,
      capacity: 5,
      instructorId,
      ...over,
    });
  return { kv, engine, atlanta, denver, safety, basics, advanced, session };
}

Deno.test("[compliance] the scan recommends reachable sessions only, near and before the due date first", async () => {
  const w = await world();
  try {
    const learner = await createUser(w.kv, {
      email: "l@example.com",
      name: "L",
      roles: ["learner"],
      preferredLocationId: w.atlanta.id,
      jobFunction: "technician",
    });
    const other = await createUser(w.kv, { email: "o@example.com", name: "O", roles: ["learner"] });
    await saveRequirement(w.kv, {
      id: newId(),
      courseId: w.safety.id,
      roles: ["learner"],
      jobFunctions: [],
      dealerIds: [],
      periodMonths: null,
      dueOn: "2026-03-20",
      createdAt: at(0),
      createdBy: null,
    });
    await saveRequirement(w.kv, {
      id: newId(),
      courseId: w.advanced.id,
      roles: [],
      jobFunctions: ["technician"],
      dealerIds: [],
      periodMonths: null,
      dueOn: null,
      createdAt: at(0),
      createdBy: null,
    });
    const farSoon = await w.session(w.safety.id, 24, { locationId: w.denver.id, timeZone: "America/Denver" });
    const near = await w.session(w.safety.id, 24 * 4);
    const nearLate = await w.session(w.safety.id, 24 * 30);
    const full = await w.session(w.safety.id, 48, { capacity: 1 });
    const cancelled = await w.session(w.safety.id, 50);
    await updateSession(w.kv, cancelled.id, { status: "cancelled" });
    const started = await w.session(w.safety.id, -1);
    const waitlisted = await w.session(w.safety.id, 30, { capacity: 1 });
    await w.session(w.advanced.id, 40); // prerequisites missing: never recommended
    const sys = { ...system, correlationId: crypto.randomUUID() };
    const h1 = await w.engine.placeHold(full.id, other.id, sys);
    await w.engine.confirmHold(h1.hold.id, sys);
    const h2 = await w.engine.placeHold(waitlisted.id, other.id, sys);
    await w.engine.confirmHold(h2.hold.id, sys);
    await w.engine.joinWaitlist(waitlisted.id, learner.id, sys);

    const summary = await runComplianceScan(w.kv, { now: new Date(T0), settings: S });
    assert.equal(summary.people, 2);
    const rec = (await getRecommendations(w.kv, learner.id))!;
    assert.deepEqual(rec.gaps.map((g) => [g.courseId, g.state]), [[w.safety.id, "missing"], [
      w.advanced.id,
      "missing",
    ]]);
    const ids = rec.gaps[0].sessions.map((s) => s.sessionId);
    assert.deepEqual(ids, [near.id, farSoon.id, nearLate.id]);
    for (const bad of [full.id, cancelled.id, started.id, waitlisted.id]) assert.ok(!ids.includes(bad));
    assert.equal(rec.gaps[0].sessions[2].late, true);
    assert.deepEqual(rec.gaps[1].sessions, []);
    assert.deepEqual(rec.gaps[1].missingPrerequisites, [w.basics.id]);
    // The other learner holds a seat in two sessions of the course: booked, no gap.
    const theirs = (await getRecommendations(w.kv, other.id))!;
    assert.deepEqual(theirs.gaps, []);
    assert.equal(summary.peopleWithGaps, 1);
    // A second scan at the same time changes nothing and writes no result again.
    const stamp = (await w.kv.get(["recommendations", learner.id])).versionstamp;
    await runComplianceScan(w.kv, { now: new Date(T0), settings: S });
    assert.equal((await w.kv.get(["recommendations", learner.id])).versionstamp, stamp);
  } finally {
    w.kv.close();
  }
});

Deno.test("[compliance] overdue alerts go out once; escalation after the grace goes to the manager's manager", async () => {
  const w = await world();
  try {
    const boss = await createUser(w.kv, { email: "b@example.com", name: "B", roles: ["manager"] });
    const manager = await createUser(w.kv, {
      email: "m@example.com",
      name: "M",
      roles: ["manager"],
      managerId: boss.id,
    });
    const learner = await createUser(w.kv, {
      email: "l@example.com",
      name: "L",
      roles: ["learner"],
      managerId: manager.id,
      completedCourses: [{ courseId: w.safety.id, completedAt: "2025-03-20T15:00:00.000Z" }], // expires 20 Mar
    });
    const assignment = {
      id: newId(),
      learnerId: learner.id,
      courseId: w.basics.id,
      dueOn: "2026-02-20",
      note: "",
      assignedBy: manager.id,
      assignedAt: at(-24 * 30),
    };
    await saveAssignment(
      w.kv,
      assignment,
      complianceEvent("assignment.created", learner.id, w.basics.id, [], {}, new Date(T0)),
    );
    await runComplianceScan(w.kv, { now: new Date(T0), settings: S });
    await runComplianceScan(w.kv, { now: new Date(T0 + HOUR), settings: S });
    const events = await readComplianceOutbox(w.kv);
    const summary = events.map((e) => [e.type, e.courseId, e.notify]);
    assert.deepEqual(summary, [
      ["assignment.created", w.basics.id, []],
      ["certification.expiring", w.safety.id, [manager.id]],
      ["assignment.overdue", w.basics.id, [manager.id]],
      ["assignment.escalated", w.basics.id, [boss.id]],
    ]);
    assert.equal(events[1].data.threshold, 30);
  } finally {
    w.kv.close();
  }
});

Deno.test("[privacy] erasing a person deletes their assignments, recommendations and pending compliance events", async () => {
  const w = await world();
  try {
    const learner = await createUser(w.kv, { email: "e@example.com", name: "E", roles: ["learner"] });
    await saveAssignment(
      w.kv,
      {
        id: newId(),
        learnerId: learner.id,
        courseId: w.basics.id,
        dueOn: "2026-02-20",
        note: "private note about E",
        assignedBy: null,
        assignedAt: at(-24),
      },
      complianceEvent(
        "assignment.created",
        learner.id,
        w.basics.id,
        [],
        { note: "private note about E" },
        new Date(T0),
      ),
    );
    await runComplianceScan(w.kv, { now: new Date(T0), settings: S });
    assert.ok(await getRecommendations(w.kv, learner.id));
    await eraseUser(w.kv, w.engine, learner.id, {
      actor: { ...system, userId: null, roles: ["admin"] },
      reason: "test",
    });
    const left: string[] = [];
    for (const prefix of ["assignments", "recommendations", "compliance_alerts", "compliance_outbox"]) {
      for await (const e of w.kv.list({ prefix: [prefix] })) left.push(JSON.stringify(e.value));
    }
    assert.deepEqual(left.filter((v) => v.includes(learner.id) || v.includes("private note")), []);
  } finally {
    w.kv.close();
  }
});

Deno.test("[compliance] due soon goes out once per threshold to people not done and not booked, even from two scans at once", async () => {
  const w = await world();
  try {
    const person = (name: string, over: Record<string, unknown> = {}) =>
      createUser(w.kv, { email: `${name}@example.com`, name, roles: ["learner"], ...over });
    const [waiting, booked, done] = [await person("waiting"), await person("booked"), await person("done")];
    await w.kv.set(["users", done.id], {
      ...(await w.kv.get<Record<string, unknown>>(["users", done.id])).value,
      completedCourses: [{ courseId: w.basics.id, completedAt: at(-24 * 10) }],
    });
    // Due 14 Mar (Chicago): 12 days after T0, across the DST change of 8 Mar.
    for (const u of [waiting, booked, done]) {
      await saveAssignment(w.kv, {
        id: newId(),
        learnerId: u.id,
        courseId: w.basics.id,
        dueOn: "2026-03-14",
        note: "",
        assignedBy: null,
        assignedAt: at(-24 * 30),
      }, complianceEvent("assignment.created", u.id, w.basics.id, [], {}, new Date(T0 - 30 * 24 * HOUR)));
    }
    const seat = await w.session(w.basics.id, 24 * 11);
    const sys = { ...system, correlationId: crypto.randomUUID() };
    await w.engine.confirmHold((await w.engine.placeHold(seat.id, booked.id, sys)).hold.id, sys);

    const dueSoon = async () =>
      (await readComplianceOutbox(w.kv, 1000)).filter((e) => e.type === "assignment.due_soon")
        .map((e) => [e.learnerId, e.data.threshold, e.data.dueOn, e.notify]);
    const scan = (hours: number, learnerIds?: string[]) =>
      runComplianceScan(w.kv, { now: new Date(T0 + hours * HOUR), settings: S, learnerIds });
    // The nightly scan and a targeted rescan at the same moment, then the next day's scan.
    await Promise.all([scan(0), scan(0, [waiting.id]), scan(0, [waiting.id, booked.id])]);
    await scan(24);
    assert.deepEqual(await dueSoon(), [[waiting.id, 14, "2026-03-14", []]]);
    // 10 Mar 23:30 CDT is 4 days before; 11 Mar 00:30 CDT is 3 (05:00 UTC is local midnight after the change).
    await scan(8 * 24 + 13.5);
    assert.equal((await dueSoon()).length, 1);
    await Promise.all([scan(8 * 24 + 14.5), scan(8 * 24 + 14.5, [waiting.id]), scan(8 * 24 + 15)]);
    await scan(9 * 24);
    assert.deepEqual(await dueSoon(), [[waiting.id, 14, "2026-03-14", []], [waiting.id, 3, "2026-03-14", []]]);
    assert.equal(
      (await w.kv.get<{ eventKey: string }>(["compliance_alerts", waiting.id, `due_soon:${w.basics.id}:2026-03-14:3`]))
        .value?.eventKey.length,
      26,
    );
  } finally {
    w.kv.close();
  }
});
