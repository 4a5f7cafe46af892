import assert from "node:assert/strict";
import { putUser } from "../../tests/booking/test_fixtures.ts";
import { sha256Hex } from "../hash.ts";
import { keys } from "../store/keys.ts";
import { spyOnReads } from "../store/test_helpers.ts";
import { findUserByToken, mintToken, revokeToken, type StoredToken } from "./tokens.ts";

Deno.test("[auth] a token names its user: one read finds both; a legacy token still works; an edited one is refused", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const [ann, bob] = [await putUser(kv), await putUser(kv)];
    const { token } = await mintToken(kv, ann.id, "phone");
    assert.match(token, new RegExp(`^tbk_${ann.id}\\.[A-Za-z0-9_-]{43}$`));

    const counted = spyOnReads(kv);
    assert.equal((await findUserByToken(counted.kv, token))?.id, ann.id);
    assert.equal(counted.reads(), 1, "the token's record and its user in one getMany");

    // Another user's id with Ann's secret is another token: nothing stored under its hash.
    assert.equal(await findUserByToken(kv, token.replace(ann.id, bob.id)), null);
    assert.equal(await findUserByToken(kv, token.slice(0, -1) + (token.endsWith("A") ? "B" : "A")), null);
    assert.equal(await findUserByToken(kv, `tbk_${"x".repeat(150)}.${"y".repeat(43)}`), null);

    // Minted before the id was part of the token: found with two reads.
    const legacy = "tbk_" + "L".repeat(43);
    const stored: StoredToken = { tokenId: "01JLEGACY00000000000000000", userId: bob.id, label: null, createdAt: "" };
    await kv.set(keys.apiToken(await sha256Hex(legacy)), stored);
    const before = counted.reads();
    assert.equal((await findUserByToken(counted.kv, legacy))?.id, bob.id);
    assert.equal(counted.reads() - before, 2);

    assert.equal(await revokeToken(kv, token), true);
    assert.equal(await findUserByToken(kv, token), null);
  } finally {
    kv.close();
  }
});
