/** Calling pages in process as a browser would: GETs and same-origin form posts, with a dev sign-in cookie. */
import type { TestApp } from "./app_fixture.ts";

/** The origin page requests are made on. */
export const PAGE_BASE = "http://test";

/** The dev sign-in cookie of the user with `email`. */
export async function devCookie(t: TestApp, email: string): Promise<string> {
  return `tb_dev_user=${(await t.services.kv.get<string>(["users_by_email", email])).value!}`;
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
