/**
 * Serves files from the app's `static/` folder. Misses fall through to the
 * next handler so routes still see the request.
 * @module
 */
import type { MiddlewareHandler } from "hono";

const TYPES: Record<string, string> = {
  css: "text/css; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  gif: "image/gif",
  html: "text/html; charset=utf-8",
  ico: "image/x-icon",
  jpeg: "image/jpeg",
  jpg: "image/jpeg",
  js: "text/javascript; charset=utf-8",
  json: "application/json",
  map: "application/json",
  mjs: "text/javascript; charset=utf-8",
  pdf: "application/pdf",
  png: "image/png",
  svg: "image/svg+xml",
  txt: "text/plain; charset=utf-8",
  webmanifest: "application/manifest+json",
  webp: "image/webp",
  woff: "font/woff",
  woff2: "font/woff2",
  xml: "application/xml",
};

/** Content type for a file name, by extension. */
export function contentType(name: string): string {
  const ext = name.slice(name.lastIndexOf(".") + 1).toLowerCase();
  return TYPES[ext] ?? "application/octet-stream";
}

/** Hono middleware serving GET/HEAD requests from `dir` (a folder URL). */
export function serveStaticDir(dir: URL): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") return next();
    let path: string;
    try {
      path = decodeURIComponent(c.req.path);
    } catch {
      return next();
    }
    if (path.includes("\0") || path.split("/").includes("..")) return next();
    const file = new URL(`.${path}`, dir);
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(file);
    } catch {
      return next();
    }
    if (!info.isFile) return next();
    const etag = `W/"${info.size.toString(36)}-${(info.mtime?.getTime() ?? 0).toString(36)}"`;
    const headers = { etag, "content-type": contentType(path) };
    if (c.req.header("if-none-match") === etag) {
      return new Response(null, { status: 304, headers });
    }
    return new Response(await Deno.readFile(file), { headers });
  };
}
