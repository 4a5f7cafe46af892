/**
 * Builds the fixture app the way a real `main.ts` would: a Hono app with
 * its own routes registered first, then `registerFresh`.
 * @module
 */
import { Hono } from "hono";
import { type FreshOptions, registerFresh } from "../../lib/fresh/mod.ts";
import manifest from "./fixture/fresh.gen.ts";

export { manifest };

/** The fixture app plus its build id. `/health` is the caller's own route. */
export async function createFixtureApp(
  options: FreshOptions = {},
): Promise<{ app: Hono; buildId: string }> {
  const app = new Hono();
  app.get("/health", (c) => c.text("ok"));
  const { buildId } = await registerFresh(app, manifest, {
    dev: false,
    ...options,
  });
  return { app, buildId };
}

/** GET (or another method) a path on `app` and return status, headers, text. */
export async function fetchPage(
  app: Hono,
  path: string,
  init?: RequestInit,
): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await app.fetch(new Request(`http://localhost${path}`, init));
  return { status: res.status, headers: res.headers, text: await res.text() };
}
