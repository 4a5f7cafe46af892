/**
 * The one place the access tests make a page sign-in cookie for a user. The dev sign-in cookie is
 * the bare user id today; when its format changes (signed cookie, server-side session), change this
 * function only (it is async and gets the app's services so a signature or a KV session fits).
 */
import { DEV_LOGIN_COOKIE } from "../../lib/auth/principal.ts";
import type { Services } from "../../lib/services.ts";

/** A Cookie header value signing `userId` in to the pages. */
export function signInCookie(_services: Services, userId: string): Promise<string> {
  return Promise.resolve(`${DEV_LOGIN_COOKIE}=${encodeURIComponent(userId)}`);
}
