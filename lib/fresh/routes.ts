/**
 * File-system routing: turns the manifest's `./routes/…` keys into Hono
 * path patterns, ranks them so static routes beat dynamic ones, and finds
 * the special files (`_app`, `_layout`, `_middleware`, `_404`, `_500`).
 * @module
 */
import type { Manifest, ManifestModule, RouteConfig } from "./types.ts";

/** Segment kinds, in matching priority order. */
const STATIC = 0, DYNAMIC = 1, CATCH_ALL = 2;

/** A URL path derived from a file path. */
export interface RoutePath {
  /** Patterns to register on Hono (a catch-all also matches its base). */
  patterns: string[];
  /** Human pattern exposed as `ctx.route`, e.g. `/docs/:rest*`. */
  route: string;
  /** Segment kinds for ranking. */
  ranks: number[];
  /** Name of the catch-all parameter, if any. */
  catchAll?: string;
}

/** A page or handler route. */
export interface RouteEntry extends RoutePath {
  key: string;
  /** Folder segments below `routes/`, groups included (for layouts). */
  dirs: string[];
  module: ManifestModule;
  config: RouteConfig;
}

/** A folder's `_layout` file. */
export interface LayoutEntry {
  key: string;
  module: ManifestModule;
  config: RouteConfig;
}

/** A folder's `_middleware` file. */
export interface MiddlewareEntry {
  key: string;
  /** Hono pattern matching every path under the folder. */
  pattern: string;
  /** Folder depth; outer middlewares run first. */
  depth: number;
  handlers: unknown[];
}

/** Everything `registerFresh` needs from `routes/`. */
export interface RouteTable {
  routes: RouteEntry[];
  /** Folder path (groups included, `""` for the root) → layout. */
  layouts: Map<string, LayoutEntry>;
  middlewares: MiddlewareEntry[];
  app?: LayoutEntry;
  notFound?: LayoutEntry;
  error?: LayoutEntry;
}

const PARAM = /^\[([A-Za-z_$][\w$]*)\]$/;
const CATCH = /^\[\.\.\.([A-Za-z_$][\w$]*)\]$/;
const GROUP = /^\(.+\)$/;

function convertSegment(segment: string, file: string): {
  text: string;
  rank: number;
  catchAll?: string;
} | null {
  if (GROUP.test(segment)) return null;
  const catchAll = CATCH.exec(segment);
  if (catchAll) {
    return { text: `:${catchAll[1]}{.+}`, rank: CATCH_ALL, catchAll: catchAll[1] };
  }
  const param = PARAM.exec(segment);
  if (param) return { text: `:${param[1]}`, rank: DYNAMIC };
  if (/[\[\]]/.test(segment)) {
    throw new Error(
      `Unsupported route segment "${segment}" in ${file}: use [name] or [...name] as a whole segment`,
    );
  }
  return { text: segment, rank: STATIC };
}

/**
 * Path pattern of a route file, given its path below `routes/` without the
 * extension: `blog/[slug]` → `/blog/:slug`, `index` → `/`, `(group)/x` → `/x`,
 * `docs/[...rest]` → `/docs` and `/docs/:rest{.+}`.
 */
export function routePath(path: string): RoutePath {
  const raw = path.split("/");
  if (raw[raw.length - 1] === "index") raw.pop();
  const texts: string[] = [];
  const ranks: number[] = [];
  let catchAll: string | undefined;
  raw.forEach((segment, i) => {
    const converted = convertSegment(segment, path);
    if (!converted) return;
    if (converted.catchAll && i !== raw.length - 1) {
      throw new Error(`Catch-all ${segment} must be the last segment in ${path}`);
    }
    texts.push(converted.text);
    ranks.push(converted.rank);
    catchAll = converted.catchAll;
  });
  if (!catchAll) {
    const pattern = "/" + texts.join("/");
    return { patterns: [pattern], route: pattern, ranks };
  }
  const base = "/" + texts.slice(0, -1).join("/");
  return {
    patterns: [base, `${base === "/" ? "" : base}/${texts[texts.length - 1]}`],
    route: `${base === "/" ? "" : base}/:${catchAll}*`,
    ranks,
    catchAll,
  };
}

/**
 * Order for registration: compare segment by segment, static before
 * dynamic before catch-all; a path that ends earlier comes first.
 */
export function compareRoutes(a: RoutePath, b: RoutePath): number {
  const n = Math.max(a.ranks.length, b.ranks.length);
  for (let i = 0; i < n; i++) {
    const ra = a.ranks[i] ?? -1, rb = b.ranks[i] ?? -1;
    if (ra !== rb) return ra - rb;
  }
  return a.route < b.route ? -1 : a.route > b.route ? 1 : 0;
}

/** Ranks of a hand-written Hono pattern (`config.routeOverride`). */
export function patternRanks(pattern: string): number[] {
  return pattern.split("/").filter(Boolean).map((s) =>
    s.startsWith(":") ? (/\{\.[+*]\}$/.test(s) ? CATCH_ALL : DYNAMIC) : s.includes("*") ? CATCH_ALL : STATIC
  );
}

/** Hono pattern for everything under a folder (groups are transparent). */
function folderPattern(dirs: string[], key: string): string {
  const texts = dirs.map((d) => convertSegment(d, key)).filter((s) => s !== null)
    .map((s) => {
      if (s.catchAll) throw new Error(`Catch-all folders are not supported: ${key}`);
      return s.text;
    });
  return texts.length ? `/${texts.join("/")}/*` : "*";
}

function configOf(module: ManifestModule): RouteConfig {
  return (module.config ?? {}) as RouteConfig;
}

/** Classify every `./routes/…` entry of `manifest`. */
export function buildRouteTable(manifest: Manifest): RouteTable {
  const table: RouteTable = { routes: [], layouts: new Map(), middlewares: [] };
  for (const key of Object.keys(manifest.routes).sort()) {
    const module = manifest.routes[key];
    const path = key.replace(/^\.\/routes\//, "").replace(/\.[jt]sx?$/, "");
    const parts = path.split("/");
    const name = parts.pop()!;
    const dirs = parts;
    const entry = { key, module, config: configOf(module) };
    const rootOnly = (what: string) => {
      if (dirs.length) throw new Error(`${what} is only supported in routes/: ${key}`);
    };
    switch (name) {
      case "_app":
        rootOnly("_app");
        table.app = entry;
        continue;
      case "_404":
        rootOnly("_404");
        table.notFound = entry;
        continue;
      case "_500":
        rootOnly("_500");
        table.error = entry;
        continue;
      case "_layout":
        table.layouts.set(dirs.join("/"), entry);
        continue;
      case "_middleware": {
        const handler = module.handler;
        const handlers = Array.isArray(handler) ? handler : [handler];
        if (!handlers.every((h) => typeof h === "function")) {
          throw new Error(`${key} must export handler as a function or array of functions`);
        }
        table.middlewares.push({
          key,
          pattern: folderPattern(dirs, key),
          depth: dirs.length,
          handlers,
        });
        continue;
      }
    }
    if (module.default === undefined && module.handler === undefined) {
      throw new Error(`Route ${key} exports neither a default component nor a handler`);
    }
    const computed = routePath(path);
    const override = entry.config.routeOverride;
    table.routes.push({
      ...entry,
      dirs,
      ...(override ? { patterns: [override], route: override, ranks: patternRanks(override) } : computed),
    });
  }
  table.routes.sort(compareRoutes);
  table.middlewares.sort((a, b) => a.depth - b.depth || (a.key < b.key ? -1 : 1));
  return table;
}

/**
 * Layouts applying to a file in folder `dirs`, outermost first, honouring
 * `skipInheritedLayouts` on the route and on the layouts themselves.
 */
export function layoutsFor(
  table: RouteTable,
  dirs: string[],
  config: RouteConfig,
): LayoutEntry[] {
  if (config.skipInheritedLayouts) return [];
  const chain: LayoutEntry[] = [];
  for (let i = 0; i <= dirs.length; i++) {
    const layout = table.layouts.get(dirs.slice(0, i).join("/"));
    if (!layout) continue;
    if (layout.config.skipInheritedLayouts) chain.length = 0;
    chain.push(layout);
  }
  return chain;
}
