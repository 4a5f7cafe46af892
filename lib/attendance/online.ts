/**
 * Online attendance: joins through our own `/sessions/{id}/join` redirect, leaves from Cal.com's
 * MEETING_ENDED (where Cal.com hosts the meeting) or from the heartbeat of the open session page,
 * and the time summed over reconnections.
 *
 * `["online_presence", sessionId, learnerId]` keeps the closed intervals' seconds, the open
 * interval (`openSince`, extended by heartbeats through `lastSeenAt`) and the join count. Every
 * interval is clipped to the session's start and end. A heartbeat after more than
 * {@link STALE_AFTER_MS} of silence means the page was gone: the open interval ends at the last
 * heartbeat and a new one (a reconnection) starts. Heartbeats for ended or closed sessions are
 * ignored. Joins and leaves touch the roster tick (the live roster follows them).
 */
import type { Session } from "../domain/session.ts";
import { type Acting, mayManageSession } from "../booking/access.ts";
import { DomainError, notFound } from "../booking/errors.ts";
import type { Booking, Place } from "../booking/model.ts";
import { keys } from "../store/keys.ts";
import { type AttendanceSettings, describeWindow, inWindow, type TimeWindow } from "./windows.ts";

/** Silence after which the open page is taken as gone (3 missed 30-second heartbeats). */
export const STALE_AFTER_MS = 90_000;
/** How often the session page sends a heartbeat. */
export const HEARTBEAT_MS = 30_000;
const MAX_JOINS_KEPT = 50;

/** `["online_presence", sessionId, learnerId]`. */
export interface OnlinePresence {
  sessionId: string;
  learnerId: string;
  joinCount: number;
  /** Seconds of the intervals already closed (clipped to the session). */
  seconds: number;
  openSince: string | null;
  lastSeenAt: string | null;
  joins: { at: string; leftAt: string | null; via: string | null }[];
}

/** The join window: from `joinOpensMinutes` before the start until the end. */
export function joinWindow(session: Pick<Session, "startsAt" | "endsAt">, settings: AttendanceSettings): TimeWindow {
  return {
    opensAt: new Date(Date.parse(session.startsAt) - settings.joinOpensMinutes * 60_000).toISOString(),
    closesAt: session.endsAt,
  };
}

function clipped(session: Pick<Session, "startsAt" | "endsAt">, fromIso: string, toMs: number): number {
  const from = Math.max(Date.parse(fromIso), Date.parse(session.startsAt));
  const to = Math.min(toMs, Date.parse(session.endsAt));
  return Math.max(0, Math.round((to - from) / 1000));
}

/** Seconds attended so far: closed intervals plus the open one up to the last sign of life. */
export function presenceSeconds(p: OnlinePresence | null, session: Pick<Session, "startsAt" | "endsAt">): number {
  if (!p) return 0;
  const open = p.openSince ? clipped(session, p.openSince, Date.parse(p.lastSeenAt ?? p.openSince)) : 0;
  return p.seconds + open;
}

function closeInterval(p: OnlinePresence, session: Session, atMs: number, via: string | null): void {
  if (!p.openSince) return;
  p.seconds += clipped(session, p.openSince, atMs);
  const last = p.joins.at(-1);
  if (last && !last.leftAt) {
    last.leftAt = new Date(atMs).toISOString();
    last.via = via;
  }
  p.openSince = null;
}

function openInterval(p: OnlinePresence, now: Date): void {
  p.joinCount++;
  p.openSince = now.toISOString();
  p.lastSeenAt = now.toISOString();
  p.joins.push({ at: now.toISOString(), leftAt: null, via: null });
  if (p.joins.length > MAX_JOINS_KEPT) p.joins.splice(0, p.joins.length - MAX_JOINS_KEPT);
}

const empty = (sessionId: string, learnerId: string): OnlinePresence => ({
  sessionId,
  learnerId,
  joinCount: 0,
  seconds: 0,
  openSince: null,
  lastSeenAt: null,
  joins: [],
});

async function update(
  kv: Deno.Kv,
  sessionId: string,
  learnerId: string,
  change: (p: OnlinePresence) => { tick: boolean } | null,
  now: Date,
): Promise<OnlinePresence | null> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const entry = await kv.get<OnlinePresence>(keys.onlinePresence(sessionId, learnerId));
    const p: OnlinePresence = structuredClone(entry.value) ?? empty(sessionId, learnerId);
    const out = change(p);
    if (!out) return entry.value;
    const op = kv.atomic().check(entry).set(keys.onlinePresence(sessionId, learnerId), p);
    if (out.tick) op.set(keys.rosterTick(sessionId), { at: now.toISOString() });
    if ((await op.commit()).ok) return p;
  }
  throw new DomainError(503, "busy", "Attendance is very busy; please try again.");
}

/** Where a join goes, and whether it was recorded (staff joins are not). */
export interface JoinResult {
  url: string;
  recorded: boolean;
  presence: OnlinePresence | null;
}

/**
 * A visit of `/sessions/{id}/join`: the session's staff go straight through; a booked learner's
 * join is recorded (a reconnection when one was open). 404 unknown session; 409 `not_online`;
 * 403 `not_booked`; 409 `outside_window` (details.window) before the window or after the end.
 */
export async function recordJoin(
  kv: Deno.Kv,
  sessionId: string,
  who: Acting & { userId: string },
  now: Date,
  settings: AttendanceSettings,
): Promise<JoinResult> {
  const session = (await kv.get<Session>(keys.session(sessionId))).value;
  if (!session) throw notFound("session", sessionId);
  if (!session.joinUrl || session.mode === "in_person" || session.status !== "scheduled") {
    throw new DomainError(409, "not_online", "This session has no online meeting to join.");
  }
  const staff = mayManageSession(who, session);
  if (!staff) {
    const place = (await kv.get<Place>(keys.place(sessionId, who.userId))).value;
    const booking = place?.kind === "booking" ? (await kv.get<Booking>(keys.booking(place.id))).value : null;
    if (!booking || booking.status !== "confirmed") {
      throw new DomainError(403, "not_booked", "You have not booked this session. Book a seat to join it.");
    }
  }
  const window = joinWindow(session, settings);
  if (!inWindow(window, now)) {
    throw new DomainError(409, "outside_window", `The meeting can be joined ${describeWindow(window)} (UTC).`, {
      window,
    });
  }
  if (staff) return { url: session.joinUrl, recorded: false, presence: null };
  const presence = await update(kv, sessionId, who.userId, (p) => {
    if (p.openSince) closeInterval(p, session, Date.parse(p.lastSeenAt ?? p.openSince), "rejoin");
    openInterval(p, now);
    return { tick: true };
  }, now);
  return { url: session.joinUrl, recorded: true, presence };
}

/** What a heartbeat did. */
export interface HeartbeatResult {
  /** Why nothing was recorded: the session ended or its attendance closed, or the learner never joined. */
  ignored: "session_ended" | "attendance_closed" | "not_joined" | null;
  participants: number;
  seconds: number;
}

/** The open session page says the learner is still there (see the module rules). 404 unknown session. */
export async function recordHeartbeat(
  kv: Deno.Kv,
  sessionId: string,
  learnerId: string,
  now: Date,
): Promise<HeartbeatResult> {
  const [s, c] = await kv.getMany<[Session, unknown]>([keys.session(sessionId), keys.attendanceClose(sessionId)]);
  const session = s.value;
  if (!session) throw notFound("session", sessionId);
  const done = (ignored: HeartbeatResult["ignored"], p: OnlinePresence | null): Promise<HeartbeatResult> =>
    countParticipants(kv, sessionId, now).then((participants) => ({
      ignored,
      participants,
      seconds: presenceSeconds(p, session),
    }));
  if (c.value) return done("attendance_closed", null);
  if (now.getTime() >= Date.parse(session.endsAt)) return done("session_ended", null);
  let ignored: HeartbeatResult["ignored"] = null;
  const p = await update(kv, sessionId, learnerId, (p) => {
    if (!p.openSince) {
      ignored = "not_joined";
      return null;
    }
    const last = Date.parse(p.lastSeenAt ?? p.openSince);
    if (now.getTime() - last > STALE_AFTER_MS) {
      // The page was gone: that stay ended at its last heartbeat; this is a reconnection.
      closeInterval(p, session, last, "heartbeat_timeout");
      openInterval(p, now);
      return { tick: true };
    }
    p.lastSeenAt = now.toISOString();
    return { tick: false };
  }, now);
  return done(ignored, p);
}

/**
 * The learner left (the page's leave, or Cal.com's meeting end for everyone): the presence after
 * it, or null when they were not in the meeting (nothing written).
 */
export async function recordLeave(
  kv: Deno.Kv,
  sessionId: string,
  learnerId: string,
  at: Date,
  via: string,
): Promise<OnlinePresence | null> {
  const session = (await kv.get<Session>(keys.session(sessionId))).value;
  if (!session) throw notFound("session", sessionId);
  let left = false;
  const p = await update(kv, sessionId, learnerId, (p) => {
    if (!p.openSince) return null;
    closeInterval(p, session, at.getTime(), via);
    left = true;
    return { tick: true };
  }, at);
  return left ? p : null;
}

/** Cal.com's MEETING_ENDED: every learner still in the meeting leaves at `at`. */
export async function endMeeting(kv: Deno.Kv, sessionId: string, at: Date): Promise<number> {
  let n = 0;
  for await (const e of kv.list<OnlinePresence>({ prefix: keys.onlinePresencePrefix(sessionId) })) {
    if (!e.value.openSince) continue;
    await recordLeave(kv, sessionId, e.value.learnerId, at, "calcom:MEETING_ENDED");
    n++;
  }
  return n;
}

/** Learners in the meeting now: joined, not left, heard from within {@link STALE_AFTER_MS}. */
export async function countParticipants(kv: Deno.Kv, sessionId: string, now: Date): Promise<number> {
  let n = 0;
  for await (const e of kv.list<OnlinePresence>({ prefix: keys.onlinePresencePrefix(sessionId) })) {
    const p = e.value;
    if (p.openSince && now.getTime() - Date.parse(p.lastSeenAt ?? p.openSince) <= STALE_AFTER_MS) n++;
  }
  return n;
}

/** Every presence of a session by learner id. */
export async function listPresence(kv: Deno.Kv, sessionId: string): Promise<Map<string, OnlinePresence>> {
  const out = new Map<string, OnlinePresence>();
  for await (const e of kv.list<OnlinePresence>({ prefix: keys.onlinePresencePrefix(sessionId) })) {
    out.set(e.value.learnerId, e.value);
  }
  return out;
}

/** One learner's presence in a session, or null when they never joined. */
export async function getPresence(kv: Deno.Kv, sessionId: string, learnerId: string): Promise<OnlinePresence | null> {
  return (await kv.get<OnlinePresence>(keys.onlinePresence(sessionId, learnerId))).value;
}
