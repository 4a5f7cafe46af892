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

/**
 * The file under `root` (a real, symlink-free folder path) that a request's raw URL path names, or
 * null when it names nothing servable. The path is percent-decoded exactly once; anything still
 * encoded (`%` after decoding), a NUL, a backslash, an empty, `.` or `..` segment is refused. The
 * caller still resolves symlinks and compares the real path with the root.
 */
export function staticFilePath(root: string, rawPath: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return null;
  }
  if (!path.startsWith("/") || /[\0\\%]/.test(path)) return null;
  const segments = path.slice(1).split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..")) return null;
  return `${root}/${segments.join("/")}`;
}

/**
 * Hono middleware serving GET/HEAD requests from `dir` (a folder URL). Only regular files whose
 * real path (symlinks resolved) lies inside the folder's real path are served; every other request
 * falls through to the next handler.
 */
export function serveStaticDir(dir: URL): MiddlewareHandler {
  let rootReal: Promise<string | null> | null = null;
  return async (c, next) => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") return next();
    rootReal ??= Deno.realPath(dir).then((p) => p.replace(/\/+$/, ""), () => null);
    const root = await rootReal;
    // The raw path (Hono's `c.req.path` is already decoded once).
    const candidate = root && staticFilePath(root, new URL(c.req.url).pathname);
    if (!candidate) return next();
    let file: string;
    let info: Deno.FileInfo;
    try {
      file = await Deno.realPath(candidate);
      info = await Deno.stat(file);
    } catch {
      return next();
    }
    if (!file.startsWith(`${root}/`) || !info.isFile) return next();
    const etag = `W/"${info.size.toString(36)}-${(info.mtime?.getTime() ?? 0).toString(36)}"`;
    const headers = { etag, "content-type": contentType(file) };
    if (c.req.header("if-none-match") === etag) {
      return new Response(null, { status: 304, headers });
    }
    return new Response(c.req.method === "HEAD" ? null : await Deno.readFile(file), { headers });
  };
}
