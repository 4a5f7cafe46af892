import assert from "node:assert/strict";
import { loadConfig } from "./config.ts";

Deno.test("[config] on Deno Deploy: the attached KV, production, no dev sign-in, no demo seed", () => {
  for (const platform of [{ DENO_DEPLOY: "true" }, { DENO_DEPLOYMENT_ID: "abc123" }]) {
    const c = loadConfig(platform);
    assert.equal(c.deploy, true);
    assert.equal(c.production, true);
    assert.equal(c.kvPath, null, "Deno.openKv() without a path");
    assert.equal(c.devLogin, false);
    assert.equal(c.seedDemo, false);
  }
  // Deploy forbids DENO_* names: KV_PATH names another store there; explicit flags still win.
  const remote = loadConfig({ DENO_DEPLOY: "true", KV_PATH: "https://kv.example.com/db", SEED_DEMO: "1" });
  assert.equal(remote.kvPath, "https://kv.example.com/db");
  assert.equal(remote.seedDemo, true);
  assert.equal(remote.devLogin, false);
  // A preview timeline may opt out of production behaviour.
  assert.equal(loadConfig({ DENO_DEPLOY: "true", APP_ENV: "development" }).production, false);
});

Deno.test("[config] elsewhere: a file by default, KV_PATH or DENO_KV_PATH, production only when asked", () => {
  const local = loadConfig({});
  assert.deepEqual([local.deploy, local.production, local.kvPath], [false, false, "./data/app.kv"]);
  assert.deepEqual([local.devLogin, local.seedDemo], [true, true]);
  assert.equal(loadConfig({ DENO_KV_PATH: "/srv/a.kv" }).kvPath, "/srv/a.kv");
  assert.equal(loadConfig({ KV_PATH: "/srv/b.kv", DENO_KV_PATH: "/srv/a.kv" }).kvPath, "/srv/b.kv");
  const prod = loadConfig({ APP_ENV: "production" });
  assert.deepEqual([prod.production, prod.devLogin, prod.seedDemo, prod.kvPath], [
    true,
    false,
    false,
    "./data/app.kv",
  ]);
  assert.equal(loadConfig({ APP_ENV: "production", DEV_LOGIN: "1" }).devLogin, true);
});

Deno.test("[config] KV_MAX_CHECKS overrides the check budget within 10-100", () => {
  assert.equal(loadConfig({}).kvMaxChecks, null);
  assert.equal(loadConfig({ KV_MAX_CHECKS: "10" }).kvMaxChecks, 10);
  for (const bad of ["5", "101", "ten", "12.5"]) {
    assert.throws(() => loadConfig({ KV_MAX_CHECKS: bad }), /KV_MAX_CHECKS/);
  }
});
