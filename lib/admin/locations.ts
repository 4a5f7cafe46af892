/**
 * Training centers managed by admins: name, address, time zone, coordinates, active. Stale edits
 * are refused. Shared by the API and the pages.
 */
import type { Location, NewLocation } from "../domain/location.ts";
import { createLocation, updateLocation } from "../store/locations.ts";
import { type FormOutcome, refusalOf, staleEdit } from "./form_outcome.ts";
import { recordVersion } from "./version.ts";

/** The fields an admin sets on a training center. */
export type LocationFields = Omit<NewLocation, "id">;

/** A location's version (stale edits are refused). */
export function locationVersion(location: Location): string {
  return recordVersion(location);
}

/** Adds a training center (ValidationError for bad fields; ConflictError `slug_taken`). */
export function addLocation(kv: Deno.Kv, fields: LocationFields): Promise<Location> {
  return createLocation(kv, fields);
}

/** Replaces a training center's fields; 409 `stale_edit` when `ifVersion` is given and it changed since. */
export function changeLocation(kv: Deno.Kv, id: string, fields: LocationFields, ifVersion?: string) {
  return updateLocation(kv, id, (current) => {
    if (ifVersion !== undefined && locationVersion(current) !== ifVersion) {
      throw staleEdit("training center", current, locationVersion(current));
    }
    return fields;
  });
}

/** Names of the location form's fields. */
export const LOCATION_FORM_FIELDS = [
  "name",
  "slug",
  "line1",
  "city",
  "region",
  "postalCode",
  "timeZone",
  "lat",
  "lng",
  "active",
] as const;
type Field = typeof LOCATION_FORM_FIELDS[number];
/** What was typed. */
export type LocationFormValues = Record<Field, string>;
/** One sentence per wrong field. */
export type LocationFormErrors = Partial<Record<Field, string>>;

/** Reads the location form. */
export function locationFormValues(form: FormData): LocationFormValues {
  return Object.fromEntries(
    LOCATION_FORM_FIELDS.map((f) => [f, String(form.get(f) ?? "").trim()]),
  ) as LocationFormValues;
}

/** The form's values of an existing location. */
export function valuesOfLocation(l: Location): LocationFormValues {
  return {
    name: l.name,
    slug: l.slug,
    line1: l.address.line1,
    city: l.address.city,
    region: l.address.region,
    postalCode: l.address.postalCode,
    timeZone: l.timeZone,
    lat: String(l.lat),
    lng: String(l.lng),
    active: l.active ? "on" : "",
  };
}

const DECIMAL = /^-?\d{1,3}(\.\d{1,8})?$/;

/** The outcome of the location form. */
export type LocationFormOutcome = FormOutcome<Location, Field>;

/** Adds (no `edit`) or changes a training center from the form; nothing is written unless every field is right. */
export async function saveLocationFromForm(
  kv: Deno.Kv,
  v: LocationFormValues,
  edit?: { id: string; version: string },
): Promise<LocationFormOutcome> {
  const errors: LocationFormErrors = {};
  if (!DECIMAL.test(v.lat)) errors.lat = "Give the latitude in degrees, like 33.7812.";
  if (!DECIMAL.test(v.lng)) errors.lng = "Give the longitude in degrees, like -84.3877.";
  if (Object.keys(errors).length) return { ok: false, errors, problem: null };
  const fields: LocationFields = {
    name: v.name,
    slug: v.slug,
    address: {
      line1: v.line1,
      city: v.city,
      region: v.region as Location["address"]["region"],
      postalCode: v.postalCode,
      country: "US",
    },
    timeZone: v.timeZone,
    lat: Number(v.lat),
    lng: Number(v.lng),
    active: v.active === "on",
  };
  try {
    const record = edit ? await changeLocation(kv, edit.id, fields, edit.version) : await addLocation(kv, fields);
    return { ok: true, record };
  } catch (err) {
    return refusalOf<Location, Field>(
      err,
      (path) => {
        const [top, sub] = path.split(".");
        return (top === "address" ? sub : top) as Field;
      },
      { slug_taken: ["slug", "Another training center already uses this short name."] },
    );
  }
}
