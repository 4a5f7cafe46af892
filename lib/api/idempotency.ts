/**
 * Idempotency-Key handling for POST endpoints whose change is not a seat (cancel, waitlist,
 * sessions, users). Seat-taking operations (holds, bookings, reschedule) store their result in
 * the same atomic op as the change, inside the booking engine. Here a key is first claimed
 * (`pending`), the operation runs, and its response is stored; a concurrent retry meanwhile gets
 * 409 `idempotency_in_progress`. Keys live 24 h.
 */
import { IDEMPOTENCY_TTL_MS, type IdempotencyRequest } from "../booking/idempotency.ts";
import { keys } from "../store/keys.ts";
import { ApiError } from "./errors.ts";

/** A stored response. `result` matches the engine's layout so one key space serves both. */
interface StoredResponse {
  bodyHash: string;
  pending?: true;
  claimedAt?: string;
  result?: { status: number; body: unknown };
  createdAt: string;
}

/** A claim older than this is considered abandoned (the process died mid-request). */
const CLAIM_TIMEOUT_MS = 60_000;

/** The response to return for a request: a replayed one, or the fresh result of `run`. */
export async function runIdempotent(
  kv: Deno.Kv,
  req: IdempotencyRequest,
  run: () => Promise<{ status: number; body: unknown }>,
): Promise<{ status: number; body: unknown; replayed: boolean }> {
  const key = keys.idempotency(req.scope, req.key);
  for (let attempt = 0; attempt < 5; attempt++) {
    const entry = await kv.get<StoredResponse>(key);
    const stored = entry.value;
    if (stored) {
      if (stored.bodyHash !== req.bodyHash) {
        throw new ApiError(
          422,
          "idempotency_key_reused",
          "This Idempotency-Key was already used with a different request body.",
        );
      }
      if (stored.result) return { ...stored.result, replayed: true };
      const fresh = Date.now() - Date.parse(stored.claimedAt ?? stored.createdAt) < CLAIM_TIMEOUT_MS;
      if (fresh) {
        throw new ApiError(
          409,
          "idempotency_in_progress",
          "A request with this Idempotency-Key is still being processed; retry in a moment.",
        );
      }
    }
    const now = new Date().toISOString();
    const claim: StoredResponse = { bodyHash: req.bodyHash, pending: true, claimedAt: now, createdAt: now };
    const claimed = await kv.atomic().check(entry).set(key, claim, { expireIn: IDEMPOTENCY_TTL_MS }).commit();
    if (!claimed.ok) continue;
    let result: { status: number; body: unknown };
    try {
      result = await run();
    } catch (err) {
      // A failed request leaves nothing behind: the same key may be retried.
      await kv.atomic().check({ key, versionstamp: claimed.versionstamp }).delete(key).commit();
      throw err;
    }
    const done: StoredResponse = { bodyHash: req.bodyHash, result, createdAt: now };
    await kv.set(key, done, { expireIn: IDEMPOTENCY_TTL_MS });
    return { ...result, replayed: false };
  }
  throw new ApiError(409, "idempotency_in_progress", "This Idempotency-Key is busy; retry in a moment.");
}
