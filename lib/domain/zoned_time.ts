/**
 * Wall-clock time in IANA time zones, computed with `Intl` (no fixed offsets),
 * so results stay correct across daylight-saving changes.
 */

/** A local calendar date and time of day (month 1-12). */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second?: number;
}

/** Wall time plus day of week (0 = Sunday … 6 = Saturday). */
export interface ZonedParts extends Required<WallTime> {
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock reading in `timeZone` at the instant `date`. */
export function zonedParts(date: Date, timeZone: string): ZonedParts {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(date)) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  const { year, month, day, minute, second } = parts;
  const hour = parts.hour === 24 ? 0 : parts.hour;
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  return { year, month, day, hour, minute, second, weekday };
}

/** Offset of `timeZone` from UTC at `date`, in minutes (New York in winter: -300). */
export function zoneOffsetMinutes(date: Date, timeZone: string): number {
  const p = zonedParts(date, timeZone);
  const asUtc = Date.UTC(
    p.year,
    p.month - 1,
    p.day,
    p.hour,
    p.minute,
    p.second,
  );
  const whole = Math.floor(date.getTime() / 1000) * 1000;
  return Math.round((asUtc - whole) / 60000);
}

function wallMs(w: WallTime): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second ?? 0);
}

/**
 * The UTC instant at which clocks in `timeZone` read `wall`.
 * Ambiguous times (clocks set back) resolve to the earlier instant; times that
 * do not exist (clocks set forward) are read with the offset in force before
 * the change, landing just after it — the same rule as Temporal's
 * "compatible" disambiguation.
 */
export function zonedWallTimeToUtc(wall: WallTime, timeZone: string): Date {
  const local = wallMs(wall);
  const day = 24 * 3600_000;
  const before = zoneOffsetMinutes(new Date(local - day), timeZone);
  const after = zoneOffsetMinutes(new Date(local + day), timeZone);
  const candidates = [...new Set([before, after])]
    .map((offset) => local - offset * 60_000)
    .filter((utc) => wallMs(zonedParts(new Date(utc), timeZone)) === local)
    .sort((a, b) => a - b);
  return new Date(candidates[0] ?? local - before * 60_000);
}

/** Adds whole calendar days to a local date (month 1-12). */
export function addLocalDays(
  date: Pick<WallTime, "year" | "month" | "day">,
  days: number,
): { year: number; month: number; day: number } {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
  };
}
