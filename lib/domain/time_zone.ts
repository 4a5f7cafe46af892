const known = new Map<string, boolean>();

/** The shape of an IANA zone name; whether the runtime knows the zone is checked separately. */
export const TIME_ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-]*(\/[A-Za-z0-9_+\-]+)*$/;

/**
 * True when `timeZone` is an IANA zone name the runtime knows
 * ("America/Chicago", "UTC"). Raw offsets such as "+05:00" are rejected.
 */
export function isValidTimeZone(timeZone: string): boolean {
  const cached = known.get(timeZone);
  if (cached !== undefined) return cached;
  let ok = TIME_ZONE_NAME.test(timeZone);
  if (ok) {
    try {
      new Intl.DateTimeFormat(undefined, { timeZone });
    } catch {
      ok = false;
    }
  }
  if (known.size < 1000) known.set(timeZone, ok);
  return ok;
}
