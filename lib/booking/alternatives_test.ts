/** Alternatives on a stored catalog: ranking, what is never suggested, offers and acceptances recorded. */
import assert from "node:assert/strict";
import { findAlternatives, offerAlternatives } from "./alternatives.ts";
import { type CommittedEvent, listEvents } from "./events.ts";
import type { Booking } from "./model.ts";
import { keys } from "../store/keys.ts";
import {
  HOUR,
  putCourse,
  putLocation,
  putSession,
  putUser,
  putUsers,
  self,
  setup,
  teardown,
} from "../../tests/booking/test_fixtures.ts";

async function allEvents(kv: Deno.Kv): Promise<CommittedEvent[]> {
  return (await listEvents(kv, { limit: 1000 })).events;
}

const ATLANTA = { lat: 33.7849, lng: -84.3831, timeZone: "America/New_York" };
const LOS_ANGELES = { lat: 34.0447, lng: -118.2646, timeZone: "America/Los_Angeles" };

Deno.test("[alternatives] the 0 km session in 10 days beats the 3,112 km one tomorrow; reasons in words", async () => {
  const { kv, engine, course } = await setup();
  const atl = await putLocation(kv, { name: "Atlanta Midtown", ...ATLANTA });
  const la = await putLocation(kv, { name: "Los Angeles South Park", ...LOS_ANGELES });
  const inPerson = { mode: "in_person" as const, joinUrl: null };
  const full = await putSession(kv, course.id, { ...inPerson, locationId: atl.id, capacity: 1, startsInHours: 12 });
  const laSoon = await putSession(kv, course.id, { ...inPerson, locationId: la.id, startsInHours: 24 });
  const atlLater = await putSession(kv, course.id, { ...inPerson, locationId: atl.id, startsInHours: 240 });
  const learner = await putUser(kv, { preferredLocationId: atl.id });
  const alts = await findAlternatives(kv, full, learner.id, engine.now());
  assert.deepEqual(alts.map((a) => a.sessionId), [atlLater.id, laSoon.id]);
  assert.equal(alts[0].reason, "same course · under 1 km away · in 10 days");
  assert.equal(alts[1].reason, "same course · 3112 km away · in 1 day");
  assert.deepEqual(alts.map((a) => a.distanceKm), [0, 3112]);
  assert.equal(alts[0].locationName, "Atlanta Midtown");
  await teardown(kv);
});

Deno.test("[alternatives] never suggests missing prerequisites, full, started, cancelled or already-placed sessions", async () => {
  const { kv, engine, course } = await setup();
  const [learner, other] = await putUsers(kv, 2);
  const full = await putSession(kv, course.id, { capacity: 1 });
  const sameCourse = await putSession(kv, course.id, { startsInHours: 48 });
  const placed = await putSession(kv, course.id, { startsInHours: 50 });
  const noSeats = await putSession(kv, course.id, { startsInHours: 52, capacity: 1 });
  await putSession(kv, course.id, { startsInHours: 54, status: "cancelled" });
  await putSession(kv, course.id, { startsInHours: -1 });
  const track = await putCourse(kv, { code: "SAF-201", certificationTrack: null, topic: "safety" });
  const trackSession = await putSession(kv, track.id, { startsInHours: 30 });
  const gated = await putCourse(kv, { code: "SAF-301", topic: "safety", prerequisiteCourseIds: [track.id] });
  await putSession(kv, gated.id, { startsInHours: 26 });
  const unrelated = await putCourse(kv, { code: "SAL-101", topic: "sales" });
  await putSession(kv, unrelated.id, { startsInHours: 25 });
  await engine.placeHold(placed.id, learner.id, self(learner.id));
  await engine.placeHold(noSeats.id, other.id, self(other.id));
  const alts = await findAlternatives(kv, full, learner.id, engine.now(), 10);
  assert.deepEqual(new Set(alts.map((a) => a.sessionId)), new Set([sameCourse.id, trackSession.id]));
  assert.equal(alts[0].sessionId, sameCourse.id, "same course first");
  assert.equal(alts.find((a) => a.sessionId === trackSession.id)!.reasons[0], "similar topic");
  // Once the learner has completed SAF-201, its sessions go and SAF-301's (its prerequisite met) come.
  const done = await putUser(kv, {
    completedCourses: [{ courseId: track.id, completedAt: engine.now().toISOString() }],
  });
  const after = await findAlternatives(kv, full, done.id, engine.now(), 10);
  assert.ok(!after.some((a) => a.courseId === track.id));
  assert.ok(after.some((a) => a.courseId === gated.id));
  await teardown(kv);
});

Deno.test("[alternatives] an offer is recorded once a day; a hold from it within 24 h is an acceptance", async () => {
  const { kv, engine, clock, course } = await setup();
  const full = await putSession(kv, course.id, { capacity: 1 });
  const alt = await putSession(kv, course.id, { startsInHours: 24 * 9 });
  const alt2 = await putSession(kv, course.id, { startsInHours: 24 * 10 });
  const [learner, taker] = await putUsers(kv, 2);
  await engine.placeHold(full.id, taker.id, self(taker.id));
  const offered = await offerAlternatives(kv, full, learner.id, clock.now(), self(learner.id), "session_page");
  assert.deepEqual(offered.map((a) => a.sessionId), [alt.id, alt2.id]);
  await offerAlternatives(kv, full, learner.id, clock.now(), self(learner.id), "session_page");
  const offers = (await allEvents(kv)).filter((e) => e.type === "alternatives.offered");
  assert.equal(offers.length, 1, "a reload offers nothing new");
  assert.equal(offers[0].sessionId, full.id);
  assert.deepEqual((offers[0].data.alternatives as { sessionId: string }[]).map((a) => a.sessionId), [alt.id, alt2.id]);

  clock.advance(23 * HOUR);
  const { hold } = await engine.placeHold(alt.id, learner.id, self(learner.id), undefined, { alternativeOf: full.id });
  assert.equal(hold.alternativeOf, full.id);
  const { booking } = await engine.confirmHold(hold.id, self(learner.id));
  assert.equal((await kv.get<Booking>(keys.booking(booking.id))).value!.alternativeOf, full.id);
  const events = await allEvents(kv);
  assert.equal(events.find((e) => e.type === "hold.placed" && e.data.holdId === hold.id)!.data.alternativeOf, full.id);
  assert.equal(events.find((e) => e.type === "booking.confirmed")!.data.alternativeOf, full.id);

  // After 24 h the same claim is an ordinary hold; so is one naming a session never offered.
  clock.advance(2 * HOUR);
  const late = await engine.placeHold(alt2.id, learner.id, self(learner.id), undefined, { alternativeOf: full.id });
  assert.equal(late.hold.alternativeOf, undefined);
  const stranger = await putUser(kv);
  const never = await engine.placeHold(alt2.id, stranger.id, self(stranger.id), undefined, { alternativeOf: full.id });
  assert.equal(never.hold.alternativeOf, undefined);
  await teardown(kv);
});

Deno.test("[alternatives] a refused hold carries the ranked alternatives in its 409 and records only the offer", async () => {
  const { kv, engine, course } = await setup();
  const full = await putSession(kv, course.id, { capacity: 1 });
  const alt = await putSession(kv, course.id, { startsInHours: 24 * 9 });
  const [a, b] = await putUsers(kv, 2);
  await engine.placeHold(full.id, a.id, self(a.id));
  const before = (await allEvents(kv)).length;
  const err = await engine.placeHold(full.id, b.id, self(b.id)).then(() => null, (e) => e);
  assert.equal(err?.code, "session_full");
  const alts = err.details.alternatives as { sessionId: string; reason: string }[];
  assert.deepEqual(alts.map((x) => x.sessionId), [alt.id]);
  assert.equal(alts[0].reason, "same course · online · in 9 days");
  const added = (await allEvents(kv)).slice(before);
  assert.deepEqual(added.map((e) => [e.type, e.learnerId, e.data.shownOn]), [[
    "alternatives.offered",
    b.id,
    "refusal",
  ]]);
  assert.ok((await kv.get(keys.alternativesOffered(b.id, full.id))).value, "the 24 h offer marker");
  assert.equal((await kv.get(keys.place(full.id, b.id))).value, null, "no seat, hold or place for the refused learner");
  await teardown(kv);
});
