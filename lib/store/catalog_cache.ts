import type { Course } from "../domain/course.ts";
import type { Location } from "../domain/location.ts";
import { keys } from "./keys.ts";
import { listValues } from "./batch.ts";

/** All courses and locations, as read at `versionstamp`. */
export interface Catalog {
  courses: Map<string, Course>;
  locations: Map<string, Location>;
  /** Versionstamp of `["meta", "catalog_version"]` when loaded. */
  versionstamp: string | null;
}

const cache = new WeakMap<Deno.Kv, Catalog>();

/**
 * Returns every course and location, cached per KV handle.
 *
 * Course and location writes change `["meta", "catalog_version"]` in the same
 * atomic op, so each call costs one small `get`: the cache is reused only
 * while that key is unchanged, which also notices writes made by other
 * processes. Call {@link invalidateCatalogCache} after editing catalog keys
 * any other way.
 */
export async function loadCatalog(kv: Deno.Kv): Promise<Catalog> {
  const version = await kv.get(keys.catalogVersion());
  const cached = cache.get(kv);
  if (
    cached && version.versionstamp !== null &&
    cached.versionstamp === version.versionstamp
  ) {
    return cached;
  }
  const [courses, locations] = await Promise.all([
    listValues<Course>(kv, { prefix: keys.coursesPrefix() }),
    listValues<Location>(kv, { prefix: keys.locationsPrefix() }),
  ]);
  const catalog: Catalog = {
    courses: new Map(courses.map((c) => [c.id, c])),
    locations: new Map(locations.map((l) => [l.id, l])),
    versionstamp: version.versionstamp,
  };
  cache.set(kv, catalog);
  return catalog;
}

/** Forgets the cached catalog of `kv`; the next read reloads it. */
export function invalidateCatalogCache(kv: Deno.Kv): void {
  cache.delete(kv);
}
