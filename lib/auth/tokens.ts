/**
 * Per-user API tokens. A token is shown once when minted; KV keeps only its SHA-256 hash, so a
 * copy of the store does not hand out credentials.
 */
import { ulid } from "ulid";
import type { User } from "../domain/user.ts";
import { sha256Hex } from "../hash.ts";
import { isPossibleId } from "../store/batch.ts";
import { keys } from "../store/keys.ts";

/** What KV keeps for a token (never the token itself). */
export interface StoredToken {
  tokenId: string;
  userId: string;
  label: string | null;
  createdAt: string;
}

/**
 * Token format: `tbk_` + the user's id + `.` + 32 random bytes base64url. The prefix makes leaked tokens easy to find;
 * the id (not a secret) lets one `getMany` read the token's record and its user together. Tokens minted before the id
 * was added (`tbk_` + the random part) still work, with two reads.
 */
const PREFIX = "tbk_";

function randomToken(userId: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const b64 = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
  return `${PREFIX}${userId}.${b64}`;
}

/** The user id a token names (after the prefix, before the last `.`), or null for one without. */
function claimedUserId(token: string): string | null {
  const dot = token.lastIndexOf(".");
  return dot > PREFIX.length ? token.slice(PREFIX.length, dot) : null;
}

/**
 * Mints a new API token for a user and stores its hash. Returns the token: the only time it is
 * ever visible. Fails when the user does not exist.
 */
export async function mintToken(
  kv: Deno.Kv,
  userId: string,
  label: string | null = null,
): Promise<{ token: string; tokenId: string; createdAt: string }> {
  const user = await kv.get<User>(keys.user(userId));
  if (!user.value) throw new Error(`no user with id ${userId}`);
  const token = randomToken(userId);
  const hash = await sha256Hex(token);
  const stored: StoredToken = { tokenId: ulid(), userId, label, createdAt: new Date().toISOString() };
  const res = await kv.atomic()
    .check(user)
    .check({ key: keys.apiToken(hash), versionstamp: null })
    .set(keys.apiToken(hash), stored)
    .set(keys.apiTokenByUser(userId, stored.tokenId), { hash, label, createdAt: stored.createdAt })
    .commit();
  if (!res.ok) throw new Error("could not store the token; try again");
  return { token, tokenId: stored.tokenId, createdAt: stored.createdAt };
}

/** The user a token belongs to, or null for an unknown token or a deleted user. */
export async function findUserByToken(kv: Deno.Kv, token: string): Promise<User | null> {
  if (!token.startsWith(PREFIX) || token.length > 200) return null;
  const tokenKey = keys.apiToken(await sha256Hex(token));
  const claimed = claimedUserId(token);
  const [stored, user] = claimed && isPossibleId(claimed)
    ? await kv.getMany<[StoredToken, User]>([tokenKey, keys.user(claimed)])
    : [await kv.get<StoredToken>(tokenKey), null];
  if (!stored.value) return null;
  // The id is part of what was hashed, so a stored token always names its own user; the store decides regardless.
  if (user && stored.value.userId === claimed) return user.value;
  return (await kv.get<User>(keys.user(stored.value.userId))).value;
}

/**
 * Revokes a token: it stops working at once on this process's next uncached read and on every
 * instance within TOKEN_CACHE_MS (lib/auth/principal.ts). False when it was not stored.
 */
export async function revokeToken(kv: Deno.Kv, token: string): Promise<boolean> {
  const key = keys.apiToken(await sha256Hex(token));
  const stored = await kv.get<StoredToken>(key);
  if (!stored.value) return false;
  const res = await kv.atomic().check(stored).delete(key)
    .delete(keys.apiTokenByUser(stored.value.userId, stored.value.tokenId)).commit();
  return res.ok;
}

/** Mints a token for the user with this email (the `deno task token` command). */
export async function mintTokenForEmail(
  kv: Deno.Kv,
  email: string,
  label: string | null = null,
): Promise<{ token: string; tokenId: string; userId: string }> {
  const id = (await kv.get<string>(keys.userByEmail(email.trim().toLowerCase()))).value;
  if (!id) throw new Error(`no user with email ${email}`);
  const minted = await mintToken(kv, id, label);
  return { token: minted.token, tokenId: minted.tokenId, userId: id };
}
