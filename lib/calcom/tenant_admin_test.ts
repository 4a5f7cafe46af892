import assert from "node:assert/strict";
import { loadConfig } from "../config.ts";
import { parseTenantArgs, removeTenant, runTenantCommand, TenantAdminError, upsertTenant } from "./tenant_admin.ts";
import { getTenant } from "./tenants.ts";

const KEY = "cal_live_cli_secret_key_0001";
const SECRET = "whsec_cli_secret_0002";

Deno.test("[calcom] tenant admin: upsert keeps omitted secrets and lists, null removes one; default is refused", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const first = await upsertTenant(kv, "acme", {
      baseUrl: "https://cal.acme.example",
      apiKey: KEY,
      webhookSecret: SECRET,
      locationIds: ["online", "online"],
    });
    assert.equal(first.created, true);
    assert.deepEqual(first.tenant.locationIds, ["online"]);
    const second = await upsertTenant(kv, "acme", { baseUrl: "https://other.example", webhookSecret: null });
    assert.equal(second.created, false);
    assert.equal(second.tenant.hasApiKey, true);
    assert.equal(second.tenant.hasWebhookSecret, false);
    const stored = (await getTenant(kv, "acme"))!;
    assert.equal(stored.apiKey, KEY);
    assert.equal(stored.webhookSecret, null);
    assert.deepEqual(stored.locationIds, ["online"]);
    await assert.rejects(
      upsertTenant(kv, "default", { baseUrl: "https://x.example" }),
      (e) => e instanceof TenantAdminError && e.code === "tenant_env_configured",
    );
    await assert.rejects(
      removeTenant(kv, "nope"),
      (e) => e instanceof TenantAdminError && e.code === "tenant_not_found",
    );
    await removeTenant(kv, "acme");
    assert.equal(await getTenant(kv, "acme"), null);
  } finally {
    kv.close();
  }
});

Deno.test("[calcom] tenant admin: the command line parses set/list/remove and refuses bad options without echoing secrets", () => {
  assert.deepEqual(
    parseTenantArgs([
      "set",
      "acme",
      "--url",
      "https://cal.example",
      "--key",
      KEY,
      "--secret",
      SECRET,
      "--locations",
      "a, b",
      "--event-types",
      "1,2",
    ]),
    {
      command: "set",
      slug: "acme",
      input: {
        baseUrl: "https://cal.example",
        apiKey: KEY,
        webhookSecret: SECRET,
        locationIds: ["a", "b"],
        eventTypeIds: [1, 2],
      },
    },
  );
  assert.deepEqual(parseTenantArgs(["list"]), { command: "list" });
  assert.deepEqual(parseTenantArgs(["remove", "acme"]), { command: "remove", slug: "acme" });
  for (
    const bad of [
      [],
      ["set"],
      ["set", "acme", "--key", KEY],
      ["set", "acme", "--url", "https://c.example", "--key"],
      ["set", "acme", "--url", "https://c.example", "--bogus", KEY],
      ["set", "acme", "--url", "https://c.example", KEY],
      ["set", "acme", "--url", "https://c.example", "--event-types", "1,x"],
      ["remove"],
    ]
  ) {
    assert.throws(() => parseTenantArgs(bad), (e: Error) => !e.message.includes(KEY), bad.join(" "));
  }
});

Deno.test("[calcom] tenant admin: runTenantCommand prints tenants without keys or secrets", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const config = loadConfig({ DENO_KV_PATH: ":memory:", CALCOM_API_KEY: "cal_env_0003" });
    const set = await runTenantCommand(
      kv,
      config,
      parseTenantArgs(["set", "acme", "--url", "https://cal.example", "--key", KEY, "--secret", SECRET]),
    );
    assert.match(
      set.join("\n"),
      /^Created Cal.com tenant:\nacme {2}url=https:\/\/cal.example {2}key=set {2}secret=set/,
    );
    const list = await runTenantCommand(kv, config, { command: "list" });
    assert.equal(list.length, 2);
    assert.match(list[0], /^default .*key=set .*\(environment\)$/);
    await assert.rejects(
      runTenantCommand(kv, config, parseTenantArgs(["set", "acme", "--url", `https://u:${KEY}@cal.example`])),
      (e: Error) => /--url: must be an http\(s\) URL without credentials/.test(e.message) && !e.message.includes(KEY),
    );
    for (const line of [...set, ...list]) {
      for (const s of [KEY, SECRET, "cal_env_0003"]) assert.ok(!line.includes(s), line);
    }
  } finally {
    kv.close();
  }
});

Deno.test("[calcom] deno task calcom:tenant sets, lists and removes tenants in DENO_KV_PATH and never prints secrets", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/app.kv`;
  const run = async (...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "calcom:tenant", ...args],
      env: { DENO_KV_PATH: path, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, out: dec.decode(out.stdout), err: dec.decode(out.stderr) };
  };
  try {
    const set = await run("set", "acme", "--url", "https://cal.example", "--key", KEY, "--secret", SECRET);
    assert.equal(set.code, 0, set.err);
    assert.match(set.out, /Created Cal.com tenant/);
    const list = await run("list");
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /acme {2}url=https:\/\/cal.example {2}key=set {2}secret=set/);
    const reserved = await run("set", "default", "--url", "https://cal.example", "--key", KEY);
    assert.equal(reserved.code, 1);
    assert.match(reserved.err, /CALCOM_API_URL/);
    const usage = await run("set", "acme");
    assert.equal(usage.code, 2);
    assert.match(usage.err, /Usage:/);
    const removed = await run("remove", "acme");
    assert.equal(removed.code, 0, removed.err);
    const kv = await Deno.openKv(path);
    assert.equal(await getTenant(kv, "acme"), null);
    kv.close();
    for (const r of [set, list, reserved, usage, removed]) {
      assert.ok(!(r.out + r.err).includes(KEY) && !(r.out + r.err).includes(SECRET), r.out + r.err);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
