/**
 * Public types of the island runtime. They mirror Fresh 1.x so route and
 * island code reads the same as in a Fresh project.
 * @module
 */
import type { ComponentType } from "preact";

// Fresh types `data` as `any` by default so untyped routes can read it freely.
// deno-lint-ignore no-explicit-any
type AnyData = any;

/** Request context handed to handlers and middlewares. */
export interface FreshContext<
  State = Record<string, unknown>,
  Data = AnyData,
> {
  /** The incoming request. */
  req: Request;
  /** The request URL, parsed. */
  url: URL;
  /** Route parameters (`[id]` → `params.id`, `[...rest]` → `params.rest`). */
  params: Record<string, string>;
  /** Per-request state shared by middlewares, handlers and pages. */
  state: State;
  /** The route pattern that matched, e.g. `/users/:id`. */
  route: string;
  /** Render the route's page component with `data`. */
  render(data?: Data, init?: ResponseInit): Promise<Response>;
  /** Render `routes/_404.tsx` with status 404. */
  renderNotFound(data?: Data): Promise<Response>;
  /** Middleware only: run the rest of the chain and return its response. */
  next(): Promise<Response>;
}

/** A request handler of a route or middleware. */
export type Handler<Data = AnyData, State = Record<string, unknown>> = (
  req: Request,
  ctx: FreshContext<State, Data>,
) => Response | Promise<Response>;

/** Per-method handlers of a route. Methods left out answer 405. */
export interface Handlers<Data = AnyData, State = Record<string, unknown>> {
  GET?: Handler<Data, State>;
  POST?: Handler<Data, State>;
  PUT?: Handler<Data, State>;
  PATCH?: Handler<Data, State>;
  DELETE?: Handler<Data, State>;
  HEAD?: Handler<Data, State>;
}

/** A `_middleware.ts` handler: call `ctx.next()` to continue the chain. */
export type MiddlewareHandler<State = Record<string, unknown>> = (
  req: Request,
  ctx: FreshContext<State>,
) => Response | Promise<Response>;

/** Props of a page component. */
export interface PageProps<Data = AnyData, State = Record<string, unknown>> {
  url: URL;
  params: Record<string, string>;
  data: Data;
  state: State;
  route: string;
}

/** Props of `routes/_app.tsx`: render the page as `<Component />`. */
export interface AppProps<Data = AnyData, State = Record<string, unknown>> extends PageProps<Data, State> {
  Component: ComponentType;
}

/** Props of a `_layout.tsx`: render the inner content as `<Component />`. */
export type LayoutProps<Data = AnyData, State = Record<string, unknown>> = AppProps<Data, State>;

/** Props of `routes/_500.tsx` (and `_404.tsx`, where `error` is undefined). */
export interface ErrorPageProps<Data = AnyData, State = Record<string, unknown>> extends PageProps<Data, State> {
  error: unknown;
}

/** Exported as `config` from a route or layout module. */
export interface RouteConfig {
  /** Hono path pattern used instead of the file-derived one. */
  routeOverride?: string;
  /** Do not wrap this route (or layout) in `_app.tsx`. */
  skipAppWrapper?: boolean;
  /** Ignore layouts of parent folders. */
  skipInheritedLayouts?: boolean;
}

/** The shape of any module listed in a manifest. */
export interface ManifestModule {
  default?: unknown;
  handler?: unknown;
  config?: RouteConfig;
  /** Who may use the route: the app's `authorize` hook reads it (the runtime gives it no meaning). */
  access?: unknown;
}

/** The generated `fresh.gen.ts` manifest (Fresh 1.x shape). */
export interface Manifest {
  /** `"./routes/…"` → route module. */
  routes: Record<string, ManifestModule>;
  /** `"./islands/…"` → island module (its default export is the island). */
  islands: Record<string, ManifestModule>;
  /** `import.meta.url` of `fresh.gen.ts`; manifest keys resolve against it. */
  baseUrl: string;
}
