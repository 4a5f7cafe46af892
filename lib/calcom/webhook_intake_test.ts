import assert from "node:assert/strict";
import { signCalcomWebhook } from "./signature.ts";
import { saveEventTypeLink } from "./sync_store.ts";
import type { Tenant } from "./tenants.ts";
import { type IntakeResult, intakeWebhook, listDeliveries } from "./webhook_intake.ts";

const SECRET = "intake-test-secret-0123456789";
const NOW = new Date("2030-05-01T12:00:00.000Z");
const TENANT: Tenant = {
  slug: "acme",
  baseUrl: null,
  apiKey: null,
  webhookSecret: SECRET,
  eventTypeIds: [],
  locationIds: [],
};

function created(overrides: Record<string, unknown> = {}, createdAt = NOW.toISOString()) {
  return {
    triggerEvent: "BOOKING_CREATED",
    createdAt,
    payload: {
      uid: "parent-booking-uid",
      bookingId: 7,
      eventTypeId: 42,
      startTime: "2030-05-06T09:00:00.000Z",
      endTime: "2030-05-06T10:30:00.000Z",
      attendees: [{ email: "learner1@example.com", name: "Learner One", timeZone: "UTC" }],
      attendeeSeatId: "seat-uid-1",
      status: "ACCEPTED",
      ...overrides,
    },
  };
}

async function withKv(fn: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    kv.close();
  }
}

async function stored(kv: Deno.Kv): Promise<number> {
  let n = 0;
  for (const prefix of ["calcom_deliveries", "calcom_delivery_hashes"]) {
    for await (const _ of kv.list({ prefix: [prefix] })) n++;
  }
  return n;
}

async function send(
  kv: Deno.Kv,
  body: string,
  options: { tenant?: Tenant | null; signature?: string | null; secret?: string } = {},
): Promise<IntakeResult> {
  const raw = new TextEncoder().encode(body);
  const signature = options.signature !== undefined
    ? options.signature
    : await signCalcomWebhook(options.secret ?? SECRET, raw);
  const tenant = options.tenant !== undefined ? options.tenant : TENANT;
  return intakeWebhook(kv, tenant, raw, signature, { maxAgeSeconds: 600, now: () => NOW });
}

async function assertRefused(kv: Deno.Kv, result: IntakeResult, status: number, error: string): Promise<void> {
  assert.equal(result.status, status, JSON.stringify(result.body));
  assert.equal(result.body.error, error);
  assert.equal(typeof result.body.message, "string");
  assert.equal(await stored(kv), 0, "nothing stored on failure");
}

Deno.test("[calcom] webhook intake accepts a signed delivery and stores it once", async () => {
  await withKv(async (kv) => {
    const body = JSON.stringify(created());
    const first = await send(kv, body);
    assert.equal(first.status, 202);
    assert.equal(first.body.accepted, true);
    assert.equal(typeof first.body.deliveryId, "string");
    assert.equal(await stored(kv), 2);
    const list = await listDeliveries(kv, "acme");
    assert.equal(list.length, 1);
    assert.equal(list[0].id, first.body.deliveryId);
    assert.equal(list[0].trigger, "BOOKING_CREATED");
    assert.equal(list[0].createdAt, NOW.toISOString());
    assert.equal(list[0].receivedAt, NOW.toISOString());
    assert.equal(list[0].payload.attendeeSeatId, "seat-uid-1");
    assert.match(list[0].bodyHash, /^[0-9a-f]{64}$/);
    assert.deepEqual(await listDeliveries(kv, "other"), []);
  });
});

Deno.test("[calcom] webhook intake answers a repeated delivery as a duplicate without a second record", async () => {
  await withKv(async (kv) => {
    const body = JSON.stringify(created());
    const first = await send(kv, body);
    const again = await send(kv, body);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { duplicate: true, deliveryId: first.body.deliveryId });
    const raced = await Promise.all([1, 2, 3].map(() => send(kv, JSON.stringify(created({ bookingId: 8 })))));
    assert.deepEqual(raced.map((r) => r.status).sort(), [200, 200, 202]);
    assert.equal((await listDeliveries(kv, "acme")).length, 2);
    const otherTenant = await send(kv, body, { tenant: { ...TENANT, slug: "beta" } });
    assert.equal(otherTenant.status, 202, "the same bytes for another tenant are another delivery");
  });
});

Deno.test("[calcom] webhook intake refuses missing, no-secret-provided and wrong signatures", async () => {
  await withKv(async (kv) => {
    const body = JSON.stringify(created());
    await assertRefused(kv, await send(kv, body, { signature: null }), 401, "missing_signature");
    await assertRefused(kv, await send(kv, body, { signature: "" }), 401, "missing_signature");
    await assertRefused(kv, await send(kv, body, { signature: "no-secret-provided" }), 401, "invalid_signature");
    await assertRefused(kv, await send(kv, body, { secret: "another-secret" }), 401, "invalid_signature");
    const signed = await signCalcomWebhook(SECRET, body);
    const reserialised = JSON.stringify(JSON.parse(body), null, 2);
    await assertRefused(kv, await send(kv, reserialised, { signature: signed }), 401, "invalid_signature");
  });
});

Deno.test("[calcom] webhook intake refuses unknown tenants and tenants without a secret", async () => {
  await withKv(async (kv) => {
    const body = JSON.stringify(created());
    await assertRefused(kv, await send(kv, body, { tenant: null }), 404, "tenant_not_found");
    const noSecret = { ...TENANT, webhookSecret: null };
    await assertRefused(kv, await send(kv, body, { tenant: noSecret }), 401, "webhook_secret_not_configured");
  });
});

Deno.test("[calcom] webhook intake refuses stale and future deliveries", async () => {
  await withKv(async (kv) => {
    const old = new Date(NOW.getTime() - 601_000).toISOString();
    const stale = await send(kv, JSON.stringify(created({}, old)));
    await assertRefused(kv, stale, 400, "stale_webhook");
    const future = new Date(NOW.getTime() + 5 * 60_000 + 1_000).toISOString();
    await assertRefused(kv, await send(kv, JSON.stringify(created({}, future))), 400, "stale_webhook");
    const edge = new Date(NOW.getTime() - 599_000).toISOString();
    assert.equal((await send(kv, JSON.stringify(created({}, edge)))).status, 202);
  });
});

Deno.test("[calcom] webhook intake refuses malformed JSON with the reason", async () => {
  await withKv(async (kv) => {
    const result = await send(kv, '{"triggerEvent": "BOOKING_CREATED",');
    await assertRefused(kv, result, 400, "malformed_json");
    assert.match(String(result.body.message), /not valid JSON: .+/);
  });
});

Deno.test("[calcom] webhook intake refuses payloads that miss required fields with zod issues", async () => {
  await withKv(async (kv) => {
    const noUid = created({ uid: undefined, eventTypeId: "42" });
    const result = await send(kv, JSON.stringify(noUid));
    await assertRefused(kv, result, 400, "invalid_webhook");
    const issues = (result.body.details as { issues: { path: string }[] }).issues.map((i) => i.path).sort();
    assert.deepEqual(issues, ["payload.eventTypeId", "payload.uid"]);
    const noEnvelope = { triggerEvent: "BOOKING_CANCELLED", payload: created().payload };
    await assertRefused(kv, await send(kv, JSON.stringify(noEnvelope)), 400, "invalid_webhook");
    await assertRefused(kv, await send(kv, JSON.stringify([1, 2])), 400, "invalid_webhook");
    const flat = { triggerEvent: "MEETING_ENDED", uid: "x", eventTypeId: 42 };
    await assertRefused(kv, await send(kv, JSON.stringify(flat)), 400, "invalid_webhook");
  });
});

Deno.test("[calcom] webhook intake ignores unknown triggers and stores nothing", async () => {
  await withKv(async (kv) => {
    const body = JSON.stringify({ triggerEvent: "FORM_SUBMITTED", createdAt: "2001-01-01T00:00:00Z", payload: {} });
    const result = await send(kv, body);
    assert.equal(result.status, 202);
    assert.equal(result.body.ignored, true);
    assert.equal(await stored(kv), 0);
  });
});

Deno.test("[calcom] webhook intake refuses event types the tenant does not own", async () => {
  await withKv(async (kv) => {
    const owner = { ...TENANT, eventTypeIds: [1, 2] };
    const result = await send(kv, JSON.stringify(created({ eventTypeId: 42 })), { tenant: owner });
    await assertRefused(kv, result, 403, "event_type_not_owned");
    assert.equal((await send(kv, JSON.stringify(created({ eventTypeId: 2 })), { tenant: owner })).status, 202);
  });
});

Deno.test("[calcom] webhook intake stores flat MEETING_ENDED without the replay window", async () => {
  await withKv(async (kv) => {
    const flat = {
      triggerEvent: "MEETING_ENDED",
      ...created().payload,
      createdAt: "2030-04-01T00:00:00.000Z",
    };
    const result = await send(kv, JSON.stringify(flat));
    assert.equal(result.status, 202, JSON.stringify(result.body));
    const [delivery] = await listDeliveries(kv, "acme");
    assert.equal(delivery.trigger, "MEETING_ENDED");
    assert.equal("triggerEvent" in delivery.payload, false);
    assert.equal(delivery.payload.uid, "parent-booking-uid");
  });
});

Deno.test("[calcom] webhook intake refuses bodies over 256 KB", async () => {
  await withKv(async (kv) => {
    const big = JSON.stringify(created({ description: "x".repeat(256 * 1024) }));
    await assertRefused(kv, await send(kv, big), 413, "payload_too_large");
    const storedTooBig = JSON.stringify(created({ description: "x".repeat(100 * 1024) }));
    await assertRefused(kv, await send(kv, storedTooBig), 413, "payload_too_large");
  });
});

Deno.test("[calcom] webhook intake follows the sync's event type mapping: another tenant's is 403, its own is accepted", async () => {
  await withKv(async (kv) => {
    const link = (eventTypeId: number, tenant: string) =>
      saveEventTypeLink(kv, {
        sessionId: `S${eventTypeId}`,
        tenant,
        eventTypeId,
        slug: `et-${eventTypeId}`,
        capacity: 5,
        startsAt: "2030-05-06T09:00:00.000Z",
        status: "active",
        syncedAt: NOW.toISOString(),
      });
    await link(42, "beta");
    await link(43, "acme");
    const owner = { ...TENANT, eventTypeIds: [1] };
    await assertRefused(kv, await send(kv, JSON.stringify(created({ eventTypeId: 42 }))), 403, "event_type_not_owned");
    const own = await send(kv, JSON.stringify(created({ eventTypeId: 43 })), { tenant: owner });
    assert.equal(own.status, 202, JSON.stringify(own.body));
    assert.equal(own.body.outcome, undefined, "without an engine nothing is applied");
  });
});
