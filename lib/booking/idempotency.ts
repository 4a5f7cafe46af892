/**
 * Idempotency keys: the first result of a POST is stored in the same atomic op as its change and
 * kept 24 h; a retry with the same key and body gets it back, a different body gets 422.
 */
import { sha256Hex } from "../hash.ts";
import type { Draft } from "./draft.ts";
import { DomainError } from "./errors.ts";
import { keys } from "../store/keys.ts";

export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

/** What the caller sent: who (scope), the key, and a hash of the request body. */
export interface IdempotencyRequest {
  scope: string;
  key: string;
  bodyHash: string;
}

interface StoredResult {
  bodyHash: string;
  result: unknown;
  createdAt: string;
}

/** SHA-256 hex of a canonical request body (method + path + body text). */
export async function hashRequest(parts: string[]): Promise<string> {
  return await sha256Hex(parts.join("\n"));
}

/** The stored result for this key, or null. Throws 422 when the key was used with another body. */
export async function lookupIdempotent<R>(
  kv: Deno.Kv | Draft,
  req: IdempotencyRequest,
): Promise<{ result: R } | null> {
  const key = keys.idempotency(req.scope, req.key);
  let stored: StoredResult | null;
  if ("load" in kv) {
    await kv.load([key]);
    stored = kv.get<StoredResult>(key);
  } else {
    stored = (await kv.get<StoredResult>(key)).value;
  }
  if (!stored) return null;
  if (stored.bodyHash !== req.bodyHash) {
    throw new DomainError(
      422,
      "idempotency_key_reused",
      "This Idempotency-Key was already used with a different request body.",
    );
  }
  return { result: stored.result as R };
}

/** Records the result in the draft, so it commits with the change it describes. */
export function storeIdempotent(draft: Draft, req: IdempotencyRequest, result: unknown, now: Date): void {
  draft.set(
    keys.idempotency(req.scope, req.key),
    {
      bodyHash: req.bodyHash,
      result,
      createdAt: now.toISOString(),
    } satisfies StoredResult,
    { expireIn: IDEMPOTENCY_TTL_MS },
  );
}
