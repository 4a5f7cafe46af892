import { type Location, LocationSchema, type NewLocation } from "../domain/location.ts";
import { newId } from "../domain/ids.ts";
import { parseOrThrow } from "../domain/validation.ts";
import { ConflictError, NotFoundError } from "./errors.ts";
import { backoff, MAX_WRITE_ATTEMPTS } from "./retry.ts";
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

/**
 * Changes a training center: `change` gets the stored location (it may throw to refuse, e.g. a
 * stale edit) and returns its new fields. One atomic op guarded by the location's versionstamp; the
 * slug index moves with a new slug (ConflictError "slug_taken"); the catalog version moves.
 * Sessions keep their own time zone: a zone change applies to sessions scheduled afterwards.
 */
export async function updateLocation(
  kv: Deno.Kv,
  id: string,
  change: (current: Location) => Omit<NewLocation, "id">,
): Promise<Location> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    await backoff(attempt);
    const entry = await kv.get<Location>(keys.location(id));
    if (!entry.value) throw new NotFoundError("location", id);
    const before = entry.value;
    const after = parseOrThrow(LocationSchema, { ...change(before), id }, "location");
    if (JSON.stringify(after) === JSON.stringify(before)) return before;
    const op = kv.atomic().check(entry);
    if (after.slug !== before.slug) {
      op.check({ key: keys.locationBySlug(after.slug), versionstamp: null });
      op.delete(keys.locationBySlug(before.slug));
      op.set(keys.locationBySlug(after.slug), id);
    }
    op.set(keys.location(id), after).set(keys.catalogVersion(), newId());
    if ((await op.commit()).ok) return after;
    if (after.slug !== before.slug) {
      const taken = await kv.get<string>(keys.locationBySlug(after.slug));
      if (taken.value !== null && taken.value !== id) {
        throw new ConflictError("slug_taken", `location slug "${after.slug}" is already used`);
      }
    }
  }
  throw new ConflictError("concurrent_update", `location ${id} kept changing; try again`);
}
