import { completeOidcSignIn, OidcError, STATE_COOKIE } from "../../lib/auth/oidc.ts";
import { readCookie } from "../../lib/auth/principal.ts";
import { type PageState, sessionIdOf } from "../../lib/auth/page_user.ts";
import { sessionCookie, sessionSettings } from "../../lib/auth/sessions.ts";
import { type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { services } from "../../lib/services.ts";

interface Data {
  problem: string;
}

/** The identity provider's redirect back: a new page session, or a page saying why not. */
export const handler: Handlers<Data, PageState> = {
  async GET(req, ctx) {
    const s = services();
    if (!s.config.oidc) return ctx.renderNotFound();
    try {
      const { sessionId, next } = await completeOidcSignIn(s.kv, s.config.oidc, {
        query: ctx.url.searchParams,
        stateCookie: readCookie(req.headers.get("cookie"), STATE_COOKIE),
        replacing: sessionIdOf(req),
        absoluteMs: sessionSettings(s.config).absoluteMs,
      });
      const headers = new Headers({ location: next });
      headers.append("set-cookie", sessionCookie(sessionId, ctx.url));
      headers.append("set-cookie", `${STATE_COOKIE}=; Path=/auth; HttpOnly; SameSite=Lax; Max-Age=0`);
      return new Response(null, { status: 303, headers });
    } catch (err) {
      if (!(err instanceof OidcError)) throw err;
      return ctx.render({ problem: err.message }, { status: err.status });
    }
  },
};

/** Why the sign-in did not work, with a way to start again. */
export default function SignInProblem({ data }: PageProps<Data, PageState>) {
  return (
    <>
      <Head>
        <title>Sign-in did not work</title>
      </Head>
      <h1 class="mb-2 text-2xl font-bold">Sign-in did not work</h1>
      <p role="alert" class="mb-4 text-red-800">{data.problem}</p>
      <a href="/auth/sign-in" class="font-semibold text-blue-800 underline">Sign in again</a>
    </>
  );
}
