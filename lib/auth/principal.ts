/**
 * Who is calling: an API token's user, the bootstrap ADMIN_TOKEN, or (only when DEV_LOGIN is on)
 * the user picked on the dev sign-in page.
 */
import type { Role, User } from "../domain/user.ts";
import { keys } from "../store/keys.ts";
import { TtlCache } from "../store/ttl_cache.ts";
import { timingSafeEqual } from "../hash.ts";
import { findUserByToken } from "./tokens.ts";

/**
 * How long a token's user is reused without reading KV: a revoked token or a role change takes
 * effect within this time (per process). Saves two reads and a hash on every API call.
 */
export const TOKEN_CACHE_MS = 5_000;
const tokenCaches = new WeakMap<Deno.Kv, TtlCache<User | null>>();

function cachedUserByToken(kv: Deno.Kv, token: string): Promise<User | null> {
  let cache = tokenCaches.get(kv);
  if (!cache) tokenCaches.set(kv, cache = new TtlCache<User | null>(TOKEN_CACHE_MS, 20_000));
  return cache.get(token, () => findUserByToken(kv, token));
}

/** The authenticated caller. `user` is null only for the bootstrap admin credential. */
export interface Principal {
  userId: string | null;
  user: User | null;
  roles: readonly Role[];
  via: "token" | "admin_token" | "dev_login";
}

/** Cookie that carries the dev sign-in choice (a user id; honoured only when DEV_LOGIN=1). */
export const DEV_LOGIN_COOKIE = "tb_dev_user";

/** Settings principal resolution needs. */
export interface AuthSettings {
  adminToken: string | null;
  devLogin: boolean;
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
 * refused even if a dev cookie is also sent).
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
    if (!user) return { principal: null, failure: "invalid_token" };
    return { principal: { userId: user.id, user, roles: user.roles, via: "token" }, failure: null };
  }
  if (settings.devLogin) {
    const id = readCookie(headers.get("cookie"), DEV_LOGIN_COOKIE);
    if (id && id.length <= 64) {
      const user = (await kv.get<User>(keys.user(id))).value;
      if (user) return { principal: { userId: user.id, user, roles: user.roles, via: "dev_login" }, failure: null };
    }
  }
  return { principal: null, failure: null };
}

/** True when the principal has any of the roles. */
export function hasAnyRole(principal: Principal, ...roles: Role[]): boolean {
  return principal.roles.some((r) => roles.includes(r));
}
