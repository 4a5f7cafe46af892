/**
 * The one place the access tests make a page sign-in cookie for a user: a dev sign-in session
 * (server-side, like every page session).
 */
import type { Services } from "../../lib/services.ts";
import { devSignInCookie } from "../page_client.ts";

/** A Cookie header value signing `userId` in to the pages. */
export function signInCookie(services: Services, userId: string): Promise<string> {
  return devSignInCookie(services.kv, userId);
}
