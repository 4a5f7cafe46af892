/**
 * Reading and steering notifications: the admin's message list, dead letters and their retry, the
 * pause-all switch; a person's preferences, inbox and one-click unsubscribe (a signed token).
 */
import { isValidTimeZone } from "../domain/time_zone.ts";
import { toHex } from "../hash.ts";
import { keys } from "../store/keys.ts";
import { isOptional, KIND_INFO, NOTIFICATION_KINDS, type NotificationKind } from "./kinds.ts";
import type { Notification, NotificationPrefs, NotificationStatus, NotifySettings } from "./notifier.ts";

/** A problem with a request, for a 4xx (handlers map it). */
export class NotifyInputError extends Error {
  constructor(readonly code: string, message: string, readonly status = 422) {
    super(message);
    this.name = "NotifyInputError";
  }
}

/** A message as lists show it (no body, no attachment). */
export interface NotificationSummary {
  id: string;
  kind: NotificationKind;
  userId: string;
  status: NotificationStatus;
  dueAt: string;
  createdAt: string;
  sentAt: string | null;
  attempts: number;
  lastError: string | null;
  skippedReason: string | null;
  subject: string | null;
}

/** The summary of a message. */
export function summarize(n: Notification): NotificationSummary {
  return {
    id: n.id,
    kind: n.kind,
    userId: n.userId,
    status: n.status,
    dueAt: new Date(n.dueAtMs).toISOString(),
    createdAt: new Date(n.createdAtMs).toISOString(),
    sentAt: n.sentAt,
    attempts: n.attempts,
    lastError: n.lastError,
    skippedReason: n.skippedReason,
    subject: n.subject,
  };
}

/** Messages, newest due first, optionally of one status (at most `limit`). */
export async function listNotifications(
  kv: Deno.Kv,
  options: { status?: NotificationStatus; limit?: number } = {},
): Promise<NotificationSummary[]> {
  const limit = options.limit ?? 100;
  const out: NotificationSummary[] = [];
  if (options.status === "dead") {
    const ids = (await Array.fromAsync(kv.list({ prefix: keys.notifyDeadPrefix() }, { limit }))).map((e) =>
      String(e.key[1])
    );
    return (await getMessages(kv, ids)).map(summarize);
  }
  for await (const e of kv.list<Notification>({ prefix: keys.notifyMessagesPrefix() })) {
    if (!options.status || e.value.status === options.status) out.push(summarize(e.value));
  }
  return out.sort((a, b) => (a.dueAt < b.dueAt ? 1 : a.dueAt > b.dueAt ? -1 : 0)).slice(0, limit);
}

async function getMessages(kv: Deno.Kv, ids: string[]): Promise<Notification[]> {
  const out: Notification[] = [];
  for (let i = 0; i < ids.length; i += 10) {
    const found = await kv.getMany<Notification[]>(ids.slice(i, i + 10).map((id) => keys.notifyMessage(id)));
    for (const e of found) if (e.value) out.push(e.value);
  }
  return out;
}

/** Counts by status (for the admin page). */
export async function countNotifications(kv: Deno.Kv): Promise<Record<NotificationStatus, number>> {
  const counts: Record<NotificationStatus, number> = { pending: 0, sent: 0, dead: 0, skipped: 0 };
  for await (const e of kv.list<Notification>({ prefix: keys.notifyMessagesPrefix() })) counts[e.value.status]++;
  return counts;
}

/** Sends a dead letter again: back to pending, due now, attempts reset. Null when it is not dead. */
export async function retryDeadNotification(kv: Deno.Kv, id: string, now: Date): Promise<NotificationSummary | null> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const entry = await kv.get<Notification>(keys.notifyMessage(id));
    if (!entry.value || entry.value.status !== "dead") return null;
    const next: Notification = { ...entry.value, status: "pending", attempts: 0, dueAtMs: now.getTime() };
    const ok = await kv.atomic().check(entry).set(entry.key, next).delete(keys.notifyDead(id))
      .set(keys.notifyDue(next.dueAtMs, id), null).commit();
    if (ok.ok) return summarize(next);
  }
  throw new Error("the message kept changing; try again");
}

/** The pause-all switch. */
export async function getNotifySettings(kv: Deno.Kv): Promise<NotifySettings> {
  return (await kv.get<NotifySettings>(keys.notifySettings())).value ?? { paused: false };
}

/** Pauses or resumes all sending (messages keep being produced and wait). */
export async function setNotifyPaused(kv: Deno.Kv, paused: boolean): Promise<NotifySettings> {
  const settings = { ...(await getNotifySettings(kv)), paused };
  await kv.set(keys.notifySettings(), settings);
  return settings;
}

/** A person's preferences (defaults: everything on, times in their preferred location's zone). */
export async function getNotificationPrefs(kv: Deno.Kv, userId: string): Promise<NotificationPrefs> {
  return (await kv.get<NotificationPrefs>(keys.notifyPrefs(userId))).value ?? { off: [], timeZone: null };
}

/** Saves preferences. Transactional kinds cannot be turned off; the zone must be a real one. */
export async function setNotificationPrefs(
  kv: Deno.Kv,
  userId: string,
  prefs: { off: string[]; timeZone: string | null; managerDigest?: boolean },
): Promise<NotificationPrefs> {
  const unknown = prefs.off.filter((k) => !(NOTIFICATION_KINDS as readonly string[]).includes(k));
  if (unknown.length) throw new NotifyInputError("unknown_kind", `Unknown notification kind: ${unknown.join(", ")}.`);
  const required = prefs.off.filter((k) => !isOptional(k as NotificationKind));
  if (required.length) {
    throw new NotifyInputError(
      "required_kind",
      `These cannot be turned off: ${required.map((k) => KIND_INFO[k as NotificationKind].label).join(", ")}.`,
    );
  }
  if (prefs.timeZone !== null && !isValidTimeZone(prefs.timeZone)) {
    throw new NotifyInputError("invalid_time_zone", "Choose a time zone such as Europe/Berlin or America/New_York.");
  }
  const value: NotificationPrefs = {
    off: [...new Set(prefs.off)] as NotificationKind[],
    timeZone: prefs.timeZone,
    ...(prefs.managerDigest ? { managerDigest: true } : {}),
  };
  await kv.set(keys.notifyPrefs(userId), value);
  return value;
}

/** A person's last `limit` messages (default 50), newest first, skipped ones left out. */
export async function listInbox(
  kv: Deno.Kv,
  userId: string,
  limit = 50,
): Promise<NotificationSummary[]> {
  const ids: string[] = [];
  for await (const e of kv.list({ prefix: keys.notifyByUserPrefix(userId) }, { reverse: true })) {
    ids.push(String(e.key[3]));
    if (ids.length >= limit * 2) break;
  }
  const messages = (await getMessages(kv, ids)).filter((n) => n.status !== "skipped").slice(0, limit);
  return messages.map(summarize);
}

// ── one-click unsubscribe ────────────────────────────────────────────────

async function signingKey(kv: Deno.Kv): Promise<CryptoKey> {
  let raw = (await kv.get<string>(keys.notifySigningKey())).value;
  if (!raw) {
    const fresh = toHex(crypto.getRandomValues(new Uint8Array(32)));
    // The first writer wins; everyone then reads its key.
    await kv.atomic().check({ key: keys.notifySigningKey(), versionstamp: null }).set(keys.notifySigningKey(), fresh)
      .commit();
    raw = (await kv.get<string>(keys.notifySigningKey())).value!;
  }
  return await crypto.subtle.importKey("raw", new TextEncoder().encode(raw), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

function b64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/** A token that turns `kind` off for `userId` (HMAC-SHA-256 with a key kept in KV). */
export async function signUnsubscribe(kv: Deno.Kv, userId: string, kind: NotificationKind): Promise<string> {
  const payload = `${userId}.${kind}`;
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", await signingKey(kv), new TextEncoder().encode(payload)));
  return `${payload}.${b64url(sig)}`;
}

/** Checks a token; null when it is forged, malformed or for a kind that cannot be turned off. */
export async function verifyUnsubscribe(
  kv: Deno.Kv,
  token: string,
): Promise<{ userId: string; kind: NotificationKind } | null> {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const [userId, kind, sig] = parts;
  if (!(NOTIFICATION_KINDS as readonly string[]).includes(kind) || !isOptional(kind as NotificationKind)) return null;
  const expected = await signUnsubscribe(kv, userId, kind as NotificationKind);
  if (expected.length !== token.length) return null;
  let diff = 0;
  for (let i = 0; i < token.length; i++) diff |= token.charCodeAt(i) ^ expected.charCodeAt(i);
  return diff === 0 && sig.length > 0 ? { userId, kind: kind as NotificationKind } : null;
}

/** Turns a kind off through a signed token. Throws {@link NotifyInputError} for a bad token. */
export async function unsubscribe(kv: Deno.Kv, token: string): Promise<{ kind: NotificationKind; label: string }> {
  const found = await verifyUnsubscribe(kv, token);
  if (!found) throw new NotifyInputError("invalid_token", "This unsubscribe link is not valid.", 400);
  const prefs = await getNotificationPrefs(kv, found.userId);
  if (!prefs.off.includes(found.kind)) {
    await kv.set(keys.notifyPrefs(found.userId), { ...prefs, off: [...prefs.off, found.kind] });
  }
  return { kind: found.kind, label: KIND_INFO[found.kind].label };
}

/** The unsubscribe link builder the notifier uses. */
export function unsubscribeLinks(kv: Deno.Kv, siteUrl: string) {
  return async (userId: string, kind: NotificationKind): Promise<string> =>
    `${siteUrl}/notifications/unsubscribe?t=${encodeURIComponent(await signUnsubscribe(kv, userId, kind))}`;
}
