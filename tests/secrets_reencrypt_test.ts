import assert from "node:assert/strict";
import { getTenant, saveTenant, type Tenant } from "../lib/calcom/tenants.ts";
import { generateKeySpec, parseKeyring, sealedKeyId, useKeyring } from "../lib/secrets/keyring.ts";
import { keys } from "../lib/store/keys.ts";

const TENANT: Tenant = {
  slug: "acme",
  baseUrl: "https://cal.acme.example/api",
  apiKey: "cal_live_task_SECRET_42",
  webhookSecret: "whsec-task-SECRET-42",
  eventTypeIds: [],
  locationIds: [],
};

Deno.test("[secrets] deno task secrets:reencrypt moves stored secrets to the first key and prints no secret", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/app.kv`;
  const oldSpec = generateKeySpec("old");
  const newSpec = generateKeySpec("new");
  try {
    useKeyring(await parseKeyring(oldSpec));
    const kv = await Deno.openKv(path);
    await saveTenant(kv, TENANT);
    kv.close();

    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "secrets:reencrypt"],
      env: { DENO_KV_PATH: path, NO_COLOR: "1", SECRETS_KEYS: `${newSpec},${oldSpec}` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.match(stdout, /1 tenant\(s\) re-encrypted with key "new", 0 already current/);
    for (const s of [TENANT.apiKey!, TENANT.webhookSecret!, newSpec, oldSpec]) {
      assert.equal((stdout + stderr).includes(s), false);
    }

    const kv2 = await Deno.openKv(path);
    try {
      const stored = (await kv2.get<Tenant>(keys.calcomTenant("acme"))).value!;
      assert.equal(sealedKeyId(stored.apiKey!), "new");
      useKeyring(await parseKeyring(newSpec));
      assert.deepEqual(await getTenant(kv2, "acme"), TENANT, "the new key alone reads it");
    } finally {
      kv2.close();
    }
  } finally {
    useKeyring(null);
    await Deno.remove(dir, { recursive: true });
  }
});
