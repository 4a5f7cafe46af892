/** Calling pages in process as a browser would: GETs and same-origin form posts, with a page session cookie. */
import { createPageSession, SESSION_COOKIE } from "../lib/auth/sessions.ts";
import type { TestApp } from "./app_fixture.ts";

/** The origin page requests are made on. */
export const PAGE_BASE = "http://test";

/**
 * The one way tests sign a user in without the form: a dev page session in KV (as the dev sign-in
 * page makes it), returned as a `Cookie` header value `tb_session=<id>`.
 */
export async function devSignInCookie(kv: Deno.Kv, userId: string): Promise<string> {
  return `${SESSION_COOKIE}=${await createPageSession(kv, userId, { via: "dev", absoluteMs: 86_400_000 })}`;
}

/** The dev sign-in cookie of the user with `email`. */
export async function devCookie(t: TestApp, email: string): Promise<string> {
  return await devSignInCookie(t.services.kv, (await t.services.kv.get<string>(["users_by_email", email])).value!);
}

/** GET `path` (optionally signed in); the response and its text. */
export async function getPage(t: TestApp, path: string, cookie?: string): Promise<{ res: Response; text: string }> {
  const res = await t.app.fetch(new Request(`${PAGE_BASE}${path}`, { headers: cookie ? { cookie } : {} }));
  return { res, text: await res.text() };
}

/** POST a form to `path` from this site, signed in with `cookie`. */
export async function postForm(
  t: TestApp,
  path: string,
  cookie: string,
  fields: Record<string, string>,
): Promise<{ res: Response; text: string }> {
  const res = await t.app.fetch(
    new Request(`${PAGE_BASE}${path}`, {
      method: "POST",
      headers: { cookie, origin: PAGE_BASE, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    }),
  );
  return { res, text: await res.text() };
}

/** A `tb_session=<id>` header value as a Playwright cookie for `url`. */
export function sessionCookieOf(header: string, url: string): { name: string; value: string; url: string } {
  const at = header.indexOf("=");
  return { name: header.slice(0, at), value: header.slice(at + 1), url };
}
