/**
 * Reads the islands out of a manifest and gives each a stable name that is
 * safe in comment markers and JavaScript identifiers.
 * @module
 */
import type { ComponentType } from "preact";
import type { Manifest } from "./types.ts";

/** One island as listed in the manifest. */
export interface ManifestIsland {
  /** Marker and bundle name, e.g. `Counter` or `forms_DatePicker`. */
  name: string;
  /** Manifest key, e.g. `./islands/Counter.tsx`. */
  key: string;
  /** Absolute URL of the island source file. */
  url: URL;
  component: ComponentType<Record<string, unknown>>;
}

/** Name of an island from its manifest key: path below `islands/`, no ext. */
export function islandName(key: string): string {
  const path = key.replace(/^\.\/islands\//, "").replace(/\.[jt]sx?$/, "");
  return path.replace(/[^A-Za-z0-9_]/g, "_");
}

/** All islands of `manifest`, sorted by key, with unique names. */
export function manifestIslands(manifest: Manifest): ManifestIsland[] {
  const taken = new Set<string>();
  return Object.keys(manifest.islands).sort().map((key) => {
    const component = manifest.islands[key].default;
    if (typeof component !== "function") {
      throw new Error(`Island ${key} must export a component as default`);
    }
    let name = islandName(key);
    for (let i = 2; taken.has(name); i++) name = `${islandName(key)}_${i}`;
    taken.add(name);
    return {
      name,
      key,
      url: new URL(key, manifest.baseUrl),
      component: component as ComponentType<Record<string, unknown>>,
    };
  });
}
