import assert from "node:assert/strict";
import { getTenant, listTenants, reencryptTenantSecrets, saveTenant, type Tenant } from "../calcom/tenants.ts";
import { loadConfig } from "../config.ts";
import { keys } from "../store/keys.ts";
import { dumpKv } from "../../tests/kv_dump.ts";
import {
  generateKeySpec,
  isSealed,
  type Keyring,
  loadKeyring,
  parseKeyring,
  seal,
  sealedKeyId,
  unseal,
  useKeyring,
} from "./keyring.ts";

const ACME: Tenant = {
  slug: "acme",
  baseUrl: "https://cal.acme.example/api",
  apiKey: "cal_live_acme_key_SECRET_0123456789",
  webhookSecret: "acme-webhook-secret-SECRET-0123",
  eventTypeIds: [11],
  locationIds: [],
};
const GLOBEX: Tenant = {
  ...ACME,
  slug: "globex",
  apiKey: "cal_live_globex_SECRET_987",
  webhookSecret: "globex-whsec-SECRET",
};

async function withStore(ring: Keyring, fn: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  useKeyring(ring);
  try {
    await fn(kv);
  } finally {
    useKeyring(null);
    kv.close();
  }
}

Deno.test("[secrets] tenant secrets are sealed in KV: a dump of every entry shows none in clear", async () => {
  const ring = await parseKeyring(generateKeySpec("k1"));
  await withStore(ring, async (kv) => {
    await saveTenant(kv, ACME);
    await saveTenant(kv, GLOBEX);
    const dump = (await dumpKv(kv)).join("\n");
    for (const secret of [ACME.apiKey!, ACME.webhookSecret!, GLOBEX.apiKey!, GLOBEX.webhookSecret!, "SECRET"]) {
      assert.equal(dump.includes(secret), false, `${secret.slice(0, 8)}… in the dump`);
    }
    const stored = (await kv.get<Tenant>(keys.calcomTenant("acme"))).value!;
    assert.ok(isSealed(stored.apiKey!) && isSealed(stored.webhookSecret!));
    assert.equal(sealedKeyId(stored.apiKey!), "k1");
    // Reads decrypt.
    assert.deepEqual(await getTenant(kv, "acme"), ACME);
    const listed = await listTenants(kv, loadConfig({}));
    assert.deepEqual(listed.slice(1), [ACME, GLOBEX]);
  });
});

Deno.test("[secrets] rotation: the old key still reads; the re-encrypt task moves every secret to the new key", async () => {
  const oldSpec = generateKeySpec("old");
  const newSpec = generateKeySpec("new");
  const oldOnly = await parseKeyring(oldSpec);
  const rotated = await parseKeyring(`${newSpec},${oldSpec}`);
  const newOnly = await parseKeyring(newSpec);
  await withStore(oldOnly, async (kv) => {
    await saveTenant(kv, ACME);
    await saveTenant(kv, GLOBEX);
    // A plain value from before encryption existed reads too, and is moved as well.
    await kv.set(keys.calcomTenant("legacy"), { ...ACME, slug: "legacy" });

    useKeyring(rotated);
    assert.deepEqual(await getTenant(kv, "acme"), ACME, "the old key still reads");
    const r = await reencryptTenantSecrets(kv);
    assert.deepEqual(r, { rewritten: 3, current: 0 });
    for (const slug of ["acme", "globex", "legacy"]) {
      const stored = (await kv.get<Tenant>(keys.calcomTenant(slug))).value!;
      assert.equal(sealedKeyId(stored.apiKey!), "new", slug);
      assert.equal(sealedKeyId(stored.webhookSecret!), "new", slug);
    }
    assert.deepEqual(await reencryptTenantSecrets(kv), { rewritten: 0, current: 3 }, "a second run has nothing to do");

    // The old key can go now.
    useKeyring(newOnly);
    assert.deepEqual(await getTenant(kv, "acme"), ACME);
    assert.deepEqual(await getTenant(kv, "legacy"), { ...ACME, slug: "legacy" });
    useKeyring(oldOnly);
    await assert.rejects(() => getTenant(kv, "acme"), /sealed with key "new", which SECRETS_KEYS does not hold/);
  });
});

Deno.test("[secrets] a sealed value copied to another place or altered does not decrypt", async () => {
  const ring = await parseKeyring(generateKeySpec("k1"));
  const sealed = await seal(ring, "s3cret", "calcom_tenants/acme/apiKey");
  assert.equal(await unseal(ring, sealed, "calcom_tenants/acme/apiKey"), "s3cret");
  await assert.rejects(() => unseal(ring, sealed, "calcom_tenants/globex/apiKey"), /tampered with or moved/);
  const flipped = sealed.slice(0, -2) + (sealed.endsWith("A") ? "B" : "A") + sealed.slice(-1);
  await assert.rejects(() => unseal(ring, flipped, "calcom_tenants/acme/apiKey"), /tampered with or moved/);
  assert.notEqual(await seal(ring, "s3cret", "x"), await seal(ring, "s3cret", "x"), "a fresh IV every time");
});

Deno.test("[secrets] SECRETS_KEYS errors name the key id, never the key", async () => {
  const short = btoa("too short");
  await assert.rejects(
    () => parseKeyring(`a:${short}`),
    (e: Error) => /"a" must be 32 bytes/.test(e.message) && !e.message.includes(short),
  );
  await assert.rejects(() => parseKeyring("no-colon"), /needs "id:base64"/);
  const spec = generateKeySpec("a");
  await assert.rejects(() => parseKeyring(`${spec},${spec}`), /names key "a" twice/);
});

Deno.test("[secrets] without SECRETS_KEYS a local key file outside KV is made once and reused; production refuses", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const env = { SECRETS_KEY_FILE: `${dir}/keys/secrets.key` };
    const first = await loadKeyring(env);
    const second = await loadKeyring(env);
    const sealed = await seal(first, "value", "here");
    assert.equal(await unseal(second, sealed, "here"), "value", "the same key after a restart");
    assert.equal((await Deno.stat(env.SECRETS_KEY_FILE)).mode! & 0o777, 0o600);
    await assert.rejects(
      () => loadKeyring({ ...env, DENO_DEPLOYMENT_ID: "abc" }),
      /SECRETS_KEYS is required in production/,
    );
    await assert.rejects(
      () => loadKeyring({ ...env, APP_ENV: "production" }),
      /SECRETS_KEYS is required in production/,
    );
    const configured = await loadKeyring({ SECRETS_KEYS: generateKeySpec("prod"), DENO_DEPLOYMENT_ID: "abc" });
    assert.equal(configured.current.id, "prod");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
