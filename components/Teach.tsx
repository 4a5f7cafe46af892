/** Server-side pieces of the instructor pages (/teach): state words, the time window as local times. */
import type { AttendanceState, SessionPhase, TimeWindow } from "../lib/attendance/windows.ts";
import type { DomainError } from "../lib/booking/errors.ts";
import { formatDay, formatTime, formatZone } from "../lib/catalog/format.ts";

/** The session's phase in words. */
export const PHASE_WORDS: Record<SessionPhase, string> = {
  scheduled: "Scheduled",
  live: "Live now",
  ended: "Ended",
  cancelled: "Cancelled",
};

/** The attendance state in words. */
export const ATTENDANCE_WORDS: Record<AttendanceState, string> = {
  not_open: "Attendance not open",
  open: "Attendance open",
  closed: "Attendance closed",
};

/** "Tue, Dec 1, 8:30 AM until Tue, Dec 8, 11:00 AM EST". */
export function windowText(window: TimeWindow, timeZone: string): string {
  const at = (iso: string) => `${formatDay(iso, timeZone)}, ${formatTime(iso, timeZone)}`;
  return `${at(window.opensAt)} until ${at(window.closesAt)} ${formatZone(window.closesAt, timeZone)}`;
}

/** An attendance refusal as a sentence for the page (times in the session's zone). */
export function attendanceSentence(e: DomainError, timeZone: string): string {
  const window = (e.details as { window?: TimeWindow } | undefined)?.window;
  switch (e.code) {
    case "stale_mark":
      return "Someone else changed this learner's attendance a moment ago, so your mark was not saved. " +
        "The roster below shows what is recorded now; mark again if it is wrong.";
    case "outside_window":
      return window ? `That is only possible from ${windowText(window, timeZone)}.` : e.message;
    case "code_expired":
      return "This check-in code has expired: the session has ended.";
    default:
      return e.message || "Sorry, that did not work and nothing changed. Please try again.";
  }
}

/** A small state pill. */
export function Pill({ text, tone }: { text: string; tone: "blue" | "green" | "gray" | "amber" }) {
  const tones = {
    blue: "bg-blue-100 text-blue-900",
    green: "bg-green-100 text-green-900",
    gray: "bg-gray-200 text-gray-900",
    amber: "bg-amber-100 text-amber-900",
  };
  return <span class={`inline-block rounded-full px-2.5 py-0.5 text-sm font-semibold ${tones[tone]}`}>{text}</span>;
}
