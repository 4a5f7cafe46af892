/**
 * Who is calling: an API token's user, the bootstrap ADMIN_TOKEN, or the user of a page session
 * (signed in through OpenID Connect or, when DEV_LOGIN is on, the dev sign-in page).
 */
import type { Role, User } from "../domain/user.ts";
import { TtlCache } from "../store/ttl_cache.ts";
import { timingSafeEqual } from "../hash.ts";
import { findUserByToken } from "./tokens.ts";
import { resolvePageSession, SESSION_COOKIE, type SessionSettings } from "./sessions.ts";

/**
 * How long a token's user is reused without reading KV. This is the bound, on EVERY instance, for
 * a revoked token or a changed role (made through any instance) to take effect: each process
 * caches for at most this long after its own read, then reads KV again. Saves a read (two for a
 * token minted before tokens named their user) and a hash on most API calls. Bounded in size too
 * (20 000 tokens per store handle).
 */
export const TOKEN_CACHE_MS = 5_000;
const tokenCaches = new WeakMap<Deno.Kv, TtlCache<User | null>>();
const cacheClocks = new WeakMap<Deno.Kv, () => number>();

/** Sets the clock of the token cache of this store handle (tests move it instead of sleeping). */
export function useTokenCacheClock(kv: Deno.Kv, now: () => number): void {
  cacheClocks.set(kv, now);
  tokenCaches.delete(kv);
}

function cachedUserByToken(kv: Deno.Kv, token: string): Promise<User | null> {
  let cache = tokenCaches.get(kv);
  if (!cache) {
    tokenCaches.set(kv, cache = new TtlCache<User | null>(TOKEN_CACHE_MS, 20_000, cacheClocks.get(kv) ?? Date.now));
  }
  return cache.get(token, () => findUserByToken(kv, token));
}

/** The authenticated caller. `user` is null only for the bootstrap admin credential. */
export interface Principal {
  userId: string | null;
  user: User | null;
  roles: readonly Role[];
  /** `session`: a page session cookie (ambient: its writes need the same-origin check). */
  via: "token" | "admin_token" | "session";
}

/** Settings principal resolution needs. */
export interface AuthSettings {
  adminToken: string | null;
  sessions: SessionSettings;
}

/** Why a presented credential was refused (null: none was presented). */
export type AuthFailure = "invalid_token" | null;

function bearer(header: string | null): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : "";
}

/** Reads one cookie from a Cookie header; a value that is not valid percent-encoding counts as absent. */
export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k !== name) continue;
    try {
      return decodeURIComponent(v.join("="));
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * Resolves the caller of a request. A Bearer header, when present, decides alone (a bad one is
 * refused even if a session cookie is also sent). A deactivated user is nobody.
 */
export async function resolvePrincipal(
  kv: Deno.Kv,
  headers: Headers,
  settings: AuthSettings,
): Promise<{ principal: Principal | null; failure: AuthFailure }> {
  const token = bearer(headers.get("authorization"));
  if (token !== null) {
    if (settings.adminToken && timingSafeEqual(token, settings.adminToken)) {
      return { principal: { userId: null, user: null, roles: ["admin"], via: "admin_token" }, failure: null };
    }
    const user = token ? await cachedUserByToken(kv, token) : null;
    if (!user || user.active === false) return { principal: null, failure: "invalid_token" };
    return { principal: { userId: user.id, user, roles: user.roles, via: "token" }, failure: null };
  }
  const found = await resolvePageSession(kv, readCookie(headers.get("cookie"), SESSION_COOKIE), settings.sessions);
  if (found) {
    const user = found.user;
    return { principal: { userId: user.id, user, roles: user.roles, via: "session" }, failure: null };
  }
  return { principal: null, failure: null };
}

/** True when the principal has any of the roles. */
export function hasAnyRole(principal: Principal, ...roles: Role[]): boolean {
  return principal.roles.some((r) => roles.includes(r));
}
