import assert from "node:assert/strict";
import { deleteAllKeys } from "./reset.ts";
import { allKeys, withKv } from "./test_helpers.ts";

Deno.test("[store] deleteAllKeys removes every key except the kept ones", async () => {
  await withKv(async (kv) => {
    for (let i = 0; i < 2500; i += 500) {
      const op = kv.atomic();
      for (let j = i; j < i + 500; j++) op.set([j % 3 ? "a" : "b", j], j);
      await op.commit();
    }
    await kv.set(["meta", "seed"], "keep me");
    assert.equal(await deleteAllKeys(kv, { keep: [["meta", "seed"]] }), 2500);
    assert.deepEqual(await allKeys(kv), [JSON.stringify(["meta", "seed"])]);
    assert.equal(await deleteAllKeys(kv), 1);
    assert.deepEqual(await allKeys(kv), []);
  });
});
