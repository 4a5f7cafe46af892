import assert from "node:assert/strict";
import { mayActOnPlace, mayManageSession, mayReadTeam, maySeeJoinLink } from "./access.ts";
import { DomainError } from "./errors.ts";
import { type Actor, listEvents } from "./events.ts";
import { keys } from "../store/keys.ts";
import type { SeatDoc } from "./model.ts";
import { admin, putSession, putUser, self, setup, teardown } from "../../tests/booking/test_fixtures.ts";

function instructor(userId: string): Actor {
  return { userId, roles: ["instructor"], origin: "api", correlationId: crypto.randomUUID() };
}

Deno.test("[booking] access rule: own places; instructors in the sessions they teach; admins anywhere", () => {
  const session = { instructorId: "teacher" };
  const cases: [string, Parameters<typeof mayActOnPlace>[0], string, boolean][] = [
    ["learner, own place", { userId: "ann", roles: ["learner"] }, "ann", true],
    ["learner, another's place", { userId: "ann", roles: ["learner"] }, "bob", false],
    ["the session's instructor", { userId: "teacher", roles: ["instructor"] }, "bob", true],
    ["another instructor", { userId: "other", roles: ["instructor"] }, "bob", false],
    ["another instructor, own place", { userId: "other", roles: ["instructor"] }, "other", true],
    ["the instructor id without the role", { userId: "teacher", roles: ["learner"] }, "bob", false],
    ["an admin user", { userId: "boss", roles: ["admin"] }, "bob", true],
    ["the admin token", { userId: null, roles: ["admin"] }, "bob", true],
    ["Cal.com", { userId: null, roles: [], origin: "calcom" }, "bob", true],
    ["the system", { userId: null, origin: "system" }, "bob", true],
    ["no user, from the API", { userId: null, roles: [], origin: "api" }, "bob", false],
  ];
  for (const [name, who, learnerId, expected] of cases) {
    assert.equal(mayActOnPlace(who, learnerId, session), expected, name);
  }
  assert.equal(mayActOnPlace({ userId: "teacher", roles: ["instructor"] }, "bob", null), false, "no session");
  assert.equal(mayActOnPlace({ userId: null, roles: ["admin"] }, "bob", null), true, "admins even then");
  assert.equal(mayManageSession({ userId: "teacher", roles: ["instructor"] }, session), true);
  assert.equal(mayManageSession({ userId: "other", roles: ["instructor"] }, session), false);
  assert.equal(mayManageSession({ userId: null, origin: "calcom" }, session), false, "Cal.com never manages");
});

Deno.test("[booking] an instructor of another session is refused every change and nothing is written", async () => {
  const { kv, engine, course } = await setup();
  try {
    const teacher = await putUser(kv, { roles: ["instructor"] });
    const other = instructor((await putUser(kv, { roles: ["instructor"] })).id);
    const session = await putSession(kv, course.id, { capacity: 2, instructorId: teacher.id });
    const target = await putSession(kv, course.id, { capacity: 2, instructorId: teacher.id, startsInHours: 200 });
    const full = await putSession(kv, course.id, { capacity: 1, instructorId: teacher.id });
    const [ann, bob, cat] = await Promise.all([putUser(kv), putUser(kv), putUser(kv)]);
    const { hold } = await engine.placeHold(session.id, ann.id, self(ann.id));
    const { hold: bobHold } = await engine.placeHold(session.id, bob.id, self(bob.id));
    const { booking } = await engine.confirmHold(bobHold.id, self(bob.id));
    await engine.placeHold(full.id, ann.id, self(ann.id));
    await engine.joinWaitlist(full.id, cat.id, self(cat.id));
    const seatsBefore = (await kv.getMany<SeatDoc[]>([session.id, target.id, full.id].map(keys.seats))).map((e) =>
      e.value
    );
    const eventsBefore = (await listEvents(kv)).events.length;

    const refused: [string, () => Promise<unknown>][] = [
      ["hold for", () => engine.placeHold(target.id, cat.id, other)],
      ["confirm", () => engine.confirmHold(hold.id, other)],
      ["release", () => engine.releaseHold(hold.id, other)],
      ["cancel", () => engine.cancelBooking(booking.id, other)],
      ["reschedule", () => engine.rescheduleBooking(booking.id, target.id, other)],
      ["join for", () => engine.joinWaitlist(full.id, bob.id, other)],
      ["leave for", () => engine.leaveWaitlist(full.id, cat.id, other)],
      ["update", () => engine.updateSession(session.id, { capacity: 5 }, other)],
      ["hand over", () => engine.updateSession(session.id, { instructorId: other.userId! }, other)],
      ["cancel session", () => engine.cancelSession(session.id, other)],
      ["attendance", () =>
        engine.recordAttendance(
          { sessionId: session.id, learnerId: bob.id, bookingId: booking.id, status: "attended", source: "test" },
          other,
        )],
    ];
    for (const [name, run] of refused) {
      await assert.rejects(run(), (e) => e instanceof DomainError && e.status === 403 && e.code === "forbidden", name);
    }
    const seatsAfter = (await kv.getMany<SeatDoc[]>([session.id, target.id, full.id].map(keys.seats))).map((e) =>
      e.value
    );
    assert.deepEqual(seatsAfter, seatsBefore);
    assert.equal((await listEvents(kv)).events.length, eventsBefore);

    // A reschedule needs both sessions to be the instructor's: into a session they do not teach is refused.
    const elsewhere = await putSession(kv, course.id, { capacity: 2, instructorId: other.userId!, startsInHours: 300 });
    await assert.rejects(
      engine.rescheduleBooking(booking.id, elsewhere.id, instructor(teacher.id)),
      (e) => e instanceof DomainError && e.status === 403,
    );

    // The session's own instructor may do each of them.
    const mine = instructor(teacher.id);
    assert.equal((await engine.confirmHold(hold.id, mine)).booking.learnerId, ann.id);
    await engine.recordAttendance(
      { sessionId: session.id, learnerId: bob.id, bookingId: booking.id, status: "attended", source: "test" },
      mine,
    );
    const moved = await engine.rescheduleBooking(booking.id, target.id, mine);
    assert.equal((await engine.cancelBooking(moved.booking.id, mine)).status, "cancelled");
    await engine.leaveWaitlist(full.id, cat.id, mine);
    assert.equal((await engine.cancelSession(session.id, mine)).session.status, "cancelled");
    assert.equal((await engine.updateSession(target.id, { capacity: 3 }, admin())).capacity, 3);
  } finally {
    await teardown(kv);
  }
});

Deno.test("[booking] team reads: a manager their own team, a dealer admin their own dealer, admins any; nobody else", () => {
  const manager = { userId: "m1", roles: ["manager"] };
  const dealerAdmin = { userId: "d1", roles: ["dealer_admin"], dealerId: "dealer-a" };
  assert.equal(mayReadTeam(manager, { managerId: "m1" }), true);
  assert.equal(mayReadTeam(manager, { managerId: "m2" }), false);
  assert.equal(mayReadTeam(manager, { dealerId: "dealer-a" }), false);
  assert.equal(mayReadTeam(dealerAdmin, { dealerId: "dealer-a" }), true);
  assert.equal(mayReadTeam(dealerAdmin, { dealerId: "dealer-b" }), false);
  assert.equal(mayReadTeam({ userId: "x", roles: ["learner"], dealerId: "dealer-a" }, { dealerId: "dealer-a" }), false);
  assert.equal(mayReadTeam({ userId: "m1", roles: ["learner"] }, { managerId: "m1" }), false, "the role is needed");
  assert.equal(mayReadTeam({ userId: null, roles: ["admin"] }, { managerId: "m2" }), true);
});

Deno.test("[booking] join links: the booked and the session's staff only", () => {
  const session = { instructorId: "t1" };
  assert.equal(maySeeJoinLink(null, session, false), false);
  assert.equal(maySeeJoinLink({ userId: "l1", roles: ["learner"] }, session, false), false);
  assert.equal(maySeeJoinLink({ userId: "l1", roles: ["learner"] }, session, true), true);
  assert.equal(maySeeJoinLink({ userId: "t1", roles: ["instructor"] }, session, false), true);
  assert.equal(maySeeJoinLink({ userId: "t2", roles: ["instructor"] }, session, false), false);
  assert.equal(maySeeJoinLink({ userId: "a1", roles: ["admin"] }, session, false), true);
});
