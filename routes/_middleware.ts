import type { PageState } from "../lib/auth/page_user.ts";
import { pageUser } from "../lib/auth/page_user.ts";
import type { MiddlewareHandler } from "../lib/fresh/mod.ts";
import { services } from "../lib/services.ts";

/** Resolves the signed-in user (page session cookie) for every page. */
export const handler: MiddlewareHandler<PageState> = async (req, ctx) => {
  const s = services();
  ctx.state.devLogin = s.config.devLogin;
  ctx.state.sso = s.config.oidc !== null;
  ctx.state.user = await pageUser(s, req);
  return await ctx.next();
};
