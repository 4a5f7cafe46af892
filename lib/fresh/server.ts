/**
 * `registerFresh`: mounts file routes, middlewares, static files, island
 * bundles and the 404/500 pages onto an existing Hono app.
 * @module
 */
import type { Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { type ComponentType, h, type VNode } from "preact";
import { buildAssets, type BuiltAssets, defaultBuildDir, readAssets, sourceHash } from "./bundle.ts";
import { registerIslands } from "./island_hook.ts";
import { manifestIslands } from "./islands.ts";
import { ALIVE_PATH, aliveResponse } from "./live_reload.ts";
import { assetPrefix, type DocumentOptions, renderDocument } from "./render.ts";
import { buildRouteTable, type LayoutEntry, layoutsFor, type RouteEntry, type RouteTable } from "./routes.ts";
import { serveStaticDir } from "./static_files.ts";
import { createStyler, type TwindUserConfig } from "./twind.ts";
import type { FreshContext, Handler, Manifest, ManifestModule, MiddlewareHandler, RouteConfig } from "./types.ts";

/** Options of `registerFresh`. */
export interface FreshOptions {
  /** Dev mode: live reload, always bundle in memory. Default: `FRESH_DEV=1`. */
  dev?: boolean;
  /**
   * Production: serve only the prebuilt bundle (`deno task build`); registering fails when it is
   * missing or stale instead of bundling in the server. Default false (bundle in memory then).
   */
  production?: boolean;
  /** Static files folder, relative to `fresh.gen.ts`. Default `static`. */
  staticDir?: string;
  /** Prebuilt assets folder, relative to `fresh.gen.ts`. Default `_frsh`. */
  buildDir?: string;
  /** twind config merged over preset-tailwind (e.g. theme colors). */
  twind?: TwindUserConfig;
  /**
   * Runs before each file route's handler (after the middlewares): a Response answers instead
   * (e.g. a redirect to sign in, or 403). The app decides what the route's `access` export means.
   */
  authorize?: (route: AuthorizedRoute, ctx: FreshContext) => Response | null | Promise<Response | null>;
  /** The CSP nonce of a request: added to every `<script>` and `<style>` of its rendered page. */
  nonce?: (req: Request) => string | undefined;
}

/** What `authorize` learns about the route being called. */
export interface AuthorizedRoute {
  /** Manifest key, e.g. `./routes/me/schedule.tsx`. */
  key: string;
  /** The route pattern, e.g. `/sessions/:id`. */
  route: string;
  module: ManifestModule;
}

// Any Hono app, whatever its env/schema generics.
// deno-lint-ignore no-explicit-any
type AnyHono = Hono<any, any, any>;
type State = Record<string, unknown>;
type Component = ComponentType<Record<string, unknown>>;

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;
const HTML = "text/html; charset=utf-8";
const ASSET_HEADERS = {
  "content-type": "text/javascript; charset=utf-8",
  "cache-control": "public, max-age=31536000, immutable",
};

const states = new WeakMap<Context, State>();

function stateOf(c: Context): State {
  let state = states.get(c);
  if (!state) states.set(c, state = {});
  return state;
}

function folderUrl(dir: string, base: string): URL {
  const withSlash = dir.endsWith("/") ? dir : `${dir}/`;
  return withSlash.startsWith("/") ? new URL(`file://${withSlash}`) : new URL(withSlash, base);
}

function devFromEnv(): boolean {
  try {
    return Deno.env.get("FRESH_DEV") === "1";
  } catch {
    return false;
  }
}

function isAsyncFunction(fn: unknown): boolean {
  return typeof fn === "function" && fn.constructor.name === "AsyncFunction";
}

function noNext(): Promise<Response> {
  return Promise.reject(new Error("ctx.next() is only available in middleware"));
}

async function loadAssets(
  manifest: Manifest,
  islandNames: string[],
  dev: boolean,
  buildDir: URL,
  production: boolean,
): Promise<BuiltAssets> {
  if (islandNames.length === 0) {
    return {
      buildId: "none",
      files: new Map(),
      deps: { client: { file: "", preload: [] }, islands: {} },
      sourceHash: "",
    };
  }
  if (!dev) {
    const prebuilt = await readAssets(buildDir);
    if (prebuilt && prebuilt.sourceHash === await sourceHash(manifest)) return prebuilt;
    if (production) {
      throw new Error(
        `fresh: production serves prebuilt island bundles only, and ${buildDir.pathname} ${
          prebuilt ? "is stale (island sources changed)" : "has none"
        }: run \`deno task build\` before starting`,
      );
    }
    if (prebuilt) {
      console.warn(
        `fresh: ignoring stale assets in ${buildDir.pathname} (island sources changed); bundling in memory`,
      );
    }
  }
  const started = performance.now();
  const built = await buildAssets(manifest);
  console.log(
    `fresh: bundled ${islandNames.length} islands in ${
      Math.round(performance.now() - started)
    } ms (build ${built.buildId})`,
  );
  return built;
}

/** Renders pages of one registered app. */
class PageRenderer {
  constructor(
    private table: RouteTable,
    private doc: DocumentOptions,
    private nonce: (req: Request) => string | undefined = () => undefined,
  ) {}

  /** Wrap `inner` in its layouts and `_app`, render, and respond. */
  respond(
    c: Context,
    inner: VNode,
    where: { dirs: string[]; config: RouteConfig },
    props: Record<string, unknown>,
    init: ResponseInit = {},
  ): Response {
    const layouts = layoutsFor(this.table, where.dirs, where.config);
    let tree = inner;
    for (const layout of [...layouts].reverse()) tree = this.wrap(layout, tree, props);
    const skipApp = where.config.skipAppWrapper ||
      layouts.some((l) => l.config.skipAppWrapper);
    if (this.table.app && !skipApp) tree = this.wrap(this.table.app, tree, props);
    const html = renderDocument(tree, { ...this.doc, nonce: this.nonce(c.req.raw) });
    const headers = new Headers(init.headers);
    if (!headers.has("content-type")) headers.set("content-type", HTML);
    return new Response(c.req.method === "HEAD" ? null : html, {
      status: init.status ?? 200,
      statusText: init.statusText,
      headers,
    });
  }

  private wrap(layout: LayoutEntry, child: VNode, props: Record<string, unknown>) {
    const component = layout.module.default as Component | undefined;
    if (typeof component !== "function") {
      throw new Error(`${layout.key} must export a component as default`);
    }
    return h(component, { ...props, Component: () => child });
  }

  /** Render a page component (sync or async Fresh route) for `ctx`. */
  async page(
    c: Context,
    key: string,
    component: unknown,
    where: { dirs: string[]; config: RouteConfig },
    ctx: FreshContext,
    data: unknown,
    init?: ResponseInit,
    extra: Record<string, unknown> = {},
  ): Promise<Response> {
    if (typeof component !== "function") {
      throw new Error(`Route ${key} has no default component to render`);
    }
    const props = {
      url: ctx.url,
      params: ctx.params,
      state: ctx.state,
      route: ctx.route,
      data,
      ...extra,
    };
    let inner: VNode;
    if (isAsyncFunction(component)) {
      const result = await component(c.req.raw, { ...ctx, data, ...extra });
      if (result instanceof Response) return result;
      inner = result as VNode;
    } else {
      inner = h(component as Component, props);
    }
    return this.respond(c, inner, where, props, init);
  }
}

function contextFor(
  c: Context,
  route: string,
  params: Record<string, string>,
  rest: Pick<FreshContext, "render" | "renderNotFound" | "next">,
): FreshContext {
  return {
    req: c.req.raw,
    url: new URL(c.req.url),
    params,
    state: stateOf(c),
    route,
    ...rest,
  };
}

function pickHandler(module: RouteEntry["module"], method: string): Handler | null {
  const handler = module.handler;
  if (typeof handler === "function") return handler as Handler;
  if (handler && typeof handler === "object") {
    const handlers = handler as Record<string, Handler | undefined>;
    return handlers[method] ?? (method === "HEAD" ? handlers.GET ?? null : null);
  }
  if (method === "GET" || method === "HEAD") return (_req, ctx) => ctx.render();
  return null;
}

function allowedMethods(module: RouteEntry["module"]): string[] {
  const handler = module.handler;
  if (handler && typeof handler === "object") {
    const names = METHODS.filter((m) => m in (handler as object));
    return names.includes("GET") && !names.includes("HEAD") ? [...names, "HEAD"] : names;
  }
  return ["GET", "HEAD"];
}

/**
 * Register the Fresh app described by `manifest` onto `app`. Routes added
 * to `app` before this call keep working and take precedence. Sets
 * `app.notFound` (renders `_404`) and `app.onError` (renders `_500`).
 * Resolves once the island bundle is ready.
 */
export async function registerFresh(
  app: AnyHono,
  manifest: Manifest,
  options: FreshOptions = {},
): Promise<{ buildId: string }> {
  const dev = options.dev ?? devFromEnv();
  const table = buildRouteTable(manifest);
  const islands = manifestIslands(manifest);
  registerIslands(islands);
  const buildDir = options.buildDir ? folderUrl(options.buildDir, manifest.baseUrl) : defaultBuildDir(manifest);
  if (dev && options.production) throw new Error("fresh: dev mode and production exclude each other");
  const assets = await loadAssets(manifest, islands.map((i) => i.name), dev, buildDir, options.production ?? false);
  const renderer = new PageRenderer(table, {
    buildId: assets.buildId,
    deps: assets.deps,
    styler: createStyler(options.twind),
    dev,
  }, options.nonce);

  const notFound = (c: Context, data?: unknown): Promise<Response> => {
    const params: Record<string, string> = {};
    const ctx = contextFor(c, "", params, {
      render: () => Promise.reject(new Error("ctx.render() is not available here")),
      renderNotFound: () => Promise.reject(new Error("already rendering 404")),
      next: noNext,
    });
    const component = table.notFound?.module.default ?? DefaultNotFound;
    return renderer.page(
      c,
      "_404",
      component,
      {
        dirs: [],
        config: table.notFound?.config ?? {},
      },
      ctx,
      data,
      { status: 404 },
      { error: undefined },
    );
  };

  // Internal assets first: no user middleware runs for them.
  const prefix = assetPrefix(assets.buildId);
  app.get("/_frsh/js/:buildId/*", (c) => {
    let name = "";
    try {
      name = decodeURIComponent(c.req.path.slice(prefix.length));
    } catch {
      // Not valid percent-encoding: no asset has such a name.
    }
    const file = c.req.path.startsWith(prefix) ? assets.files.get(name) : undefined;
    if (!file) return new Response("Not Found", { status: 404 });
    return new Response(c.req.method === "HEAD" ? null : file as Uint8Array<ArrayBuffer>, { headers: ASSET_HEADERS });
  });
  if (dev) app.get(ALIVE_PATH, () => aliveResponse());

  for (const mw of table.middlewares) {
    app.use(mw.pattern, (c, next) => {
      const params = c.req.param() as Record<string, string>;
      const run = (i: number): Promise<Response> => {
        if (i === mw.handlers.length) return next().then(() => c.res);
        const handler = mw.handlers[i] as MiddlewareHandler;
        const ctx = contextFor(c, mw.pattern, params, {
          render: () => Promise.reject(new Error("ctx.render() is not available in middleware")),
          renderNotFound: (data) => notFound(c, data),
          next: () => run(i + 1),
        });
        return Promise.resolve(handler(c.req.raw, ctx));
      };
      return run(0);
    });
  }

  const staticDir = folderUrl(options.staticDir ?? "static", manifest.baseUrl);
  app.use("*", serveStaticDir(staticDir));

  for (const route of table.routes) {
    for (const pattern of route.patterns) {
      app.all(pattern, async (c) => {
        const params = { ...c.req.param() } as Record<string, string>;
        if (route.catchAll && !(route.catchAll in params)) params[route.catchAll] = "";
        const ctx: FreshContext = contextFor(c, route.route, params, {
          render: (data, init) => renderer.page(c, route.key, route.module.default, route, ctx, data, init),
          renderNotFound: (data) => notFound(c, data),
          next: noNext,
        });
        const refused = options.authorize
          ? await options.authorize({ key: route.key, route: route.route, module: route.module }, ctx)
          : null;
        if (refused) return refused;
        const handler = pickHandler(route.module, c.req.method);
        if (!handler) {
          return new Response("Method Not Allowed", {
            status: 405,
            headers: { allow: allowedMethods(route.module).join(", ") },
          });
        }
        const response = await handler(c.req.raw, ctx);
        if (!(response instanceof Response)) {
          throw new Error(`Handler of ${route.key} did not return a Response`);
        }
        return response;
      });
    }
  }

  app.notFound((c) => notFound(c));
  app.onError(async (error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    console.error(`fresh: error handling ${c.req.method} ${c.req.path}:`, error);
    if (!table.error) return new Response("Internal Server Error", { status: 500 });
    try {
      const ctx = contextFor(c, "", {}, {
        render: () => Promise.reject(new Error("ctx.render() is not available here")),
        renderNotFound: () => notFound(c),
        next: noNext,
      });
      return await renderer.page(
        c,
        table.error.key,
        table.error.module.default,
        {
          dirs: [],
          config: table.error.config,
        },
        ctx,
        undefined,
        { status: 500 },
        { error },
      );
    } catch (renderError) {
      console.error("fresh: rendering _500 failed:", renderError);
      return new Response("Internal Server Error", { status: 500 });
    }
  });

  return { buildId: assets.buildId };
}

function DefaultNotFound() {
  return h("h1", null, "404 - Page not found");
}
