/**
 * OpenID Connect sign-in (authorization code flow with PKCE S256, state and nonce) against any
 * standard provider: discovery from `<issuer>/.well-known/openid-configuration`, the ID token's
 * signature checked against the provider's JWKS (jose), then iss, aud, exp and nonce. Users are
 * created or updated from the ID token's claims; roles, dealer and manager come from configurable
 * claims (see README "Sign-in").
 */
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from "jose";
import { z } from "zod";
import type { Config } from "../config.ts";
import { EmailSchema, type Role, type User } from "../domain/user.ts";
import { sha256Hex, timingSafeEqual } from "../hash.ts";
import { keys } from "../store/keys.ts";
import { createUser, getUser, getUserByEmail, updateUser } from "../store/users.ts";
import { ConflictError } from "../store/errors.ts";
import { createPageSession } from "./sessions.ts";

/** OpenID settings (OIDC_* variables). */
export type OidcSettings = NonNullable<Config["oidc"]>;

/** A sign-in that cannot go on; `status` and `message` make the page the user sees. */
export class OidcError extends Error {
  constructor(readonly status: 400 | 401 | 403 | 502, readonly code: string, message: string) {
    super(message);
    this.name = "OidcError";
  }
}

/** How long a started sign-in may take at the provider. */
export const LOGIN_TTL_MS = 10 * 60_000;
/** Name of the cookie binding a started sign-in to this browser (holds the `state`). */
export const STATE_COOKIE = "tb_oidc_state";

const DiscoverySchema = z.object({
  issuer: z.string(),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  jwks_uri: z.url(),
  end_session_endpoint: z.url().optional(),
});
type Discovery = z.infer<typeof DiscoverySchema>;

interface Provider {
  doc: Discovery;
  jwks: ReturnType<typeof createRemoteJWKSet>;
  fetchedAt: number;
}

const DISCOVERY_TTL_MS = 3_600_000;
const providers = new Map<string, Provider>();

/** The provider's metadata and key set (cached for an hour per issuer). */
async function provider(settings: OidcSettings): Promise<Provider> {
  const cached = providers.get(settings.issuer);
  if (cached && Date.now() - cached.fetchedAt < DISCOVERY_TTL_MS) return cached;
  const url = `${settings.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  let doc: Discovery;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    doc = DiscoverySchema.parse(await res.json());
  } catch (err) {
    throw new OidcError(
      502,
      "discovery_failed",
      `The identity provider could not be reached (${(err as Error).name}).`,
    );
  }
  if (doc.issuer !== settings.issuer) {
    throw new OidcError(502, "issuer_mismatch", "The identity provider names another issuer than OIDC_ISSUER.");
  }
  const fresh = { doc, jwks: createRemoteJWKSet(new URL(doc.jwks_uri)), fetchedAt: Date.now() };
  providers.set(settings.issuer, fresh);
  return fresh;
}

function randomToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The redirect URL registered at the provider: OIDC_REDIRECT_URL, else `<origin>/auth/callback`. */
export function redirectUriFor(settings: OidcSettings, origin: string): string {
  return settings.redirectUrl ?? `${origin}/auth/callback`;
}

/** A sign-in under way (value of `["oidc_logins", stateHash]`). */
interface PendingLogin {
  nonce: string;
  verifier: string;
  next: string;
  redirectUri: string;
  createdAtMs: number;
}

/**
 * Starts a sign-in: stores state, nonce and PKCE verifier (under the state's hash, for 10 min) and
 * returns the provider's authorization URL and the state (for {@link STATE_COOKIE}).
 */
export async function beginOidcSignIn(
  kv: Deno.Kv,
  settings: OidcSettings,
  request: { origin: string; next: string; now?: () => number },
): Promise<{ url: string; state: string }> {
  const { doc } = await provider(settings);
  const state = randomToken();
  const login: PendingLogin = {
    nonce: randomToken(),
    verifier: randomToken(),
    next: request.next,
    redirectUri: redirectUriFor(settings, request.origin),
    createdAtMs: (request.now ?? Date.now)(),
  };
  await kv.set(keys.oidcLogin(await sha256Hex(state)), login, { expireIn: LOGIN_TTL_MS });
  const challenge = base64url(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(login.verifier))),
  );
  const url = new URL(doc.authorization_endpoint);
  for (
    const [k, v] of Object.entries({
      response_type: "code",
      client_id: settings.clientId,
      redirect_uri: login.redirectUri,
      scope: "openid email profile",
      state,
      nonce: login.nonce,
      code_challenge: challenge,
      code_challenge_method: "S256",
    })
  ) url.searchParams.set(k, v);
  return { url: url.toString(), state };
}

/**
 * Finishes a sign-in from the callback's query: checks the state against the browser's state
 * cookie and the stored sign-in (used once), exchanges the code (with the PKCE verifier), verifies
 * the ID token, finds or creates the user and starts a new page session (ending `replacing`).
 * Every refusal is an {@link OidcError}; none writes a user or a session.
 */
export async function completeOidcSignIn(
  kv: Deno.Kv,
  settings: OidcSettings,
  request: {
    query: URLSearchParams;
    stateCookie: string | null;
    replacing: string | null;
    absoluteMs: number;
    now?: () => number;
  },
): Promise<{ sessionId: string; next: string; user: User }> {
  const now = (request.now ?? Date.now)();
  const q = request.query;
  const error = q.get("error");
  if (error) {
    const what = /^[\w.-]{1,64}$/.test(error) ? error : "error";
    throw new OidcError(401, "provider_refused", `The identity provider did not sign you in (${what}).`);
  }
  const state = q.get("state") ?? "";
  if (!state || !request.stateCookie || !timingSafeEqual(state, request.stateCookie)) {
    throw new OidcError(400, "state_mismatch", "This sign-in was not started in this browser. Start again.");
  }
  const entry = await kv.get<PendingLogin>(keys.oidcLogin(await sha256Hex(state)));
  const login = entry.value;
  // Deleting under the entry's versionstamp makes the state single-use, even for racing callbacks.
  if (!login || !(await kv.atomic().check(entry).delete(entry.key).commit()).ok) {
    throw new OidcError(400, "unknown_state", "This sign-in link was already used or has expired. Start again.");
  }
  if (now - login.createdAtMs > LOGIN_TTL_MS) {
    throw new OidcError(400, "unknown_state", "This sign-in link was already used or has expired. Start again.");
  }
  const code = q.get("code");
  if (!code) throw new OidcError(400, "missing_code", "The identity provider sent no sign-in code. Start again.");
  const claims = await exchangeCode(settings, login, code, now);
  const user = await upsertUser(kv, settings, claims);
  const sessionId = await createPageSession(kv, user.id, {
    via: "oidc",
    replacing: request.replacing,
    absoluteMs: request.absoluteMs,
    now: request.now,
  });
  return { sessionId, next: login.next, user };
}

async function exchangeCode(settings: OidcSettings, login: PendingLogin, code: string, now: number) {
  const { doc, jwks } = await provider(settings);
  let tokens: { id_token?: unknown };
  try {
    const res = await fetch(doc.token_endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${
          btoa(`${encodeURIComponent(settings.clientId)}:${encodeURIComponent(settings.clientSecret)}`)
        }`,
      },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: login.redirectUri,
        code_verifier: login.verifier,
      }),
      signal: AbortSignal.timeout(10_000),
    });
    tokens = await res.json().catch(() => ({}));
    if (!res.ok) {
      throw new OidcError(401, "code_refused", "The identity provider did not accept the sign-in code. Start again.");
    }
  } catch (err) {
    if (err instanceof OidcError) throw err;
    throw new OidcError(502, "token_failed", `The identity provider could not be reached (${(err as Error).name}).`);
  }
  if (typeof tokens.id_token !== "string") {
    throw new OidcError(401, "invalid_id_token", "The identity provider sent no ID token.");
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(tokens.id_token, jwks, {
      issuer: settings.issuer,
      audience: settings.clientId,
      currentDate: new Date(now),
      clockTolerance: 60,
    }));
  } catch (err) {
    throw new OidcError(
      401,
      "invalid_id_token",
      `The ID token was refused (${(err as { code?: string }).code ?? "invalid"}).`,
    );
  }
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== settings.clientId) {
    throw new OidcError(401, "invalid_id_token", "The ID token was issued to another client.");
  }
  if (typeof payload.nonce !== "string" || !timingSafeEqual(payload.nonce, login.nonce)) {
    throw new OidcError(401, "nonce_mismatch", "The ID token does not belong to this sign-in. Start again.");
  }
  return payload;
}

function claimValues(value: unknown): string[] {
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** Roles from the roles claim through OIDC_ROLE_MAP; none mapped: learner. */
export function rolesFromClaims(settings: OidcSettings, claims: Record<string, unknown>): Role[] {
  const roles = new Set<Role>();
  for (const v of claimValues(claims[settings.rolesClaim])) {
    const role = settings.roleMap[v];
    if (role) roles.add(role);
  }
  return roles.size ? [...roles] : ["learner"];
}

async function dealerFromClaims(kv: Deno.Kv, settings: OidcSettings, claims: Record<string, unknown>) {
  const value = settings.dealerClaim ? claimValues(claims[settings.dealerClaim])[0] : undefined;
  if (!value) return null;
  const bySlug = (await kv.get<string>(keys.dealerBySlug(value))).value;
  if (bySlug) return bySlug;
  return /^[0-9A-Z]{26}$/.test(value) && (await kv.get(keys.dealer(value))).value ? value : null;
}

async function managerFromClaims(kv: Deno.Kv, settings: OidcSettings, claims: Record<string, unknown>) {
  const value = settings.managerClaim ? claimValues(claims[settings.managerClaim])[0] : undefined;
  if (!value) return null;
  const manager = value.includes("@")
    ? await getUserByEmail(kv, value)
    : /^[0-9A-Z]{26}$/.test(value)
    ? await getUser(kv, value)
    : null;
  return manager?.id ?? null;
}

/** Finds the user by the token's email; updates name and mapped fields, or creates them (JIT). */
async function upsertUser(kv: Deno.Kv, settings: OidcSettings, claims: JWTPayload): Promise<User> {
  const parsed = EmailSchema.safeParse(claims.email);
  if (!parsed.success || claims.email_verified === false) {
    throw new OidcError(403, "no_email", "Your identity provider account has no verified email address.");
  }
  const email = parsed.data;
  const name = (typeof claims.name === "string" && claims.name.trim()) ? claims.name.trim().slice(0, 160) : email;
  const mapped = {
    name,
    roles: rolesFromClaims(settings, claims),
    ...(settings.dealerClaim ? { dealerId: await dealerFromClaims(kv, settings, claims) } : {}),
    ...(settings.managerClaim ? { managerId: await managerFromClaims(kv, settings, claims) } : {}),
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    const existing = await getUserByEmail(kv, email);
    if (existing) {
      if (existing.active === false) {
        throw new OidcError(403, "deactivated", "Your account here is deactivated. Ask an administrator.");
      }
      return await updateUser(kv, existing.id, mapped);
    }
    if (!settings.jit) {
      throw new OidcError(403, "unknown_user", `No account for ${email} is registered here. Ask an administrator.`);
    }
    try {
      return await createUser(kv, { email, ...mapped });
    } catch (err) {
      // Two first sign-ins at once: the other one created the user; update it instead.
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  throw new OidcError(403, "unknown_user", `No account for ${email} could be created. Try again.`);
}

/**
 * Where sign-out sends the browser: the provider's end-session endpoint (back to `origin`/) when
 * it has one, else our home page.
 */
export async function endSessionUrl(settings: OidcSettings, origin: string): Promise<string> {
  const { doc } = await provider(settings).catch(() => ({ doc: null }));
  if (!doc?.end_session_endpoint) return "/";
  const url = new URL(doc.end_session_endpoint);
  url.searchParams.set("client_id", settings.clientId);
  url.searchParams.set("post_logout_redirect_uri", `${origin}/`);
  return url.toString();
}
