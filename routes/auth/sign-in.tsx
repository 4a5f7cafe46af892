import { beginOidcSignIn, OidcError, STATE_COOKIE } from "../../lib/auth/oidc.ts";
import { isLoopbackHost } from "../../lib/auth/sessions.ts";
import { safeNext } from "../../lib/auth/page_user.ts";
import type { PageState } from "../../lib/auth/page_user.ts";
import { type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { services } from "../../lib/services.ts";

interface Data {
  problem: string;
}

/** Sends the browser to the identity provider (`?next=` is where it lands after signing in). */
export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const s = services();
    if (!s.config.oidc) return ctx.renderNotFound();
    try {
      const { url, state } = await beginOidcSignIn(s.kv, s.config.oidc, {
        origin: ctx.url.origin,
        next: safeNext(ctx.url.searchParams.get("next")),
      });
      const secure = isLoopbackHost(ctx.url.hostname) ? "" : "; Secure";
      return new Response(null, {
        status: 303,
        headers: {
          location: url,
          "set-cookie": `${STATE_COOKIE}=${state}; Path=/auth; HttpOnly; SameSite=Lax; Max-Age=600${secure}`,
        },
      });
    } catch (err) {
      if (!(err instanceof OidcError)) throw err;
      return ctx.render({ problem: err.message }, { status: err.status });
    }
  },
};

/** Shown only when the identity provider cannot be reached. */
export default function SignIn({ data }: PageProps<Data, PageState>) {
  return (
    <>
      <Head>
        <title>Sign in</title>
      </Head>
      <h1 class="mb-2 text-2xl font-bold">Sign in</h1>
      <p role="alert" class="text-red-800">{data.problem}</p>
    </>
  );
}
