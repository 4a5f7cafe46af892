import assert from "node:assert/strict";
import { CALCOM_SIGNATURE_HEADER } from "../../lib/calcom/signature.ts";
import { saveTenant } from "../../lib/calcom/tenants.ts";
import { listDeliveries } from "../../lib/calcom/webhook_intake.ts";
import { startTestApp, type TestApp } from "../app_fixture.ts";
import { learner, startAt, withCalcom } from "./fixture.ts";
import { CALCOM_WEBHOOK_EXAMPLES_DIR, skipWithoutCalcomReference } from "./reference.ts";
import { type SignedWebhook, signWebhook } from "./webhooks.ts";

const SECRET = "route-test-webhook-secret-0123";
const DEFAULT_URL = "/api/webhooks/calcom/booking";

async function withApp(fn: (t: TestApp) => Promise<void>): Promise<void> {
  const t = await startTestApp({ seed: false, env: { CALCOM_WEBHOOK_SECRET: SECRET } });
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

async function post(t: TestApp, path: string, w: { body: string; headers: Record<string, string> }) {
  const res = await t.app.request(path, { method: "POST", headers: w.headers, body: w.body });
  return { status: res.status, json: await res.json() as Record<string, unknown> };
}

async function storedCount(kv: Deno.Kv): Promise<number> {
  let n = 0;
  for (const prefix of ["calcom_deliveries", "calcom_delivery_hashes"]) {
    for await (const _ of kv.list({ prefix: [prefix] })) n++;
  }
  return n;
}

Deno.test("[calcom] webhook route accepts signed seat, cancel, reschedule, no-show and flat meeting-ended deliveries", async () => {
  await withApp(async (t) => {
    await withCalcom(async ({ client, emulator }) => {
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
      await client.rescheduleSeat(c.bookingUid, c.seatUid, startAt(8));
      const rescheduled = await emulator.webhooks.bookingRescheduled(c.seatUid);
      await client.markAbsent(a.bookingUid, [{ email: learner(1).email, absent: true }]);
      const noShow = await emulator.webhooks.noShowUpdated(a.bookingUid);
      const ended = await emulator.webhooks.meetingEnded(a.bookingUid);

      const all: SignedWebhook[] = [created, cancelled, rescheduled, noShow, ended];
      for (const w of all) {
        const resigned = await signWebhook(SECRET, w.json);
        const res = await post(t, DEFAULT_URL, resigned);
        assert.equal(res.status, 202, `${w.trigger}: ${JSON.stringify(res.json)}`);
        assert.equal(res.json.accepted, true);
      }
      const deliveries = await listDeliveries(t.services.kv, "default");
      assert.deepEqual(deliveries.map((d) => d.trigger), all.map((w) => w.trigger));
      assert.equal(deliveries[0].payload.attendeeSeatId, b.seatUid);

      const again = await post(t, DEFAULT_URL, await signWebhook(SECRET, created.json));
      assert.deepEqual([again.status, again.json.duplicate], [200, true]);
      assert.equal((await listDeliveries(t.services.kv, "default")).length, all.length);
    }, { webhookSecret: "emulator-secret" });
  });
});

Deno.test("[calcom] webhook route refuses bad signatures, unknown tenants and foreign event types; stores nothing", async () => {
  await withApp(async (t) => {
    const envelope = {
      triggerEvent: "BOOKING_CREATED",
      createdAt: new Date().toISOString(),
      payload: {
        uid: "u1",
        eventTypeId: 42,
        startTime: startAt(6),
        endTime: startAt(6, 10),
        attendees: [{ email: "a@example.com", name: "A" }],
      },
    };
    const good = await signWebhook(SECRET, envelope);
    const { [CALCOM_SIGNATURE_HEADER]: _sig, ...unsigned } = good.headers;
    const missing = await post(t, DEFAULT_URL, { body: good.body, headers: unsigned });
    assert.deepEqual([missing.status, missing.json.error], [401, "missing_signature"]);
    const noSecret = { ...good.headers, [CALCOM_SIGNATURE_HEADER]: "no-secret-provided" };
    assert.equal((await post(t, DEFAULT_URL, { body: good.body, headers: noSecret })).status, 401);
    assert.equal((await post(t, DEFAULT_URL, await signWebhook("wrong", envelope))).status, 401);
    const tampered = await post(t, DEFAULT_URL, { body: `${good.body} `, headers: good.headers });
    assert.deepEqual([tampered.status, tampered.json.error], [401, "invalid_signature"]);

    const unknown = await post(t, "/api/webhooks/calcom/nobody/booking", good);
    assert.deepEqual([unknown.status, unknown.json.error], [404, "tenant_not_found"]);

    await saveTenant(t.services.kv, {
      slug: "acme",
      baseUrl: null,
      apiKey: null,
      webhookSecret: "acme-secret",
      eventTypeIds: [7],
      locationIds: [],
    });
    const foreign = await post(t, "/api/webhooks/calcom/acme/booking", await signWebhook("acme-secret", envelope));
    assert.deepEqual([foreign.status, foreign.json.error], [403, "event_type_not_owned"]);
    const big = await post(t, DEFAULT_URL, { body: "x".repeat(256 * 1024 + 1), headers: good.headers });
    assert.deepEqual([big.status, big.json.error], [413, "payload_too_large"]);
    assert.equal(await storedCount(t.services.kv), 0);

    const own = { ...envelope, payload: { ...envelope.payload, eventTypeId: 7 } };
    const accepted = await post(t, "/api/webhooks/calcom/acme/booking", await signWebhook("acme-secret", own));
    assert.equal(accepted.status, 202);
    assert.equal((await listDeliveries(t.services.kv, "acme")).length, 1);
    assert.equal((await listDeliveries(t.services.kv, "default")).length, 0);
  });
});

Deno.test("[calcom] webhook route without CALCOM_WEBHOOK_SECRET refuses every delivery", async () => {
  const t = await startTestApp({ seed: false });
  try {
    const body = JSON.stringify({ triggerEvent: "BOOKING_CREATED", createdAt: new Date().toISOString() });
    const res = await post(t, DEFAULT_URL, { body, headers: { [CALCOM_SIGNATURE_HEADER]: "no-secret-provided" } });
    assert.deepEqual([res.status, res.json.error], [401, "webhook_secret_not_configured"]);
  } finally {
    await t.close();
  }
});

Deno.test({
  name: "[calcom] webhook route accepts Cal.com's example bodies re-signed with our secret",
  ignore: skipWithoutCalcomReference(),
  async fn() {
    await withApp(async (t) => {
      const files = [...Deno.readDirSync(CALCOM_WEBHOOK_EXAMPLES_DIR)].map((e) => e.name).filter((n) =>
        n.endsWith(".json")
      ).sort();
      assert.ok(files.length >= 5, "webhook examples present");
      for (const name of files) {
        const json = JSON.parse(await Deno.readTextFile(`${CALCOM_WEBHOOK_EXAMPLES_DIR}${name}`));
        // The examples are dated years ago: refresh the delivery time (flat bodies carry the booking's own).
        if ("payload" in json) json.createdAt = new Date().toISOString();
        const res = await post(t, DEFAULT_URL, await signWebhook(SECRET, json));
        assert.equal(res.status, 202, `${name}: ${JSON.stringify(res.json)}`);
        const ignored = name.startsWith("AFTER_");
        assert.equal(res.json.ignored === true, ignored, `${name}: ${JSON.stringify(res.json)}`);
        if (!ignored) assert.equal(res.json.accepted, true);
      }
    });
  },
});

Deno.test("[calcom] webhook paths answer any other method with 405, Allow: POST and a JSON error, and store nothing", async () => {
  await withApp(async (t) => {
    await saveTenant(t.services.kv, {
      slug: "acme",
      baseUrl: null,
      apiKey: null,
      webhookSecret: "acme-secret-0123",
      eventTypeIds: [],
      locationIds: [],
    });
    for (const path of [DEFAULT_URL, "/api/webhooks/calcom/acme/booking", "/api/webhooks/calcom/nobody/booking"]) {
      for (const method of ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
        const res = await t.app.request(path, { method, body: method === "PUT" ? "{}" : undefined });
        assert.equal(res.status, 405, `${method} ${path}`);
        assert.equal(res.headers.get("allow"), "POST", `${method} ${path}`);
        const body = await res.json();
        assert.equal(body.error, "method_not_allowed");
        assert.match(body.message, /POST/);
      }
      const head = await t.app.request(path, { method: "HEAD" });
      assert.equal(head.status, 405);
      assert.equal(head.headers.get("allow"), "POST");
    }
    assert.equal(await storedCount(t.services.kv), 0);
    // POST still reaches the intake: unsigned is refused by it, not by the router.
    const unsigned = await t.app.request(DEFAULT_URL, { method: "POST", body: "{}" });
    assert.equal(unsigned.status, 401);
  });
});
