/**
 * A small Fresh-1.x-compatible island runtime on Hono, Preact and twind.
 * Swapping in real Fresh should mean deleting this folder and little else.
 * @module
 */
export type {
  AppProps,
  ErrorPageProps,
  FreshContext,
  Handler,
  Handlers,
  LayoutProps,
  Manifest,
  MiddlewareHandler,
  PageProps,
  RouteConfig,
} from "./types.ts";
export { Head } from "./head.tsx";
export { IS_BROWSER } from "./is_browser.ts";
export { type AuthorizedRoute, type FreshOptions, registerFresh } from "./server.ts";
export { checkManifestFresh, generateManifest, writeManifestIfChanged } from "./manifest.ts";
export { type AssetDeps, buildAssets, type BuiltAssets, writeAssets } from "./bundle.ts";
