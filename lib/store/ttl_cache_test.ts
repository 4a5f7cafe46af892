import assert from "node:assert/strict";
import { TtlCache } from "./ttl_cache.ts";

Deno.test("[store] TtlCache serves hits until the TTL passes, shares concurrent loads, forgets failures", async () => {
  let t = 0;
  const cache = new TtlCache<number>(1000, 3, () => t);
  let loads = 0;
  const load = () => Promise.resolve(++loads);
  const [a, b] = await Promise.all([cache.get("k", load), cache.get("k", load)]);
  assert.equal(a, 1);
  assert.equal(b, 1);
  t = 999;
  assert.equal(await cache.get("k", load), 1);
  t = 1000;
  assert.equal(await cache.get("k", load), 2);
  await assert.rejects(cache.get("bad", () => Promise.reject(new Error("down"))));
  assert.equal(await cache.get("bad", () => Promise.resolve(7)), 7, "a failed load is not cached");
  cache.delete("k");
  assert.equal(await cache.get("k", load), 3);
  for (const k of ["x", "y", "z", "w"]) await cache.get(k, () => Promise.resolve(0));
  assert.equal(await cache.get("k", load), 4, "eviction keeps the cache within its size");
});
