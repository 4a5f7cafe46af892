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
  assert.throws(() => loadConfig({ APP_ENV: "production", DEV_LOGIN: "1" }), /DEV_LOGIN/);
});

Deno.test("[config] KV_MAX_CHECKS overrides the check budget within 10-100", () => {
  assert.equal(loadConfig({}).kvMaxChecks, null);
  assert.equal(loadConfig({ KV_MAX_CHECKS: "10" }).kvMaxChecks, 10);
  for (const bad of ["5", "101", "ten", "12.5"]) {
    assert.throws(() => loadConfig({ KV_MAX_CHECKS: bad }), /KV_MAX_CHECKS/);
  }
});

Deno.test("[config] Kafka over SASL and TLS: mechanism and credentials together; the password never in errors", () => {
  const none = loadConfig({ KAFKA_BROKERS: "k:9092" });
  assert.deepEqual([none.kafkaSasl, none.kafkaSsl, none.kafkaSslCaFile], [null, false, null]);
  const scram = loadConfig({
    KAFKA_BROKERS: "k:9093",
    KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
    KAFKA_SASL_USERNAME: "relay",
    KAFKA_SASL_PASSWORD: "s3cret-pw",
    KAFKA_SSL_CA_FILE: "/etc/kafka/ca.pem",
  });
  assert.deepEqual(scram.kafkaSasl, { mechanism: "scram-sha-512", username: "relay", password: "s3cret-pw" });
  assert.equal(scram.kafkaSsl, true, "a CA file implies TLS");
  assert.equal(loadConfig({ KAFKA_SSL: "1" }).kafkaSsl, true);
  for (
    const [env, names] of [
      [{ KAFKA_SASL_MECHANISM: "PLAIN", KAFKA_SASL_PASSWORD: "s3cret-pw" }, /KAFKA_SASL_USERNAME/],
      [{ KAFKA_SASL_USERNAME: "relay", KAFKA_SASL_PASSWORD: "s3cret-pw" }, /KAFKA_SASL_MECHANISM/],
      [{ KAFKA_SASL_MECHANISM: "GSSAPI", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "s3cret-pw" }, /MECHANISM/],
      [{ KAFKA_SASL_MECHANISM: "PLAIN", KAFKA_SASL_USERNAME: "relay" }, /KAFKA_SASL_PASSWORD/],
    ] as const
  ) {
    assert.throws(
      () => loadConfig(env),
      (err: Error) => names.test(err.message) && !err.message.includes("s3cret-pw"),
    );
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

Deno.test("[config] AUTH_FAILURE_LIMIT: 10 by default, 0 turns the limit off, never in production", () => {
  assert.equal(loadConfig({}).authFailureLimit, 10);
  assert.equal(loadConfig({ AUTH_FAILURE_LIMIT: "0" }).authFailureLimit, 0);
  assert.throws(() => loadConfig({ AUTH_FAILURE_LIMIT: "-1" }), /AUTH_FAILURE_LIMIT/);
  assert.throws(() => loadConfig({ APP_ENV: "production", AUTH_FAILURE_LIMIT: "0" }), /AUTH_FAILURE_LIMIT/);
});

Deno.test("[config] compliance rules: defaults, and COMPLIANCE_* variables named when wrong", () => {
  const base = { DENO_KV_PATH: ":memory:" };
  assert.deepEqual(loadConfig(base).compliance, {
    timeZone: "America/Chicago",
    expiringWindowDays: 30,
    alertDays: [60, 30, 7],
    escalationGraceDays: 7,
    dueSoonDays: [14, 3],
  });
  assert.deepEqual(loadConfig({ ...base, COMPLIANCE_DUE_SOON_DAYS: "21, 7, 1" }).compliance.dueSoonDays, [21, 7, 1]);
  assert.throws(() => loadConfig({ ...base, COMPLIANCE_DUE_SOON_DAYS: "14,-1" }), /COMPLIANCE_DUE_SOON_DAYS/);
  const set =
    loadConfig({ ...base, COMPLIANCE_ALERT_DAYS: "90, 14", COMPLIANCE_TIME_ZONE: "Europe/Berlin" }).compliance;
  assert.deepEqual([set.alertDays, set.timeZone], [[90, 14], "Europe/Berlin"]);
  assert.throws(() => loadConfig({ ...base, COMPLIANCE_ALERT_DAYS: "60,soon" }), /COMPLIANCE_ALERT_DAYS/);
  assert.throws(() => loadConfig({ ...base, COMPLIANCE_EXPIRING_DAYS: "0" }), /COMPLIANCE_EXPIRING_DAYS/);
});

Deno.test("[config] attendance windows: defaults 30 min / 7 days / 10 min / join 10 min, overridable, bad values named", () => {
  const base = { DENO_KV_PATH: ":memory:" };
  const d = loadConfig(base);
  assert.deepEqual([d.checkInOpensMinutes, d.attendanceCloseDays, d.lateAfterMinutes, d.joinOpensMinutes], [
    30,
    7,
    10,
    10,
  ]);
  const c = loadConfig({
    ...base,
    CHECKIN_OPENS_MINUTES: "45",
    ATTENDANCE_CLOSE_DAYS: "3",
    LATE_AFTER_MINUTES: "5",
    JOIN_OPENS_MINUTES: "15",
  });
  assert.deepEqual([c.checkInOpensMinutes, c.attendanceCloseDays, c.lateAfterMinutes, c.joinOpensMinutes], [
    45,
    3,
    5,
    15,
  ]);
  assert.throws(() => loadConfig({ ...base, ATTENDANCE_CLOSE_DAYS: "-1" }), /ATTENDANCE_CLOSE_DAYS/);
});

Deno.test("[config] notifications: SMTP_URL, MAIL_FROM, SITE_URL and REMINDER_OFFSETS are checked and named", () => {
  const base = { DENO_KV_PATH: ":memory:" };
  const c = loadConfig({
    ...base,
    SMTP_URL: "smtps://u:p@mail.example.com",
    MAIL_FROM: "Training <t@example.com>",
    SITE_URL: "https://training.example.com/",
    REMINDER_OFFSETS: "2w,1d,2h",
  });
  assert.equal(c.smtpUrl, "smtps://u:p@mail.example.com");
  assert.equal(c.siteUrl, "https://training.example.com");
  assert.deepEqual(c.reminderOffsetsMin, [20160, 1440, 120]);
  assert.deepEqual(loadConfig(base).reminderOffsetsMin, [10080, 1440, 60]);
  assert.equal(loadConfig(base).smtpUrl, null);
  assert.throws(() => loadConfig({ ...base, SMTP_URL: "http://x" }), /SMTP_URL: must be smtp:\/\//);
  assert.throws(() => loadConfig({ ...base, REMINDER_OFFSETS: "1 day" }), /REMINDER_OFFSETS/);
  // The admin rules count reminders in whole hours, up to 30 days, at most 5, none twice: the default must fit them.
  for (const bad of ["1d,30m", "31d", "1h,2h,3h,4h,5h,6h", "1d,24h"]) {
    assert.throws(() => loadConfig({ ...base, REMINDER_OFFSETS: bad }), /REMINDER_OFFSETS/, bad);
  }
  assert.throws(() => loadConfig({ ...base, CHECKIN_OPENS_MINUTES: "241" }), /CHECKIN_OPENS_MINUTES/);
  assert.throws(() => loadConfig({ ...base, MAIL_FROM: "nobody" }), /MAIL_FROM/);
});
