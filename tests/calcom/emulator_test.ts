import assert from "node:assert/strict";
import { CalcomError } from "../../lib/calcom/client.ts";
import { createSession, learner, startAt, withCalcom } from "./fixture.ts";

Deno.test("[calcom] emulator seats: duplicate attendee refused, overbooking only when the limit is off", async () => {
  await withCalcom(async ({ client }) => {
    const et = await createSession(client);
    const first = await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(1) });
    await assert.rejects(
      client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(1) }),
      (e) => e instanceof CalcomError && e.status === 400 && /Already signed up/.test(e.message),
    );
    const missing = client.cancelSeat(first.bookingUid, "no-such-seat");
    await assert.rejects(missing, (e) => e instanceof CalcomError && e.status === 404 && !e.retryable);
    await assert.rejects(
      client.getBooking("unknown"),
      (e) => e instanceof CalcomError && e.code === "NotFoundException",
    );
  });

  await withCalcom(async ({ client }) => {
    const et = await createSession(client); // 3 seats
    for (const n of [1, 2, 3, 4]) {
      await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(n) });
    }
    const [booking] = (await client.listBookings({ eventTypeId: et.id })).bookings;
    assert.equal(booking.attendees.length, 4, "like real Cal.com, the API let a fourth seat in");
  }, { enforceSeatLimit: false });
});

Deno.test("[calcom] emulator host cancel without a seat uid cancels every seat", async () => {
  await withCalcom(async ({ emulator, client }) => {
    const et = await createSession(client);
    const seat = await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(1) });
    await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(2) });
    const response = await fetch(`${emulator.url}/v2/bookings/${seat.bookingUid}/cancel`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${emulator.apiKey}`,
        "cal-api-version": "2024-08-13",
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ cancellationReason: "Trainer ill" }),
    });
    assert.equal(response.status, 200);
    assert.equal((await response.json()).data.status, "cancelled");
    const hook = await emulator.webhooks.bookingCancelledAll(seat.bookingUid);
    const payload = hook.json.payload as { attendees: unknown[]; cancellationReason: string };
    assert.deepEqual([payload.attendees.length, payload.cancellationReason], [2, "Trainer ill"]);
    const cancelled = await client.listBookings({ status: ["cancelled"] });
    assert.deepEqual(cancelled.bookings.map((b) => b.uid), [seat.bookingUid]);
  });
});

Deno.test("[calcom] emulator controls: counts, queued faults in order, down and up keep state", async () => {
  await withCalcom(async ({ emulator, client }) => {
    const et = await createSession(client);
    emulator.failNext(2, { status: 503 });
    emulator.failNext(1, { status: 429, retryAfter: "1" });
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) await client.me().catch((e: CalcomError) => codes.push(e.status));
    assert.deepEqual(codes, [503, 503, 429]);
    assert.equal((await client.me()).id, 42);

    await emulator.down();
    await assert.rejects(client.me(), (e) => e instanceof CalcomError && e.code === "NETWORK_ERROR");
    await emulator.up();
    assert.equal((await client.me()).id, 42);
    assert.equal(emulator.state.eventTypes.get(et.id)?.slug, "first-aid-basics");

    assert.equal(emulator.requestCount({ method: "GET", path: "/v2/me" }), 5, "the refused call never arrived");
    assert.equal(emulator.requestCount({ path: /^\/v2\/event-types/ }), 1);
    assert.equal(emulator.requestCount(), 6);
  });
});
