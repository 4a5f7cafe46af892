/**
 * The access matrix for pages: every file route exports `access` (see lib/access/matrix.ts); the
 * island runtime calls {@link authorizePage} before the route's handler (wired in lib/app.ts), so
 * the rule is enforced in this one place. Per-object reach (whose hold, whose booking) stays with
 * the page, which answers 404 for someone else's things (no hint that they exist).
 */
import type { User } from "../domain/user.ts";
import { type Access, decide } from "./matrix.ts";

/** Route files that are not pages (app wrapper, layouts, middlewares, error pages). */
export function isSpecialRoute(key: string): boolean {
  return /(^|\/)_[^/]*$/.test(key.replace(/\.[jt]sx?$/, ""));
}

/** The route keys of a manifest that declare no `access` (empty when every page has one). */
export function undeclaredPages(routes: Record<string, object>): string[] {
  return Object.entries(routes)
    .filter(([key, m]) => !isSpecialRoute(key) && (m as { access?: unknown }).access === undefined)
    .map(([k]) => k);
}

/** What the page hook needs from the app. */
export interface PageAuthContext {
  user: User | null;
  /** Where to send a signed-out visitor (null: no sign-in offered, answer 401). */
  signInHref: ((next: string) => string) | null;
  url: URL;
}

const page = (title: string, text: string) =>
  `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body><main><h1>${title}</h1><p>${text}</p><p><a href="/">All sessions</a></p></main></body></html>`;

/** Null when the visitor may use the page; otherwise the answer: 303 to sign in, 401 or 403. */
export function authorizePage(access: Access, ctx: PageAuthContext): Response | null {
  const decision = decide(access, ctx.user ? ctx.user.roles : null);
  if (decision === "allow") return null;
  const html = { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" };
  if (decision === "unauthenticated") {
    if (ctx.signInHref) {
      return new Response(null, {
        status: 303,
        headers: { location: ctx.signInHref(ctx.url.pathname + ctx.url.search) },
      });
    }
    return new Response(page("Sign in first", "This page needs you to be signed in."), { status: 401, headers: html });
  }
  return new Response(
    page("Not available to you", "Your account does not have access to this page."),
    { status: 403, headers: html },
  );
}
