import { invalidateCatalogCache } from "./catalog_cache.ts";
import { kvLimits } from "./kv.ts";

/**
 * Deletes every key in the store (all prefixes, including ones this module
 * does not know about), in atomic batches of the store's mutation limit, except the
 * keys listed in `options.keep`.
 * @returns the number of keys deleted.
 */
export async function deleteAllKeys(
  kv: Deno.Kv,
  options: { keep?: ReadonlyArray<Deno.KvKey> } = {},
): Promise<number> {
  const keep = new Set((options.keep ?? []).map((k) => JSON.stringify(k)));
  let deleted = 0;
  let cursor: string | undefined;
  while (true) {
    const batch: Deno.KvKey[] = [];
    const iter = kv.list({ prefix: [] }, { limit: kvLimits(kv).mutationsPerAtomic, cursor });
    for await (const e of iter) {
      if (!keep.has(JSON.stringify(e.key))) batch.push(e.key);
    }
    cursor = iter.cursor || undefined;
    if (!batch.length && !cursor) break;
    if (!batch.length) continue;
    const op = kv.atomic();
    for (const key of batch) op.delete(key);
    await op.commit();
    deleted += batch.length;
  }
  invalidateCatalogCache(kv);
  return deleted;
}
