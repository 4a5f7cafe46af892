/** The ranking against a fixed catalog: weights as documented in ranking.ts, on a fixed clock. */
import assert from "node:assert/strict";
import { distanceKm, type RankCandidate, RANKING_WEIGHTS, type RankReference, rankSessions } from "./ranking.ts";

/** Monday 4 March 2030, 09:00 UTC. */
const NOW = new Date("2030-03-04T09:00:00.000Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ATLANTA = { lat: 33.7849, lng: -84.3831 };
const LOS_ANGELES = { lat: 34.0447, lng: -118.2646 };
const KM_PER_DEGREE_LAT = 6371 * Math.PI / 180;

/** A point `km` due north of Atlanta. */
function north(km: number) {
  return { lat: ATLANTA.lat + km / KM_PER_DEGREE_LAT, lng: ATLANTA.lng };
}
function at(ms: number): string {
  return new Date(NOW.getTime() + ms).toISOString();
}

const REF: RankReference = { courseId: "c-saf", certificationTrack: "forklift", topic: "safety", sessionId: "full" };

function candidate(id: string, over: Partial<RankCandidate>): RankCandidate {
  return {
    sessionId: id,
    courseId: "c-saf",
    certificationTrack: "forklift",
    topic: "safety",
    startsAt: at(DAY),
    online: false,
    location: ATLANTA,
    seatsLeft: 4,
    ...over,
  };
}

Deno.test("[ranking] the 3,112 km session tomorrow no longer beats the 0 km one in 10 days", () => {
  assert.equal(Math.round(distanceKm(ATLANTA, LOS_ANGELES)), 3112);
  const ranked = rankSessions({ preferredLocation: ATLANTA }, REF, [
    candidate("la-tomorrow", { location: LOS_ANGELES, startsAt: at(DAY) }),
    candidate("atl-10d", { location: ATLANTA, startsAt: at(10 * DAY) }),
  ], NOW);
  assert.deepEqual(ranked.map((r) => r.sessionId), ["atl-10d", "la-tomorrow"]);
  assert.deepEqual(ranked.map((r) => r.distanceKm), [0, 3112]);
});

Deno.test("[ranking] distance beats the calendar only as documented: 10 km weighs as much as 1 day", () => {
  const kmPerDay = (RANKING_WEIGHTS.proximityRangeKm / RANKING_WEIGHTS.proximity) /
    (RANKING_WEIGHTS.availabilityRangeDays / RANKING_WEIGHTS.availability);
  assert.equal(kmPerDay, 10);
  const near = candidate("near-30d", { location: ATLANTA, startsAt: at(30 * DAY) });
  // 10 days sooner and 95 km farther: sooner wins; 105 km farther: nearer wins.
  const closeEnough = candidate("95km-20d", { location: north(95), startsAt: at(20 * DAY) });
  const tooFar = candidate("105km-20d", { location: north(105), startsAt: at(20 * DAY) });
  const learner = { preferredLocation: ATLANTA };
  assert.equal(rankSessions(learner, REF, [near, closeEnough], NOW)[0].sessionId, "95km-20d");
  assert.equal(rankSessions(learner, REF, [near, tooFar], NOW)[0].sessionId, "near-30d");
  // Beyond the ranges nothing more counts: 700 km and 3,112 km are equally far, so the sooner wins.
  const far = rankSessions(learner, REF, [
    candidate("700km-5d", { location: north(700), startsAt: at(5 * DAY) }),
    candidate("la-4d", { location: LOS_ANGELES, startsAt: at(4 * DAY) }),
  ], NOW);
  assert.deepEqual(far.map((r) => r.sessionId), ["la-4d", "700km-5d"]);
});

Deno.test("[ranking] online counts as near; without a preferred location the calendar decides", () => {
  const online = candidate("online-5d", { online: true, location: null, startsAt: at(5 * DAY) });
  const nearIn5 = candidate("atl-5d", { startsAt: at(5 * DAY) });
  const farSooner = candidate("300km-2d", { location: north(300), startsAt: at(2 * DAY) });
  const ranked = rankSessions({ preferredLocation: ATLANTA }, REF, [farSooner, online, nearIn5], NOW);
  assert.equal(ranked[0].score, ranked[1].score, "online and 0 km score the same");
  assert.deepEqual(new Set(ranked.slice(0, 2).map((r) => r.sessionId)), new Set(["online-5d", "atl-5d"]));
  assert.equal(ranked[2].sessionId, "300km-2d");
  assert.equal(ranked.find((r) => r.sessionId === "online-5d")!.distanceKm, null);
  // Hybrid (online with a place): as near as online, and the words give both.
  const [hybrid] = rankSessions({ preferredLocation: ATLANTA }, REF, [
    candidate("hybrid-la-5d", { online: true, location: LOS_ANGELES, startsAt: at(5 * DAY) }),
  ], NOW);
  assert.equal(hybrid.score, ranked[0].score);
  assert.equal(hybrid.distanceKm, 3112);
  assert.equal(hybrid.reasons.join(" · "), "same course · online or 3112 km away · in 5 days");

  const noPref = rankSessions({ preferredLocation: null }, REF, [nearIn5, farSooner, online], NOW);
  assert.deepEqual(noPref.map((r) => r.sessionId), ["300km-2d", "atl-5d", "online-5d"]);
  assert.ok(noPref.every((r) => r.distanceKm === null));
  assert.equal(noPref[1].score, noPref[2].score, "no location: proximity is the same for all");
});

Deno.test("[ranking] relevance: same course, then same certification track, then same topic; others left out", () => {
  const ranked = rankSessions(
    { preferredLocation: ATLANTA },
    REF,
    [
      candidate("topic", { courseId: "c-other", certificationTrack: null, topic: "safety" }),
      candidate("unrelated", { courseId: "c-sales", certificationTrack: null, topic: "sales" }),
      candidate("track", { courseId: "c-saf2", certificationTrack: "forklift", topic: "product" }),
      candidate("course", {}),
    ],
    NOW,
    10,
  );
  assert.deepEqual(ranked.map((r) => r.sessionId), ["course", "track", "topic"]);
  assert.deepEqual(ranked.map((r) => r.reasons[0]), ["same course", "same certification track", "similar topic"]);
  assert.equal(ranked[0].score - ranked[1].score, RANKING_WEIGHTS.sameCourse - RANKING_WEIGHTS.sameTrack);
  // The same course 600 km away still beats a same-topic course next door on the same day.
  const vsTopic = rankSessions({ preferredLocation: ATLANTA }, REF, [
    candidate("topic-here", { courseId: "c-other", certificationTrack: null }),
    candidate("course-600km", { location: north(600) }),
  ], NOW);
  assert.equal(vsTopic[0].sessionId, "course-600km");
});

Deno.test("[ranking] full, started and the replaced session are never suggested; at most `limit`", () => {
  const cands = [
    candidate("full", { startsAt: at(DAY) }),
    candidate("no-seats", { seatsLeft: 0 }),
    candidate("started", { startsAt: at(-HOUR) }),
    candidate("now", { startsAt: at(0) }),
    ...[1, 2, 3, 4, 5].map((d) => candidate(`ok-${d}`, { startsAt: at(d * DAY) })),
  ];
  const ranked = rankSessions({ preferredLocation: ATLANTA }, REF, cands, NOW);
  assert.deepEqual(ranked.map((r) => r.sessionId), ["ok-1", "ok-2", "ok-3"]);
  assert.equal(rankSessions({}, REF, cands, NOW, 10).length, 5);
  assert.deepEqual(rankSessions({}, REF, cands, NOW, 0), []);
});

Deno.test("[ranking] each suggestion says why in words", () => {
  const [r] = rankSessions({ preferredLocation: ATLANTA }, REF, [
    candidate("s", { location: north(12), startsAt: at(3 * DAY + 2 * HOUR) }),
  ], NOW);
  assert.equal(r.reasons.join(" · "), "same course · 12 km away · in 3 days");
  assert.equal(r.distanceKm, 12);
  const [soon] = rankSessions({ preferredLocation: ATLANTA }, REF, [
    candidate("soon", { online: true, location: null, startsAt: at(5 * HOUR + 10 * 60_000) }),
  ], NOW);
  assert.equal(soon.reasons.join(" · "), "same course · online · in 5 hours");
  const [here] = rankSessions({ preferredLocation: ATLANTA }, REF, [candidate("h", { startsAt: at(DAY) })], NOW);
  assert.equal(here.reasons.join(" · "), "same course · under 1 km away · in 1 day");
});

Deno.test("[ranking] preferred times are a mild factor in the session's own time zone", () => {
  // 2030-03-05 is a Tuesday. 14:00 UTC = 09:00 in New York (morning); 22:00 UTC = 17:00 (evening).
  const morning = candidate("tue-morning", { startsAt: "2030-03-05T14:00:00.000Z", timeZone: "America/New_York" });
  const evening = candidate("tue-evening", { startsAt: "2030-03-05T22:00:00.000Z", timeZone: "America/New_York" });
  const learner = { preferredLocation: ATLANTA, preferredTimes: { weekdays: [2], dayParts: ["morning" as const] } };
  const ranked = rankSessions(learner, REF, [evening, morning], NOW);
  assert.equal(ranked[0].sessionId, "tue-morning");
  assert.ok(ranked[0].reasons.includes("at a time you prefer"));
  assert.ok(!ranked[1].reasons.includes("at a time you prefer"));
  // Mild: worth at most 3 points (6 days), so a start 12 days sooner still wins.
  const week = candidate("wed-evening-next-week", {
    startsAt: "2030-03-13T22:00:00.000Z",
    timeZone: "America/New_York",
  });
  const later = candidate("tue-morning-3-weeks", {
    startsAt: "2030-03-26T14:00:00.000Z",
    timeZone: "America/New_York",
  });
  assert.equal(rankSessions(learner, REF, [later, week], NOW)[0].sessionId, "wed-evening-next-week");
  const withoutPrefs = rankSessions({ preferredLocation: ATLANTA }, REF, [evening, morning], NOW);
  assert.equal(withoutPrefs[0].sessionId, "tue-morning", "no preference: the sooner start");
  assert.ok(withoutPrefs.every((r) => !r.reasons.includes("at a time you prefer")));
});
