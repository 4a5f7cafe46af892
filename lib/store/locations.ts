import { type Location, LocationSchema, type NewLocation } from "../domain/location.ts";
import { newId } from "../domain/ids.ts";
import { parseOrThrow } from "../domain/validation.ts";
import { ConflictError } from "./errors.ts";
import { keys } from "./keys.ts";
import { getValueById, listValues } from "./batch.ts";

/**
 * Creates a training center. Validates with `LocationSchema` (throws
 * `ValidationError`); the slug must be unused (`ConflictError` "slug_taken").
 */
export async function createLocation(
  kv: Deno.Kv,
  input: NewLocation,
): Promise<Location> {
  const location = parseOrThrow(
    LocationSchema,
    { ...input, id: input.id ?? newId() },
    "location",
  );
  const res = await kv.atomic()
    .check({ key: keys.location(location.id), versionstamp: null })
    .check({ key: keys.locationBySlug(location.slug), versionstamp: null })
    .set(keys.location(location.id), location)
    .set(keys.locationBySlug(location.slug), location.id)
    .set(keys.catalogVersion(), newId())
    .commit();
  if (!res.ok) {
    const slug = await kv.get(keys.locationBySlug(location.slug));
    if (slug.value !== null) {
      throw new ConflictError(
        "slug_taken",
        `location slug "${location.slug}" is already used`,
      );
    }
    throw new ConflictError("exists", `location ${location.id} already exists`);
  }
  return location;
}

/** Returns the location with `id`, or null. */
export async function getLocation(
  kv: Deno.Kv,
  id: string,
): Promise<Location | null> {
  return await getValueById<Location>(kv, id, keys.location);
}

/** Returns the location with `slug`, or null. */
export async function getLocationBySlug(
  kv: Deno.Kv,
  slug: string,
): Promise<Location | null> {
  const id = (await kv.get<string>(keys.locationBySlug(slug))).value;
  return id ? await getLocation(kv, id) : null;
}

/** Lists training centers sorted by name; inactive ones only when asked. */
export async function listLocations(
  kv: Deno.Kv,
  options: { includeInactive?: boolean } = {},
): Promise<Location[]> {
  const all = await listValues<Location>(kv, { prefix: keys.locationsPrefix() });
  return all
    .filter((l) => options.includeInactive || l.active)
    .sort((a, b) => a.name.localeCompare(b.name));
}
