/**
 * Abuse limit on failed authentication (bad bearer tokens, unknown dev sign-in emails, webhook
 * signature failures): per kind and client address, a sliding window of failure times kept in KV,
 * so every instance sees the same count.
 *
 * - Failures 1..{@link AUTH_FAILURES.slowAfter} are answered at once; later ones in the window are
 *   answered after a growing pause (up to 1 s), so a guesser is slowed.
 * - Past {@link AUTH_FAILURES.limit} failures in the window, further failures are answered 429
 *   with `Retry-After` (seconds until the oldest failure leaves the window).
 * - Only failures are counted and only failures are refused: callers check the credential first
 *   and consult the limiter only when it failed, so a valid credential always works, whoever else
 *   is failing from the same address.
 */
import { keys } from "../store/keys.ts";

/** Kinds of authentication that are limited. */
export type FailureKind = "bearer" | "dev_sign_in" | "webhook";

/** The limits (documented in the README). */
export const AUTH_FAILURES = { limit: 10, windowMs: 60_000, slowAfter: 5, maxDelayMs: 1_000 } as const;

/** What to do with a failed attempt. */
export interface FailureVerdict {
  /** Seconds to send in `Retry-After` with a 429; null: answer the usual refusal (401, 422). */
  retryAfterS: number | null;
  /** Failures of this client in the window, this one included (when counted). */
  count: number;
}

/** Clock and pause, replaceable in tests (no test sleeps). */
export interface FailureLimitHooks {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

const hooks = new WeakMap<Deno.Kv, FailureLimitHooks>();
const realHooks: FailureLimitHooks = {
  now: Date.now,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/** Replaces the clock and pause of the limiter for this store handle (tests). */
export function useFailureLimitHooks(kv: Deno.Kv, given: Partial<FailureLimitHooks>): void {
  hooks.set(kv, { ...realHooks, ...given });
}

/** The pause before answering the `count`-th failure in the window. */
export function failureDelayMs(count: number): number {
  const over = count - AUTH_FAILURES.slowAfter;
  return over <= 0 ? 0 : Math.min(AUTH_FAILURES.maxDelayMs, over * 200);
}

/**
 * Records a failed authentication of `kind` from `client` and returns whether to refuse it with 429;
 * pauses first when the client is past the slow-down threshold. A failure already refused (429) is
 * not counted again, so the lock ends one window after the failures that caused it.
 */
export async function recordAuthFailure(
  kv: Deno.Kv,
  kind: FailureKind,
  client: string,
  limit: number = AUTH_FAILURES.limit,
): Promise<FailureVerdict> {
  // 0: the limit is off (AUTH_FAILURE_LIMIT=0, for schema fuzzing; refused in production).
  if (limit === 0) return { retryAfterS: null, count: 0 };
  const { now, sleep } = hooks.get(kv) ?? realHooks;
  const key = keys.authFailures(kind, client.slice(0, 100));
  for (let attempt = 0; attempt < 5; attempt++) {
    const at = now();
    const entry = await kv.get<{ times: number[] }>(key);
    const times = (entry.value?.times ?? []).filter((t) => t > at - AUTH_FAILURES.windowMs);
    if (times.length >= limit) {
      const retryAfterS = Math.max(1, Math.ceil((times[0] + AUTH_FAILURES.windowMs - at) / 1000));
      return { retryAfterS, count: times.length };
    }
    times.push(at);
    const ok = await kv.atomic().check(entry).set(key, { times }, { expireIn: AUTH_FAILURES.windowMs }).commit();
    if (!ok.ok) continue;
    const delay = failureDelayMs(times.length);
    if (delay > 0) await sleep(delay);
    return { retryAfterS: null, count: times.length };
  }
  // Under heavy contention for one client's key: treat as over the limit rather than lose count.
  return { retryAfterS: Math.ceil(AUTH_FAILURES.windowMs / 1000), count: limit };
}

/** The sentence of a 429 for failed authentication. */
export function tooManyFailuresMessage(retryAfterS: number): string {
  return `Too many failed authentication attempts from your address. Try again in ${retryAfterS} seconds.`;
}

/** The 429 answer for a client over the limit: JSON `{error, message}` (API, webhooks) or a short page. */
export function tooManyFailures(retryAfterS: number, format: "json" | "html"): Response {
  const message = tooManyFailuresMessage(retryAfterS);
  const headers = { "retry-after": String(retryAfterS), "cache-control": "no-store" };
  if (format === "json") {
    return Response.json({ error: "too_many_failures", message }, { status: 429, headers });
  }
  return new Response(
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Too many attempts</title></head>` +
      `<body><main><h1>Too many attempts</h1><p>${message}</p></main></body></html>`,
    { status: 429, headers: { ...headers, "content-type": "text/html; charset=utf-8" } },
  );
}
