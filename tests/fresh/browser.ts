/**
 * Headless Chromium for page tests, driven by playwright-core.
 * @module
 */
import { type Browser, chromium } from "playwright-core";

/** Flags that keep Chromium quiet and offline in CI containers. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Path of the Chromium binary: `CHROMIUM_PATH` or `/usr/bin/chromium`. */
export function chromiumPath(): string {
  return Deno.env.get("CHROMIUM_PATH") || "/usr/bin/chromium";
}

/**
 * Launch headless Chromium. Throws (never skips) when the binary is missing:
 * `chromium not found at <path>; install Debian package chromium`.
 */
export async function launchBrowser(): Promise<Browser> {
  const path = chromiumPath();
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new Deno.errors.NotFound(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    throw new Error(`chromium not found at ${path}; install Debian package chromium`);
  }
  return await chromium.launch({ executablePath: path, args: CHROMIUM_ARGS });
}
