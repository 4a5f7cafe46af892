import assert from "node:assert/strict";
import {
  DEFAULT_KV_PATH,
  kvLimits,
  kvLimitsFor,
  LOCAL_KV_LIMITS,
  onDenoDeploy,
  openStore,
  parseMaxChecks,
  storePathFromEnv,
} from "./kv.ts";

Deno.test("[store] openStore creates the folder of a file path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const kv = await openStore(`${dir}/nested/app.kv`);
    await kv.set(["x"], 1);
    kv.close();
    assert.ok((await Deno.stat(`${dir}/nested/app.kv`)).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[store] openStore accepts :memory:", async () => {
  const kv = await openStore(":memory:");
  await kv.set(["x"], 1);
  assert.equal((await kv.get(["x"])).value, 1);
  kv.close();
});

Deno.test("[store] openStore records the store's limits: 10 checks over KV Connect, 100 locally, or KV_MAX_CHECKS", async () => {
  assert.equal(kvLimitsFor("http://127.0.0.1:4512").checksPerAtomic, 10);
  assert.equal(kvLimitsFor("https://kv.example.com/db").checksPerAtomic, 10);
  assert.equal(kvLimitsFor("./data/app.kv").checksPerAtomic, 100);
  assert.equal(kvLimitsFor(null).checksPerAtomic, 100, "Deno Deploy's attached database");
  assert.equal(kvLimitsFor("http://127.0.0.1:4512", 20).checksPerAtomic, 20);
  const local = await openStore(":memory:");
  assert.deepEqual(kvLimits(local), LOCAL_KV_LIMITS);
  local.close();
  const held = await openStore(":memory:", { maxChecks: 10 });
  assert.equal(kvLimits(held).checksPerAtomic, 10);
  held.close();
  const other = await Deno.openKv(":memory:");
  assert.equal(kvLimits(other).checksPerAtomic, 100, "opened elsewhere: local limits");
  other.close();
  assert.equal(parseMaxChecks(undefined), null);
  assert.throws(() => parseMaxChecks("9"), /KV_MAX_CHECKS/);
});

Deno.test("[store] the default store: KV_PATH, DENO_KV_PATH, Deploy's own, else ./data/app.kv", () => {
  assert.equal(storePathFromEnv({}), DEFAULT_KV_PATH);
  assert.equal(storePathFromEnv({ DENO_KV_PATH: "a.kv" }), "a.kv");
  assert.equal(storePathFromEnv({ KV_PATH: "b.kv", DENO_KV_PATH: "a.kv" }), "b.kv");
  assert.equal(storePathFromEnv({ DENO_DEPLOY: "true" }), null);
  assert.equal(storePathFromEnv({ DENO_DEPLOYMENT_ID: "x" }), null);
  assert.equal(storePathFromEnv({ DENO_DEPLOY: "true", KV_PATH: "http://kv:4512" }), "http://kv:4512");
  assert.equal(onDenoDeploy({ DENO_DEPLOY: "false" }), false);
});
