import assert from "node:assert/strict";
import { readCookie, resolvePrincipal } from "./principal.ts";

import { SESSION_COOKIE as COOKIE } from "./sessions.ts";

Deno.test("[auth] readCookie decodes a value and treats malformed percent-encoding as absent", () => {
  assert.equal(
    readCookie("a=1; tb_session=01ARZ3NDEKTSV4RRFFQ69G5FAV", COOKIE),
    "01ARZ3NDEKTSV4RRFFQ69G5FAV",
  );
  assert.equal(readCookie("tb_session=a%20b", COOKIE), "a b");
  assert.equal(readCookie("tb_session=%", COOKIE), null);
  assert.equal(readCookie("tb_session=%E0%A4%A", COOKIE), null);
  assert.equal(readCookie("other=%; x=1", "x"), "1", "a malformed cookie of another name does not matter");
  assert.equal(readCookie(null, COOKIE), null);
});

Deno.test("[auth] a malformed session cookie resolves to no principal, not an error", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const headers = new Headers({ cookie: "tb_session=%" });
    const sessions = { idleMs: 60_000, absoluteMs: 3_600_000, devLogin: true };
    const out = await resolvePrincipal(kv, headers, { adminToken: null, sessions });
    assert.deepEqual(out, { principal: null, failure: null });
  } finally {
    kv.close();
  }
});
