import type { Hold } from "../domain/hold.ts";
import { getValueById } from "./batch.ts";
import { keys } from "./keys.ts";

/**
 * Returns the stored hold with `id`, or null. The value is returned as
 * stored: use `isHoldLive(hold)` from the domain to treat an expired hold as
 * gone, since KV `expireIn` only deletes it some time after `expiresAt`.
 */
export async function getHold(kv: Deno.Kv, id: string): Promise<Hold | null> {
  return await getValueById<Hold>(kv, id, keys.hold);
}
