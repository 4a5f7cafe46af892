/** The signed-in user of a page request (pages use the dev sign-in cookie until the sign-in issue). */
import type { User } from "../domain/user.ts";
import type { Services } from "../services.ts";
import { DEV_LOGIN_COOKIE, resolvePrincipal } from "./principal.ts";

/** State every page gets from `routes/_middleware.ts`. */
export interface PageState {
  user: User | null;
  devLogin: boolean;
}

/** Reads the page user from the request's cookie (null when signed out or DEV_LOGIN is off). */
export async function pageUser(s: Services, req: Request): Promise<User | null> {
  if (!s.config.devLogin) return null;
  const cookieOnly = new Headers({ cookie: req.headers.get("cookie") ?? "" });
  const { principal } = await resolvePrincipal(s.kv, cookieOnly, { adminToken: null, devLogin: true });
  return principal?.user ?? null;
}

/** Set-Cookie value signing a user in (or out, with null). */
export function devLoginCookie(userId: string | null, secure: boolean): string {
  const attrs = ["Path=/", "HttpOnly", "SameSite=Lax", ...(secure ? ["Secure"] : [])];
  return userId
    ? `${DEV_LOGIN_COOKIE}=${encodeURIComponent(userId)}; ${attrs.join("; ")}; Max-Age=2592000`
    : `${DEV_LOGIN_COOKIE}=; ${attrs.join("; ")}; Max-Age=0`;
}
