import assert from "node:assert/strict";
import { commitInBatches, getManyChunked, KV_LIMITS } from "./batch.ts";
import { ConflictError } from "./errors.ts";
import { withKv } from "./test_helpers.ts";

Deno.test("[store] commitInBatches respects mutation, check and size limits", async () => {
  await withKv(async (kv) => {
    const units = Array.from({ length: 2500 }, (_, i) => ({
      mutations: [{ type: "set" as const, key: ["t", i], value: i }],
    }));
    assert.equal(await commitInBatches(kv, units), 3);
    const checked = Array.from({ length: 250 }, (_, i) => ({
      checks: [{ key: ["c", i], versionstamp: null }],
      mutations: [{ type: "set" as const, key: ["c", i], value: i }],
    }));
    assert.equal(await commitInBatches(kv, checked), 3);
    const big = "x".repeat(60_000);
    const heavy = Array.from(
      { length: 30 },
      (_, i) => ({ mutations: [{ type: "set" as const, key: ["h", i], value: big }] }),
    );
    assert.ok(await commitInBatches(kv, heavy) >= 3);
    const entries = await getManyChunked<number>(kv, Array.from({ length: 25 }, (_, i) => ["t", i]));
    assert.deepEqual(entries.map((e) => e.value), Array.from({ length: 25 }, (_, i) => i));
    assert.equal(KV_LIMITS.keysPerGetMany, 10);
  });
});

Deno.test("[store] commitInBatches reports a failed check as ConflictError", async () => {
  await withKv(async (kv) => {
    await kv.set(["taken"], 1);
    await assert.rejects(
      commitInBatches(kv, [{ checks: [{ key: ["taken"], versionstamp: null }], mutations: [] }]),
      ConflictError,
    );
    await assert.rejects(
      commitInBatches(kv, [{
        mutations: Array.from({ length: 1001 }, (_, i) => ({ type: "delete" as const, key: ["d", i] })),
      }]),
      RangeError,
    );
  });
});
