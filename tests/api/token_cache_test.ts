/**
 * Per-process token caches across instances: two app instances on one KV file. A role changed or
 * a token revoked through one instance takes effect on the other within TOKEN_CACHE_MS (the other
 * instance's cache clock is moved by hand instead of sleeping).
 */
import assert from "node:assert/strict";
import { createApp } from "../../lib/app.ts";
import { TOKEN_CACHE_MS, useTokenCacheClock } from "../../lib/auth/principal.ts";
import { mintToken, revokeToken } from "../../lib/auth/tokens.ts";
import { BookingEngine } from "../../lib/booking/engine.ts";
import { loadConfig } from "../../lib/config.ts";
import { createUser } from "../../lib/store/mod.ts";
import { ApiClient, type Body } from "./client.ts";

const ADMIN_TOKEN = "token-cache-admin-token-0123456789";

async function instance(path: string) {
  const config = loadConfig({ DENO_KV_PATH: path, PORT: "0", SEED_DEMO: "0", ADMIN_TOKEN });
  const kv = await Deno.openKv(path);
  const app = await createApp({ kv, config, engine: new BookingEngine(kv, { holdMinutes: 15 }) });
  return { kv, app };
}

Deno.test("[auth] a role change or a revoked token made through one instance holds on another within TOKEN_CACHE_MS", async () => {
  const path = await Deno.makeTempFile({ suffix: ".kv" });
  const one = await instance(path);
  const two = await instance(path);
  let offset = 0;
  const base = Date.now();
  useTokenCacheClock(two.kv, () => base + offset);
  try {
    const ada = await createUser(one.kv, { email: "ada.cache@example.com", name: "Ada", roles: ["admin"] });
    const { token } = await mintToken(one.kv, ada.id);
    const adaOnTwo = new ApiClient(two.app, token);
    const me = async () => await adaOnTwo.get<Body>("/api/v1/me");
    assert.deepEqual((await me()).body.roles, ["admin"]);

    // Demoted through instance one.
    const demoted = await new ApiClient(one.app, ADMIN_TOKEN).post<Body>("/api/v1/users", {
      email: ada.email,
      name: "Ada",
      roles: ["learner"],
    });
    assert.equal(demoted.status, 200, JSON.stringify(demoted.body));
    offset = TOKEN_CACHE_MS - 1;
    assert.deepEqual((await me()).body.roles, ["admin"], "within the bound instance two may still use its cache");
    offset = TOKEN_CACHE_MS;
    assert.deepEqual((await me()).body.roles, ["learner"], "at the bound instance two reads the new role");
    const create = await adaOnTwo.post<Body>("/api/v1/users", { email: "x.cache@example.com", name: "X" });
    assert.equal(create.status, 403, "admin-only work is refused on instance two");

    // Revoked through instance one.
    assert.equal(await revokeToken(one.kv, token), true);
    offset = TOKEN_CACHE_MS * 2 - 1;
    assert.equal((await me()).status, 200, "within the bound instance two may still use its cache");
    offset = TOKEN_CACHE_MS * 2;
    const refused = await me();
    assert.equal(refused.status, 401, "at the bound the revoked token is refused on instance two");
    assert.equal(refused.body.error, "invalid_token");
  } finally {
    one.kv.close();
    two.kv.close();
    await Deno.remove(path);
  }
});
