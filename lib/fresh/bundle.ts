/**
 * Builds the browser JavaScript: ONE `Deno.bundle` run with the client
 * runtime and every island as entry points (ESM, code splitting, minified),
 * so all islands share a single Preact and signals instance. Also records,
 * per entry, the files a page must preload and the island's class names.
 * @module
 */
import { manifestIslands } from "./islands.ts";
import { scanClassCandidates } from "./island_classes.ts";
import type { Manifest } from "./types.ts";

/** An entry file and every file it needs (itself first). */
export interface EntryAsset {
  /** Output file, relative to the build root, e.g. `islands/Counter.js`. */
  file: string;
  /** `file` plus the chunks it imports statically, transitively. */
  preload: string[];
}

/** An island's entry plus the class names its source may add in the browser. */
export interface IslandAsset extends EntryAsset {
  classes: string[];
}

/** How pages find their scripts. */
export interface AssetDeps {
  client: EntryAsset;
  islands: Record<string, IslandAsset>;
}

/** Result of a build: content-addressed id, files by name, entry deps. */
export interface BuiltAssets {
  buildId: string;
  files: Map<string, Uint8Array>;
  deps: AssetDeps;
  /** Hash of the island and runtime sources the build came from. */
  sourceHash: string;
}

const CLIENT_ENTRY = new URL("./client.ts", import.meta.url);
const DESERIALIZE = new URL("./deserialize.ts", import.meta.url);
const META_FILE = "meta.json";

function filePath(url: URL): string {
  if (url.protocol !== "file:") {
    throw new Error(`Cannot bundle ${url.href}: only local files are supported`);
  }
  return decodeURIComponent(url.pathname);
}

function commonDir(paths: string[]): string {
  const split = paths.map((p) => p.split("/").slice(0, -1));
  const first = split[0];
  let n = 0;
  while (n < first.length && split.every((s) => s[n] === first[n])) n++;
  return first.slice(0, n).join("/");
}

/**
 * Relative specifiers of the static `import`/`export … from` statements in
 * bundled code (dynamic `import()` is left out: it is not preloaded).
 */
export function staticImports(code: string): string[] {
  const found = new Set<string>();
  const pattern = /(?:\bfrom|\bimport)\s*["'](\.{1,2}\/[^"']+)["']/g;
  for (const match of code.matchAll(pattern)) found.add(match[1]);
  return [...found];
}

function resolveName(from: string, specifier: string): string {
  return new URL(specifier, `file:///${from}`).pathname.slice(1);
}

function preloadList(entry: string, files: Map<string, Uint8Array>): string[] {
  const order: string[] = [];
  const queue = [entry];
  const decoder = new TextDecoder();
  while (queue.length) {
    const name = queue.shift()!;
    if (order.includes(name)) continue;
    const contents = files.get(name);
    if (!contents) throw new Error(`Bundle output ${name} is missing`);
    order.push(name);
    for (const spec of staticImports(decoder.decode(contents))) {
      queue.push(resolveName(name, spec));
    }
  }
  return order;
}

async function hashFiles(files: Map<string, Uint8Array>): Promise<string> {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const name of [...files.keys()].sort()) {
    parts.push(encoder.encode(`${name}\0`), files.get(name)!);
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return [...digest.slice(0, 6)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/**
 * Hash of the client runtime and island source files of `manifest`. A
 * prebuilt `_frsh/` whose hash differs is stale. (Edits confined to modules
 * that islands import are not seen: rebuild after those.)
 */
export async function sourceHash(manifest: Manifest): Promise<string> {
  const files = new Map<string, Uint8Array>();
  for (const url of [CLIENT_ENTRY, DESERIALIZE, ...manifestIslands(manifest).map((i) => i.url)]) {
    files.set(url.href.slice(url.href.lastIndexOf("/")), await Deno.readFile(url));
  }
  return await hashFiles(files);
}

/**
 * Bundle the client runtime and all islands of `manifest` in memory.
 * Requires `Deno.bundle` (the `bundle` unstable feature).
 */
export async function buildAssets(manifest: Manifest): Promise<BuiltAssets> {
  if (typeof Deno.bundle !== "function") {
    throw new Error(
      "Deno.bundle is unavailable: enable the 'bundle' unstable feature or prebuild with `deno task build`",
    );
  }
  const islands = manifestIslands(manifest);
  const entries = [filePath(CLIENT_ENTRY), ...islands.map((i) => filePath(i.url))];
  const root = commonDir(entries);
  const outputDir = `${root}/.frsh-bundle`;
  const result = await Deno.bundle({
    entrypoints: entries,
    outputDir,
    platform: "browser",
    format: "esm",
    codeSplitting: true,
    minify: true,
    write: false,
  });
  if (!result.success || !result.outputFiles) {
    const messages = result.errors.map((e) => e.text).join("\n");
    throw new Error(`Bundling islands failed:\n${messages}`);
  }
  const files = new Map<string, Uint8Array>();
  for (const out of result.outputFiles) {
    const name = out.path.slice(outputDir.length + 1);
    files.set(name, out.contents ?? new TextEncoder().encode(out.text()));
  }
  const outputFor = (entry: string): EntryAsset => {
    const file = entry.slice(root.length + 1).replace(/\.[jt]sx?$/, ".js");
    if (!files.has(file)) {
      throw new Error(
        `No bundle output for ${entry}; got ${[...files.keys()].join(", ")}`,
      );
    }
    return { file, preload: preloadList(file, files) };
  };
  const deps: AssetDeps = { client: outputFor(entries[0]), islands: {} };
  for (const island of islands) {
    const source = await Deno.readTextFile(island.url);
    deps.islands[island.name] = {
      ...outputFor(filePath(island.url)),
      classes: scanClassCandidates(source),
    };
  }
  return { buildId: await hashFiles(files), files, deps, sourceHash: await sourceHash(manifest) };
}

/** Default prebuilt asset folder: `_frsh/` next to `fresh.gen.ts`. */
export function defaultBuildDir(manifest: Manifest): URL {
  return new URL("./_frsh/", manifest.baseUrl);
}

function dirUrl(dir: string | URL): URL {
  const url = dir instanceof URL ? dir : new URL(dir, `file://${Deno.cwd()}/`);
  return url.href.endsWith("/") ? url : new URL(`${url.href}/`);
}

/**
 * Build the assets of `manifest` and write them to `outDir` (default
 * `_frsh/` beside `fresh.gen.ts`): `meta.json` plus the files under `js/`.
 * Used by `deno task build`; the server picks them up when not in dev.
 */
export async function writeAssets(
  manifest: Manifest,
  outDir: string | URL = defaultBuildDir(manifest),
): Promise<BuiltAssets> {
  const assets = await buildAssets(manifest);
  const dir = dirUrl(outDir);
  const jsDir = new URL("./js/", dir);
  await Deno.remove(jsDir, { recursive: true }).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
  for (const [name, contents] of assets.files) {
    const target = new URL(name, jsDir);
    await Deno.mkdir(new URL(".", target), { recursive: true });
    await Deno.writeFile(target, contents);
  }
  const meta = {
    buildId: assets.buildId,
    files: [...assets.files.keys()].sort(),
    deps: assets.deps,
    sourceHash: assets.sourceHash,
  };
  await Deno.writeTextFile(
    new URL(META_FILE, dir),
    JSON.stringify(meta, null, 2) + "\n",
  );
  return assets;
}

/** Read assets written by `writeAssets`; `null` when `dir` has none. */
export async function readAssets(
  dir: string | URL,
): Promise<BuiltAssets | null> {
  const base = dirUrl(dir);
  let meta: { buildId: string; files: string[]; deps: AssetDeps; sourceHash: string };
  try {
    meta = JSON.parse(await Deno.readTextFile(new URL(META_FILE, base)));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  const files = new Map<string, Uint8Array>();
  for (const name of meta.files) {
    files.set(name, await Deno.readFile(new URL(`./js/${name}`, base)));
  }
  return { buildId: meta.buildId, files, deps: meta.deps, sourceHash: meta.sourceHash };
}
