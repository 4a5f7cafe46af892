import assert from "node:assert/strict";
import { getAttendance } from "../../lib/booking/attendance.ts";
import { listEvents } from "../../lib/booking/events.ts";
import type { Booking, Session } from "../../lib/booking/model.ts";
import { putCourse, putSession, self } from "../booking/test_fixtures.ts";
import type { ApplyOutcome } from "../../lib/calcom/inbound.ts";
import { findBookingBySeat, listReviewItems, saveEventTypeLink } from "../../lib/calcom/sync_store.ts";
import { listDeliveries } from "../../lib/calcom/webhook_intake.ts";
import { topicFor } from "../../lib/relay/xapi.ts";
import { keys } from "../../lib/store/keys.ts";
import { createUser, getUserByEmail } from "../../lib/store/users.ts";
import { startTestApp, type TestApp } from "../app_fixture.ts";
import { learner, startAt, withCalcom } from "./fixture.ts";
import { type SignedWebhook, signWebhook } from "./webhooks.ts";

const SECRET = "inbound-route-webhook-secret-01";
const URL_DEFAULT = "/api/webhooks/calcom/booking";

async function withApp(fn: (t: TestApp) => Promise<void>): Promise<void> {
  const t = await startTestApp({ seed: false, env: { CALCOM_WEBHOOK_SECRET: SECRET } });
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

/** Re-signs an emulator webhook with our secret and posts it over HTTP. */
async function post(t: TestApp, w: SignedWebhook | Record<string, unknown>) {
  const envelope = "headers" in w && "json" in w ? (w as SignedWebhook).json : w;
  const signed = await signWebhook(SECRET, envelope);
  const res = await t.app.request(URL_DEFAULT, { method: "POST", headers: signed.headers, body: signed.body });
  return { status: res.status, json: await res.json() as Record<string, unknown> & { outcome?: ApplyOutcome } };
}

async function bookingOf(kv: Deno.Kv, id: string): Promise<Booking> {
  return (await kv.get<Booking>(keys.booking(id))).value!;
}

async function mirror(kv: Deno.Kv, session: Session, eventTypeId: number, tenant = "default"): Promise<void> {
  await saveEventTypeLink(kv, {
    sessionId: session.id,
    tenant,
    eventTypeId,
    slug: `et-${eventTypeId}`,
    capacity: session.capacity,
    startsAt: session.startsAt,
    status: "active",
    syncedAt: new Date().toISOString(),
  });
}

Deno.test("[calcom] inbound route applies signed Cal.com webhooks to bookings over HTTP", async () => {
  await withApp(async (t) => {
    const { kv, engine } = t.services;
    const course = await putCourse(kv);
    const sessionA = await putSession(kv, course.id, { startsAt: startAt(6), capacity: 3 });
    const sessionB = await putSession(kv, course.id, { startsAt: startAt(8), capacity: 3 });
    await withCalcom(async ({ client, emulator }) => {
      const et = await client.createSeatedEventType({
        title: "Shop safety",
        slug: "shop-safety",
        lengthInMinutes: 120,
        seats: { seatsPerTimeSlot: 10, showAttendeeInfo: false, showAvailabilityCount: true },
        locations: [{ type: "integration", integration: "cal-video" }],
      });
      await mirror(kv, sessionA, et.id);

      // 1. Booked directly on Cal.com: a new learner and a booking with origin calcom.
      const a = await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(1) });
      const createdHook = await emulator.webhooks.bookingCreated(a.seatUid);
      const created = await post(t, createdHook);
      assert.equal(created.status, 202, JSON.stringify(created.json));
      assert.equal(created.json.outcome?.action, "created");
      const aId = created.json.outcome!.seats[0].bookingId!;
      assert.equal((await bookingOf(kv, aId)).origin, "calcom");
      assert.ok(await getUserByEmail(kv, learner(1).email));

      // 2. A booking of ours, echoed by Cal.com: no second booking.
      const ours = await createUser(kv, { email: learner(2).email, name: "Learner 2", roles: ["learner"] });
      const { hold } = await engine.placeHold(sessionA.id, ours.id, self(ours.id));
      const { booking: oursBooking } = await engine.confirmHold(hold.id, self(ours.id));
      const b = await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(2) });
      const echo = await post(t, await emulator.webhooks.bookingCreated(b.seatUid));
      assert.equal(echo.json.outcome?.action, "already_booked", JSON.stringify(echo.json));
      assert.equal(echo.json.outcome?.seats[0].bookingId, oursBooking.id);

      // 3. A third seat from Cal.com, then moved on Cal.com to the later session's start.
      const c = await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(3) });
      const cId = (await post(t, await emulator.webhooks.bookingCreated(c.seatUid))).json.outcome!.seats[0].bookingId!;
      await client.rescheduleSeat(c.bookingUid, c.seatUid, startAt(8));
      const movedHook = await emulator.webhooks.bookingRescheduled(c.seatUid);
      const moved = await post(t, movedHook);
      assert.equal(moved.json.outcome?.action, "rescheduled", JSON.stringify(moved.json));
      const movedId = moved.json.outcome!.seats[0].bookingId!;
      assert.equal((await bookingOf(kv, movedId)).sessionId, sessionB.id);
      assert.equal((await bookingOf(kv, cId)).status, "cancelled");
      const newUid = String((movedHook.json.payload as { uid: string }).uid);
      assert.notEqual(newUid, c.bookingUid);
      assert.equal(await findBookingBySeat(kv, "default", newUid, learner(3).email), movedId);

      // 4. One seat cancelled on Cal.com (no seat id, matched by email): only that learner.
      await client.cancelSeat(a.bookingUid, a.seatUid);
      const cancelled = await post(t, await emulator.webhooks.bookingCancelled(a.seatUid));
      assert.equal(cancelled.json.outcome?.action, "cancelled", JSON.stringify(cancelled.json));
      assert.equal((await bookingOf(kv, aId)).status, "cancelled");
      assert.equal((await bookingOf(kv, oursBooking.id)).status, "confirmed");
      assert.equal((await kv.get<Session>(keys.session(sessionA.id))).value?.status, "scheduled");

      // 5. Attendance: learner 2 marked absent, then the meeting ended.
      await client.markAbsent(b.bookingUid, [{ email: learner(2).email, absent: true }]);
      const noShow = await post(t, await emulator.webhooks.noShowUpdated(b.bookingUid));
      assert.equal(noShow.json.outcome?.action, "attendance_recorded", JSON.stringify(noShow.json));
      assert.equal((await getAttendance(kv, sessionA.id, ours.id))?.status, "no_show");
      const ended = await post(t, await emulator.webhooks.meetingEnded(b.bookingUid));
      assert.equal(ended.status, 202, JSON.stringify(ended.json));
      assert.equal((await getAttendance(kv, sessionA.id, ours.id))?.status, "no_show");

      // A repeated delivery changes nothing.
      const again = await post(t, createdHook);
      assert.deepEqual([again.status, again.json.duplicate], [200, true]);

      const { events } = await listEvents(kv, { limit: 1000 });
      const fromCalcom = events.filter((e) => e.origin === "calcom").map((e) => `${e.type}>${topicFor(e)}`);
      assert.deepEqual(fromCalcom, [
        "booking.confirmed>cal.booking.created",
        "booking.confirmed>cal.booking.created",
        "booking.rescheduled>cal.booking.rescheduled",
        "booking.cancelled>cal.booking.cancelled",
        "attendance.recorded>nlj.training.attendance",
      ]);
      const deliveries = await listDeliveries(kv, "default");
      assert.equal(deliveries.length, 7);
      assert.ok(deliveries.every((d) => d.appliedAt && d.outcome));
      assert.equal(await findBookingBySeat(kv, "default", a.bookingUid, learner(2).email), oursBooking.id);
    }, { webhookSecret: "emulator-secret" });
  });
});

Deno.test("[calcom] inbound route: another tenant's event type is 403 and stores nothing; a full session is flagged", async () => {
  await withApp(async (t) => {
    const { kv } = t.services;
    const course = await putCourse(kv);
    const full = await putSession(kv, course.id, { startsAt: startAt(6), capacity: 1 });
    const theirs = await putSession(kv, course.id, { startsAt: startAt(7), capacity: 5 });
    await mirror(kv, full, 501);
    await mirror(kv, theirs, 502, "beta");
    const hook = (eventTypeId: number, start: string, n: number) => ({
      triggerEvent: "BOOKING_CREATED",
      createdAt: new Date().toISOString(),
      payload: {
        uid: `uid-${eventTypeId}`,
        eventTypeId,
        startTime: start,
        endTime: start,
        attendees: [{ email: `p${n}@example.com`, name: `P ${n}` }],
        attendeeSeatId: `seat-${n}`,
      },
    });
    const foreign = await post(t, hook(502, startAt(7), 1));
    assert.deepEqual([foreign.status, foreign.json.error], [403, "event_type_not_owned"]);
    assert.equal((await listDeliveries(kv, "default")).length, 0);

    assert.equal((await post(t, hook(501, startAt(6), 2))).json.outcome?.action, "created");
    const over = await post(t, hook(501, startAt(6), 3));
    assert.equal(over.status, 202);
    assert.equal(over.json.outcome?.action, "flagged");
    const [item] = await listReviewItems(kv, "open");
    assert.deepEqual([item.code, item.email], ["session_full", "p3@example.com"]);
    const seats = (await kv.get<{ confirmed: number }>(keys.seats(full.id))).value!;
    assert.equal(seats.confirmed, 1);

    const unmapped = await post(t, hook(503, startAt(6), 4));
    assert.deepEqual([unmapped.status, unmapped.json.outcome?.action], [202, "ignored"]);
  });
});
