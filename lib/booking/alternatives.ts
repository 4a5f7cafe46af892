/**
 * Up to three other sessions of the same course with free seats, soonest first and, on the same
 * day, nearer first (from the learner's preferred location, else the full session's location).
 * Sessions where the learner already has a live place (hold, offer, booking, waitlist) are left out.
 */
import type { Location, Session, User } from "../domain/mod.ts";
import { getAvailability } from "./availability.ts";
import { keys } from "../store/keys.ts";
import type { Place } from "./model.ts";

/** One suggested session and why. */
export interface Alternative {
  sessionId: string;
  startsAt: string;
  endsAt: string;
  timeZone: string;
  mode: Session["mode"];
  locationId: string | null;
  locationName: string | null;
  distanceKm: number | null;
  seatsLeft: number;
  reason: string;
}

/** Great-circle distance in km. */
export function distanceKm(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

/**
 * Ids of the sessions where the learner already has a live place: a booking, a waitlist entry, or
 * a hold or offer not yet past its expiry (a lapsed one still has its place key until cleaned up).
 */
async function livePlaceSessions(kv: Deno.Kv, sessions: Session[], learnerId: string, now: Date): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < sessions.length; i += 10) {
    const chunk = sessions.slice(i, i + 10);
    const got = await kv.getMany<Place[]>(chunk.map((s) => keys.place(s.id, learnerId)));
    got.forEach((g, j) => {
      const p = g.value;
      if (!p) return;
      const lapsed = (p.kind === "hold" || p.kind === "offer") && (p.expiresAtMs ?? 0) <= now.getTime();
      if (!lapsed) out.add(chunk[j].id);
    });
  }
  return out;
}

/** Finds up to `limit` alternatives to `session` for a learner. */
export async function findAlternatives(
  kv: Deno.Kv,
  session: Session,
  learnerId: string,
  now: Date,
  limit = 3,
): Promise<Alternative[]> {
  const candidates: Session[] = [];
  const prefix = keys.sessionsByCoursePrefix(session.courseId);
  for await (const e of kv.list({ start: [...prefix, now.toISOString()], end: [...prefix, "\uffff"] }, { limit: 60 })) {
    const id = String(e.key.at(-1));
    if (id !== session.id) candidates.push({ id } as Session);
  }
  const loaded: Session[] = [];
  for (let i = 0; i < candidates.length; i += 10) {
    const got = await kv.getMany<Session[]>(candidates.slice(i, i + 10).map((c) => keys.session(c.id)));
    for (const g of got) if (g.value && g.value.status === "scheduled") loaded.push(g.value);
  }
  const placed = await livePlaceSessions(kv, loaded, learnerId, now);
  const avail = await getAvailability(kv, loaded, now);
  const open = loaded.filter((s) => !placed.has(s.id) && (avail.get(s.id)?.seatsLeft ?? 0) > 0);
  if (!open.length) return [];
  const learner = (await kv.get<User>(keys.user(learnerId))).value;
  const originId = learner?.preferredLocationId ?? session.locationId;
  const locationIds = [...new Set([originId, ...open.map((s) => s.locationId)].filter((x): x is string => !!x))];
  const locations = new Map<string, Location>();
  for (let i = 0; i < locationIds.length; i += 10) {
    const got = await kv.getMany<Location[]>(locationIds.slice(i, i + 10).map(keys.location));
    for (const g of got) if (g.value) locations.set(g.value.id, g.value);
  }
  const origin = originId ? locations.get(originId) : undefined;
  const rows = open.map((s) => {
    const loc = s.locationId ? locations.get(s.locationId) : undefined;
    const km = origin && loc ? Math.round(distanceKm(origin, loc)) : null;
    return { s, loc, km, day: s.startsAt.slice(0, 10) };
  });
  rows.sort((a, b) =>
    a.day !== b.day
      ? (a.day < b.day ? -1 : 1)
      : (a.s.mode === "online" ? 0 : a.km ?? 1e9) - (b.s.mode === "online" ? 0 : b.km ?? 1e9)
  );
  return rows.slice(0, limit).map(({ s, loc, km }) => ({
    sessionId: s.id,
    startsAt: s.startsAt,
    endsAt: s.endsAt,
    timeZone: s.timeZone,
    mode: s.mode,
    locationId: s.locationId,
    locationName: loc?.name ?? null,
    distanceKm: s.mode === "online" ? null : km,
    seatsLeft: avail.get(s.id)!.seatsLeft,
    reason: s.mode === "online"
      ? "Same course, online, soonest date with seats"
      : km !== null && km < 80
      ? "Same course nearby, soonest date with seats"
      : "Same course, soonest date with seats",
  }));
}
