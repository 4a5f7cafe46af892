/**
 * Ranking of alternative sessions: one combined score from relevance, proximity and availability
 * (plus a mild bonus for the learner's preferred times). Pure: no storage, no clock of its own.
 *
 * ## Weights (points; higher is better)
 *
 * | factor       | points                                                                          |
 * | ------------ | ------------------------------------------------------------------------------- |
 * | relevance    | same course 50, else same certification track 30, else same topic 15            |
 * | proximity    | 30 × (1 − km / 600), 0 from 600 km on; online (or hybrid) counts as 0 km        |
 * | availability | 30 × (1 − days / 60), 0 from 60 days on (days until the start, fractional)      |
 * | times        | up to 3: the share of the learner's preferred weekdays / times of day it meets  |
 *
 * So inside those ranges **10 km of distance weighs as much as 1 day of waiting**: a session
 * 100 km farther wins only if it starts more than 10 days sooner; a session 3,112 km away gets no
 * proximity points at all. Relevance steps are bigger: same course over same track is worth
 * 20 points (200 km or 20 days), track over topic 15 points (150 km or 15 days).
 * Without a preferred location every candidate gets the same half proximity (15) and the calendar
 * decides. Candidates that share neither course, track nor topic, have no seat left, or have
 * already started are left out. Ties go to the sooner start, then the session id.
 * @module
 */
import { DAY_PARTS, type DayPart } from "../domain/user.ts";

export { DAY_PARTS, type DayPart };

/** The person the suggestions are for. */
export interface RankLearner {
  preferredLocation?: { lat: number; lng: number } | null;
  /**
   * Mild preference: ISO weekdays (1 = Monday … 7 = Sunday) and parts of the day (in the
   * session's own time zone: morning before 12:00, afternoon 12:00–17:00, evening from 17:00).
   */
  preferredTimes?: { weekdays?: number[]; dayParts?: DayPart[] } | null;
}

/** What the suggestions replace (the full session's course, track and topic). */
export interface RankReference {
  courseId: string;
  certificationTrack?: string | null;
  topic?: string | null;
  /** The session being replaced: never suggested. */
  sessionId?: string | null;
}

/** A session that could be suggested. */
export interface RankCandidate {
  sessionId: string;
  courseId: string;
  certificationTrack?: string | null;
  topic?: string | null;
  /** ISO UTC. */
  startsAt: string;
  /** Attendable online (online or hybrid): counts as near. */
  online: boolean;
  location?: { lat: number; lng: number } | null;
  seatsLeft: number;
  /** IANA zone for preferred times (UTC when absent). */
  timeZone?: string | null;
}

/** A suggestion: its score, why in words, and its distance (null: online only, or unknown). */
export interface RankedSession {
  sessionId: string;
  score: number;
  reasons: string[];
  distanceKm: number | null;
}

/** The documented weights (see the module comment). */
export const RANKING_WEIGHTS = {
  sameCourse: 50,
  sameTrack: 30,
  sameTopic: 15,
  proximity: 30,
  proximityRangeKm: 600,
  availability: 30,
  availabilityRangeDays: 60,
  preferredTimes: 3,
} as const;

const DAY_MS = 86_400_000;

/** Great-circle distance in km. */
export function distanceKm(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}
const W = RANKING_WEIGHTS;

function relevanceOf(ref: RankReference, c: RankCandidate): { points: number; words: string } | null {
  if (c.courseId === ref.courseId) return { points: W.sameCourse, words: "same course" };
  if (ref.certificationTrack && c.certificationTrack === ref.certificationTrack) {
    return { points: W.sameTrack, words: "same certification track" };
  }
  if (ref.topic && c.topic === ref.topic) return { points: W.sameTopic, words: "similar topic" };
  return null;
}

/** Weekday (1–7) and hour of `iso` in `timeZone`. */
function localWeekdayHour(iso: string, timeZone: string): { weekday: number; hour: number } {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone, weekday: "short", hour: "numeric", hourCycle: "h23" })
    .formatToParts(new Date(iso));
  const wd = parts.find((p) => p.type === "weekday")?.value ?? "Mon";
  const hour = Number(parts.find((p) => p.type === "hour")?.value ?? 0);
  return { weekday: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(wd) + 1, hour };
}

/** The part of the day an hour (0–23) falls in. */
export function dayPartOf(hour: number): DayPart {
  return hour < 12 ? "morning" : hour < 17 ? "afternoon" : "evening";
}

function timesOf(learner: RankLearner, c: RankCandidate): { points: number; matched: boolean } {
  const pref = learner.preferredTimes;
  const weekdays = pref?.weekdays ?? [];
  const dayParts = pref?.dayParts ?? [];
  if (!weekdays.length && !dayParts.length) return { points: 0, matched: false };
  let zone = c.timeZone || "UTC";
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
  } catch {
    zone = "UTC";
  }
  const { weekday, hour } = localWeekdayHour(c.startsAt, zone);
  const checks = [
    ...(weekdays.length ? [weekdays.includes(weekday)] : []),
    ...(dayParts.length ? [dayParts.includes(dayPartOf(hour))] : []),
  ];
  const met = checks.filter(Boolean).length;
  return { points: W.preferredTimes * met / checks.length, matched: met === checks.length };
}

function whenWords(ms: number): string {
  const hours = Math.max(1, Math.floor(ms / 3_600_000));
  if (hours < 24) return hours === 1 ? "in 1 hour" : `in ${hours} hours`;
  const days = Math.floor(ms / DAY_MS);
  return days === 1 ? "in 1 day" : `in ${days} days`;
}

/**
 * Ranks `candidates` as alternatives to `reference` for `learner`, best first, at most `limit`
 * (default 3). See the module comment for the weights.
 */
export function rankSessions(
  learner: RankLearner,
  reference: RankReference,
  candidates: RankCandidate[],
  now: Date,
  limit = 3,
): RankedSession[] {
  const origin = learner.preferredLocation ?? null;
  const scored: { c: RankCandidate; r: RankedSession; at: number }[] = [];
  for (const c of candidates) {
    const at = Date.parse(c.startsAt);
    if (!Number.isFinite(at) || at <= now.getTime() || !(c.seatsLeft > 0)) continue;
    if (reference.sessionId && c.sessionId === reference.sessionId) continue;
    const rel = relevanceOf(reference, c);
    if (!rel) continue;
    const reasons = [rel.words];
    let km: number | null = null;
    let proximity = W.proximity / 2;
    if (origin && c.location) km = Math.round(distanceKm(origin, c.location));
    const away = km === null ? null : km < 1 ? "under 1 km away" : `${km} km away`;
    if (origin) {
      if (c.online) proximity = W.proximity;
      else if (km !== null) proximity = W.proximity * Math.max(0, 1 - km / W.proximityRangeKm);
    }
    // A hybrid session (online with a location) says both.
    if (c.online) reasons.push(away ? `online or ${away}` : "online");
    else if (away) reasons.push(away);
    const waitMs = at - now.getTime();
    const availability = W.availability * Math.max(0, 1 - waitMs / DAY_MS / W.availabilityRangeDays);
    reasons.push(whenWords(waitMs));
    const times = timesOf(learner, c);
    if (times.matched) reasons.push("at a time you prefer");
    const score = Math.round((rel.points + proximity + availability + times.points) * 100) / 100;
    scored.push({ c, at, r: { sessionId: c.sessionId, score, reasons, distanceKm: km } });
  }
  scored.sort((a, b) =>
    b.r.score - a.r.score || a.at - b.at || (a.c.sessionId < b.c.sessionId ? -1 : a.c.sessionId > b.c.sessionId ? 1 : 0)
  );
  return scored.slice(0, Math.max(0, limit)).map((x) => x.r);
}
