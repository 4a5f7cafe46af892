/**
 * The course catalog managed by admins: create and change courses (code, title, topic, program
 * type, duration, prerequisites without cycles, late-cancel cut-off, certification track,
 * completion rule, active or retired), with stale edits refused. Shared by the API and the pages.
 */
import { type Course, type NewCourse } from "../domain/course.ts";
import { createCourse, updateCourse } from "../store/courses.ts";
import { type FormOutcome, refusalOf, staleEdit } from "./form_outcome.ts";
import { recordVersion } from "./version.ts";

/** The fields an admin sets on a course. */
export type CourseFields = Omit<NewCourse, "id">;

/** A course's version (stale edits are refused). */
export function courseVersion(course: Course): string {
  return recordVersion(course);
}

/** Creates a course (ValidationError for bad fields or unknown prerequisites; ConflictError `code_taken`). */
export function addCourse(kv: Deno.Kv, fields: CourseFields): Promise<Course> {
  return createCourse(kv, fields);
}

/**
 * Replaces a course's fields, refused with 409 `stale_edit` (details `{current, version}`) when
 * `ifVersion` is given and the course changed since. A prerequisite cycle is a ValidationError
 * naming it; NotFoundError for an unknown id.
 */
export function changeCourse(kv: Deno.Kv, id: string, fields: CourseFields, ifVersion?: string): Promise<Course> {
  return updateCourse(kv, id, (current) => {
    if (ifVersion !== undefined && courseVersion(current) !== ifVersion) {
      throw staleEdit("course", current, courseVersion(current));
    }
    return fields;
  });
}

/** Names of the course form's fields. */
export const COURSE_FORM_FIELDS = [
  "code",
  "title",
  "summary",
  "topic",
  "programType",
  "durationMinutes",
  "lateCancelCutoffHours",
  "certificationTrack",
  "certificationValidMonths",
  "completionMinutes",
  "completionPercent",
  "required",
  "active",
] as const;
type TextField = typeof COURSE_FORM_FIELDS[number];
/** What was typed (kept and shown again when something is wrong); prerequisites are course ids. */
export type CourseFormValues = Record<TextField, string> & { prerequisites: string[] };
/** One sentence per wrong field. */
export type CourseFormErrors = Partial<Record<TextField | "prerequisites", string>>;

/** Reads the course form. */
export function courseFormValues(form: FormData): CourseFormValues {
  const v = Object.fromEntries(COURSE_FORM_FIELDS.map((f) => [f, String(form.get(f) ?? "").trim()]));
  return { ...v, prerequisites: form.getAll("prerequisites").map(String).filter(Boolean) } as CourseFormValues;
}

/** The form's values of an existing course. */
export function valuesOfCourse(c: Course): CourseFormValues {
  return {
    code: c.code,
    title: c.title,
    summary: c.summary,
    topic: c.topic,
    programType: c.programType,
    durationMinutes: String(c.durationMinutes),
    lateCancelCutoffHours: String(c.lateCancelCutoffHours),
    certificationTrack: c.certificationTrack ?? "",
    certificationValidMonths: c.certificationValidMonths ? String(c.certificationValidMonths) : "",
    completionMinutes: c.completionRule ? String(c.completionRule.minMinutes) : "",
    completionPercent: c.completionRule ? String(c.completionRule.minPercent) : "",
    required: c.required ? "on" : "",
    active: c.active ? "on" : "",
    prerequisites: [...c.prerequisiteCourseIds],
  };
}

const whole = (s: string) => /^\d{1,6}$/.test(s) ? Number(s) : s === "" ? undefined : Number.NaN;

function fieldsOf(v: CourseFormValues): CourseFields {
  return {
    code: v.code.toUpperCase(),
    title: v.title,
    summary: v.summary,
    topic: v.topic as Course["topic"],
    programType: v.programType as Course["programType"],
    durationMinutes: whole(v.durationMinutes) as number,
    lateCancelCutoffHours: whole(v.lateCancelCutoffHours),
    certificationTrack: v.certificationTrack || null,
    certificationValidMonths: whole(v.certificationValidMonths) ?? null,
    // Both empty: the default rule (30 minutes or 50 % of the scheduled time, lib/attendance/completion.ts).
    completionRule: v.completionMinutes === "" && v.completionPercent === ""
      ? undefined
      : { minMinutes: whole(v.completionMinutes) as number, minPercent: whole(v.completionPercent) as number },
    required: v.required === "on",
    active: v.active === "on",
    prerequisiteCourseIds: v.prerequisites,
  };
}

/** The outcome of the course form. */
export type CourseFormOutcome = FormOutcome<Course, keyof CourseFormErrors>;

const refusal = (err: unknown) =>
  refusalOf<Course, keyof CourseFormErrors>(
    err,
    (path) => {
      const top = path.split(".")[0];
      if (top === "prerequisiteCourseIds") return "prerequisites";
      if (top === "completionRule") return path.endsWith("minPercent") ? "completionPercent" : "completionMinutes";
      return top as keyof CourseFormErrors;
    },
    { code_taken: ["code", "Another course already uses this code."] },
  );

/** Creates (no `id`) or changes a course from the form; nothing is written unless every field is right. */
export async function saveCourseFromForm(
  kv: Deno.Kv,
  values: CourseFormValues,
  edit?: { id: string; version: string },
): Promise<CourseFormOutcome> {
  const numbers: CourseFormErrors = {};
  if (!/^\d{1,6}$/.test(values.durationMinutes)) numbers.durationMinutes = "Give the length in whole minutes.";
  if (!/^\d{0,6}$/.test(values.lateCancelCutoffHours)) numbers.lateCancelCutoffHours = "Give whole hours.";
  if (!/^\d{0,3}$/.test(values.certificationValidMonths)) {
    numbers.certificationValidMonths = "Give whole months, or leave it empty for no certification.";
  }
  if ((values.completionMinutes === "") !== (values.completionPercent === "")) {
    const missing = values.completionMinutes === "" ? "completionMinutes" : "completionPercent";
    numbers[missing] = "Give both the minutes and the percentage, or leave both empty for the default rule.";
  }
  for (const f of ["completionMinutes", "completionPercent"] as const) {
    if (!/^\d{0,4}$/.test(values[f])) numbers[f] = "Give a whole number.";
  }
  if (Object.keys(numbers).length) return { ok: false, errors: numbers, problem: null };
  try {
    const fields = fieldsOf(values);
    const course = edit ? await changeCourse(kv, edit.id, fields, edit.version) : await addCourse(kv, fields);
    return { ok: true, record: course };
  } catch (err) {
    return refusal(err);
  }
}
