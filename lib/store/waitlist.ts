import type { WaitlistEntry } from "../domain/waitlist.ts";
import { keys } from "./keys.ts";
import { listValues } from "./batch.ts";

/**
 * The waitlist of a session in queue order (joinedAt, then learnerId), every
 * stored status included; filter on `status === "waiting"` for the queue.
 */
export function listWaitlist(
  kv: Deno.Kv,
  sessionId: string,
): Promise<WaitlistEntry[]> {
  return listValues<WaitlistEntry>(kv, { prefix: keys.waitlistPrefix(sessionId) });
}
