/**
 * `deno task build`: bundle the client runtime and every island into
 * `_frsh/` so production starts without bundling. The manifest is
 * regenerated first so the build never misses a new island.
 * @module
 */
import { type Manifest, writeAssets, writeManifestIfChanged } from "../lib/fresh/mod.ts";

const root = new URL("../", import.meta.url);
await writeManifestIfChanged(root);
// Imported after regeneration; a static import would see the old manifest.
const { default: manifest }: { default: Manifest } = await import(
  new URL("fresh.gen.ts", root).href
);
const started = performance.now();
const built = await writeAssets(manifest, new URL("_frsh/", root));
console.log(
  `Built ${built.files.size} files for ${
    Object.keys(manifest.islands).length
  } islands into _frsh/ (build ${built.buildId}) in ${Math.round(performance.now() - started)} ms`,
);
