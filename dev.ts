/**
 * `deno task dev`: regenerate `fresh.gen.ts`, then start `main.ts` in dev
 * mode (live reload, in-memory bundling). Run under `deno run --watch`,
 * so every edit restarts the process and rebuilds the islands.
 * @module
 */
import { writeManifestIfChanged } from "./lib/fresh/mod.ts";

Deno.env.set("FRESH_DEV", "1");
if (await writeManifestIfChanged(new URL("./", import.meta.url))) {
  console.log("fresh.gen.ts updated");
}
await import("./main.ts");
