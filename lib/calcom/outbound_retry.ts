/**
 * The outbound sync's retry policy and error handling, kept pure so it can be tested on its own:
 * which failures are worth another attempt, when that attempt is due, and how an error is turned
 * into a `{code, message}` that is safe to store and log (no API key, no Authorization header, no
 * webhook secret).
 */
import { CalcomError, NO_HTTP_STATUS } from "./errors.ts";

/**
 * Waits before the 2nd, 3rd and 4th attempt: 1 s, 5 s, 30 s. The first attempt runs at once, so a
 * change gets four attempts in all before it is flagged for manual review.
 */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = Object.freeze([1_000, 5_000, 30_000]);

/** A failure as the sync records it. */
export interface SyncFailure {
  /** Cal.com's error code (`BadRequestException`…), `HTTP_<status>`, `TIMEOUT`, `NETWORK_ERROR` or one of ours. */
  code: string;
  /** HTTP status, 0 when no answer came, null for failures that are not Cal.com's. */
  status: number | null;
  /** Safe to store and log: secrets are redacted. */
  message: string;
  retryable: boolean;
  /** Cal.com's `Retry-After`, in milliseconds. */
  retryAfterMs?: number;
}

/** What to do after a failed attempt. */
export type RetryDecision =
  | { retry: true; delayMs: number }
  | { retry: false; reason: "not_retryable" | "exhausted" };

/**
 * The retry policy. `attempts` is how many attempts were made so far, the failed one included
 * (1 after the first). Retryable failures (network errors, timeouts, 408, 429, 5xx) wait
 * `delaysMs[attempts - 1]`; a 429 waits `max(Retry-After, that delay)`. Any other failure, or one
 * more than `delaysMs.length` retries, is final.
 */
export function decideRetry(
  attempts: number,
  failure: Pick<SyncFailure, "retryable" | "retryAfterMs">,
  delaysMs: readonly number[] = DEFAULT_RETRY_DELAYS_MS,
): RetryDecision {
  if (!failure.retryable) return { retry: false, reason: "not_retryable" };
  if (attempts < 1 || attempts > delaysMs.length) return { retry: false, reason: "exhausted" };
  const scheduled = delaysMs[attempts - 1];
  return { retry: true, delayMs: Math.max(scheduled, failure.retryAfterMs ?? 0) };
}

/** A problem on our side (missing record, no API access) that no retry can fix. */
export class OutboundDataError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "OutboundDataError";
    this.code = code;
  }
}

const SECRET_PATTERNS: RegExp[] = [
  /Bearer\s+[^\s"',;]+/gi,
  /\bcal_(?:live_|test_)?[A-Za-z0-9_-]{4,}/g,
  /(authorization|api[-_]?key|secret|x-cal-signature-256)(["'\s:=]+)[^\s"',;]+/gi,
];

const EMAIL_IN_TEXT = /[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+\.[A-Za-z]{2,}/g;

/**
 * Removes secrets from a text: every given secret verbatim, `Bearer …` tokens, Cal.com keys
 * (`cal_…`) and `apiKey=…`/`secret: …`-style pairs; and email addresses (a Cal.com error may name
 * an attendee), since these messages are logged and kept in sync states.
 */
export function redactSecrets(text: string, secrets: readonly (string | null | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join("[redacted]");
  out = out.replace(SECRET_PATTERNS[0], "Bearer [redacted]");
  out = out.replace(SECRET_PATTERNS[1], "[redacted]");
  out = out.replace(SECRET_PATTERNS[2], (_m, name: string, sep: string) => `${name}${sep}[redacted]`);
  return out.replace(EMAIL_IN_TEXT, "[email]");
}

/** Turns anything thrown during an attempt into a {@link SyncFailure} (messages redacted). */
export function classifyFailure(err: unknown, secrets: readonly (string | null | undefined)[] = []): SyncFailure {
  if (err instanceof CalcomError) {
    const failure: SyncFailure = {
      code: err.code,
      status: err.status,
      message: redactSecrets(err.message, secrets),
      retryable: err.retryable,
    };
    if (err.retryAfterMs !== undefined) failure.retryAfterMs = err.retryAfterMs;
    return failure;
  }
  if (err instanceof OutboundDataError) {
    return { code: err.code, status: null, message: redactSecrets(err.message, secrets), retryable: false };
  }
  const message = err instanceof Error ? err.message : String(err);
  // A TypeError is a programming or data error; anything else (a KV hiccup…) may pass.
  const retryable = !(err instanceof TypeError);
  return { code: "INTERNAL_ERROR", status: null, message: redactSecrets(message, secrets), retryable };
}

/** Whether a failure is Cal.com saying the thing is not there (a seat or event type already gone). */
export function isNotFound(err: unknown): boolean {
  return err instanceof CalcomError && err.status === 404;
}

/** Whether no HTTP answer came (network error or timeout): the request may or may not have landed. */
export function isNoAnswer(err: unknown): boolean {
  return err instanceof CalcomError && err.status === NO_HTTP_STATUS;
}
