/** The admin course form (add and change): plain HTML, works without JavaScript. */
import type { CourseFormErrors, CourseFormValues } from "../../lib/admin/courses.ts";
import { type Course, PROGRAM_TYPE_LABELS, PROGRAM_TYPES, TOPIC_LABELS, TOPICS } from "../../lib/domain/mod.ts";
import { buttonClass, Checkbox, checkClass, describedBy, Field, inputClass } from "./AdminUi.tsx";

/** The form; `version` (changes) is the course's version when it was shown. */
export function CourseForm(
  { action, values, errors, courses, selfId, version, submitLabel }: {
    action: string;
    values: CourseFormValues;
    errors: CourseFormErrors;
    /** Every course, offered as a prerequisite (but the course itself). */
    courses: Course[];
    selfId?: string;
    version?: string;
    submitLabel: string;
  },
) {
  const e = errors as Record<string, string>;
  const input = (name: keyof CourseFormValues & string, label: string, type = "text", help?: string) => (
    <Field name={name} label={label} error={e[name]} help={help}>
      <input
        id={name}
        name={name}
        type={type}
        value={values[name] as string}
        class={inputClass}
        {...describedBy(name, e, !!help)}
      />
    </Field>
  );
  const select = (name: "topic" | "programType", label: string, options: [string, string][]) => (
    <Field name={name} label={label} error={e[name]}>
      <select id={name} name={name} class={inputClass} {...describedBy(name, e)}>
        {options.map(([v, text]) => <option key={v} value={v} selected={values[name] === v}>{text}</option>)}
      </select>
    </Field>
  );
  return (
    <form method="post" action={action} class="grid gap-4 rounded-xl bg-gray-50 p-4" novalidate>
      {version && <input type="hidden" name="version" value={version} />}
      {input("code", "Code", "text", "Like SAF-101: 2–6 capital letters, a dash, 3–4 digits.")}
      {input("title", "Title")}
      <Field name="summary" label="Summary" error={e.summary}>
        <textarea id="summary" name="summary" rows={3} class={inputClass} {...describedBy("summary", e)}>
          {values.summary}
        </textarea>
      </Field>
      {select("topic", "Topic", TOPICS.map((t) => [t, TOPIC_LABELS[t]]))}
      {select("programType", "Program", PROGRAM_TYPES.map((p) => [p, PROGRAM_TYPE_LABELS[p]]))}
      <div class="grid grid-cols-2 gap-3">
        {input("durationMinutes", "Length (minutes)", "number")}
        {input("lateCancelCutoffHours", "Late-cancel cut-off (hours)", "number")}
      </div>
      {input("certificationTrack", "Certification track (optional)")}
      {input(
        "certificationValidMonths",
        "Certification valid for (months)",
        "number",
        "Leave empty when completing it grants no certification that expires.",
      )}
      <div class="grid grid-cols-2 gap-3">
        {input("completionMinutes", "Completes after (minutes)", "number", "Live sessions. Empty: 30.")}
        {input("completionPercent", "or after (% of the session)", "number", "Whichever comes first. Empty: 50.")}
      </div>
      <fieldset aria-describedby={e.prerequisites ? "prerequisites-error" : undefined}>
        <legend class="text-sm font-medium text-gray-800">Prerequisites</legend>
        <div class="mt-1 grid max-h-64 gap-1 overflow-y-auto rounded-lg border border-gray-300 bg-white p-2">
          {courses.filter((c) => c.id !== selfId).map((c) => (
            <div key={c.id} class="flex items-center gap-2">
              <input
                id={`pre-${c.id}`}
                name="prerequisites"
                type="checkbox"
                value={c.id}
                checked={values.prerequisites.includes(c.id)}
                class={checkClass}
              />
              <label for={`pre-${c.id}`} class="text-base">{c.code} {c.title}</label>
            </div>
          ))}
        </div>
        {e.prerequisites && (
          <p id="prerequisites-error" class="mt-1 text-sm font-semibold text-red-800" data-testid="error-prerequisites">
            {e.prerequisites}
          </p>
        )}
      </fieldset>
      <Checkbox name="required" label="Required training" checked={values.required === "on"} />
      <Checkbox name="active" label="Active (untick to retire the course)" checked={values.active === "on"} />
      <button type="submit" class={buttonClass}>{submitLabel}</button>
    </form>
  );
}
