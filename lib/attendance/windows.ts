/**
 * The time windows of attendance: when marks and self check-in are accepted, when attendance
 * closes, and what a session's phase is at a moment. Pure functions over a session and settings,
 * and {@link loadSettingsInForce}, which puts the admins' check-in rule into the settings.
 */
import { loadGlobalRules } from "../booking/rules.ts";
import type { Session } from "../domain/session.ts";

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Configurable windows (lib/config.ts reads them from the environment). */
export interface AttendanceSettings {
  /**
   * Self check-in and marks open this many minutes before the start: the rule
   * `checkInWindowMinutes` (lib/booking/rules.ts) once {@link loadSettingsInForce} applied it; the
   * environment's `CHECKIN_OPENS_MINUTES` (default 30) until an admin saves the rules.
   */
  checkInOpensMinutes: number;
  /** Attendance closes (marks are final, no-shows recorded) this many days after the end (default 7). */
  closeAfterDays: number;
  /** A self check-in later than this many minutes after the start is marked late (default 10). */
  lateAfterMinutes: number;
  /** The online join link opens this many minutes before the start (default 10). */
  joinOpensMinutes: number;
}

/** The defaults of {@link AttendanceSettings}. */
export const DEFAULT_ATTENDANCE_SETTINGS: Readonly<AttendanceSettings> = {
  checkInOpensMinutes: 30,
  closeAfterDays: 7,
  lateAfterMinutes: 10,
  joinOpensMinutes: 10,
};

/**
 * The settings with the check-in window the admins' rules set now (`checkInWindowMinutes`; the
 * settings' own value is its default until rules are saved). From the instance's rules cache: no
 * store read in the common case.
 */
export async function loadSettingsInForce(kv: Deno.Kv, settings: AttendanceSettings): Promise<AttendanceSettings> {
  const rules = await loadGlobalRules(kv, { checkInWindowMinutes: settings.checkInOpensMinutes });
  return { ...settings, checkInOpensMinutes: rules.checkInWindowMinutes };
}

/** A half-open interval of time `[opensAt, closesAt)`. */
export interface TimeWindow {
  opensAt: string;
  closesAt: string;
}

type Timed = Pick<Session, "startsAt" | "endsAt">;

/** Self check-in: from `checkInOpensMinutes` before the start until the end. */
export function checkInWindow(session: Timed, settings: AttendanceSettings): TimeWindow {
  return {
    opensAt: new Date(Date.parse(session.startsAt) - settings.checkInOpensMinutes * MINUTE).toISOString(),
    closesAt: session.endsAt,
  };
}

/** Instructor marks and corrections: from the check-in window's start until attendance closes. */
export function markWindow(session: Timed, settings: AttendanceSettings): TimeWindow {
  return {
    opensAt: checkInWindow(session, settings).opensAt,
    closesAt: new Date(Date.parse(session.endsAt) + settings.closeAfterDays * DAY).toISOString(),
  };
}

/** Whether `now` lies in `[opensAt, closesAt)`. */
export function inWindow(window: TimeWindow, now: Date): boolean {
  const t = now.getTime();
  return t >= Date.parse(window.opensAt) && t < Date.parse(window.closesAt);
}

/** A window as words for messages, in UTC (pages show local times themselves). */
export function describeWindow(window: TimeWindow): string {
  return `from ${window.opensAt} until ${window.closesAt}`;
}

/** Where a session stands in time. */
export type SessionPhase = "scheduled" | "live" | "ended" | "cancelled";

/** The phase of a session at `now`. */
export function sessionPhase(session: Timed & Pick<Session, "status">, now: Date): SessionPhase {
  if (session.status === "cancelled") return "cancelled";
  const t = now.getTime();
  if (t < Date.parse(session.startsAt)) return "scheduled";
  if (t < Date.parse(session.endsAt)) return "live";
  return "ended";
}

/** The attendance state shown to instructors. */
export type AttendanceState = "not_open" | "open" | "closed";

/** `closed` once closed; `open` inside the mark window; else `not_open` (before it, or past it and not closed yet). */
export function attendanceState(
  session: Timed,
  settings: AttendanceSettings,
  closed: boolean,
  now: Date,
): AttendanceState {
  if (closed) return "closed";
  return inWindow(markWindow(session, settings), now) ? "open" : "not_open";
}

/** The settings of a loaded configuration (lib/config.ts). */
export function attendanceSettingsOf(
  config: {
    checkInOpensMinutes: number;
    attendanceCloseDays: number;
    lateAfterMinutes: number;
    joinOpensMinutes: number;
  },
): AttendanceSettings {
  return {
    checkInOpensMinutes: config.checkInOpensMinutes,
    closeAfterDays: config.attendanceCloseDays,
    lateAfterMinutes: config.lateAfterMinutes,
    joinOpensMinutes: config.joinOpensMinutes,
  };
}
