/**
 * Calendar dates ("2026-01-14") in one time zone: the unit of due dates and certification expiry.
 * Pure; DST-safe (days are counted on the calendar, instants come from lib/domain/zoned_time.ts).
 */
import { addLocalDays, zonedParts, zonedWallTimeToUtc } from "../domain/zoned_time.ts";

/** A calendar date `YYYY-MM-DD`. */
export type CalendarDate = string;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function parts(date: CalendarDate): { year: number; month: number; day: number } {
  const [year, month, day] = date.split("-").map(Number);
  return { year, month, day };
}

function format(d: { year: number; month: number; day: number }): CalendarDate {
  return `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}`;
}

// Zone offsets by quarter hour: the scan asks for tens of thousands of dates, and Intl is slow.
const QUARTER = 15 * 60_000;
const offsets = new Map<string, number>();

/** The calendar date in `timeZone` at the instant `at`. */
export function localDate(at: Date, timeZone: string): CalendarDate {
  const ms = at.getTime();
  const key = `${timeZone}|${Math.floor(ms / QUARTER)}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    // Offsets change on quarter-hour boundaries only, so one reading serves the whole quarter.
    const p = zonedParts(new Date(Math.floor(ms / QUARTER) * QUARTER), timeZone);
    offset = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - Math.floor(ms / QUARTER) * QUARTER;
    if (offsets.size > 50_000) offsets.clear();
    offsets.set(key, offset);
  }
  const d = new Date(ms + offset);
  return format({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() });
}

/** Adds calendar months, clamping to the month's last day (31 Jan + 1 month = 28 or 29 Feb). */
export function addMonths(date: CalendarDate, months: number): CalendarDate {
  const { year, month, day } = parts(date);
  const index = year * 12 + (month - 1) + months;
  const y = Math.floor(index / 12);
  const m = index - y * 12 + 1;
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return format({ year: y, month: m, day: Math.min(day, last) });
}

/** Adds calendar days (negative to go back). */
export function addDays(date: CalendarDate, days: number): CalendarDate {
  return format(addLocalDays(parts(date), days));
}

/** Whole calendar days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: CalendarDate, to: CalendarDate): number {
  const a = parts(from);
  const b = parts(to);
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / 86_400_000);
}

const ends = new Map<string, number>();

/** The first instant after `date` ends in `timeZone` (local midnight of the next day). */
export function endOfDay(date: CalendarDate, timeZone: string): Date {
  const key = `${timeZone}|${date}`;
  let ms = ends.get(key);
  if (ms === undefined) {
    const next = addLocalDays(parts(date), 1);
    ms = zonedWallTimeToUtc({ ...next, hour: 0, minute: 0 }, timeZone).getTime();
    if (ends.size > 50_000) ends.clear();
    ends.set(key, ms);
  }
  return new Date(ms);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "14 Jan 2027" (or "14 Jan" when `withYear` is false). */
export function formatDate(date: CalendarDate, withYear = true): string {
  const { year, month, day } = parts(date);
  return `${day} ${MONTHS[month - 1]}${withYear ? ` ${year}` : ""}`;
}
