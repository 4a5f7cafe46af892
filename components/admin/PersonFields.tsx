/** The person form's fields shared by the staff and dealer admin pages. */
import type { ComponentChildren } from "preact";
import type { Location, User } from "../../lib/domain/mod.ts";
import { describedBy, Field, type FieldErrors, inputClass } from "./AdminUi.tsx";

/**
 * Name, then the manager chosen among `managers` (when given), then `children`, then the preferred
 * training center chosen among `locations`; each with its error sentence.
 */
export function PersonFields(
  { values, errors: e, locations, managers, children }: {
    values: { name: string; managerId?: string; preferredLocationId: string };
    errors: FieldErrors;
    locations: Location[];
    managers?: User[];
    children?: ComponentChildren;
  },
) {
  return (
    <>
      <Field name="name" label="Name" error={e.name}>
        <input id="name" name="name" value={values.name} class={inputClass} {...describedBy("name", e)} />
      </Field>
      {managers && (
        <Field name="managerId" label="Manager" error={e.managerId}>
          <select id="managerId" name="managerId" class={inputClass} {...describedBy("managerId", e)}>
            <option value="">None</option>
            {managers.map((m) => (
              <option key={m.id} value={m.id} selected={values.managerId === m.id}>{m.name}</option>
            ))}
          </select>
        </Field>
      )}
      {children}
      <Field name="preferredLocationId" label="Preferred training center" error={e.preferredLocationId}>
        <select
          id="preferredLocationId"
          name="preferredLocationId"
          class={inputClass}
          {...describedBy("preferredLocationId", e)}
        >
          <option value="">None</option>
          {locations.map((l) => (
            <option key={l.id} value={l.id} selected={values.preferredLocationId === l.id}>{l.name}</option>
          ))}
        </select>
      </Field>
    </>
  );
}
