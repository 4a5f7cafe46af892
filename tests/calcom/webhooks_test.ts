import assert from "node:assert/strict";
import { CALCOM_SIGNATURE_HEADER, verifyCalcomSignature } from "../../lib/calcom/signature.ts";
import type { CalcomClient } from "../../lib/calcom/client.ts";
import type { CalcomEmulator, SignedWebhook } from "./emulator.ts";
import { learner, startAt, withCalcom } from "./fixture.ts";
import { CALCOM_WEBHOOK_EXAMPLES_DIR, skipWithoutCalcomReference } from "./reference.ts";

type Json = Record<string, unknown>;

/** User-entered form data: its keys depend on the booking form, not on the trigger. */
const FREE_FORM = new Set(["responses", "userFieldsResponses", "customInputs", "metadata"]);

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Keys of `example` (recursively into objects and first array items) that `built` lacks. */
function missingKeys(example: unknown, built: unknown, path = ""): string[] {
  if (Array.isArray(example) && Array.isArray(built)) {
    return example.length && built.length ? missingKeys(example[0], built[0], `${path}[0]`) : [];
  }
  if (!isObject(example) || !isObject(built)) return [];
  return Object.keys(example).flatMap((k) => {
    if (!(k in built)) return [`${path}.${k}`];
    return FREE_FORM.has(k) ? [] : missingKeys(example[k], built[k], `${path}.${k}`);
  });
}

async function example(trigger: string): Promise<Json> {
  return JSON.parse(await Deno.readTextFile(`${CALCOM_WEBHOOK_EXAMPLES_DIR}${trigger}.json`));
}

/** A Cal Video seated session with two seats, one cancelled, one moved, one marked absent. */
async function scenario(client: CalcomClient, emulator: CalcomEmulator) {
  const et = await client.createSeatedEventType({
    title: "Live online: fire safety",
    slug: "fire-safety-online",
    lengthInMinutes: 60,
    seats: { seatsPerTimeSlot: 10, showAttendeeInfo: false, showAvailabilityCount: true },
    locations: [{ type: "integration", integration: "cal-video" }],
  });
  const a = await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(1) });
  const b = await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(2) });
  const c = await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(3) });
  const created = await emulator.webhooks.bookingCreated(b.seatUid);
  await client.cancelSeat(b.bookingUid, b.seatUid);
  const cancelled = await emulator.webhooks.bookingCancelled(b.seatUid);
  const moved = await client.rescheduleSeat(c.bookingUid, c.seatUid, startAt(8));
  const rescheduled = await emulator.webhooks.bookingRescheduled(c.seatUid);
  await client.markAbsent(a.bookingUid, [{ email: learner(1).email, absent: true }]);
  const noShow = await emulator.webhooks.noShowUpdated(a.bookingUid);
  const ended = await emulator.webhooks.meetingEnded(a.bookingUid);
  return { a, b, c, moved, created, cancelled, rescheduled, noShow, ended };
}

Deno.test({
  name: "[calcom] webhook builders carry every key of Cal.com's examples",
  ignore: skipWithoutCalcomReference(),
  async fn() {
    assert.deepEqual(missingKeys({ a: { b: 1 }, c: [{ d: 1 }] }, { a: {}, c: [{}] }), [".a.b", ".c[0].d"]);
    await withCalcom(async ({ client, emulator }) => {
      const s = await scenario(client, emulator);
      const built: [string, SignedWebhook][] = [
        ["BOOKING_CREATED", s.created],
        ["BOOKING_CANCELLED", s.cancelled],
        ["BOOKING_RESCHEDULED", s.rescheduled],
        ["BOOKING_NO_SHOW_UPDATED", s.noShow],
        ["MEETING_ENDED", s.ended],
      ];
      for (const [trigger, webhook] of built) {
        const ex = await example(trigger);
        assert.equal(webhook.trigger, trigger);
        assert.deepEqual(missingKeys(ex, webhook.json), [], `${trigger} lacks keys of the example`);
        assert.deepEqual(Object.keys(webhook.json).sort(), Object.keys(ex).sort(), `${trigger} top-level keys`);
      }
    });
  },
});

Deno.test("[calcom] webhook signatures verify on the exact bytes and nothing else", async () => {
  await withCalcom(async ({ client, emulator }) => {
    const s = await scenario(client, emulator);
    for (const w of [s.created, s.cancelled, s.rescheduled, s.noShow, s.ended]) {
      const signature = w.headers[CALCOM_SIGNATURE_HEADER];
      assert.match(signature, /^[0-9a-f]{64}$/);
      assert.equal(w.headers["X-Cal-Webhook-Version"], "2021-10-20");
      assert.equal(await verifyCalcomSignature(emulator.webhookSecret, w.body, signature), true);
      assert.equal(await verifyCalcomSignature("another-secret", w.body, signature), false);
      assert.equal(
        await verifyCalcomSignature(emulator.webhookSecret, JSON.stringify(w.json, null, 1), signature),
        false,
      );
      assert.equal(await verifyCalcomSignature(emulator.webhookSecret, w.body, "no-secret-provided"), false);
    }
  });
});

Deno.test("[calcom] webhook seat semantics: parent uid, seat id only on create, one attendee on cancel", async () => {
  await withCalcom(async ({ client, emulator }) => {
    const s = await scenario(client, emulator);
    const created = s.created.json.payload as Json;
    assert.equal(created.uid, s.b.bookingUid);
    assert.equal(created.attendeeSeatId, s.b.seatUid);
    assert.equal(created.seatsPerTimeSlot, 10);
    assert.deepEqual((created.attendees as Json[]).map((x) => x.email), [learner(2).email]);

    const cancelled = s.cancelled.json.payload as Json;
    assert.deepEqual([cancelled.uid, cancelled.status], [s.b.bookingUid, "CANCELLED"]);
    assert.deepEqual((cancelled.attendees as Json[]).map((x) => x.email), [learner(2).email]);
    assert.equal(s.cancelled.body.includes(s.b.seatUid), false, "no seat id in a seat cancellation");

    const rescheduled = s.rescheduled.json.payload as Json;
    assert.equal(rescheduled.uid, s.moved.bookingUid);
    assert.equal(rescheduled.rescheduleUid, s.c.bookingUid);
    assert.equal(rescheduled.rescheduleStartTime, startAt(6));
    assert.equal(rescheduled.startTime, startAt(8));

    assert.deepEqual(s.noShow.json.payload, {
      message: `${learner(1).email} marked as no-show`,
      attendees: [{ email: learner(1).email, noShow: true }],
      bookingUid: s.a.bookingUid,
      bookingId: emulator.state.booking(s.a.bookingUid).id,
    });

    assert.equal(s.ended.json.triggerEvent, "MEETING_ENDED");
    assert.equal("payload" in s.ended.json, false, "MEETING_ENDED is flat");
    assert.equal(s.ended.json.uid, s.a.bookingUid);
  });
});

Deno.test("[calcom] webhook delivery posts the signed bytes a receiver can verify", async () => {
  await withCalcom(async ({ client, emulator }) => {
    const s = await scenario(client, emulator);
    const seen: { verified: boolean; trigger: string }[] = [];
    await using receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
      const raw = new Uint8Array(await req.arrayBuffer());
      const verified = await verifyCalcomSignature(
        emulator.webhookSecret,
        raw,
        req.headers.get(CALCOM_SIGNATURE_HEADER),
      );
      seen.push({ verified, trigger: JSON.parse(new TextDecoder().decode(raw)).triggerEvent });
      return new Response(null, { status: verified ? 200 : 401 });
    });
    const url = `http://127.0.0.1:${receiver.addr.port}/api/webhooks/calcom`;
    for (const w of [s.created, s.cancelled]) {
      const response = await emulator.deliver(url, w);
      await response.body?.cancel();
      assert.equal(response.status, 200);
    }
    assert.deepEqual(seen, [
      { verified: true, trigger: "BOOKING_CREATED" },
      { verified: true, trigger: "BOOKING_CANCELLED" },
    ]);
  });
});
