/**
 * The staff session form: what people type (a local date, start and end times in the location's
 * zone, capacity, instructor, waitlist, join link) turned into the booking engine's session input,
 * with one sentence per field that is wrong. Nothing here writes: the pages call the engine with
 * the result (lib/booking/engine.ts scheduleSession, updateSession).
 */
import { CalendarDateSchema, isValidTimeZone, SESSION_MODES, type SessionMode } from "../domain/mod.ts";
import type { Location, Session } from "../domain/mod.ts";
import { zonedParts, zonedWallTimeToUtc } from "../domain/zoned_time.ts";

/** Names of the form's fields. */
export const SESSION_FORM_FIELDS = [
  "course",
  "mode",
  "location",
  "timeZone",
  "date",
  "start",
  "end",
  "capacity",
  "instructor",
  "waitlist",
  "joinUrl",
  "holdMinutes",
  "cutoffHours",
  "reason",
] as const;
export type SessionFormField = typeof SESSION_FORM_FIELDS[number];
/** What was typed, field by field (kept and shown again when something is wrong). */
export type SessionFormValues = Record<SessionFormField, string>;
/** One sentence per wrong field. */
export type SessionFormErrors = Partial<Record<SessionFormField, string>>;

/** The session fields the form sets. */
export interface SessionFormInput {
  courseId: string;
  mode: SessionMode;
  locationId: string | null;
  timeZone: string;
  startsAt: string;
  endsAt: string;
  capacity: number;
  instructorId: string;
  waitlistEnabled: boolean;
  joinUrl: string | null;
  /** Per-session overrides (null: the course's and the rules'). */
  holdMinutes: number | null;
  lateCancelCutoffHours: number | null;
}

/** What the form may refer to. */
export interface SessionFormContext {
  courseIds: ReadonlySet<string>;
  locations: ReadonlyMap<string, Location>;
  instructorIds: ReadonlySet<string>;
  now: Date;
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Reads the form's fields from submitted form data (absent ones are empty). */
export function sessionFormValues(form: FormData): SessionFormValues {
  return Object.fromEntries(
    SESSION_FORM_FIELDS.map((f) => [f, String(form.get(f) ?? "").trim()]),
  ) as SessionFormValues;
}

/** The form's values for an existing session (times in the session's zone). */
export function valuesOfSession(s: Session): SessionFormValues {
  const start = zonedParts(new Date(s.startsAt), s.timeZone);
  const end = zonedParts(new Date(s.endsAt), s.timeZone);
  const two = (n: number) => String(n).padStart(2, "0");
  return {
    course: s.courseId,
    mode: s.mode,
    location: s.locationId ?? "",
    timeZone: s.timeZone,
    date: `${start.year}-${two(start.month)}-${two(start.day)}`,
    start: `${two(start.hour)}:${two(start.minute)}`,
    end: `${two(end.hour)}:${two(end.minute)}`,
    capacity: String(s.capacity),
    instructor: s.instructorId,
    waitlist: s.waitlistEnabled ? "on" : "",
    joinUrl: s.joinUrl ?? "",
    holdMinutes: s.holdMinutes == null ? "" : String(s.holdMinutes),
    cutoffHours: s.lateCancelCutoffHours == null ? "" : String(s.lateCancelCutoffHours),
    reason: "",
  };
}

function validUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
}

/**
 * Checks every field and builds the engine input. The end time is on the start's date; an end at
 * or before the start is refused (sessions do not run past midnight here).
 */
export function parseSessionForm(
  v: SessionFormValues,
  ctx: SessionFormContext,
): { input: SessionFormInput; errors: null } | { input: null; errors: SessionFormErrors } {
  const errors: SessionFormErrors = {};
  if (!ctx.courseIds.has(v.course)) errors.course = "Choose a course.";
  const mode = (SESSION_MODES as readonly string[]).includes(v.mode) ? v.mode as SessionMode : null;
  if (!mode) errors.mode = "Choose in person, online or hybrid.";
  const atLocation = mode === "in_person" || mode === "hybrid";
  const location = atLocation ? ctx.locations.get(v.location) ?? null : null;
  if (atLocation && !location) errors.location = "Choose the training center for an in-person or hybrid session.";
  else if (location && !location.active) errors.location = "This training center is closed: choose another.";
  let timeZone = location?.timeZone ?? null;
  if (!atLocation) {
    if (!v.timeZone) errors.timeZone = "Give the time zone of an online session, e.g. America/Chicago.";
    else if (!isValidTimeZone(v.timeZone)) errors.timeZone = `"${v.timeZone}" is not a time zone like America/Chicago.`;
    else timeZone = v.timeZone;
  }
  if (!CalendarDateSchema.safeParse(v.date).success) errors.date = "Give a date like 2026-12-01.";
  const start = TIME.exec(v.start);
  const end = TIME.exec(v.end);
  if (!start) errors.start = "Give a start time like 09:30.";
  if (!end) errors.end = "Give an end time like 16:00.";
  const capacity = /^\d{1,5}$/.test(v.capacity) ? Number(v.capacity) : NaN;
  if (!(capacity >= 1 && capacity <= 10_000)) errors.capacity = "Give a whole number of seats from 1 to 10000.";
  if (!ctx.instructorIds.has(v.instructor)) errors.instructor = "Choose an instructor.";
  const needsUrl = mode === "online" || mode === "hybrid";
  if (needsUrl && !v.joinUrl) errors.joinUrl = "Online and hybrid sessions need a join link.";
  else if (v.joinUrl && !validUrl(v.joinUrl)) errors.joinUrl = "Give a web address starting with https://.";
  const holdMinutes = v.holdMinutes === "" ? null : /^\d{1,4}$/.test(v.holdMinutes) ? Number(v.holdMinutes) : NaN;
  if (holdMinutes !== null && !(holdMinutes >= 1 && holdMinutes <= 1440)) {
    errors.holdMinutes = "Give whole minutes from 1 to 1440, or leave it empty.";
  }
  const cutoff = v.cutoffHours === "" ? null : /^\d{1,3}$/.test(v.cutoffHours) ? Number(v.cutoffHours) : NaN;
  if (cutoff !== null && !(cutoff >= 0 && cutoff <= 720)) {
    errors.cutoffHours = "Give whole hours from 0 to 720, or leave it empty.";
  }
  if (v.reason.length > 500) errors.reason = "Keep the reason to 500 characters or fewer.";
  let startsAt = "";
  let endsAt = "";
  if (timeZone && !errors.date && start && end) {
    const [year, month, day] = v.date.split("-").map(Number);
    const at = (m: RegExpExecArray) =>
      zonedWallTimeToUtc({ year, month, day, hour: Number(m[1]), minute: Number(m[2]) }, timeZone!);
    const s = at(start);
    const e = at(end);
    if (s.getTime() <= ctx.now.getTime()) errors.start = "The start must be in the future.";
    if (e.getTime() <= s.getTime()) errors.end = "The end must be after the start (on the same day).";
    startsAt = s.toISOString();
    endsAt = e.toISOString();
  }
  if (Object.keys(errors).length) return { input: null, errors };
  return {
    input: {
      courseId: v.course,
      mode: mode!,
      locationId: location?.id ?? null,
      timeZone: timeZone!,
      startsAt,
      endsAt,
      capacity,
      instructorId: v.instructor,
      waitlistEnabled: v.waitlist === "on",
      joinUrl: v.joinUrl || null,
      holdMinutes,
      lateCancelCutoffHours: cutoff,
    },
    errors: null,
  };
}

/** Where a field of the engine's ValidationError belongs on the form. */
export function formFieldOf(path: string): SessionFormField | null {
  const map: Record<string, SessionFormField> = {
    courseId: "course",
    mode: "mode",
    locationId: "location",
    timeZone: "timeZone",
    startsAt: "start",
    endsAt: "end",
    capacity: "capacity",
    instructorId: "instructor",
    waitlistEnabled: "waitlist",
    joinUrl: "joinUrl",
    holdMinutes: "holdMinutes",
    lateCancelCutoffHours: "cutoffHours",
  };
  return map[path.split(".")[0]] ?? null;
}
