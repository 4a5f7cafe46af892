/**
 * `deno task manifest`: regenerate `fresh.gen.ts` for the repository root.
 * @module
 */
import { writeManifestIfChanged } from "../lib/fresh/mod.ts";

const root = new URL("../", import.meta.url);
const changed = await writeManifestIfChanged(root);
console.log(changed ? "fresh.gen.ts updated" : "fresh.gen.ts already up to date");
