import assert from "node:assert/strict";
import { BookingEngine } from "../booking/engine.ts";
import { waitlistOrder } from "../booking/waitlist_order.ts";
import { newId } from "../domain/ids.ts";
import type { Hold } from "../domain/mod.ts";
import { complianceEvent, saveAssignment, saveRequirement } from "../store/compliance.ts";
import { createCourse } from "../store/courses.ts";
import { keys } from "../store/keys.ts";
import { createSession } from "../store/sessions.ts";
import { createUser } from "../store/users.ts";

const T0 = new Date("2026-03-02T15:00:00.000Z");

Deno.test("[waitlist] order: sooner deadline first, entries without one last, FIFO among equals", () => {
  const e = (learnerId: string, joinedAt: string, deadline?: string | null) => ({ learnerId, joinedAt, deadline });
  const queue = [
    e("a", "2026-03-01T10:00:00.000Z"),
    e("b", "2026-03-01T11:00:00.000Z", "2026-04-01"),
    e("c", "2026-03-01T12:00:00.000Z", "2026-03-20"),
    e("d", "2026-03-01T09:00:00.000Z", null),
    e("f", "2026-03-01T08:00:00.000Z", "2026-04-01"),
  ];
  assert.deepEqual(queue.sort(waitlistOrder).map((x) => x.learnerId), ["c", "f", "b", "d", "a"]);
});

Deno.test("[waitlist] a freed seat goes to the person whose requirement falls due soonest; FIFO breaks ties", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const engine = new BookingEngine(kv, { holdMinutes: 15, now: () => T0 });
    const system = { userId: null, origin: "system" as const, correlationId: "t" };
    const course = await createCourse(kv, {
      code: "SAF-101",
      title: "Safety",
      summary: "s",
      topic: "safety",
      programType: "compliance",
      durationMinutes: 60,
    });
    const session = await createSession(kv, {
      courseId: course.id,
      startsAt: "2026-03-10T15:00:00.000Z",
      endsAt: "2026-03-10T17:00:00.000Z",
      timeZone: "America/Chicago",
      mode: "online",
      joinUrl: "https://meet.example.com/x",
      capacity: 1,
      instructorId: newId(),
    });
    const user = (name: string, roles: ("learner" | "instructor")[] = ["learner"]) =>
      createUser(kv, { email: `${name}@example.com`, name, roles });
    const holder = await user("holder", ["instructor"]);
    const early = await user("early", ["instructor"]); // joins first, nothing required of them
    const dueLater = await user("later");
    const dueSoon = await user("soon");
    const tieFirst = await user("tiefirst");
    await saveRequirement(kv, {
      id: newId(),
      courseId: course.id,
      roles: ["learner"],
      jobFunctions: [],
      dealerIds: [],
      periodMonths: null,
      dueOn: "2026-04-01",
      createdAt: T0.toISOString(),
      createdBy: null,
    });
    await saveAssignment(kv, {
      id: newId(),
      learnerId: dueSoon.id,
      courseId: course.id,
      dueOn: "2026-03-12",
      note: "",
      assignedBy: null,
      assignedAt: T0.toISOString(),
    }, complianceEvent("assignment.created", dueSoon.id, course.id, [], {}, T0));
    const { hold } = await engine.placeHold(session.id, holder.id, system);
    const { booking } = await engine.confirmHold(hold.id, system);

    const joined: Record<string, number> = {};
    for (const u of [early, tieFirst, dueLater, dueSoon]) {
      joined[u.name] = (await engine.joinWaitlist(session.id, u.id, system)).position;
    }
    // Positions when each joined: early 1; tiefirst (due 1 Apr) jumps ahead: 1; later (same date, after
    // tiefirst) 2; soon (due 12 Mar) 1.
    assert.deepEqual(joined, { early: 1, tiefirst: 1, later: 2, soon: 1 });
    const positions = await Promise.all(
      [dueSoon, tieFirst, dueLater, early].map((u) => engine.waitlistPosition(session.id, u.id)),
    );
    assert.deepEqual(positions, [1, 2, 3, 4]);

    await engine.cancelBooking(booking.id, system);
    const offers: Hold[] = [];
    for await (const e of kv.list<Hold>({ prefix: ["holds"] })) {
      if (e.value.kind === "offer") offers.push(e.value);
    }
    assert.deepEqual(offers.map((o) => o.learnerId), [dueSoon.id], "the soonest deadline is offered the seat");
    const entry = (await kv.get(keys.waitlistByLearner(tieFirst.id, session.id))).value as { deadline?: string };
    assert.equal(entry.deadline, "2026-04-01");
    assert.equal(await engine.waitlistPosition(session.id, tieFirst.id), 1, "next in line");
  } finally {
    kv.close();
  }
});
