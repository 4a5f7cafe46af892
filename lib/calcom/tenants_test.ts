import assert from "node:assert/strict";
import { loadConfig } from "../config.ts";
import { ValidationError } from "../domain/validation.ts";
import { describeTenant, getTenant, resolveTenant, saveTenant, type Tenant } from "./tenants.ts";

const ACME: Tenant = {
  slug: "acme",
  baseUrl: "https://cal.acme.example/api",
  apiKey: "cal_live_acme_key_0123456789",
  webhookSecret: "acme-webhook-secret-0123",
  eventTypeIds: [11, 12],
  locationIds: [],
};

Deno.test("[calcom] tenants round-trip through KV and describeTenant hides secrets", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    assert.equal(await getTenant(kv, "acme"), null);
    await saveTenant(kv, ACME);
    assert.deepEqual(await getTenant(kv, "acme"), ACME);
    const shown = describeTenant(ACME);
    assert.deepEqual(shown, {
      slug: "acme",
      baseUrl: ACME.baseUrl,
      hasApiKey: true,
      hasWebhookSecret: true,
      eventTypeIds: [11, 12],
      locationIds: [],
    });
    const text = JSON.stringify(shown);
    assert.equal(text.includes(ACME.apiKey!), false);
    assert.equal(text.includes(ACME.webhookSecret!), false);
    assert.equal(await getTenant(kv, "../Bad Slug"), null);
  } finally {
    kv.close();
  }
});

Deno.test("[calcom] tenants refuse the reserved default slug and invalid fields", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await assert.rejects(() => saveTenant(kv, { ...ACME, slug: "default" }), ValidationError);
    await assert.rejects(() => saveTenant(kv, { ...ACME, slug: "Not Valid" }), ValidationError);
    await assert.rejects(() => saveTenant(kv, { ...ACME, eventTypeIds: [-1] }), ValidationError);
    assert.equal(await getTenant(kv, "default"), null);
  } finally {
    kv.close();
  }
});

Deno.test("[calcom] the default tenant comes from CALCOM_* configuration", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const config = loadConfig({
      CALCOM_API_URL: "https://api.cal.com",
      CALCOM_API_KEY: "cal_live_default",
      CALCOM_WEBHOOK_SECRET: "default-secret",
    });
    assert.equal(config.calcomWebhookMaxAge, 600);
    assert.deepEqual(await resolveTenant(kv, config, "default"), {
      slug: "default",
      baseUrl: "https://api.cal.com",
      apiKey: "cal_live_default",
      webhookSecret: "default-secret",
      eventTypeIds: [],
      locationIds: [],
    });
    const bare = await resolveTenant(kv, loadConfig({}), "default");
    assert.equal(bare?.webhookSecret, null);
    assert.equal(await resolveTenant(kv, config, "acme"), null);
    await saveTenant(kv, ACME);
    assert.equal((await resolveTenant(kv, config, "acme"))?.slug, "acme");
    assert.throws(() => loadConfig({ CALCOM_WEBHOOK_MAX_AGE: "-5" }), /CALCOM_WEBHOOK_MAX_AGE/);
  } finally {
    kv.close();
  }
});
