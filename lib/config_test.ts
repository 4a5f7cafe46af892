import assert from "node:assert/strict";
import { loadConfig } from "./config.ts";

Deno.test("[config] HOST and HEADER_TIMEOUT_MS: defaults, accepted values, and errors naming the variable", () => {
  const base = loadConfig({});
  assert.equal(base.hostname, "0.0.0.0", "every IPv4 interface, as before");
  assert.equal(base.headerTimeoutMs, 10_000);
  for (const host of ["127.0.0.1", "::1", "::", "localhost", "app.internal"]) {
    assert.equal(loadConfig({ HOST: host }).hostname, host);
  }
  assert.equal(loadConfig({ HOST: "" }).hostname, "0.0.0.0", "empty means unset");
  assert.equal(loadConfig({ HEADER_TIMEOUT_MS: "500" }).headerTimeoutMs, 500);
  for (const host of ["bad host", "1.2.3.4:80", "[::1]", "http://x"]) {
    assert.throws(() => loadConfig({ HOST: host }), /HOST: must be an IP address or a host name/, host);
  }
  for (const ms of ["0", "50", "-1", "1.5", "ten", "600001"]) {
    assert.throws(() => loadConfig({ HEADER_TIMEOUT_MS: ms }), /HEADER_TIMEOUT_MS: /, ms);
  }
});

Deno.test("[config] production (APP_ENV=production or Deno Deploy) turns dev sign-in off and refuses DEV_LOGIN=1", () => {
  assert.equal(loadConfig({}).devLogin, true, "a fresh machine still offers the demo people");
  assert.equal(loadConfig({}).production, false);
  for (const env of [{ APP_ENV: "production" }, { DENO_DEPLOYMENT_ID: "abc123" }]) {
    const c = loadConfig(env);
    assert.deepEqual([c.production, c.devLogin], [true, false], JSON.stringify(env));
    assert.throws(() => loadConfig({ ...env, DEV_LOGIN: "1" }), /DEV_LOGIN: dev sign-in is refused in production/);
    assert.equal(loadConfig({ ...env, DEV_LOGIN: "0" }).devLogin, false);
  }
  assert.equal(loadConfig({ APP_ENV: "staging" }).devLogin, true);
});

Deno.test("[config] OIDC_* and SESSION_*: defaults, the role map, and errors naming the variable", () => {
  const base = loadConfig({});
  assert.equal(base.oidc, null, "no OIDC_ISSUER: single sign-on off");
  assert.deepEqual([base.sessionIdleMinutes, base.sessionMaxHours], [480, 168]);
  const c = loadConfig({
    OIDC_ISSUER: "https://id.example.com/realms/acme",
    OIDC_CLIENT_ID: "training",
    OIDC_CLIENT_SECRET: "s3cret",
    OIDC_ROLE_MAP: "training-admins:admin, trainers:instructor ,x:y:manager",
    SESSION_IDLE_MINUTES: "30",
  });
  assert.deepEqual(c.oidc, {
    issuer: "https://id.example.com/realms/acme",
    clientId: "training",
    clientSecret: "s3cret",
    redirectUrl: null,
    jit: true,
    rolesClaim: "groups",
    roleMap: { "training-admins": "admin", trainers: "instructor", "x:y": "manager" },
    dealerClaim: null,
    managerClaim: null,
  });
  assert.equal(c.sessionIdleMinutes, 30);
  const oidc = { OIDC_ISSUER: "https://id.example.com", OIDC_CLIENT_ID: "a", OIDC_CLIENT_SECRET: "b" };
  assert.equal(loadConfig({ ...oidc, OIDC_JIT: "0" }).oidc!.jit, false);
  assert.throws(() => loadConfig({ ...oidc, OIDC_ROLE_MAP: "admins:root" }), /OIDC_ROLE_MAP: /);
  assert.throws(() => loadConfig({ ...oidc, OIDC_CLIENT_SECRET: "" }), /OIDC_CLIENT_SECRET: /);
  assert.throws(() => loadConfig({ ...oidc, OIDC_ISSUER: "ftp://x" }), /OIDC_ISSUER: /);
  assert.throws(() => loadConfig({ ...oidc, OIDC_REDIRECT_URL: "not a url" }), /OIDC_REDIRECT_URL: /);
  assert.throws(() => loadConfig({ SESSION_IDLE_MINUTES: "0" }), /SESSION_IDLE_MINUTES: /);
  assert.throws(() => loadConfig({ SESSION_MAX_HOURS: "x" }), /SESSION_MAX_HOURS: /);
});
