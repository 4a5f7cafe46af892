/** Who may not use an admin-only page, and what they get instead. */
import type { PageState } from "../../lib/auth/page_user.ts";
import type { FreshContext } from "../../lib/fresh/mod.ts";
import { sameOrigin, signInHref } from "../Journey.tsx";

/**
 * With `post` (a form post): a cross-site one is refused (403). Then, signed out: sign in first, then back
 * to `here` (or 404 without dev sign-in or single sign-on); signed in without the admin role: the page
 * rendered with `forbidden` and 403. Null for an admin.
 */
export function adminRefusal<D>(
  ctx: FreshContext<PageState, D>,
  here: string,
  forbidden: D,
  post?: Request,
): Promise<Response> | Response | null {
  if (post && (!sameOrigin(post, ctx.url) || post.headers.get("sec-fetch-site") === "cross-site")) {
    return new Response("Cross-site form refused.", { status: 403 });
  }
  const user = ctx.state.user;
  if (!user) {
    return ctx.state.devLogin || ctx.state.sso
      ? new Response(null, { status: 303, headers: { location: signInHref(here) } })
      : ctx.renderNotFound();
  }
  if (!user.roles.includes("admin")) return ctx.render(forbidden, { status: 403 });
  return null;
}
