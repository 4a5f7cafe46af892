/** The staff session form (schedule and change): plain HTML, works without JavaScript. */
import type { SessionFormChoices } from "../../lib/admin/sessions.ts";
import type { SessionFormErrors, SessionFormValues } from "../../lib/admin/session_form.ts";
import { SESSION_MODES } from "../../lib/domain/mod.ts";
import { buttonClass, Checkbox, describedBy, Field, inputClass } from "./AdminUi.tsx";

const MODE_TEXT: Record<string, string> = { in_person: "In person", online: "Online", hybrid: "Hybrid" };

/** The form; `version` (edits) is the session's updatedAt when it was shown. */
export function SessionForm(
  { action, values, errors, choices, version, courseLocked, submitLabel }: {
    action: string;
    values: SessionFormValues;
    errors: SessionFormErrors;
    choices: SessionFormChoices;
    version?: string;
    courseLocked?: string;
    submitLabel: string;
  },
) {
  const e = errors as Record<string, string>;
  const input = (name: keyof SessionFormValues, label: string, type = "text", help?: string, extra = {}) => (
    <Field name={name} label={label} error={e[name]} help={help}>
      <input
        id={name}
        name={name}
        type={type}
        value={values[name]}
        class={inputClass}
        {...describedBy(name, e, !!help)}
        {...extra}
      />
    </Field>
  );
  return (
    <form method="post" action={action} class="grid gap-4 rounded-xl bg-gray-50 p-4" novalidate>
      <input type="hidden" name="intent" value="save" />
      {version && <input type="hidden" name="version" value={version} />}
      {courseLocked
        ? (
          <p class="text-base">
            Course: <strong>{courseLocked}</strong>
          </p>
        )
        : (
          <Field name="course" label="Course" error={e.course}>
            <select id="course" name="course" class={inputClass} {...describedBy("course", e)}>
              <option value="">Choose a course</option>
              {choices.courses.map((c) => (
                <option key={c.id} value={c.id} selected={values.course === c.id}>{c.code} {c.title}</option>
              ))}
            </select>
          </Field>
        )}
      <Field name="mode" label="How people attend" error={e.mode}>
        <select id="mode" name="mode" class={inputClass} {...describedBy("mode", e)}>
          {SESSION_MODES.map((m) => <option key={m} value={m} selected={values.mode === m}>{MODE_TEXT[m]}</option>)}
        </select>
      </Field>
      <Field
        name="location"
        label="Training center"
        error={e.location}
        help="In person and hybrid only; times are in the center's time zone."
      >
        <select id="location" name="location" class={inputClass} {...describedBy("location", e, true)}>
          <option value="">None (online)</option>
          {choices.locations.map((l) => (
            <option key={l.id} value={l.id} selected={values.location === l.id}>
              {l.name} ({l.timeZone}){l.active ? "" : " (closed)"}
            </option>
          ))}
        </select>
      </Field>
      {input("timeZone", "Time zone (online sessions)", "text", "e.g. America/Chicago; ignored at a training center.")}
      {input("date", "Date", "date")}
      <div class="grid grid-cols-2 gap-3">
        {input("start", "Starts", "time")}
        {input("end", "Ends", "time")}
      </div>
      {input("capacity", "Seats", "number", undefined, { min: 1, max: 10000, inputmode: "numeric" })}
      <Field name="instructor" label="Instructor" error={e.instructor}>
        <select id="instructor" name="instructor" class={inputClass} {...describedBy("instructor", e)}>
          <option value="">Choose an instructor</option>
          {choices.instructors.map((u) => (
            <option key={u.id} value={u.id} selected={values.instructor === u.id}>{u.name}</option>
          ))}
        </select>
      </Field>
      <Checkbox name="waitlist" label="Waitlist when full" checked={values.waitlist === "on"} />
      {input("joinUrl", "Join link (online and hybrid)", "url")}
      <fieldset class="grid gap-3">
        <legend class="text-base font-semibold">Overrides for this session (empty: the course's and the rules')</legend>
        <div class="grid grid-cols-2 gap-3">
          {input("holdMinutes", "Hold length (minutes)", "number", undefined, { min: 1, inputmode: "numeric" })}
          {input("cutoffHours", "Late-cancel cut-off (hours)", "number", undefined, { min: 0, inputmode: "numeric" })}
        </div>
      </fieldset>
      {input("reason", "Reason (kept in the audit trail)")}
      <button type="submit" class={buttonClass}>{submitLabel}</button>
    </form>
  );
}
