import { type AccessRule, PUBLIC } from "../lib/access/matrix.ts";
/**
 * The offline service worker (scope "/"): network-first for My schedule and the learner's session
 * and booking pages; when the network fails it answers with the last saved copy, marked with a
 * notice saying it is saved data and from when. Registered by /me/schedule.
 */
import type { Handlers } from "../lib/fresh/mod.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = PUBLIC;

const SW = `"use strict";
const CACHE = "tb-pages-v1";
const KEEP = /^\\/(me\\/schedule|sessions\\/[\\w-]+|bookings\\/[\\w-]+)$/;
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));
function keyOf(url) { const u = new URL(url, location.origin); return u.origin === location.origin && KEEP.test(u.pathname) ? u.origin + u.pathname : null; }
async function save(key, res) {
  if (res.status !== 200 || !(res.headers.get("content-type") || "").includes("text/html")) return;
  const headers = new Headers(res.headers);
  headers.set("x-saved-at", new Date().toISOString());
  const c = await caches.open(CACHE);
  await c.put(key, new Response(await res.clone().blob(), { status: 200, headers }));
}
async function saved(key) {
  const hit = await (await caches.open(CACHE)).match(key);
  if (!hit) return Response.error();
  const at = new Date(hit.headers.get("x-saved-at") || Date.now());
  const hhmm = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const what = key.endsWith("/me/schedule") ? "your schedule" : "this page";
  const note = '<p role="status" data-testid="offline-note" style="border:2px solid #b45309;background:#fffbeb;' +
    'color:#111827;border-radius:.5rem;padding:.75rem;margin-bottom:1rem">You\\'re offline: showing ' + what +
    " as of " + hhmm + ". Changes need a connection.</p>";
  const html = (await hit.text()).replace(/(<main\\b[^>]*>)/, "$1" + note);
  const headers = new Headers(hit.headers);
  headers.delete("content-length");
  return new Response(html, { status: 200, headers });
}
self.addEventListener("fetch", (e) => {
  const r = e.request;
  const key = r.method === "GET" && r.mode === "navigate" ? keyOf(r.url) : null;
  if (!key) return;
  e.respondWith(fetch(r).then((res) => { e.waitUntil(save(key, res.clone())); return res; }, () => saved(key)));
});
self.addEventListener("message", (e) => {
  if (e.data && e.data.clear) return e.waitUntil(caches.delete(CACHE));
  const keep = (e.data && Array.isArray(e.data.keep) ? e.data.keep : []).slice(0, 40);
  e.waitUntil(Promise.all(keep.map((href) => {
    const key = keyOf(href);
    return key ? fetch(key, { credentials: "same-origin" }).then((res) => save(key, res)).catch(() => {}) : null;
  })));
});
`;

/** Served from the root so it may control every page; never cached by HTTP so updates land. */
export const handler: Handlers = {
  GET() {
    return new Response(SW, {
      headers: {
        "content-type": "text/javascript; charset=utf-8",
        "cache-control": "no-cache",
        "service-worker-allowed": "/",
      },
    });
  },
};
