import assert from "node:assert/strict";
import { getAttendance } from "./attendance.ts";
import { DomainError } from "./errors.ts";
import { type Actor, listEvents } from "./events.ts";
import { keys } from "../store/keys.ts";
import type { SeatDoc } from "./model.ts";
import { admin, putCourse, putSession, putUser, self, setup, teardown } from "../../tests/booking/test_fixtures.ts";

const calcom = (): Actor => ({
  userId: null,
  roles: [],
  origin: "calcom",
  correlationId: crypto.randomUUID(),
  reason: "Cal.com BOOKING_CREATED",
});

async function seats(kv: Deno.Kv, sessionId: string): Promise<SeatDoc> {
  return (await kv.get<SeatDoc>(keys.seats(sessionId))).value!;
}

Deno.test("[booking] bookFromCalcom takes a seat without a hold and ignores prerequisites", async () => {
  const { kv, engine, course } = await setup();
  try {
    const needs = await putCourse(kv, { prerequisiteCourseIds: [course.id] });
    const session = await putSession(kv, needs.id, { capacity: 2 });
    const learner = await putUser(kv);
    const { booking, alreadyBooked } = await engine.bookFromCalcom(session.id, learner.id, calcom(), {
      calBookingUid: "uid-1",
      seatUid: "seat-1",
    });
    assert.equal(alreadyBooked, false);
    assert.deepEqual([booking.status, booking.origin, booking.holdId, booking.rescheduledFromBookingId], [
      "confirmed",
      "calcom",
      null,
      null,
    ]);
    assert.equal(booking.audit[0].action, "imported");
    assert.deepEqual(await seats(kv, session.id), { confirmed: 1, holds: 0, waiting: 0 });
    const { events } = await listEvents(kv);
    assert.deepEqual(events.map((e) => [e.type, e.origin, e.data.calBookingUid]), [[
      "booking.confirmed",
      "calcom",
      "uid-1",
    ]]);

    const again = await engine.bookFromCalcom(session.id, learner.id, calcom());
    assert.deepEqual([again.alreadyBooked, again.booking.id], [true, booking.id]);
    assert.equal((await listEvents(kv)).events.length, 1, "no event when already booked");
  } finally {
    await teardown(kv);
  }
});

Deno.test("[booking] bookFromCalcom confirms the learner's own hold; full sessions are refused; people book only themselves", async () => {
  const { kv, engine, course } = await setup();
  try {
    const session = await putSession(kv, course.id, { capacity: 1 });
    const [a, b] = [await putUser(kv), await putUser(kv)];
    const { hold } = await engine.placeHold(session.id, a.id, self(a.id));
    const { booking } = await engine.bookFromCalcom(session.id, a.id, calcom());
    assert.equal(booking.holdId, hold.id);
    assert.deepEqual(await seats(kv, session.id), { confirmed: 1, holds: 0, waiting: 0 });

    await assert.rejects(
      engine.bookFromCalcom(session.id, b.id, calcom()),
      (e) => e instanceof DomainError && e.status === 409 && e.code === "session_full",
    );
    await assert.rejects(
      engine.bookFromCalcom(session.id, b.id, self(a.id)),
      (e) => e instanceof DomainError && e.status === 403,
    );
    assert.equal((await seats(kv, session.id)).confirmed, 1);
  } finally {
    await teardown(kv);
  }
});

Deno.test("[booking] recordAttendance writes the record with its event; Cal.com never overrides staff", async () => {
  const { kv, engine, course } = await setup();
  try {
    const session = await putSession(kv, course.id);
    const learner = await putUser(kv);
    const { booking } = await engine.bookFromCalcom(session.id, learner.id, calcom());
    const input = { sessionId: session.id, learnerId: learner.id, bookingId: booking.id, source: "test" };
    await assert.rejects(
      engine.recordAttendance({ ...input, status: "attended" }, self(learner.id)),
      (e) => e instanceof DomainError && e.status === 403,
    );
    const first = await engine.recordAttendance({ ...input, status: "no_show" }, calcom());
    assert.equal(first.recorded, true);
    assert.equal((await engine.recordAttendance({ ...input, status: "no_show" }, calcom())).reason, "unchanged");
    assert.equal((await engine.recordAttendance({ ...input, status: "attended" }, admin())).recorded, true);
    const kept = await engine.recordAttendance({ ...input, status: "no_show" }, calcom());
    assert.deepEqual([kept.recorded, kept.reason], [false, "kept_staff_record"]);
    const record = await getAttendance(kv, session.id, learner.id);
    assert.deepEqual([record?.status, record?.origin], ["attended", "admin"]);
    const types = (await listEvents(kv)).events.map((e) => [e.type, e.data.status ?? null]);
    assert.deepEqual(types, [
      ["booking.confirmed", null],
      ["attendance.recorded", "no_show"],
      ["attendance.recorded", "attended"],
    ]);
    await engine.cancelBooking(booking.id, calcom());
    await assert.rejects(
      engine.recordAttendance({ ...input, status: "attended" }, admin()),
      (e) => e instanceof DomainError && e.code === "booking_not_active",
    );
  } finally {
    await teardown(kv);
  }
});
