/**
 * Alternatives to a full session: up to three open sessions of the same course, the same
 * certification track or the same topic, ranked by {@link rankSessions} (relevance, distance from
 * the learner's preferred location, soonest start; weights in ranking.ts). Never suggested:
 * sessions that are full, started or cancelled; sessions where the learner already has a live
 * place (hold, offer, booking, waitlist); courses whose prerequisites the learner lacks; other
 * courses the learner already completed.
 *
 * Offers are recorded for the acceptance-rate report: `recordAlternativesOffer` writes an
 * `alternatives.offered` event and a 24-hour marker when they are shown (a full session's page,
 * the API's list, and every 409/410 refusal that carries them, recorded by the engine); a hold placed from one of
 * them within 24 h carries `alternativeOf` (hold.placed, booking.confirmed and the booking itself).
 */
import type { Course, Location, Session, User } from "../domain/mod.ts";
import { getAvailability } from "./availability.ts";
import { addAlternativesOffered } from "../reports/record.ts";
import { Draft } from "./draft.ts";
import { type Actor, addEvent } from "./events.ts";
import { getExistingValues } from "../store/batch.ts";
import { keys } from "../store/keys.ts";
import type { Place } from "./model.ts";
import { type RankCandidate, rankSessions } from "./ranking.ts";

/** One suggested session and why. */
export interface Alternative {
  sessionId: string;
  courseId: string;
  courseTitle: string;
  startsAt: string;
  endsAt: string;
  timeZone: string;
  mode: Session["mode"];
  locationId: string | null;
  locationName: string | null;
  distanceKm: number | null;
  seatsLeft: number;
  /** The combined ranking score (higher is better). */
  score: number;
  /** Why, in words: e.g. ["same course", "12 km away", "in 3 days"]. */
  reasons: string[];
  /** `reasons` joined with " · ". */
  reason: string;
}

/** `["alternatives_offered", learnerId, sessionId]`: what was last offered, and when. */
export interface AlternativesOffer {
  offeredAt: string;
  sessionIds: string[];
}

/** How long after an offer a hold from it counts as accepting it. */
export const ALTERNATIVE_ACCEPT_MS = 24 * 3_600_000;
/** Related courses looked at, and upcoming sessions read per course. */
const MAX_COURSES = 12;
const SESSIONS_PER_COURSE = 20;

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

/**
 * Courses that may replace `course` for the learner, most relevant first: the course itself, then
 * the same certification track, then the same topic. Courses whose prerequisites the learner lacks
 * and other courses they completed are left out.
 */
async function relatedCourses(kv: Deno.Kv, course: Course, learner: User | null): Promise<Course[]> {
  const done = new Set((learner?.completedCourses ?? []).map((c) => c.courseId));
  const eligible = (c: Course) => c.active && c.prerequisiteCourseIds.every((id) => done.has(id));
  const all: Course[] = [];
  for await (const e of kv.list<Course>({ prefix: keys.coursesPrefix() })) all.push(e.value);
  const rank = (c: Course) =>
    c.id === course.id ? 0 : course.certificationTrack && c.certificationTrack === course.certificationTrack ? 1 : 2;
  return all
    .filter((c) => c.id === course.id || (!done.has(c.id) && (rank(c) === 1 || c.topic === course.topic)))
    .filter((c) => c.id === course.id ? c.prerequisiteCourseIds.every((id) => done.has(id)) : eligible(c))
    .sort((a, b) => rank(a) - rank(b) || a.code.localeCompare(b.code))
    .slice(0, MAX_COURSES);
}

/** Finds up to `limit` alternatives to `session` for a learner, best first. */
export async function findAlternatives(
  kv: Deno.Kv,
  session: Session,
  learnerId: string,
  now: Date,
  limit = 3,
): Promise<Alternative[]> {
  const [learnerEntry, courseEntry] = await kv.getMany<[User, Course]>([
    keys.user(learnerId),
    keys.course(session.courseId),
  ]);
  const learner = learnerEntry.value;
  const course = courseEntry.value;
  if (!course) return [];
  const courses = await relatedCourses(kv, course, learner);
  const ids: string[] = [];
  await Promise.all(courses.map(async (c) => {
    const prefix = keys.sessionsByCoursePrefix(c.id);
    const range = { start: [...prefix, now.toISOString()], end: [...prefix, "\uffff"] };
    for await (const e of kv.list(range, { limit: SESSIONS_PER_COURSE })) {
      const id = String(e.key.at(-1));
      if (id !== session.id) ids.push(id);
    }
  }));
  const loaded = (await getExistingValues<Session>(kv, ids.map(keys.session))).filter((s) => s.status === "scheduled");
  const placed = await livePlaceSessions(kv, loaded, learnerId, now);
  const avail = await getAvailability(kv, loaded, now);
  const open = loaded.filter((s) => !placed.has(s.id) && (avail.get(s.id)?.seatsLeft ?? 0) > 0);
  if (!open.length) return [];
  // Proximity is measured from the learner's preferred location, else from the full session's.
  const originId = learner?.preferredLocationId ?? session.locationId;
  const locationIds = [...new Set([originId, ...open.map((s) => s.locationId)].filter((x): x is string => !!x))];
  const locations = new Map(
    (await getExistingValues<Location>(kv, locationIds.map(keys.location))).map((l) => [l.id, l]),
  );
  const origin = originId ? locations.get(originId) : undefined;
  const byCourse = new Map(courses.map((c) => [c.id, c]));
  const candidates: RankCandidate[] = open.map((s) => {
    const c = byCourse.get(s.courseId)!;
    const loc = s.locationId ? locations.get(s.locationId) : undefined;
    return {
      sessionId: s.id,
      courseId: s.courseId,
      certificationTrack: c.certificationTrack,
      topic: c.topic,
      startsAt: s.startsAt,
      online: s.mode !== "in_person",
      location: loc ? { lat: loc.lat, lng: loc.lng } : null,
      seatsLeft: avail.get(s.id)!.seatsLeft,
      timeZone: s.timeZone,
    };
  });
  const ranked = rankSessions(
    {
      preferredLocation: origin ? { lat: origin.lat, lng: origin.lng } : null,
      preferredTimes: learner?.preferredTimes,
    },
    { courseId: course.id, certificationTrack: course.certificationTrack, topic: course.topic, sessionId: session.id },
    candidates,
    now,
    limit,
  );
  const byId = new Map(open.map((s) => [s.id, s]));
  return ranked.map((r) => {
    const s = byId.get(r.sessionId)!;
    return {
      sessionId: s.id,
      courseId: s.courseId,
      courseTitle: byCourse.get(s.courseId)!.title,
      startsAt: s.startsAt,
      endsAt: s.endsAt,
      timeZone: s.timeZone,
      mode: s.mode,
      locationId: s.locationId,
      locationName: s.locationId ? locations.get(s.locationId)?.name ?? null : null,
      distanceKm: r.distanceKm,
      seatsLeft: avail.get(s.id)!.seatsLeft,
      score: r.score,
      reasons: r.reasons,
      reason: r.reasons.join(" · "),
    };
  });
}

/**
 * Finds the alternatives to a full session and records that they were offered
 * ({@link recordAlternativesOffer}).
 */
export async function offerAlternatives(
  kv: Deno.Kv,
  session: Session,
  learnerId: string,
  now: Date,
  actor: Actor,
  shownOn: OfferShownOn,
): Promise<Alternative[]> {
  const alternatives = await findAlternatives(kv, session, learnerId, now);
  await recordAlternativesOffer(kv, session.id, learnerId, alternatives, now, actor, shownOn);
  return alternatives;
}

/** Where alternatives were shown: a full session's page, a refusal (409/410) page, or the API. */
export type OfferShownOn = "session_page" | "refusal" | "api";

/**
 * Records that `alternatives` to a full session were shown to a learner: the 24-hour marker and,
 * unless the same ones were already offered in the last 24 h (a page reload), an
 * `alternatives.offered` event `{shownOn, alternatives: [{sessionId, score, reasons}]}` on the
 * full session. Nothing when there are none. Best effort: a conflict leaves it to the next offer.
 */
export async function recordAlternativesOffer(
  kv: Deno.Kv,
  sessionId: string,
  learnerId: string,
  alternatives: Pick<Alternative, "sessionId" | "score" | "reasons">[],
  now: Date,
  actor: Actor,
  shownOn: OfferShownOn,
): Promise<void> {
  if (!alternatives.length) return;
  const draft = new Draft(kv);
  const key = keys.alternativesOffered(learnerId, sessionId);
  await draft.load([key]);
  const prior = draft.get<AlternativesOffer>(key);
  const ids = alternatives.map((a) => a.sessionId);
  const fresh = prior && now.getTime() - Date.parse(prior.offeredAt) < ALTERNATIVE_ACCEPT_MS;
  if (fresh && ids.every((id) => prior.sessionIds.includes(id))) return;
  const sessionIds = fresh ? [...new Set([...prior.sessionIds, ...ids])].slice(-12) : ids;
  draft.set(key, { offeredAt: now.toISOString(), sessionIds } satisfies AlternativesOffer, {
    expireIn: ALTERNATIVE_ACCEPT_MS,
  });
  addEvent(draft, actor, "alternatives.offered", sessionId, learnerId, {
    shownOn,
    alternatives: alternatives.map((a) => ({ sessionId: a.sessionId, score: a.score, reasons: a.reasons })),
  }, now);
  // The reports' acceptance rate (decided 24 h later from the learner's bookings), in the same commit.
  addAlternativesOffered(draft, { sessionId, learnerId, alternatives: ids }, now);
  await draft.commit();
}

/**
 * The full session whose alternatives the learner is taking up, when `alternativeOf` names one
 * offered to them less than 24 h ago that listed `sessionId`; else null (an ordinary hold).
 */
export async function acceptedAlternativeOf(
  kv: Deno.Kv,
  learnerId: string,
  sessionId: string,
  alternativeOf: string | null | undefined,
  now: Date,
): Promise<string | null> {
  if (!alternativeOf) return null;
  const offer = (await kv.get<AlternativesOffer>(keys.alternativesOffered(learnerId, alternativeOf))).value;
  if (!offer || now.getTime() - Date.parse(offer.offeredAt) >= ALTERNATIVE_ACCEPT_MS) return null;
  return offer.sessionIds.includes(sessionId) ? alternativeOf : null;
}
