import { endSessionUrl } from "../../lib/auth/oidc.ts";
import { type PageState, sessionIdOf } from "../../lib/auth/page_user.ts";
import { sessionCookie, signOut } from "../../lib/auth/sessions.ts";
import type { Handlers } from "../../lib/fresh/mod.ts";
import { services } from "../../lib/services.ts";

/**
 * POST (same-origin only): ends this page session, or with `everywhere=1` every session of the
 * user, then goes through the provider's end-session endpoint when signed in with it.
 */
export const handler: Handlers<unknown, PageState> = {
  async POST(req, ctx) {
    const origin = req.headers.get("origin");
    const site = req.headers.get("sec-fetch-site");
    if ((origin && origin !== ctx.url.origin) || (site && site !== "same-origin" && site !== "none")) {
      return new Response("Cross-site sign-out refused.", { status: 403 });
    }
    const s = services();
    const form = await req.formData().catch(() => new FormData());
    const ended = await signOut(s.kv, sessionIdOf(req), { everywhere: form.get("everywhere") === "1" });
    const location = ended === "oidc" && s.config.oidc ? await endSessionUrl(s.config.oidc, ctx.url.origin) : "/";
    return new Response(null, { status: 303, headers: { location, "set-cookie": sessionCookie(null, ctx.url) } });
  },
};
