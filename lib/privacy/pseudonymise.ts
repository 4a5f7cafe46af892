/**
 * Pure pseudonymisation rules shared by erasure (lib/privacy/erase.ts) and retention
 * (lib/privacy/retention.ts). Ids, counters, statuses and times stay, so seat counts, reports and
 * history order stay correct; free text and anything naming a person goes.
 */
import type { DomainEvent } from "../booking/events.ts";
import type { Booking } from "../domain/booking.ts";

/**
 * `["privacy_meta", ERASURE_MARKER]` changes with every erasure (written with the tombstone), so
 * caches of people (the relay's) know to drop what they hold.
 */
export const ERASURE_MARKER = "last_erasure";

/** What replaces erased text inside a longer string. */
export const ERASED_TEXT = "[erased]";

/** The tombstone's name. */
export const ERASED_NAME = "Erased user";

/** The tombstone's email: unique per user, in the reserved `.invalid` domain (RFC 2606). */
export function erasedEmail(userId: string): string {
  return `erased-${userId.toLowerCase()}@erased.invalid`;
}

/**
 * The event without its personal fields: the free-text `reason` goes; ids, type, times and data
 * (ids, counters, statuses) stay. `commitVersionstamp` keeps a rewritten event at its place in
 * history order (`versionstamp` is the entry's current one). Null when nothing would change.
 */
export function pseudonymiseEvent(event: DomainEvent, versionstamp: string): DomainEvent | null {
  if (event.reason === null) return null;
  return { ...event, reason: null, commitVersionstamp: event.commitVersionstamp ?? versionstamp };
}

/** The booking without free text (its cancel reason and audit reasons). Null when nothing would change. */
export function pseudonymiseBooking(booking: Booking): Booking | null {
  if (booking.cancelReason === null && booking.audit.every((a) => a.reason === null)) return null;
  return { ...booking, cancelReason: null, audit: booking.audit.map((a) => ({ ...a, reason: null })) };
}

/**
 * Replaces every occurrence of `needles` (case-insensitive) in every string of `value`, deeply;
 * an email needle becomes `emailReplacement`, other needles {@link ERASED_TEXT}. Returns the new
 * value and whether anything changed. Used for stored third-party payloads (Cal.com deliveries,
 * review items, dead letters) whose shape we do not own.
 */
export function scrubStrings<T>(
  value: T,
  needles: readonly string[],
  emailReplacement: string,
): { value: T; changed: boolean } {
  const ns = needles.filter((n) => n.trim().length >= 3).map((n) => n.toLowerCase());
  let changed = false;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") {
      let out = v;
      for (const n of ns) {
        if (!out.toLowerCase().includes(n)) continue;
        const re = new RegExp(n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gi");
        out = out.replace(re, n.includes("@") ? emailReplacement : ERASED_TEXT);
      }
      if (out !== v) changed = true;
      return out;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object" && !(v instanceof Uint8Array) && !(v instanceof Date)) {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = walk(x);
      return o;
    }
    return v;
  };
  const out = walk(value) as T;
  return { value: changed ? out : value, changed };
}
