import assert from "node:assert/strict";
import { DEV_LOGIN_COOKIE, readCookie, resolvePrincipal } from "./principal.ts";

Deno.test("[auth] readCookie decodes a value and treats malformed percent-encoding as absent", () => {
  assert.equal(
    readCookie("a=1; tb_dev_user=01ARZ3NDEKTSV4RRFFQ69G5FAV", DEV_LOGIN_COOKIE),
    "01ARZ3NDEKTSV4RRFFQ69G5FAV",
  );
  assert.equal(readCookie("tb_dev_user=a%20b", DEV_LOGIN_COOKIE), "a b");
  assert.equal(readCookie("tb_dev_user=%", DEV_LOGIN_COOKIE), null);
  assert.equal(readCookie("tb_dev_user=%E0%A4%A", DEV_LOGIN_COOKIE), null);
  assert.equal(readCookie("other=%; x=1", "x"), "1", "a malformed cookie of another name does not matter");
  assert.equal(readCookie(null, DEV_LOGIN_COOKIE), null);
});

Deno.test("[auth] a malformed dev sign-in cookie resolves to no principal, not an error", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const headers = new Headers({ cookie: "tb_dev_user=%" });
    const out = await resolvePrincipal(kv, headers, { adminToken: null, devLogin: true });
    assert.deepEqual(out, { principal: null, failure: null });
  } finally {
    kv.close();
  }
});
