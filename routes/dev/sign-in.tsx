import { type PageState, safeNext, sessionIdOf } from "../../lib/auth/page_user.ts";
import { createPageSession, endPageSession, sessionCookie, sessionSettings } from "../../lib/auth/sessions.ts";
import { type AccessRule, PUBLIC } from "../../lib/access/matrix.ts";
import { DEMO_EMAILS } from "../../lib/seed/build_people.ts";
import { getUserByEmail } from "../../lib/store/mod.ts";
import { type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { services } from "../../lib/services.ts";
import { clientOf } from "../../lib/http/client_address.ts";
import { recordAuthFailure, tooManyFailures } from "../../lib/http/failure_limit.ts";
import type { User } from "../../lib/domain/user.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = PUBLIC;

interface Data {
  demo: User[];
  email: string;
  problem: string | null;
  next: string;
}

async function demoUsers(): Promise<User[]> {
  const kv = services().kv;
  const found = await Promise.all(Object.values(DEMO_EMAILS).map((e) => getUserByEmail(kv, e)));
  return found.filter((u): u is User => !!u);
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    if (!ctx.state.devLogin && ctx.state.sso) {
      const next = encodeURIComponent(safeNext(ctx.url.searchParams.get("next")));
      return new Response(null, { status: 303, headers: { location: `/auth/sign-in?next=${next}` } });
    }
    if (!ctx.state.devLogin) return ctx.renderNotFound();
    return ctx.render({
      demo: await demoUsers(),
      email: "",
      problem: null,
      next: safeNext(ctx.url.searchParams.get("next")),
    });
  },
  async POST(req, ctx) {
    if (!ctx.state.devLogin) return ctx.renderNotFound();
    const origin = req.headers.get("origin");
    if (origin && origin !== ctx.url.origin) return new Response("Cross-site sign-in refused.", { status: 403 });
    const form = await req.formData().catch(() => new FormData());
    const next = safeNext(String(form.get("next") ?? "/"));
    const s = services();
    if (form.get("action") === "sign-out") {
      await endPageSession(s.kv, sessionIdOf(req));
      return new Response(null, {
        status: 303,
        headers: { location: "/", "set-cookie": sessionCookie(null, ctx.url) },
      });
    }
    const email = String(form.get("email") ?? "").trim().toLowerCase().slice(0, 200);
    const user = email ? await getUserByEmail(s.kv, email) : null;
    if (!user || user.active === false) {
      if (email && !user) {
        const verdict = await recordAuthFailure(s.kv, "dev_sign_in", clientOf(req), s.config.authFailureLimit);
        if (verdict.retryAfterS !== null) return tooManyFailures(verdict.retryAfterS, "html");
      }
      const problem = !email
        ? "Enter an email address."
        : user
        ? `The account of ${email} is deactivated.`
        : `No one with the email ${email} is registered.`;
      return ctx.render({ demo: await demoUsers(), email, problem, next }, { status: 422 });
    }
    // A normal server-side session (marked "dev": refused once DEV_LOGIN is off); nothing to forge.
    const id = await createPageSession(s.kv, user.id, {
      via: "dev",
      replacing: sessionIdOf(req),
      absoluteMs: sessionSettings(s.config).absoluteMs,
    });
    return new Response(null, { status: 303, headers: { location: next, "set-cookie": sessionCookie(id, ctx.url) } });
  },
};

/** Dev sign-in: pick who you are (exists only when DEV_LOGIN=1). */
export default function DevSignIn({ data, state }: PageProps<Data, PageState>) {
  return (
    <>
      <Head>
        <title>Sign in (development)</title>
      </Head>
      <h1 class="mb-2 text-2xl font-bold">Sign in</h1>
      <p class="mb-4 text-gray-800">
        This development sign-in trusts whatever email you pick. It exists only while <code>DEV_LOGIN=1</code>{" "}
        and never in production.
      </p>
      {state.user && (
        <form method="post" class="mb-4">
          <p class="mb-2">
            You are signed in as <b>{state.user.name}</b> ({state.user.email}).
          </p>
          <input type="hidden" name="action" value="sign-out" />
          <button type="submit" class="rounded-lg border border-gray-500 px-4 py-3 font-semibold">Sign out</button>
        </form>
      )}
      {state.sso && (
        <p class="mb-4">
          <a href={`/auth/sign-in?next=${encodeURIComponent(data.next)}`} class="font-semibold text-blue-800 underline">
            Sign in with your company account
          </a>
        </p>
      )}
      <h2 class="mb-2 text-lg font-semibold">Demo people</h2>
      <ul class="mb-6 space-y-2">
        {data.demo.map((u) => (
          <li key={u.id}>
            <form method="post">
              <input type="hidden" name="email" value={u.email} />
              <input type="hidden" name="next" value={data.next} />
              <button
                type="submit"
                class="w-full rounded-lg border border-gray-400 px-4 py-3 text-left focus:outline-none focus:ring-4 focus:ring-blue-600"
              >
                <span class="font-semibold">{u.name}</span>{" "}
                <span class="text-gray-700">({u.roles.join(", ")}) {u.email}</span>
              </button>
            </form>
          </li>
        ))}
      </ul>
      <form method="post" class="space-y-2">
        <label for="email" class="block font-semibold">Or any registered email</label>
        <input
          id="email"
          name="email"
          type="email"
          required
          value={data.email}
          autocomplete="email"
          class="w-full rounded-lg border border-gray-500 px-3 py-3"
          aria-describedby={data.problem ? "email-problem" : undefined}
        />
        {data.problem && <p id="email-problem" role="alert" class="text-red-800">{data.problem}</p>}
        <input type="hidden" name="next" value={data.next} />
        <button type="submit" class="rounded-lg bg-blue-800 px-4 py-3 font-semibold text-white">Sign in</button>
      </form>
    </>
  );
}
