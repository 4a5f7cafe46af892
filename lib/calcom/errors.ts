/**
 * The one error type of the Cal.com client: HTTP failures, Cal.com's error envelope, network
 * failures, timeouts and answers that do not parse all become a {@link CalcomError} that says
 * whether trying again may help and, for 429, how long to wait.
 */

/** `status` of a {@link CalcomError} that never got an HTTP answer (network failure, timeout). */
export const NO_HTTP_STATUS = 0;

/** Codes the client itself assigns (Cal.com's own codes, e.g. `BadRequestException`, pass through). */
export const CLIENT_ERROR_CODES = {
  network: "NETWORK_ERROR",
  timeout: "TIMEOUT",
  invalidResponse: "INVALID_RESPONSE",
} as const;

/** Fields of a {@link CalcomError}. */
export interface CalcomErrorInit {
  /** HTTP status, or {@link NO_HTTP_STATUS} when no answer came. */
  status: number;
  /** Cal.com's `error.code`, `HTTP_<status>` for an answer without an envelope, or a {@link CLIENT_ERROR_CODES} value. */
  code: string;
  message: string;
  /** Milliseconds to wait before trying again, from a `Retry-After` header. */
  retryAfterMs?: number;
  /** Cal.com's `error.details`, when it sent any. */
  details?: unknown;
  /** Overrides {@link isRetryableStatus} (used for network failures and timeouts). */
  retryable?: boolean;
  cause?: unknown;
}

/** A failed Cal.com call. Its message never contains the API key. */
export class CalcomError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfterMs?: number;
  readonly details?: unknown;
  /** True for 408, 429, 5xx, network failures and timeouts; false for every other 4xx and bad answers. */
  readonly retryable: boolean;

  constructor(init: CalcomErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "CalcomError";
    this.status = init.status;
    this.code = init.code;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    if (init.details !== undefined) this.details = init.details;
    this.retryable = init.retryable ?? isRetryableStatus(init.status);
  }
}

/** Whether an HTTP status is worth retrying: 408, 429 and 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Milliseconds from `now` that a `Retry-After` header asks to wait: either delta-seconds
 * (`"120"`) or an HTTP date. `undefined` when absent or unreadable; never negative.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
