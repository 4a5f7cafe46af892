import { monotonicFactory } from "ulid";

const nextUlid = monotonicFactory();

/**
 * Returns a new ULID. Ids made in the same process are strictly increasing,
 * even within one millisecond, so they also sort by creation order.
 */
export function newId(): string {
  return nextUlid();
}

const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** True when `value` looks like a ULID (26 Crockford base32 characters). */
export function isUlid(value: unknown): value is string {
  return typeof value === "string" && ULID_PATTERN.test(value);
}
