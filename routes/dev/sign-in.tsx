import { type AccessRule, PUBLIC } from "../../lib/access/matrix.ts";
import { devLoginCookie, type PageState } from "../../lib/auth/page_user.ts";
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

/** Only same-site relative paths: never an open redirect. */
function safeNext(value: string | null): string {
  return value && /^\/(?!\/)[\w\-./?=&%]*$/.test(value) ? value : "/";
}

async function demoUsers(): Promise<User[]> {
  const kv = services().kv;
  const found = await Promise.all(Object.values(DEMO_EMAILS).map((e) => getUserByEmail(kv, e)));
  return found.filter((u): u is User => !!u);
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
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
    const secure = ctx.url.protocol === "https:";
    if (form.get("action") === "sign-out") {
      return new Response(null, {
        status: 303,
        headers: { location: "/", "set-cookie": devLoginCookie(null, secure) },
      });
    }
    const email = String(form.get("email") ?? "").trim().toLowerCase().slice(0, 200);
    const user = email ? await getUserByEmail(services().kv, email) : null;
    if (!user) {
      if (email) {
        const verdict = await recordAuthFailure(services().kv, "dev_sign_in", clientOf(req));
        if (verdict.retryAfterS !== null) return tooManyFailures(verdict.retryAfterS, "html");
      }
      const problem = email ? `No one with the email ${email} is registered.` : "Enter an email address.";
      return ctx.render({ demo: await demoUsers(), email, problem, next }, { status: 422 });
    }
    return new Response(null, {
      status: 303,
      headers: { location: next, "set-cookie": devLoginCookie(user.id, secure) },
    });
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
        This development sign-in trusts whatever email you pick. It exists only while <code>DEV_LOGIN=1</code>.
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
