/**
 * Cal.com health per tenant against the emulator: reachable and key accepted, a wrong key, a
 * Cal.com that is down or hangs, tenants without a key, the last webhook seen, the 30 s cache
 * (shared by concurrent callers, refreshed when a key changes), and no secret in the answer.
 */
import assert from "node:assert/strict";
import { CalcomError } from "../../lib/calcom/client.ts";
import { calcomHealth, type CallableTenant, clearCalcomHealthCache, tenantHealth } from "../../lib/calcom/health.ts";
import { pendingState, updateSyncState } from "../../lib/calcom/sync_store.ts";
import { saveTenant, type Tenant } from "../../lib/calcom/tenants.ts";
import { loadConfig } from "../../lib/config.ts";
import { keys } from "../../lib/store/keys.ts";
import { withCalcom } from "./fixture.ts";

function tenant(slug: string, baseUrl: string | null, apiKey: string | null): Tenant {
  return { slug, baseUrl, apiKey, webhookSecret: `whsec-${slug}-do-not-show`, eventTypeIds: [], locationIds: [] };
}

async function withKv(fn: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    kv.close();
  }
}

Deno.test("[calcom] health: the emulator tenant is reachable with its key accepted; a wrong key is authOk false", async () => {
  await withCalcom(async ({ emulator }) => {
    await withKv(async (kv) => {
      const config = loadConfig({
        DENO_KV_PATH: ":memory:",
        CALCOM_API_URL: emulator.url,
        CALCOM_API_KEY: emulator.apiKey,
        CALCOM_WEBHOOK_SECRET: "whsec-default-do-not-show",
      });
      await saveTenant(kv, tenant("wrong-key", emulator.url, "cal_live_wrong_key_do_not_show"));
      await saveTenant(kv, tenant("no-key", emulator.url, null));
      const health = await calcomHealth(kv, config);
      const by = Object.fromEntries(health.tenants.map((t) => [t.slug, t]));
      assert.deepEqual(Object.keys(by), ["default", "no-key", "wrong-key"]);
      assert.equal(by.default.configured, true);
      assert.equal(by.default.reachable, true);
      assert.equal(by.default.authOk, true);
      assert.equal(by.default.error, null);
      assert.ok(by.default.checkedAt);
      assert.equal(by["wrong-key"].reachable, true);
      assert.equal(by["wrong-key"].authOk, false);
      assert.equal(by["wrong-key"].error, "UnauthorizedException");
      assert.deepEqual(
        { ...by["no-key"], lastWebhookAt: null },
        {
          slug: "no-key",
          configured: false,
          reachable: null,
          authOk: null,
          checkedAt: null,
          error: null,
          lastWebhookAt: null,
          lastWebhookTrigger: null,
        },
        "a tenant without a key is not called",
      );
      assert.equal(health.ok, false, "one configured tenant refuses its key");
      assert.equal(emulator.requestCount({ method: "GET", path: "/v2/me" }), 2);
      assert.equal(health.sync.total, 0);
      const text = JSON.stringify(health);
      for (const secret of [emulator.apiKey, "cal_live_wrong_key_do_not_show", "do-not-show"]) {
        assert.ok(!text.includes(secret), `the health answer must not contain ${secret}`);
      }
    });
  });
});

Deno.test("[calcom] health: a Cal.com that is down is unreachable (NETWORK_ERROR), one that hangs times out", async () => {
  await withCalcom(async ({ emulator }) => {
    await withKv(async (kv) => {
      const config = loadConfig({ DENO_KV_PATH: ":memory:" });
      const t = tenant("acme", emulator.url, emulator.apiKey) as CallableTenant;
      await emulator.down();
      const down = await tenantHealth(kv, t);
      assert.equal(down.configured, true);
      assert.equal(down.reachable, false);
      assert.equal(down.authOk, null);
      assert.equal(down.error, "NETWORK_ERROR");
      await emulator.up();
      const stillCached = await tenantHealth(kv, t);
      assert.equal(stillCached.reachable, false, "the result is reused within the cache time");
      clearCalcomHealthCache(kv);
      assert.equal((await tenantHealth(kv, t)).reachable, true);

      emulator.failNext(1, { hang: true });
      // The emulator never answers this request: only the 300 ms limit can end the check.
      const hung = await tenantHealth(kv, t, { cacheMs: 0, timeoutMs: 300 });
      assert.equal(hung.reachable, false);
      assert.equal(hung.error, "TIMEOUT");

      emulator.failNext(1, { status: 503 });
      const broken = await tenantHealth(kv, t, { cacheMs: 0 });
      assert.equal(broken.reachable, true, "it answered, if badly");
      assert.equal(broken.authOk, null);
      assert.ok(broken.error, "a code names the failure");
      const none = await calcomHealth(kv, config);
      assert.equal(none.ok, true, "no configured tenant: nothing is failing");
      assert.equal(none.tenants[0].configured, false);
    });
  });
});

Deno.test("[calcom] health: the last webhook per tenant is the newest stored delivery", async () => {
  await withKv(async (kv) => {
    const config = loadConfig({ DENO_KV_PATH: ":memory:" });
    await saveTenant(kv, tenant("acme", null, null));
    const delivery = (trigger: string, receivedAt: string) => ({
      trigger,
      createdAt: receivedAt,
      payload: {},
      receivedAt,
      bodyHash: crypto.randomUUID(),
    });
    await kv.set(
      keys.calcomDelivery("acme", "01KAAAAAAAAAAAAAAAAAAAAAAA"),
      delivery("BOOKING_CREATED", "2026-11-20T10:00:00.000Z"),
    );
    await kv.set(
      keys.calcomDelivery("acme", "01KBBBBBBBBBBBBBBBBBBBBBBB"),
      delivery("BOOKING_CANCELLED", "2026-11-21T09:30:00.000Z"),
    );
    await kv.set(
      keys.calcomDelivery("other", "01KCCCCCCCCCCCCCCCCCCCCCCC"),
      delivery("MEETING_ENDED", "2026-11-22T00:00:00.000Z"),
    );
    const health = await calcomHealth(kv, config);
    const acme = health.tenants.find((t) => t.slug === "acme")!;
    assert.equal(acme.lastWebhookAt, "2026-11-21T09:30:00.000Z");
    assert.equal(acme.lastWebhookTrigger, "BOOKING_CANCELLED");
    const def = health.tenants.find((t) => t.slug === "default")!;
    assert.equal(def.lastWebhookAt, null, "another tenant's deliveries do not count");
  });
});

Deno.test("[calcom] health: checks are cached, shared while in flight, and redone when the key changes", async () => {
  await withKv(async (kv) => {
    let now = 1_000_000;
    let calls = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => release = r);
    const options = {
      now: () => now,
      clientFor: (t: CallableTenant) => ({
        async me() {
          calls++;
          await gate;
          if (t.apiKey !== "good") throw new CalcomError({ status: 401, code: "UnauthorizedException", message: "x" });
          return {} as never;
        },
      }),
    };
    const t = tenant("acme", "https://cal.example", "good");
    const pending = [tenantHealth(kv, t, options), tenantHealth(kv, t, options), tenantHealth(kv, t, options)];
    release();
    const results = await Promise.all(pending);
    assert.equal(calls, 1, "concurrent callers share one check");
    assert.ok(results.every((r) => r.authOk === true));
    now += 29_000;
    await tenantHealth(kv, t, options);
    assert.equal(calls, 1, "reused within 30 s");
    now += 1_000;
    await tenantHealth(kv, t, options);
    assert.equal(calls, 2, "checked again after 30 s");
    const changed = await tenantHealth(kv, { ...t, apiKey: "rotated" }, options);
    assert.equal(calls, 3, "a different key is checked at once");
    assert.equal(changed.authOk, false);
    const other = await Deno.openKv(":memory:");
    try {
      await tenantHealth(other, t, options);
      assert.equal(calls, 4, "another store keeps its own cache");
    } finally {
      other.close();
    }
  });
});

Deno.test("[calcom] health: sync figures are counted afresh by default and reused within figuresCacheMs", async () => {
  await withKv(async (kv) => {
    const config = loadConfig({ DENO_KV_PATH: ":memory:" });
    let now = 5_000_000;
    const seed = (bookingId: string) =>
      updateSyncState(kv, bookingId, () => ({
        ...pendingState(null, { bookingId, sessionId: "s1", tenant: "default", origin: "web", nowMs: now }),
        status: "synced",
        nextAttemptAt: null,
        latencyMs: 250,
      }));
    await seed("b1");
    const first = await calcomHealth(kv, config, { now: () => now, figuresCacheMs: 5_000 });
    assert.equal(first.sync.synced, 1);
    assert.equal(first.sync.latencyMs.p50, 250);
    await seed("b2");
    now += 4_000;
    assert.equal((await calcomHealth(kv, config, { now: () => now, figuresCacheMs: 5_000 })).sync.synced, 1);
    assert.equal((await calcomHealth(kv, config, { now: () => now })).sync.synced, 2, "no cache by default");
    now += 5_000;
    assert.equal((await calcomHealth(kv, config, { now: () => now, figuresCacheMs: 5_000 })).sync.synced, 2);
  });
});
