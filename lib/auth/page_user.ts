/** The signed-in user of a page request (a page session cookie). */
import type { User } from "../domain/user.ts";
import type { Services } from "../services.ts";
import { readCookie } from "./principal.ts";
import { resolvePageSession, SESSION_COOKIE, sessionSettings } from "./sessions.ts";

/** State every page gets from `routes/_middleware.ts`. */
export interface PageState {
  user: User | null;
  devLogin: boolean;
  /** True when OpenID Connect sign-in is configured. */
  sso: boolean;
}

/** The session id the request's cookie carries (unchecked), or null. */
export function sessionIdOf(req: Request): string | null {
  return readCookie(req.headers.get("cookie"), SESSION_COOKIE);
}

/** Reads the page user from the request's session cookie (null when signed out or the session ended). */
export async function pageUser(s: Services, req: Request): Promise<User | null> {
  const found = await resolvePageSession(s.kv, sessionIdOf(req), sessionSettings(s.config));
  return found?.user ?? null;
}

/** Only same-site relative paths are followed after signing in: never an open redirect. */
export function safeNext(value: string | null): string {
  return value && /^\/(?!\/)[\w\-./?=&%]*$/.test(value) ? value : "/";
}
