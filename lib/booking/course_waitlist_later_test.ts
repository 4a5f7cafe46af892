/** The course-wide waitlist and sessions scheduled, moved or re-opened after the learner joined. */
import assert from "node:assert/strict";
import { checkConsistency } from "./consistency.ts";
import {
  addCourseWaitlistLearners,
  type CourseWaitlistEntry,
  indexCourseWaitlists,
  joinCourseWaitlist,
  leaveCourseWaitlist,
  resumeCourseWaitlistCovers,
} from "./course_waitlist.ts";
import { BookingEngine } from "./engine.ts";
import type { DomainEvent } from "./events.ts";
import type { Booking, Hold, Session, WaitlistEntry } from "./model.ts";
import { scheduleSession, updateSession } from "./session_lifecycle.ts";
import type { NewSession } from "../domain/mod.ts";
import { keys } from "../store/keys.ts";
import {
  admin,
  Clock,
  HOUR,
  listValues,
  putCourse,
  putLocation,
  putSession,
  putUser,
  putUsers,
  self,
  setup,
  teardown,
} from "../../tests/booking/test_fixtures.ts";
import { enforceKvConnectLimits } from "../../tests/kv_connect_limits.ts";

const DAY = 24 * HOUR;

/** A new online session of `courseId` starting `days` after the clock, as an admin schedules it. */
function newSession(
  courseId: string,
  instructorId: string,
  clock: Clock,
  days: number,
  over: Partial<NewSession> = {},
) {
  const startsAt = new Date(clock.ms + days * DAY).toISOString();
  return {
    courseId,
    startsAt,
    endsAt: new Date(Date.parse(startsAt) + 2 * HOUR).toISOString(),
    timeZone: "America/New_York",
    mode: "online",
    joinUrl: "https://meet.example.com/later",
    capacity: 1,
    instructorId,
    ...over,
  } satisfies NewSession;
}

/** Books every seat of a session (one learner per seat). */
async function fill(engine: BookingEngine, kv: Deno.Kv, s: Pick<Session, "id" | "capacity">): Promise<void> {
  for (const u of await putUsers(kv, s.capacity)) {
    const { hold } = await engine.placeHold(s.id, u.id, self(u.id));
    await engine.confirmHold(hold.id, self(u.id));
  }
}

/** The learner's place in a session (null: none). */
async function placeIn(kv: Deno.Kv, learnerId: string, sessionId: string): Promise<WaitlistEntry | null> {
  return (await kv.get<WaitlistEntry>(keys.waitlistByLearner(learnerId, sessionId))).value;
}

async function liveOffers(kv: Deno.Kv, now: Date): Promise<Hold[]> {
  return (await listValues<Hold>(kv, ["holds"]))
    .filter((h) => h.kind === "offer" && h.status === "active" && Date.parse(h.expiresAt) > now.getTime());
}

/** Lets the lane's follow-up commits (deferred offers) of a session run. */
async function settle(engine: BookingEngine, sessionId: string): Promise<void> {
  for (let i = 0; i < 3; i++) await engine.lanes.run(sessionId, admin(), () => Promise.resolve());
}

/** Nothing of the learner's course-wide entry is left: record, index row, places, offers. */
async function assertNothingLeft(kv: Deno.Kv, learnerId: string, courseId: string, now: Date): Promise<void> {
  assert.equal((await kv.get(keys.courseWaitlist(learnerId, courseId))).value, null, "no entry");
  const index = (await Array.fromAsync(kv.list({ prefix: keys.courseWaitlistByCoursePrefix(courseId) })))
    .filter((e) => e.key[3] === learnerId);
  assert.deepEqual(index, [], "no index row");
  assert.deepEqual(await listValues(kv, keys.waitlistByLearnerPrefix(learnerId)), [], "no place anywhere");
  assert.deepEqual((await liveOffers(kv, now)).filter((o) => o.learnerId === learnerId), [], "no live offer");
}

Deno.test("[course waitlist] a session scheduled later in the window: its free seat is offered at once, the next joiner waits there and is offered when it frees; one outside the window is not covered", async () => {
  const { kv, engine, clock, course } = await setup();
  const teacher = await putUser(kv, { roles: ["instructor"] });
  const full = await putSession(kv, course.id, { startsInHours: 3 * 24, capacity: 1 });
  await fill(engine, kv, full);
  const [first, second] = await putUsers(kv, 2);
  const to = new Date(clock.ms + 20 * DAY).toISOString().slice(0, 10);
  const a = await joinCourseWaitlist(engine, first.id, { courseId: course.id, to }, self(first.id));
  clock.advance(1000);
  const b = await joinCourseWaitlist(engine, second.id, { courseId: course.id, to }, self(second.id));
  clock.advance(HOUR);

  const later = await engine.scheduleSession(newSession(course.id, teacher.id, clock, 10), admin());
  const outside = await engine.scheduleSession(newSession(course.id, teacher.id, clock, 30), admin());
  await settle(engine, later.id);
  // The first to join gets the free seat (a normal offer), the second waits in the new session.
  const offers = await liveOffers(kv, clock.now());
  assert.deepEqual(offers.map((o) => [o.sessionId, o.learnerId, o.courseEntryId]), [[later.id, first.id, a.entry.id]]);
  const rec = (await kv.get<CourseWaitlistEntry>(keys.courseWaitlist(first.id, course.id))).value!;
  assert.equal(rec.offer?.holdId, offers[0].id, "the one-offer guard names the new session's offer");
  assert.equal((await placeIn(kv, second.id, later.id))?.status, "waiting");
  assert.equal((await placeIn(kv, second.id, later.id))?.courseEntryId, b.entry.id);
  assert.equal(await engine.waitlistPosition(later.id, second.id), 1);
  // Outside the window: nobody's place.
  assert.equal(await placeIn(kv, first.id, outside.id), null);
  assert.equal(await placeIn(kv, second.id, outside.id), null);
  assert.deepEqual(await listValues(kv, keys.courseWaitlistCoversPrefix()), [], "both walks finished");
  const joined = (await listValues<DomainEvent>(kv, keys.eventsPrefix()))
    .filter((e) => e.type === "waitlist.joined" && e.sessionId === later.id);
  assert.deepEqual(joined.map((e) => [e.learnerId, e.data.courseWide, e.data.courseEntryId]), [
    [first.id, true, a.entry.id],
    [second.id, true, b.entry.id],
  ]);

  // The first declines: the seat frees and goes to the second.
  await engine.leaveWaitlist(later.id, first.id, self(first.id));
  const next = await liveOffers(kv, clock.now());
  assert.deepEqual(next.map((o) => [o.sessionId, o.learnerId]), [[later.id, second.id]]);
  // Accepting it closes the second's entry and removes their place in the full session.
  await engine.confirmHold(next[0].id, self(second.id));
  assert.equal(await placeIn(kv, second.id, full.id), null);
  assert.equal((await kv.get(keys.courseWaitlist(second.id, course.id))).value, null);
  assert.deepEqual((await listValues(kv, keys.courseWaitlistByCoursePrefix(course.id))).length, 1, "only first's");
  assert.deepEqual((await checkConsistency(kv, clock.now)).problems, []);
  await teardown(kv);
});

Deno.test("[course waitlist] a session moved into the window or re-opened is covered, one moved in beyond the distance is not; leaving removes the later places too", async () => {
  const { kv, engine, clock, course } = await setup();
  const teacher = await putUser(kv, { roles: ["instructor"] });
  const home = await putLocation(kv, { lat: 33.7845, lng: -84.3838 }); // Atlanta
  const far = await putLocation(kv, { lat: 41.8781, lng: -87.6298 }); // Chicago, ~950 km
  const learner = await putUser(kv, { preferredLocationId: home.id });
  const full = await putSession(kv, course.id, { startsInHours: 3 * 24, capacity: 1 });
  await fill(engine, kv, full);
  const moved = await engine.scheduleSession(newSession(course.id, teacher.id, clock, 40), admin());
  await fill(engine, kv, moved);
  const closed = await engine.scheduleSession(
    newSession(course.id, teacher.id, clock, 8, { waitlistEnabled: false }),
    admin(),
  );
  await fill(engine, kv, closed);
  const chicago = await engine.scheduleSession(
    newSession(course.id, teacher.id, clock, 50, { mode: "in_person", locationId: far.id, joinUrl: null }),
    admin(),
  );
  await fill(engine, kv, chicago);
  const to = new Date(clock.ms + 20 * DAY).toISOString().slice(0, 10);
  const view = await joinCourseWaitlist(engine, learner.id, { courseId: course.id, to, maxKm: 100 }, self(learner.id));
  assert.deepEqual(view.sessions.map((s) => s.sessionId), [full.id]);

  const startsAt = new Date(clock.ms + 12 * DAY).toISOString();
  await engine.updateSession(
    moved.id,
    { startsAt, endsAt: new Date(Date.parse(startsAt) + 2 * HOUR).toISOString() },
    admin(),
  );
  assert.equal((await placeIn(kv, learner.id, moved.id))?.courseEntryId, view.entry.id, "moved into the window");
  await engine.updateSession(closed.id, { waitlistEnabled: true }, admin());
  assert.equal((await placeIn(kv, learner.id, closed.id))?.courseEntryId, view.entry.id, "waitlist re-opened");
  await engine.updateSession(
    chicago.id,
    { startsAt, endsAt: new Date(Date.parse(startsAt) + 2 * HOUR).toISOString() },
    admin(),
  );
  assert.equal(await placeIn(kv, learner.id, chicago.id), null, "in the window but 950 km away");
  // A change that does not touch date, place, mode or waitlist asks for nothing.
  await engine.updateSession(chicago.id, { capacity: 2 }, admin());
  assert.deepEqual(await listValues(kv, keys.courseWaitlistCoversPrefix()), []);

  await leaveCourseWaitlist(engine, learner.id, course.id, self(learner.id));
  await assertNothingLeft(kv, learner.id, course.id, clock.now());
  // Later sessions do not bring a left entry back.
  const after = await engine.scheduleSession(newSession(course.id, teacher.id, clock, 9), admin());
  assert.equal(await placeIn(kv, learner.id, after.id), null);
  assert.deepEqual((await checkConsistency(kv, clock.now)).problems, []);
  await teardown(kv);
});

Deno.test("[course waitlist] many course-wide learners: added to a new session in join order, in batches of at most 10 checks; free seats to the first joiners", async () => {
  const { kv, engine, clock, course } = await setup();
  const spy = enforceKvConnectLimits(kv);
  const teacher = await putUser(kv, { roles: ["instructor"] });
  const full = await putSession(kv, course.id, { startsInHours: 3 * 24, capacity: 1 });
  await fill(engine, kv, full);
  const learners = await putUsers(kv, 11);
  for (const u of learners) {
    await joinCourseWaitlist(engine, u.id, { courseId: course.id }, self(u.id));
    clock.advance(1000);
  }
  const commitsBefore = spy.commits();
  const later = await engine.scheduleSession(newSession(course.id, teacher.id, clock, 10, { capacity: 3 }), admin());
  await settle(engine, later.id);
  assert.ok(spy.commits() - commitsBefore >= 6, "11 entries at 2 per commit take several commits");
  assert.ok(spy.most() <= 10, `at most 10 checks per commit (saw ${spy.most()})`);
  const offers = (await liveOffers(kv, clock.now())).filter((o) => o.sessionId === later.id);
  assert.deepEqual(offers.map((o) => o.learnerId).sort(), learners.slice(0, 3).map((u) => u.id).sort());
  for (const [i, u] of learners.slice(3).entries()) {
    assert.equal(await engine.waitlistPosition(later.id, u.id), i + 1, "join order kept");
  }
  assert.deepEqual(await listValues(kv, keys.courseWaitlistCoversPrefix()), []);
  assert.deepEqual((await checkConsistency(kv, clock.now)).problems, []);
  await teardown(kv);
});

Deno.test("[course waitlist] a walk cut short is finished by the worker's resume; a learner who left meanwhile is not added", async () => {
  const { kv, engine, clock, course } = await setup();
  const teacher = await putUser(kv, { roles: ["instructor"] });
  const full = await putSession(kv, course.id, { startsInHours: 3 * 24, capacity: 1 });
  await fill(engine, kv, full);
  const [stays, leaves] = await putUsers(kv, 2);
  await joinCourseWaitlist(engine, stays.id, { courseId: course.id }, self(stays.id));
  await joinCourseWaitlist(engine, leaves.id, { courseId: course.id }, self(leaves.id));
  // The session's commit alone, as when the process dies right after it.
  const deps = { kv, lanes: engine.lanes, now: clock.now };
  const later = await scheduleSession(deps, newSession(course.id, teacher.id, clock, 10, { capacity: 3 }), admin());
  assert.equal((await listValues(kv, keys.courseWaitlistCoversPrefix())).length, 1, "the work is recorded");
  assert.equal(await placeIn(kv, stays.id, later.id), null);
  await leaveCourseWaitlist(engine, leaves.id, course.id, self(leaves.id));
  clock.advance(2 * 60_000);
  const r = await resumeCourseWaitlistCovers(engine, { minAgeMs: 60_000 });
  assert.deepEqual(r, { finished: 1, failed: [] });
  assert.equal((await placeIn(kv, stays.id, later.id))?.status, "offered", "a free seat: offered at once");
  await assertNothingLeft(kv, leaves.id, course.id, clock.now());
  assert.deepEqual(await addCourseWaitlistLearners(engine, later.id), { added: 0, finished: true }, "idempotent");
  assert.deepEqual((await checkConsistency(kv, clock.now)).problems, []);
  await teardown(kv);
});

Deno.test("[course waitlist] concurrency: a session scheduled while the learner leaves never leaves a place, index row or offer behind", async () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const kv = await Deno.openKv(":memory:");
    const spy = enforceKvConnectLimits(kv);
    const clock = new Clock();
    // Two engines: the leave and the scheduling may run in two instances.
    const [one, two] = [0, 1].map(() => new BookingEngine(kv, { holdMinutes: 15, now: clock.now }));
    const course = await putCourse(kv);
    const teacher = await putUser(kv, { roles: ["instructor"] });
    const full = await putSession(kv, course.id, { startsInHours: 3 * 24, capacity: 1 });
    await fill(one, kv, full);
    const learners = await putUsers(kv, 3);
    for (const u of learners) await joinCourseWaitlist(one, u.id, { courseId: course.id }, self(u.id));
    const [leaver, ...others] = learners;
    const schedule = (e: BookingEngine, days: number, capacity: number) =>
      e.scheduleSession(newSession(course.id, teacher.id, clock, days, { capacity }), admin());
    // Seed decides who goes first and on which engine.
    const ops = [
      () => schedule(seed % 2 ? one : two, 5, (seed % 3) + 1),
      () => leaveCourseWaitlist(seed % 2 ? two : one, leaver.id, course.id, self(leaver.id)),
      () => schedule(seed % 2 ? two : one, 6, 1),
    ];
    if (seed > 3) ops.reverse();
    const [s1, , s2] = await Promise.all(ops.map((f) => f()));
    const created = [s1, s2] as Session[];
    for (const s of created) await settle(one, s.id);
    await assertNothingLeft(kv, leaver.id, course.id, clock.now());
    for (const u of others) {
      for (const s of created) assert.ok(await placeIn(kv, u.id, s.id), `seed ${seed}: the others are covered`);
    }
    const offers = await liveOffers(kv, clock.now());
    const people = offers.map((o) => o.learnerId);
    assert.equal(new Set(people).size, people.length, `seed ${seed}: one live offer per entry`);
    assert.deepEqual(await listValues(kv, keys.courseWaitlistCoversPrefix()), []);
    assert.deepEqual((await checkConsistency(kv, clock.now)).problems, [], `seed ${seed}`);
    assert.ok(spy.most() <= 10, `seed ${seed}: at most 10 checks per commit (saw ${spy.most()})`);
    await teardown(kv);
  }
});

Deno.test("[course waitlist] concurrency: the learner leaves between the walk's read of their entry and its commit: not added", async () => {
  const { kv, engine, clock, course } = await setup();
  const teacher = await putUser(kv, { roles: ["instructor"] });
  const full = await putSession(kv, course.id, { startsInHours: 3 * 24, capacity: 1 });
  await fill(engine, kv, full);
  const learner = await putUser(kv);
  await joinCourseWaitlist(engine, learner.id, { courseId: course.id }, self(learner.id));
  const deps = { kv, lanes: engine.lanes, now: clock.now };
  const later = await scheduleSession(deps, newSession(course.id, teacher.id, clock, 10, { capacity: 2 }), admin());
  // The leave lands after the walk read the entry and before its batch commits.
  const run = engine.lanes.run.bind(engine.lanes);
  let left = false;
  engine.lanes.run = (async (sessionId: string, actor, op, prefetch) => {
    if (sessionId === later.id && !left) {
      left = true;
      await leaveCourseWaitlist(engine, learner.id, course.id, self(learner.id));
    }
    return await run(sessionId, actor, op, prefetch);
  }) as typeof engine.lanes.run;
  const r = await addCourseWaitlistLearners(engine, later.id);
  assert.ok(left, "the leave ran inside the walk");
  assert.deepEqual(r, { added: 0, finished: true });
  await assertNothingLeft(kv, learner.id, course.id, clock.now());
  assert.deepEqual((await checkConsistency(kv, clock.now)).problems, []);
  await teardown(kv);
});

Deno.test("[course waitlist] entries made before the by-course index are indexed once, then covered by later sessions", async () => {
  const { kv, engine, clock, course } = await setup();
  const teacher = await putUser(kv, { roles: ["instructor"] });
  const full = await putSession(kv, course.id, { startsInHours: 3 * 24, capacity: 1 });
  await fill(engine, kv, full);
  const learner = await putUser(kv);
  const view = await joinCourseWaitlist(engine, learner.id, { courseId: course.id }, self(learner.id));
  // As a store written before the index: the entry without its row.
  await kv.delete(keys.courseWaitlistByCourse(course.id, view.entry.joinedAt, learner.id));
  assert.equal(await indexCourseWaitlists(kv, clock.now()), 1);
  assert.equal(await indexCourseWaitlists(kv, clock.now()), 0, "once per store");
  const later = await engine.scheduleSession(newSession(course.id, teacher.id, clock, 9), admin());
  assert.equal((await placeIn(kv, learner.id, later.id))?.courseEntryId, view.entry.id);
  await teardown(kv);
});

Deno.test("[course waitlist] a session moved out of the window, or given to another course, drops its waiting course-wide places; an offer made stands", async () => {
  const { kv, engine, clock, course } = await setup();
  const teacher = await putUser(kv, { roles: ["instructor"] });
  const otherCourse = await putCourse(kv, { code: "OTH-200" });
  const a = await engine.scheduleSession(newSession(course.id, teacher.id, clock, 5), admin());
  const b = await engine.scheduleSession(newSession(course.id, teacher.id, clock, 6), admin());
  const c = await engine.scheduleSession(newSession(course.id, teacher.id, clock, 7), admin());
  for (const s of [a, b, c]) await fill(engine, kv, s);
  const [early, late] = await putUsers(kv, 2);
  const to = new Date(clock.ms + 20 * DAY).toISOString().slice(0, 10);
  const view = await joinCourseWaitlist(engine, early.id, { courseId: course.id, to }, self(early.id));
  await joinCourseWaitlist(engine, late.id, { courseId: course.id, to }, self(late.id));
  // A seat frees in c: the first joiner is offered it.
  const cBooking = (await listValues<Booking>(kv, ["bookings"])).find((x) => x.sessionId === c.id)!;
  await engine.cancelBooking(cBooking.id, self(cBooking.learnerId));
  assert.equal((await placeIn(kv, early.id, c.id))?.status, "offered");

  const startsAt = new Date(clock.ms + 30 * DAY).toISOString();
  const move = { startsAt, endsAt: new Date(Date.parse(startsAt) + 2 * HOUR).toISOString() };
  await engine.updateSession(a.id, move, admin());
  assert.equal(await placeIn(kv, early.id, a.id), null, "moved out of the window");
  assert.equal(await placeIn(kv, late.id, a.id), null);
  await engine.updateSession(b.id, { courseId: otherCourse.id }, admin());
  assert.equal(await placeIn(kv, early.id, b.id), null, "another course now");
  await engine.updateSession(c.id, move, admin());
  assert.equal((await placeIn(kv, early.id, c.id))?.status, "offered", "the offer made stands");
  assert.equal(await placeIn(kv, late.id, c.id), null);
  const left = (await listValues<DomainEvent>(kv, keys.eventsPrefix()))
    .filter((e) => e.type === "waitlist.left" && e.learnerId === early.id);
  assert.deepEqual(left.map((e) => [e.sessionId, e.data.reason, e.data.courseEntryId]), [
    [a.id, "course_entry_out_of_scope", view.entry.id],
    [b.id, "course_entry_closed", view.entry.id],
  ]);
  assert.deepEqual((await checkConsistency(kv, clock.now)).problems, []);
  await teardown(kv);
});

Deno.test("[course waitlist] a session given to another course while its walk runs: the walk starts over on the new course's entries", async () => {
  const { kv, engine, clock, course } = await setup();
  enforceKvConnectLimits(kv); // two entries per commit: the walk takes several
  const teacher = await putUser(kv, { roles: ["instructor"] });
  const other = await putCourse(kv, { code: "OTH-300" });
  for (const c of [course, other]) {
    await fill(engine, kv, await putSession(kv, c.id, { startsInHours: 72, capacity: 1 }));
  }
  // The other course's learners joined first: a cursor from this course's index would skip them.
  const early = await putUsers(kv, 2);
  for (const u of early) {
    await joinCourseWaitlist(engine, u.id, { courseId: other.id }, self(u.id));
    clock.advance(1000);
  }
  const mine = await putUsers(kv, 4);
  for (const u of mine) {
    await joinCourseWaitlist(engine, u.id, { courseId: course.id }, self(u.id));
    clock.advance(1000);
  }
  const deps = { kv, lanes: engine.lanes, now: clock.now };
  const s = await scheduleSession(deps, newSession(course.id, teacher.id, clock, 10), admin());
  await fill(engine, kv, s);
  // The session changes course after the walk read its first entries, before their commit.
  const run = engine.lanes.run.bind(engine.lanes);
  let changed = false;
  engine.lanes.run = (async (sessionId: string, actor, op, prefetch) => {
    if (sessionId === s.id && !changed && (prefetch?.length ?? 0) > 1) {
      changed = true;
      await updateSession(deps, s.id, { courseId: other.id }, admin());
    }
    return await run(sessionId, actor, op, prefetch);
  }) as typeof engine.lanes.run;
  await addCourseWaitlistLearners(engine, s.id);
  assert.ok(changed);
  for (const u of early) assert.ok(await placeIn(kv, u.id, s.id), "the new course's entries are added");
  for (const u of mine) assert.equal(await placeIn(kv, u.id, s.id), null, "the old course's are not");
  assert.deepEqual(await listValues(kv, keys.courseWaitlistCoversPrefix()), []);
  assert.deepEqual((await checkConsistency(kv, clock.now)).problems, []);
  await teardown(kv);
});

Deno.test("[course waitlist] leaving while a session writes an offer into the entry: the leave decides again and the entry goes", async () => {
  const { kv, engine, clock, course } = await setup();
  const full = await putSession(kv, course.id, { startsInHours: 72, capacity: 1 });
  await fill(engine, kv, full);
  const learner = await putUser(kv);
  await joinCourseWaitlist(engine, learner.id, { courseId: course.id }, self(learner.id));
  // Right after the leave reads the entry, another commit changes it (as an offering session does).
  const get = kv.get.bind(kv);
  let raced = false;
  kv.get = (async (key: Deno.KvKey, options?: { consistency?: Deno.KvConsistencyLevel }) => {
    const got = await get(key, options);
    if (!raced && key[0] === "course_waitlist" && got.value) {
      raced = true;
      await kv.set(key, { ...got.value as CourseWaitlistEntry });
    }
    return got;
  }) as typeof kv.get;
  await leaveCourseWaitlist(engine, learner.id, course.id, self(learner.id));
  assert.ok(raced);
  await assertNothingLeft(kv, learner.id, course.id, clock.now());
  await teardown(kv);
});
