/** The admin training-center form (add and change): plain HTML, works without JavaScript. */
import type { LocationFormErrors, LocationFormValues } from "../../lib/admin/locations.ts";
import { US_STATE_CODES } from "../../lib/domain/mod.ts";
import { buttonClass, Checkbox, describedBy, Field, inputClass } from "./AdminUi.tsx";

/** The form; `version` (changes) is the center's version when it was shown. */
export function LocationForm(
  { action, values, errors, version, submitLabel }: {
    action: string;
    values: LocationFormValues;
    errors: LocationFormErrors;
    version?: string;
    submitLabel: string;
  },
) {
  const e = errors as Record<string, string>;
  const input = (name: keyof LocationFormValues, label: string, help?: string, extra = {}) => (
    <Field name={name} label={label} error={e[name]} help={help}>
      <input
        id={name}
        name={name}
        value={values[name]}
        class={inputClass}
        {...describedBy(name, e, !!help)}
        {...extra}
      />
    </Field>
  );
  return (
    <form method="post" action={action} class="grid gap-4 rounded-xl bg-gray-50 p-4" novalidate>
      {version && <input type="hidden" name="version" value={version} />}
      {input("name", "Name")}
      {input("slug", "Short name", "Lower-case letters, digits and dashes, e.g. atlanta-midtown.")}
      {input("line1", "Street address")}
      {input("city", "City")}
      <div class="grid grid-cols-2 gap-3">
        <Field name="region" label="State" error={e.region}>
          <select id="region" name="region" class={inputClass} {...describedBy("region", e)}>
            {US_STATE_CODES.map((s) => <option key={s} value={s} selected={values.region === s}>{s}</option>)}
          </select>
        </Field>
        {input("postalCode", "ZIP code", undefined, { inputmode: "numeric" })}
      </div>
      {input("timeZone", "Time zone", "Like America/Chicago. Sessions scheduled later use it.")}
      <div class="grid grid-cols-2 gap-3">
        {input("lat", "Latitude", undefined, { inputmode: "decimal" })}
        {input("lng", "Longitude", undefined, { inputmode: "decimal" })}
      </div>
      <Checkbox name="active" label="Open (untick to close the center)" checked={values.active === "on"} />
      <button type="submit" class={buttonClass}>{submitLabel}</button>
    </form>
  );
}
