/** Who may not use an admin-only page, and what they get instead. */
import type { PageState } from "../../lib/auth/page_user.ts";
import type { FreshContext } from "../../lib/fresh/mod.ts";
import { signInHref } from "../Journey.tsx";

/**
 * Signed out: sign in first, then back to `here` (or 404 without dev sign-in or single sign-on); signed in
 * without the admin role: the page rendered with `forbidden` and 403. Null for an admin.
 */
export function adminRefusal<D>(
  ctx: FreshContext<PageState, D>,
  here: string,
  forbidden: D,
): Promise<Response> | Response | null {
  const user = ctx.state.user;
  if (!user) {
    return ctx.state.devLogin || ctx.state.sso
      ? new Response(null, { status: 303, headers: { location: signInHref(here) } })
      : ctx.renderNotFound();
  }
  if (!user.roles.includes("admin")) return ctx.render(forbidden, { status: 403 });
  return null;
}
