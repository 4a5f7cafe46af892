import assert from "node:assert/strict";
import { CalcomError } from "../../lib/calcom/client.ts";
import { verifyCalcomSignature } from "../../lib/calcom/signature.ts";
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

/** A webhook the receiver got: trigger, parsed body, raw body, lower-cased headers. */
interface Received {
  trigger: string;
  json: Record<string, unknown>;
  raw: string;
  headers: Record<string, string>;
}

/** A tiny webhook receiver on a random loopback port. */
function startReceiver(options: { status?: number; delayMs?: number; onAnswer?: (r: Received) => void } = {}) {
  const received: Received[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const raw = await req.text();
    const json = JSON.parse(raw) as Record<string, unknown>;
    const r: Received = {
      trigger: String(json.triggerEvent),
      json,
      raw,
      headers: Object.fromEntries([...req.headers].map(([k, v]) => [k.toLowerCase(), v])),
    };
    received.push(r);
    if (options.delayMs) await new Promise((res) => setTimeout(res, options.delayMs));
    options.onAnswer?.(r);
    return Response.json({ ok: options.status === undefined }, { status: options.status ?? 200 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    received,
    close: () => server.shutdown(),
  };
}

const payloadOf = (r: Received) => r.json.payload as Record<string, unknown>;
const emailsOf = (r: Received) => (payloadOf(r).attendees as { email: string }[]).map((a) => a.email);

Deno.test("[calcom] emulator webhooks: each API state change fires exactly one signed webhook", async () => {
  const receiver = startReceiver();
  try {
    await withCalcom(async ({ emulator, client }) => {
      const et = await createSession(client);
      const s1 = await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(1) });
      const s2 = await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(2) });
      const s3 = await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(3) });
      // Refused and read-only calls change nothing and fire nothing.
      await assert.rejects(client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(1) }));
      emulator.failNext(1, { status: 500 });
      await assert.rejects(client.cancelSeat(s1.bookingUid, s1.seatUid));
      await client.listBookings({ eventTypeId: et.id });
      await client.getBooking(s1.bookingUid);

      await client.cancelSeat(s1.bookingUid, s1.seatUid);
      const moved = await client.rescheduleSeat(s2.bookingUid, s2.seatUid, startAt(7));
      await client.markAbsent(s3.bookingUid, [{ email: learner(3).email, absent: true }]);
      const host = await fetch(`${emulator.url}/v2/bookings/${s3.bookingUid}/cancel`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${emulator.apiKey}`,
          "cal-api-version": "2024-08-13",
          "Content-Type": "application/json",
        },
        body: JSON.stringify({ cancellationReason: "Trainer ill" }),
      });
      assert.equal(host.status, 200);
      await host.body?.cancel();
      await emulator.waitForWebhooks();

      const r = receiver.received;
      assert.deepEqual(r.map((x) => x.trigger), [
        "BOOKING_CREATED",
        "BOOKING_CREATED",
        "BOOKING_CREATED",
        "BOOKING_CANCELLED",
        "BOOKING_RESCHEDULED",
        "BOOKING_NO_SHOW_UPDATED",
        "BOOKING_CANCELLED",
      ]);
      for (const x of r) {
        assert.ok(await verifyCalcomSignature(emulator.webhookSecret, x.raw, x.headers["x-cal-signature-256"]));
        assert.equal(x.headers["x-cal-webhook-version"], "2021-10-20");
      }
      // Seats: the parent uid plus the seat's own uid.
      assert.deepEqual(
        r.slice(0, 3).map((x) => [payloadOf(x).uid, payloadOf(x).attendeeSeatId, emailsOf(x)]),
        [s1, s2, s3].map((s, i) => [s.bookingUid, s.seatUid, [learner(i + 1).email]]),
      );
      // One seat cancelled: parent uid, that attendee only, no seat id anywhere.
      assert.deepEqual([payloadOf(r[3]).uid, payloadOf(r[3]).status, emailsOf(r[3])], [
        s1.bookingUid,
        "CANCELLED",
        [learner(1).email],
      ]);
      assert.equal(r[3].raw.includes(s1.seatUid), false, "a seat cancel carries no seat id");
      const re = payloadOf(r[4]);
      assert.deepEqual([re.uid, re.rescheduleUid, re.startTime, emailsOf(r[4])], [
        moved.bookingUid,
        s2.bookingUid,
        startAt(7),
        [learner(2).email],
      ]);
      assert.deepEqual(payloadOf(r[5]).attendees, [{ email: learner(3).email, noShow: true }]);
      assert.deepEqual([payloadOf(r[6]).cancellationReason, emailsOf(r[6])], ["Trainer ill", [learner(3).email]]);

      assert.deepEqual(
        emulator.webhookLog.map((e) => [e.trigger, e.status, e.error, e.dropped]),
        r.map((x) => [x.trigger, 200, undefined, undefined]),
      );
      assert.ok(emulator.webhookLog.every((e) => e.url === receiver.url && !Number.isNaN(Date.parse(e.at))));
    }, { webhookUrl: receiver.url });
  } finally {
    await receiver.close();
  }
});

Deno.test("[calcom] emulator webhooks: sent once, never retried on a 500 or a network error", async () => {
  for (const timing of ["before-response", "after-response"] as const) {
    const receiver = startReceiver({ status: 500 });
    try {
      await withCalcom(async ({ emulator, client }) => {
        const et = await createSession(client);
        const seat = await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(1) });
        await emulator.waitForWebhooks();
        await new Promise((res) => setTimeout(res, 300)); // room for a retry that must not come
        assert.equal(receiver.received.length, 1, `${timing}: exactly one request despite the 500`);
        assert.deepEqual(emulator.webhookLog.map((e) => [e.trigger, e.status, e.attendeeSeatId]), [
          ["BOOKING_CREATED", 500, seat.seatUid],
        ]);

        // Nobody listening: the API still answers; the refused connection is only recorded.
        const gone = startReceiver();
        await gone.close();
        emulator.setWebhookUrl(gone.url);
        await client.cancelSeat(seat.bookingUid, seat.seatUid);
        await emulator.waitForWebhooks();
        const last = emulator.webhookLog.at(-1)!;
        assert.deepEqual([emulator.webhookLog.length, last.trigger, last.status], [2, "BOOKING_CANCELLED", undefined]);
        assert.ok(last.error, `${timing}: the network error is recorded`);
        assert.equal(receiver.received.length, 1);
      }, { webhookUrl: receiver.url, webhookTiming: timing });
    } finally {
      await receiver.close();
    }
  }
});

Deno.test("[calcom] emulator webhooks: dropped ones are recorded and never arrive", async () => {
  const receiver = startReceiver();
  try {
    await withCalcom(async ({ emulator, client }) => {
      const et = await createSession(client);
      emulator.dropNextWebhooks(2);
      const seats = [];
      for (const n of [1, 2, 3]) {
        seats.push(await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(n) }));
      }
      await emulator.waitForWebhooks();
      assert.deepEqual(
        receiver.received.map((r) => payloadOf(r).attendeeSeatId),
        [seats[2].seatUid],
        "only the third arrived",
      );
      assert.deepEqual(
        emulator.webhookLog.map((e) => [e.attendeeSeatId, e.dropped ?? false, e.status]),
        [[seats[0].seatUid, true, undefined], [seats[1].seatUid, true, undefined], [seats[2].seatUid, false, 200]],
      );
      // With no webhook URL nothing is fired (or logged), like a Cal.com without a subscription.
      emulator.setWebhookUrl(undefined);
      await client.cancelSeat(seats[0].bookingUid, seats[0].seatUid);
      assert.equal(emulator.webhookLog.length, 3);
    }, { webhookUrl: receiver.url });
  } finally {
    await receiver.close();
  }
});

Deno.test("[calcom] emulator webhooks: before-response delivers before the caller gets its answer", async () => {
  for (const timing of ["before-response", "after-response"] as const) {
    const order: string[] = [];
    let seatAtDelivery: unknown;
    const receiver = startReceiver({
      delayMs: 150,
      onAnswer: (r) => {
        order.push("webhook answered");
        seatAtDelivery = payloadOf(r).attendeeSeatId;
      },
    });
    try {
      await withCalcom(async ({ emulator, client }) => {
        const et = await createSession(client);
        const started = performance.now();
        const seat = await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(1) });
        const elapsed = performance.now() - started;
        order.push("answer");
        if (timing === "before-response") {
          assert.deepEqual(order, ["webhook answered", "answer"], "the webhook came before the answer");
          assert.equal(seatAtDelivery, seat.seatUid, "it named a seat uid the caller did not have yet");
          assert.ok(elapsed >= 150, `the answer waited for the receiver (${elapsed.toFixed(0)} ms)`);
          assert.equal(emulator.webhookLog[0].status, 200, "already delivered when the call returned");
        } else {
          assert.deepEqual(order, ["answer"], "the answer did not wait for the receiver");
          await emulator.waitForWebhooks();
          assert.deepEqual(order, ["answer", "webhook answered"]);
          assert.equal(emulator.webhookLog[0].status, 200);
        }
        assert.equal(receiver.received.length, 1);
      }, { webhookUrl: receiver.url, webhookTiming: timing });
    } finally {
      await receiver.close();
    }
  }
});
