/**
 * The course-wide waitlist on pages (no JavaScript needed): the "any date that suits me" form on a
 * full session's page, and the learner's entries on My schedule.
 */
import {
  type CourseWaitlistInput,
  CourseWaitlistInputSchema,
  type CourseWaitlistView,
} from "../lib/booking/course_waitlist.ts";
import { formatDay } from "../lib/catalog/format.ts";
import { formatZodIssues, readableErrors } from "../lib/domain/validation.ts";

/** What the learner typed, kept when the form comes back with a problem. */
export interface CourseWaitlistFormState {
  values: { from: string; to: string; maxKm: string };
  /** Field → sentence. */
  errors: Record<string, string>;
}

/** Reads the form: the input for joinCourseWaitlist, or the typed values with a sentence per field. */
export function readCourseWaitlistForm(
  form: FormData,
  courseId: string,
): { input: CourseWaitlistInput } | { state: CourseWaitlistFormState } {
  const values = {
    from: String(form.get("from") ?? "").trim(),
    to: String(form.get("to") ?? "").trim(),
    maxKm: String(form.get("maxKm") ?? "").trim(),
  };
  const errors: Record<string, string> = {};
  const km = values.maxKm === "" ? undefined : Number(values.maxKm);
  if (km !== undefined && !Number.isInteger(km)) errors.maxKm = "Enter whole kilometres, or leave it empty.";
  const parsed = CourseWaitlistInputSchema.safeParse({
    courseId,
    ...(values.from ? { from: values.from } : {}),
    ...(values.to ? { to: values.to } : {}),
    ...(km !== undefined && Number.isInteger(km) ? { maxKm: km } : {}),
  }, { error: readableErrors });
  if (!parsed.success) {
    for (const issue of formatZodIssues(parsed.error.issues)) {
      errors[issue.path] ??= issue.path === "maxKm"
        ? "Enter whole kilometres from 1 to 5000, or leave it empty."
        : issue.path === "to" && values.to && !issue.message.includes("real date")
        ? "The last date must not be before the first date."
        : "Enter a real date, or leave it empty.";
    }
  }
  if (Object.keys(errors).length || !parsed.success) return { state: { values, errors } };
  return { input: parsed.data };
}

const input = "block w-full rounded-lg border border-gray-600 px-3 py-2 text-base";

function Field(
  { name, label, type, value, error, hint }: {
    name: string;
    label: string;
    type: string;
    value: string;
    error?: string;
    hint?: string;
  },
) {
  const id = `cwl-${name}`;
  const described = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return (
    <div class="space-y-1">
      <label for={id} class="block text-sm font-semibold">{label}</label>
      {hint && <p id={`${id}-hint`} class="text-sm">{hint}</p>}
      <input
        id={id}
        name={name}
        type={type}
        value={value}
        class={input}
        {...(type === "number" ? { min: "1", max: "5000", inputMode: "numeric" } : {})}
        {...(described ? { "aria-describedby": described } : {})}
        {...(error ? { "aria-invalid": "true" } : {})}
      />
      {error && <p id={`${id}-error`} class="text-sm font-semibold text-red-800">{error}</p>}
    </div>
  );
}

/** "Any date that suits me": join the waitlist of every session of this course within dates and distance. */
export function CourseWaitlistForm(
  { action, state }: { action: string; state: CourseWaitlistFormState | null },
) {
  const v = state?.values ?? { from: "", to: "", maxKm: "" };
  const e = state?.errors ?? {};
  return (
    <details class="rounded-lg border border-gray-300 p-3" open={!!state} data-testid="course-waitlist-form">
      <summary class="cursor-pointer text-base font-semibold">Any date that suits me</summary>
      <form method="post" action={action} class="mt-3 space-y-3">
        <p class="text-sm">
          Wait for a seat in every session of this course within your dates and distance. The first seat freed in any of
          them is offered to you; when you book it, your other places go.
        </p>
        <input type="hidden" name="intent" value="course_waitlist" />
        <Field name="from" label="From (optional)" type="date" value={v.from} error={e.from} />
        <Field name="to" label="To (optional)" type="date" value={v.to} error={e.to} />
        <Field
          name="maxKm"
          label="Within km of my preferred location (optional)"
          type="number"
          value={v.maxKm}
          error={e.maxKm}
          hint="Online sessions always count as near."
        />
        <button
          type="submit"
          class="block w-full rounded-lg border border-gray-600 bg-white px-4 py-3 text-center text-base font-semibold text-gray-900"
        >
          Wait for any of these dates
        </button>
      </form>
    </details>
  );
}

/** The window and distance of an entry in words. */
export function courseWaitlistScope(entry: CourseWaitlistView["entry"]): string {
  const dates = entry.from && entry.to
    ? `from ${entry.from} to ${entry.to}`
    : entry.from
    ? `from ${entry.from}`
    : entry.to
    ? `until ${entry.to}`
    : "any date";
  return `${dates} · ${entry.maxKm === null ? "any distance" : `within ${entry.maxKm} km or online`}`;
}

/** My schedule: the learner's course-wide entries, each with a leave button. */
export function CourseWaitlistList(
  { views, leave }: { views: CourseWaitlistView[]; leave: (courseId: string) => preact.ComponentChildren },
) {
  return (
    <ul class="space-y-3">
      {views.map((v) => (
        <li key={v.entry.id} class="space-y-1 rounded-xl border border-gray-200 p-4" data-testid="course-waitlist">
          <p class="text-base font-semibold">{v.courseTitle}</p>
          <p class="text-sm">{courseWaitlistScope(v.entry)}</p>
          <p class="text-sm">
            {v.sessions.some((s) =>
                s.status === "offered"
              )
              ? "A seat is offered to you: see your holds above."
              : `Waiting on ${v.sessions.length} ${v.sessions.length === 1 ? "date" : "dates"}` +
                (v.sessions.length
                  ? `, the first on ${formatDay(v.sessions[0].startsAt, v.sessions[0].timeZone)}.`
                  : ".")}
          </p>
          <div class="pt-2">{leave(v.entry.courseId)}</div>
        </li>
      ))}
    </ul>
  );
}
