import assert from "node:assert/strict";
import { enforceKvConnectLimits } from "../../tests/kv_connect_limits.ts";
import { commitInBatches, getManyChunked, getValueById, isPossibleId } from "./batch.ts";
import { getBooking } from "./bookings.ts";
import { getCourse } from "./courses.ts";
import { getDealer } from "./dealers.ts";
import { getHold } from "./holds.ts";
import { getLocation } from "./locations.ts";
import { getSession, getSessions } from "./sessions.ts";
import { getUser } from "./users.ts";
import { ConflictError } from "./errors.ts";
import { LOCAL_KV_LIMITS } from "./kv.ts";
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
    assert.equal(LOCAL_KV_LIMITS.keysPerGetMany, 10);
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

Deno.test("[store] commitInBatches splits by a KV Connect store's 10-check budget", async () => {
  await withKv(async (kv) => {
    const spy = enforceKvConnectLimits(kv);
    const checked = Array.from({ length: 45 }, (_, i) => ({
      checks: [{ key: ["c", i], versionstamp: null }, { key: ["d", i], versionstamp: null }],
      mutations: [{ type: "set" as const, key: ["c", i], value: i }],
    }));
    assert.equal(await commitInBatches(kv, checked), 9);
    assert.equal(spy.most(), 10);
    assert.equal((await getManyChunked<number>(kv, [["c", 0], ["c", 44]])).map((e) => e.value).join(), "0,44");
    await assert.rejects(
      commitInBatches(kv, [{
        checks: Array.from({ length: 11 }, (_, i) => ({ key: ["e", i], versionstamp: null })),
        mutations: [],
      }]),
      RangeError,
    );
  });
});

Deno.test("[store] an id too long for a KV key is not found by the getters, instead of failing", async () => {
  await withKv(async (kv) => {
    const huge = "A".repeat(3000);
    await assert.rejects(kv.get(["sessions", huge]), /Key too large/, "what the getters guard against");
    assert.equal(isPossibleId(huge), false);
    assert.equal(isPossibleId(""), false);
    assert.equal(isPossibleId("01ARZ3NDEKTSV4RRFFQ69G5FAV"), true);
    assert.equal(await getSession(kv, huge), null);
    assert.equal(await getHold(kv, huge), null);
    assert.equal(await getBooking(kv, huge), null);
    assert.equal(await getUser(kv, huge), null);
    assert.equal(await getCourse(kv, huge), null);
    assert.equal(await getLocation(kv, huge), null);
    assert.equal(await getDealer(kv, huge), null);
    assert.deepEqual(await getSessions(kv, [huge, "01ARZ3NDEKTSV4RRFFQ69G5FAV"]), new Map());
    await kv.set(["t", "01ARZ3NDEKTSV4RRFFQ69G5FAV"], 1);
    assert.equal(await getValueById(kv, "01ARZ3NDEKTSV4RRFFQ69G5FAV", (id) => ["t", id]), 1);
  });
});

Deno.test("[store] commitInBatches with commits in flight (KV Connect): a failed check rejects once all settled", async () => {
  await withKv(async (kv) => {
    enforceKvConnectLimits(kv);
    await kv.set(["u", 37], "taken");
    const units = Array.from({ length: 100 }, (_, i) => ({
      checks: [{ key: ["u", i], versionstamp: null }],
      mutations: [{ type: "set" as const, key: ["u", i], value: i }],
    }));
    await assert.rejects(commitInBatches(kv, units), ConflictError);
    // Nothing is still being written once it rejected: the store stays as it was left.
    const count = async () => {
      let n = 0;
      for await (const _ of kv.list({ prefix: ["u"] })) n++;
      return n;
    };
    const settled = await count();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await count(), settled);
    assert.equal((await kv.get(["u", 37])).value, "taken");
    // The batch holding unit 37 (units 30-39) wrote nothing.
    assert.deepEqual((await kv.getMany(Array.from({ length: 10 }, (_, i) => ["u", 30 + i]))).map((e) => e.value), [
      ...Array(7).fill(null),
      "taken",
      null,
      null,
    ]);
  });
});
