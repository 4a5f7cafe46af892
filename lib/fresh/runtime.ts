/**
 * Browser-safe exports for islands and components that ship to the client
 * (the Fresh `$fresh/runtime.ts` equivalent). `mod.ts` re-exports these
 * too, but importing from here keeps server code out of island bundles.
 * @module
 */
export { Head } from "./head.tsx";
export { IS_BROWSER } from "./is_browser.ts";
