/**
 * Drives a sign-in through the test provider without a browser: the app is called in process
 * (origin http://test), the provider over loopback with a cookie jar, as a browser would.
 */
import type { TestApp } from "../app_fixture.ts";
import { startTestApp } from "../app_fixture.ts";
import { startTestProvider, TEST_CLIENT, TEST_ROLE_MAP, type TestProvider } from "./provider.ts";

/** The in-process app's origin. */
export const APP = "http://test";

/** The app with OIDC pointed at a running test provider. */
export interface OidcRig {
  t: TestApp;
  provider: TestProvider;
  close(): Promise<void>;
}

/** Starts the provider and the app (extra env, e.g. OIDC_JIT=0); registers `origins` (default the in-process one). */
export async function startOidcRig(
  env: Record<string, string> = {},
  options: { serve?: boolean } = {},
): Promise<OidcRig> {
  const provider = await startTestProvider();
  const t = await startTestApp({
    serve: options.serve,
    env: {
      OIDC_ISSUER: provider.issuer,
      OIDC_CLIENT_ID: TEST_CLIENT.id,
      OIDC_CLIENT_SECRET: TEST_CLIENT.secret,
      OIDC_ROLE_MAP: TEST_ROLE_MAP,
      OIDC_DEALER_CLAIM: "dealer",
      ...env,
    },
  });
  provider.register(options.serve ? [APP, t.baseUrl] : [APP]);
  return {
    t,
    provider,
    async close() {
      await t.close();
      await provider.close();
    },
  };
}

/** Cookies of one site, as a browser keeps them (name → value). */
export class Jar {
  readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  take(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(";");
      const at = pair.indexOf("=");
      const name = pair.slice(0, at).trim();
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) ||
        attrs.some((a) => /expires=thu, 01 jan 1970/i.test(a));
      if (gone) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(at + 1).trim());
    }
  }
}

/** Calls the in-process app as the browser with `jar`. */
export async function appGet(t: TestApp, jar: Jar, pathOrUrl: string): Promise<Response> {
  const res = await t.app.fetch(
    new Request(new URL(pathOrUrl, APP), { headers: { cookie: jar.header() }, redirect: "manual" }),
  );
  jar.take(res);
  return res;
}

/** Submits the provider's end-session form (as its page script does); returns where it sends the browser. */
export async function confirmEndSession(providerJar: Jar, endSessionUrl: string): Promise<string> {
  const page = await providerFetch(providerJar, endSessionUrl);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`end-session answered ${page.status}: ${html.slice(0, 300)}`);
  const action = new URL(/action="([^"]+)"/.exec(html)![1], endSessionUrl).toString();
  const fields: Record<string, string> = { logout: "yes" };
  for (const m of html.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)"/g)) fields[m[1]] = m[2];
  const done = await providerFetch(providerJar, action, fields);
  await done.body?.cancel();
  return new URL(done.headers.get("location")!, action).toString();
}

async function providerFetch(jar: Jar, url: string, form?: Record<string, string>): Promise<Response> {
  const res = await fetch(url, {
    method: form ? "POST" : "GET",
    redirect: "manual",
    headers: {
      cookie: jar.header(),
      ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
    },
    body: form ? new URLSearchParams(form) : undefined,
  });
  jar.take(res);
  return res;
}

/**
 * From the provider's authorization URL to the app's callback URL (with code and state), logging
 * in as `login` and consenting. Returns the callback URL without calling the app.
 */
export async function authorizeAtProvider(providerJar: Jar, authorizationUrl: string, login: string): Promise<string> {
  let url = authorizationUrl;
  for (let hop = 0; hop < 12; hop++) {
    if (url.startsWith(APP)) return url;
    const res = await providerFetch(providerJar, url);
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get("location")!, url).toString();
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`provider answered ${res.status}: ${html.slice(0, 300)}`);
    const action = new URL(/action="([^"]+)"/.exec(html)![1], url).toString();
    const prompt = /name="prompt" value="(\w+)"/.exec(html)![1];
    const post = await providerFetch(
      providerJar,
      action,
      prompt === "login" ? { prompt, login, password: "any" } : { prompt },
    );
    url = new URL(post.headers.get("location")!, action).toString();
    await post.body?.cancel();
  }
  throw new Error("too many redirects at the provider");
}

/** A full sign-in as `login`: app → provider → app callback. Returns the callback's response. */
export async function signInAs(
  t: TestApp,
  appJar: Jar,
  login: string,
  next = "/me/schedule",
  providerJar = new Jar(),
): Promise<{ res: Response; callbackUrl: string }> {
  const start = await appGet(t, appJar, `/auth/sign-in?next=${encodeURIComponent(next)}`);
  if (start.status !== 303) throw new Error(`sign-in answered ${start.status}: ${await start.text()}`);
  const callbackUrl = await authorizeAtProvider(providerJar, start.headers.get("location")!, login);
  return { res: await appGet(t, appJar, callbackUrl), callbackUrl };
}

/** Entries under each of these key prefixes (to show nothing was written). */
export async function countKeys(kv: Deno.Kv, prefixes: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const p of prefixes) {
    out[p] = 0;
    for await (const _ of kv.list({ prefix: [p] })) out[p]++;
  }
  return out;
}
