/**
 * Page sessions: an opaque random id (256 bits) in an HttpOnly cookie; the session itself lives in
 * KV under the SHA-256 of the id, so a KV dump holds no usable cookie. Every request reads KV (no
 * per-process cache), so signing out everywhere or deactivating a user takes effect on every
 * instance at the next request.
 */
import type { User } from "../domain/user.ts";
import { sha256Hex, toHex } from "../hash.ts";
import { keys } from "../store/keys.ts";
import { updateUser } from "../store/users.ts";

/** Cookie carrying the page session id. */
export const SESSION_COOKIE = "tb_session";

/** How the session was started. Dev sessions are refused whenever dev sign-in is off. */
export type SessionVia = "oidc" | "dev";

/** A stored page session (value of `["auth_sessions", idHash]`). */
export interface PageSession {
  userId: string;
  via: SessionVia;
  createdAtMs: number;
  seenAtMs: number;
}

/** Timeouts and clock of page sessions. */
export interface SessionSettings {
  idleMs: number;
  absoluteMs: number;
  /** True while dev sign-in is allowed; dev sessions are refused otherwise. */
  devLogin: boolean;
  now?: () => number;
}

/** The last-seen time is written at most this often (not on every request). */
const TOUCH_EVERY_MS = 60_000;

/** A fresh session id: 32 random bytes, hex. */
function newSessionId(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

function wellFormed(id: string | null): id is string {
  return !!id && /^[0-9a-f]{64}$/.test(id);
}

/**
 * Starts a session for `userId` and returns its id (for the cookie). The session `replacing` (the
 * cookie presented at sign-in, if any) is ended in the same atomic op: every sign-in rotates the id.
 */
export async function createPageSession(
  kv: Deno.Kv,
  userId: string,
  options: { via: SessionVia; replacing?: string | null; absoluteMs: number; now?: () => number },
): Promise<string> {
  const now = (options.now ?? Date.now)();
  const id = newSessionId();
  const hash = await sha256Hex(id);
  const session: PageSession = { userId, via: options.via, createdAtMs: now, seenAtMs: now };
  const op = kv.atomic()
    .set(keys.authSession(hash), session, { expireIn: options.absoluteMs })
    .set(keys.authSessionByUser(userId, hash), null, { expireIn: options.absoluteMs });
  if (wellFormed(options.replacing ?? null)) {
    const old = await readSession(kv, options.replacing!);
    if (old) op.delete(keys.authSession(old.hash)).delete(keys.authSessionByUser(old.session.userId, old.hash));
  }
  await op.commit();
  return id;
}

async function readSession(
  kv: Deno.Kv,
  id: string,
): Promise<{ hash: string; session: PageSession; entry: Deno.KvEntry<PageSession> } | null> {
  const hash = await sha256Hex(id);
  const entry = await kv.get<PageSession>(keys.authSession(hash));
  return entry.value ? { hash, session: entry.value, entry: entry as Deno.KvEntry<PageSession> } : null;
}

/**
 * The active user of session `id`, or null: unknown or malformed id, idle or absolute timeout
 * passed (the session is then deleted), a dev session while dev sign-in is off, or a deactivated
 * or missing user. Refreshes the last-seen time at most once a minute.
 */
export async function resolvePageSession(
  kv: Deno.Kv,
  id: string | null,
  settings: SessionSettings,
): Promise<{ user: User; session: PageSession } | null> {
  if (!wellFormed(id)) return null;
  const found = await readSession(kv, id);
  if (!found) return null;
  const { hash, session, entry } = found;
  const now = (settings.now ?? Date.now)();
  if (now - session.seenAtMs > settings.idleMs || now - session.createdAtMs > settings.absoluteMs) {
    await kv.atomic().check(entry).delete(entry.key).delete(keys.authSessionByUser(session.userId, hash)).commit();
    return null;
  }
  if (session.via === "dev" && !settings.devLogin) return null;
  const user = (await kv.get<User>(keys.user(session.userId))).value;
  if (!user || user.active === false) return null;
  if (now - session.seenAtMs >= TOUCH_EVERY_MS) {
    const left = Math.max(1, session.createdAtMs + settings.absoluteMs - now);
    // A lost race only means another request touched it first.
    await kv.atomic().check(entry).set(entry.key, { ...session, seenAtMs: now }, { expireIn: left }).commit();
  }
  return { user, session };
}

/** Ends session `id` (sign out); unknown ids are ignored. */
export async function endPageSession(kv: Deno.Kv, id: string | null): Promise<void> {
  if (!wellFormed(id)) return;
  const found = await readSession(kv, id);
  if (!found) return;
  await kv.atomic().delete(keys.authSession(found.hash)).delete(
    keys.authSessionByUser(found.session.userId, found.hash),
  )
    .commit();
}

/**
 * Signs out: ends session `id`, or with `everywhere` every session of its user. Returns how the
 * ended session had been started (null: there was none).
 */
export async function signOut(
  kv: Deno.Kv,
  id: string | null,
  options: { everywhere: boolean },
): Promise<SessionVia | null> {
  if (!wellFormed(id)) return null;
  const found = await readSession(kv, id);
  if (!found) return null;
  if (options.everywhere) await endUserSessions(kv, found.session.userId);
  else await endPageSession(kv, id);
  return found.session.via;
}

/** Ends every session of the user (sign out everywhere). Returns how many were ended. */
export async function endUserSessions(kv: Deno.Kv, userId: string): Promise<number> {
  let ended = 0;
  let batch: Deno.AtomicOperation = kv.atomic();
  let inBatch = 0;
  for await (const e of kv.list({ prefix: keys.authSessionsByUserPrefix(userId) })) {
    const hash = String(e.key[2]);
    batch.delete(keys.authSession(hash)).delete(e.key);
    ended++;
    if (++inBatch === 400) {
      await batch.commit();
      batch = kv.atomic();
      inBatch = 0;
    }
  }
  if (inBatch) await batch.commit();
  return ended;
}

/**
 * Deactivates a user: marks them inactive (every instance refuses their sessions and tokens from
 * the next read on), then deletes their sessions. Returns how many sessions were ended.
 */
export async function deactivateUser(kv: Deno.Kv, userId: string): Promise<number> {
  await updateUser(kv, userId, { active: false });
  return await endUserSessions(kv, userId);
}

/** Session settings from the configuration (SESSION_IDLE_MINUTES, SESSION_MAX_HOURS, DEV_LOGIN). */
export function sessionSettings(
  config: { sessionIdleMinutes: number; sessionMaxHours: number; devLogin: boolean },
): SessionSettings {
  return {
    idleMs: config.sessionIdleMinutes * 60_000,
    absoluteMs: config.sessionMaxHours * 3_600_000,
    devLogin: config.devLogin,
  };
}

/** True for hosts reached only from this machine; cookies there may go without `Secure` (plain http). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "127.0.0.1" || hostname === "[::1]";
}

/**
 * Set-Cookie value carrying session `id` (or clearing it, with null): HttpOnly, SameSite=Lax,
 * Secure everywhere but on loopback, and no Max-Age (the server decides when it ends).
 */
export function sessionCookie(id: string | null, url: URL): string {
  const attrs = ["Path=/", "HttpOnly", "SameSite=Lax", ...(isLoopbackHost(url.hostname) ? [] : ["Secure"])];
  return id ? `${SESSION_COOKIE}=${id}; ${attrs.join("; ")}` : `${SESSION_COOKIE}=; ${attrs.join("; ")}; Max-Age=0`;
}
