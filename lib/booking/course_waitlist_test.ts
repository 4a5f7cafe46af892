/** The course-wide waitlist: one entry, every matching session, one live offer, accepting closes it. */
import assert from "node:assert/strict";
import { checkConsistency } from "./consistency.ts";
import {
  type CourseWaitlistEntry,
  joinCourseWaitlist,
  leaveCourseWaitlist,
  listCourseWaitlists,
} from "./course_waitlist.ts";
import { BookingEngine } from "./engine.ts";
import { DomainError } from "./errors.ts";
import type { DomainEvent } from "./events.ts";
import type { Booking, Hold, Session, WaitlistEntry } from "./model.ts";
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
import { rng } from "../../tests/booking/storm.ts";
import { enforceKvConnectLimits } from "../../tests/kv_connect_limits.ts";

/** Fills a session with confirmed bookings; returns them. */
async function fill(engine: BookingEngine, kv: Deno.Kv, s: Session): Promise<Booking[]> {
  const out: Booking[] = [];
  for (const u of await putUsers(kv, s.capacity)) {
    const { hold } = await engine.placeHold(s.id, u.id, self(u.id));
    out.push((await engine.confirmHold(hold.id, self(u.id))).booking);
  }
  return out;
}

/** One full 1-seat session of the course per start (days from now), each with its booking. */
async function fullSessionsInDays(
  engine: BookingEngine,
  kv: Deno.Kv,
  courseId: string,
  days: number[],
): Promise<[Session, Booking][]> {
  const out: [Session, Booking][] = [];
  for (const d of days) {
    const s = await putSession(kv, courseId, { startsInHours: 24 * d, capacity: 1 });
    const [booking] = await fill(engine, kv, s);
    out.push([s, booking]);
  }
  return out;
}

function events(kv: Deno.Kv): Promise<DomainEvent[]> {
  return listValues<DomainEvent>(kv, keys.eventsPrefix());
}

async function refusal(p: Promise<unknown>): Promise<DomainError> {
  const e = await p.then(() => null, (err) => err);
  assert.ok(e instanceof DomainError, `expected a refusal, got ${e}`);
  return e;
}

/** The learner's live offers (active, not lapsed) across every session. */
async function liveOffers(kv: Deno.Kv, now: Date): Promise<Hold[]> {
  return (await listValues<Hold>(kv, ["holds"]))
    .filter((h) => h.kind === "offer" && h.status === "active" && Date.parse(h.expiresAt) > now.getTime());
}

Deno.test("[course waitlist] joins every session in the window and distance; online counts as near; leave removes them all", async () => {
  const { kv, engine, clock, course } = await setup();
  const home = await putLocation(kv, { lat: 33.7845, lng: -84.3838 }); // Atlanta
  const near = await putLocation(kv, { lat: 33.95, lng: -84.55 }); // ~25 km
  const far = await putLocation(kv, { lat: 41.8781, lng: -87.6298 }); // Chicago, ~950 km
  const learner = await putUser(kv, { preferredLocationId: home.id });
  const inPerson = { mode: "in_person" as const, joinUrl: null };
  const sNear = await putSession(kv, course.id, { ...inPerson, locationId: near.id, startsInHours: 48, capacity: 1 });
  const sFar = await putSession(kv, course.id, { ...inPerson, locationId: far.id, startsInHours: 72, capacity: 1 });
  const sOnline = await putSession(kv, course.id, { startsInHours: 96, capacity: 1 });
  const sLate = await putSession(kv, course.id, { startsInHours: 24 * 40, capacity: 1 });
  for (const s of [sNear, sFar, sOnline, sLate]) await fill(engine, kv, s);
  const to = new Date(clock.ms + 20 * 24 * HOUR).toISOString().slice(0, 10);
  const view = await joinCourseWaitlist(engine, learner.id, { courseId: course.id, maxKm: 100, to }, self(learner.id));
  assert.deepEqual(view.sessions.map((s) => s.sessionId), [sNear.id, sOnline.id], "not too far, not too late");
  assert.ok(view.sessions.every((s) => s.status === "waiting"));
  assert.deepEqual(view.entry.sessionIds, [sNear.id, sOnline.id]);
  assert.equal(view.entry.offer, null);
  const joined = (await events(kv)).filter((e) => e.type === "waitlist.joined" && e.learnerId === learner.id);
  assert.equal(joined.length, 2);
  assert.ok(joined.every((e) => e.data.courseWide === true && e.data.courseEntryId === view.entry.id));
  assert.equal(await engine.waitlistPosition(sNear.id, learner.id), 1);
  assert.equal((await listCourseWaitlists(kv, learner.id)).length, 1);

  const again = await refusal(joinCourseWaitlist(engine, learner.id, { courseId: course.id }, self(learner.id)));
  assert.equal(again.code, "already_on_course_waitlist");
  assert.equal(again.status, 409);

  await leaveCourseWaitlist(engine, learner.id, course.id, self(learner.id));
  assert.deepEqual(await listCourseWaitlists(kv, learner.id), []);
  assert.deepEqual(await listValues(kv, keys.waitlistByLearnerPrefix(learner.id)), []);
  const left = (await events(kv)).filter((e) => e.type === "waitlist.left" && e.learnerId === learner.id);
  assert.equal(left.length, 2);
  assert.ok(left.every((e) => e.data.courseWide === true && e.data.reason === "course_entry_left"));
  assert.equal((await refusal(leaveCourseWaitlist(engine, learner.id, course.id, self(learner.id)))).status, 404);
  assert.deepEqual((await checkConsistency(kv, clock.now)).problems, []);
  await teardown(kv);
});

Deno.test("[course waitlist] refusals: unknown course 404, nothing matching 409, distance without a preferred location 422", async () => {
  const { kv, engine, clock, course } = await setup();
  const learner = await putUser(kv);
  const unknown = await refusal(
    joinCourseWaitlist(engine, learner.id, { courseId: "01HZZZZZZZZZZZZZZZZZZZZZZZ" }, self(learner.id)),
  );
  assert.equal(unknown.status, 404);
  assert.equal(unknown.code, "course_not_found");
  const none = await refusal(joinCourseWaitlist(engine, learner.id, { courseId: course.id }, self(learner.id)));
  assert.equal(none.status, 409);
  assert.equal(none.code, "no_matching_sessions");
  assert.equal((await kv.get(keys.courseWaitlist(learner.id, course.id))).value, null, "nothing half-written");
  await putSession(kv, course.id, { startsInHours: 48 });
  const before = new Date(clock.ms - 24 * HOUR).toISOString().slice(0, 10);
  assert.equal(
    (await refusal(joinCourseWaitlist(engine, learner.id, { courseId: course.id, to: before }, self(learner.id))))
      .code,
    "no_matching_sessions",
  );
  const noHome = await refusal(
    joinCourseWaitlist(engine, learner.id, { courseId: course.id, maxKm: 50 }, self(learner.id)),
  );
  assert.equal(noHome.status, 422);
  assert.equal(noHome.code, "no_preferred_location");
  await teardown(kv);
});

Deno.test("[course waitlist] a free seat is offered at once; one live offer at a time; accepting removes the rest", async () => {
  const { kv, engine, clock, course } = await setup();
  const learner = await putUser(kv);
  const a = await putSession(kv, course.id, { startsInHours: 72, capacity: 1 });
  const b = await putSession(kv, course.id, { startsInHours: 96, capacity: 1 });
  const c = await putSession(kv, course.id, { startsInHours: 120, capacity: 1 });
  const [aBooking] = await fill(engine, kv, a);
  const [bBooking] = await fill(engine, kv, b);
  // c has its seat free: the entry is offered it straight away.
  const view = await joinCourseWaitlist(engine, learner.id, { courseId: course.id }, self(learner.id));
  assert.deepEqual(view.sessions.map((s) => [s.sessionId, s.status]), [
    [a.id, "waiting"],
    [b.id, "waiting"],
    [c.id, "offered"],
  ]);
  assert.equal(view.entry.offer?.sessionId, c.id);
  // A seat frees in a while the offer in c is live: it is not offered to the same learner.
  const other = await putUser(kv);
  await engine.cancelBooking(aBooking.id, self(aBooking.learnerId));
  await engine.lanes.settled();
  let offers = await liveOffers(kv, clock.now());
  assert.deepEqual(offers.map((o) => [o.sessionId, o.learnerId]), [[c.id, learner.id]]);
  // Declining c wakes the entry's other sessions: a's seat, passed over meanwhile, is offered at once.
  await engine.leaveWaitlist(c.id, learner.id, self(learner.id));
  await engine.lanes.settled();
  offers = await liveOffers(kv, clock.now());
  assert.deepEqual(offers.map((o) => [o.sessionId, o.learnerId]), [[a.id, learner.id]]);
  const offer = offers[0];
  assert.equal(offer.courseEntryId, view.entry.id);
  const offered = (await events(kv)).filter((e) => e.type === "waitlist.offered" && e.data.holdId === offer.id);
  assert.equal(offered[0]?.data.courseWide, true);
  // b's seat frees while the offer in a is live: passed over, and kept from newcomers for the learner.
  await engine.cancelBooking(bBooking.id, self(bBooking.learnerId));
  await engine.lanes.settled();
  assert.deepEqual((await liveOffers(kv, clock.now())).map((o) => o.sessionId), [a.id]);
  assert.equal((await refusal(engine.placeHold(b.id, other.id, self(other.id)))).status, 409);
  // Accepting a closes the entry: b's place goes, and b's seat goes to the next newcomer.
  const { booking } = await engine.confirmHold(offer.id, self(learner.id));
  await engine.lanes.settled();
  assert.equal(booking.sessionId, a.id);
  assert.equal((await kv.get(keys.courseWaitlist(learner.id, course.id))).value, null);
  assert.deepEqual(await listValues(kv, keys.waitlistByLearnerPrefix(learner.id)), []);
  // The cleanup's own batch in b met the place first, in its waitlist pass for b's free seat.
  const left = (await events(kv)).filter((e) => e.type === "waitlist.left" && e.sessionId === b.id);
  assert.deepEqual(left.map((e) => e.data.reason), ["course_entry_closed"]);
  const { hold } = await engine.placeHold(b.id, other.id, self(other.id));
  assert.equal(hold.status, "active");
  assert.deepEqual((await checkConsistency(kv, clock.now)).problems, []);
  await teardown(kv);
});

Deno.test("[course waitlist] an offer ended by the hold sweep or by its session's cancel is offered on in the entry's other sessions", async () => {
  const { kv, engine, clock, course } = await setup();
  const learner = await putUser(kv);
  const [[a, aBooking], [b, bBooking], [c, cBooking]] = await fullSessionsInDays(engine, kv, course.id, [5, 6, 7]);
  await joinCourseWaitlist(engine, learner.id, { courseId: course.id }, self(learner.id));
  await engine.cancelBooking(aBooking.id, self(aBooking.learnerId));
  await engine.cancelBooking(bBooking.id, self(bBooking.learnerId));
  await engine.lanes.settled();
  assert.deepEqual((await liveOffers(kv, clock.now())).map((o) => o.sessionId), [a.id], "b passed over");
  // The offer in a lapses; the sweep expires it, and b offers its seat without anyone touching b.
  clock.advance(25 * HOUR);
  assert.equal(await engine.sweepExpiredHolds(), 1);
  await engine.lanes.settled();
  assert.deepEqual((await liveOffers(kv, clock.now())).map((o) => o.sessionId), [b.id]);
  // c's seat frees while b's offer is live; then b is cancelled, which ends that offer: c offers.
  await engine.cancelBooking(cBooking.id, self(cBooking.learnerId));
  await engine.lanes.settled();
  assert.deepEqual((await liveOffers(kv, clock.now())).map((o) => o.sessionId), [b.id], "c passed over");
  await engine.cancelSession(b.id, admin());
  await engine.lanes.settled();
  assert.deepEqual((await liveOffers(kv, clock.now())).map((o) => [o.sessionId, o.learnerId]), [[c.id, learner.id]]);
  assert.deepEqual((await checkConsistency(kv, clock.now)).problems, []);
  await teardown(kv);
});

Deno.test("[course waitlist] a lapsed offer lets another session offer; a leftover place of a closed entry is removed, not offered", async () => {
  const { kv, engine, clock, course } = await setup();
  const learner = await putUser(kv);
  const [[a, aBooking], [b, bBooking], [c, cBooking]] = await fullSessionsInDays(engine, kv, course.id, [5, 6, 7]);
  const view = await joinCourseWaitlist(engine, learner.id, { courseId: course.id }, self(learner.id));
  await engine.cancelBooking(aBooking.id, self(aBooking.learnerId));
  assert.deepEqual((await liveOffers(kv, clock.now())).map((o) => o.sessionId), [a.id]);
  clock.advance(25 * HOUR); // the 24-hour offer in a lapses, with no write
  await engine.cancelBooking(bBooking.id, self(bBooking.learnerId));
  const offers = await liveOffers(kv, clock.now());
  assert.deepEqual(offers.map((o) => [o.sessionId, o.learnerId]), [[b.id, learner.id]]);
  // The entry closes without its places (as after a crash between an accept and its cleanup).
  await kv.delete(keys.courseWaitlist(learner.id, course.id));
  await engine.cancelBooking(cBooking.id, self(cBooking.learnerId));
  assert.deepEqual((await liveOffers(kv, clock.now())).map((o) => o.sessionId), [b.id], "c offers nobody stale");
  const inC = await kv.get<WaitlistEntry>(keys.waitlistByLearner(learner.id, c.id));
  assert.equal(inC.value, null, "c removed the leftover place");
  const left = (await events(kv)).filter((e) => e.type === "waitlist.left" && e.sessionId === c.id);
  assert.deepEqual(left.map((e) => [e.data.reason, e.data.courseEntryId]), [["course_entry_closed", view.entry.id]]);
  assert.deepEqual((await checkConsistency(kv, clock.now)).problems, []);
  await teardown(kv);
});

Deno.test("[course waitlist] priority by compliance deadline holds for course-wide places: a sooner expiry is offered first", async () => {
  const { kv, engine, clock } = await setup();
  const course = await putCourse(kv, { code: "CRT-200", certificationValidMonths: 12 });
  const a = await putSession(kv, course.id, { startsInHours: 72, capacity: 1 });
  const [aBooking] = await fill(engine, kv, a);
  const first = await putUser(kv); // joins a's waitlist first, nothing due
  await engine.joinWaitlist(a.id, first.id, self(first.id));
  // Certified 11.5 months ago: the certification this course renews expires in about two weeks.
  const renewing = await putUser(kv, {
    completedCourses: [{ courseId: course.id, completedAt: new Date(clock.ms - 350 * 24 * HOUR).toISOString() }],
  });
  const view = await joinCourseWaitlist(engine, renewing.id, { courseId: course.id }, self(renewing.id));
  assert.ok(view.entry.deadline, "the entry keeps the learner's deadline");
  assert.equal(await engine.waitlistPosition(a.id, renewing.id), 1, "ahead of an earlier joiner without one");
  await engine.cancelBooking(aBooking.id, self(aBooking.learnerId));
  assert.deepEqual((await liveOffers(kv, clock.now())).map((o) => o.learnerId), [renewing.id]);
  await teardown(kv);
});

Deno.test("[course waitlist] storm: freed seats in several sessions at once go to different people; nobody gets two", async () => {
  for (const seed of [1, 2, 3, 4]) {
    const random = rng(seed);
    const kv = await Deno.openKv(":memory:");
    const spy = enforceKvConnectLimits(kv);
    const clock = new Clock();
    // Two engines: two lane sets committing against one store, as two instances would.
    const engines = [0, 1].map(() => new BookingEngine(kv, { holdMinutes: 15, now: clock.now }));
    const engine = () => engines[Math.floor(random() * engines.length)];
    const course = await putCourse(kv);
    const sessions: Session[] = [];
    for (let i = 0; i < 5; i++) {
      sessions.push(await putSession(kv, course.id, { startsInHours: 72 + 24 * i, capacity: 2 }));
    }
    const bookings = (await Promise.all(sessions.map((s) => fill(engines[0], kv, s)))).flat();
    const wide = await putUsers(kv, 6);
    // Everyone joins at once.
    const entries = await Promise.all(
      wide.map((u) => joinCourseWaitlist(engine(), u.id, { courseId: course.id }, self(u.id))),
    );
    assert.ok(entries.every((v) => v.sessions.length === sessions.length && v.entry.offer === null));
    // A seat frees in every session at once.
    const freed = sessions.map((s) => bookings.find((b) => b.sessionId === s.id)!);
    await Promise.all(freed.map((b) => engine().cancelBooking(b.id, self(b.learnerId))));
    const offers = await liveOffers(kv, clock.now());
    assert.equal(offers.length, sessions.length, `seed ${seed}: every freed seat is offered`);
    const people = offers.map((o) => o.learnerId);
    assert.equal(new Set(people).size, people.length, `seed ${seed}: offers go to different people`);
    for (const o of offers) {
      const rec = (await kv.get<CourseWaitlistEntry>(keys.courseWaitlist(o.learnerId, course.id))).value!;
      assert.equal(rec.offer?.holdId, o.id, "the entry names its one live offer");
    }
    // Every offer is accepted at once while a second seat frees in every session.
    const second = sessions.map((s) => bookings.filter((b) => b.sessionId === s.id)[1]);
    const accepted = await Promise.all([
      ...offers.map((o) => engine().confirmHold(o.id, self(o.learnerId)).then((r) => r.booking)),
      ...second.map((b) => engine().cancelBooking(b.id, self(b.learnerId)).then(() => null)),
    ]);
    // Then whoever got the second round's offers accepts too.
    const more = await liveOffers(kv, clock.now());
    const moreBookings = await Promise.all(
      more.map((o) => engine().confirmHold(o.id, self(o.learnerId)).then((r) => r.booking)),
    );
    const all = [...accepted.filter((b): b is Booking => b !== null), ...moreBookings];
    const perLearner = new Map<string, number>();
    for (const b of all) perLearner.set(b.learnerId, (perLearner.get(b.learnerId) ?? 0) + 1);
    assert.ok([...perLearner.values()].every((n) => n === 1), `seed ${seed}: nobody gets two seats`);
    assert.equal(all.length, wide.length, `seed ${seed}: 10 freed seats, 6 course-wide learners, each seated once`);
    for (const u of wide) {
      const places = await listValues<WaitlistEntry>(kv, keys.waitlistByLearnerPrefix(u.id));
      assert.deepEqual(places, [], `seed ${seed}: accepting removed the rest of the entry`);
      assert.equal((await kv.get(keys.courseWaitlist(u.id, course.id))).value, null);
    }
    // Then sessions are scheduled while others join and one of them leaves: the new sessions take
    // in the entries, still one live offer per person, nothing left of the one who left.
    const late = await putUsers(kv, 4);
    await Promise.all(late.map((u) => joinCourseWaitlist(engine(), u.id, { courseId: course.id }, self(u.id))));
    const instructor = await putUser(kv, { roles: ["instructor"] });
    const schedule = (days: number, capacity: number) => {
      const startsAt = new Date(clock.ms + days * 24 * HOUR).toISOString();
      const endsAt = new Date(Date.parse(startsAt) + 2 * HOUR).toISOString();
      return engine().scheduleSession({
        courseId: course.id,
        startsAt,
        endsAt,
        timeZone: "America/New_York",
        mode: "online",
        joinUrl: "https://meet.example.com/late",
        capacity,
        instructorId: instructor.id,
      }, admin());
    };
    const [quitter, ...stayers] = late;
    const [n1, n2] = await Promise.all([
      schedule(10, 2),
      schedule(11, 1),
      leaveCourseWaitlist(engine(), quitter.id, course.id, self(quitter.id)).then(() => null),
    ]) as Session[];
    for (const s of [n1, n2]) await engines[0].lanes.run(s.id, admin(), () => Promise.resolve());
    const lateOffers = await liveOffers(kv, clock.now());
    const offered = lateOffers.map((o) => o.learnerId);
    assert.equal(new Set(offered).size, offered.length, `seed ${seed}: still one live offer per person`);
    assert.ok(!offered.includes(quitter.id), `seed ${seed}: nothing offered to the one who left`);
    assert.deepEqual(await listValues(kv, keys.waitlistByLearnerPrefix(quitter.id)), []);
    assert.equal((await kv.get(keys.courseWaitlist(quitter.id, course.id))).value, null);
    for (const u of stayers) {
      const rec = (await kv.get<CourseWaitlistEntry>(keys.courseWaitlist(u.id, course.id))).value!;
      const mine = lateOffers.filter((o) => o.learnerId === u.id);
      assert.deepEqual(mine.map((o) => o.id), rec.offer && mine.length ? [rec.offer.holdId] : [], "guard names it");
      for (const s of [n1, n2]) {
        const place = (await kv.get<WaitlistEntry>(keys.waitlistByLearner(u.id, s.id))).value;
        assert.equal(place?.courseEntryId, rec.id, `seed ${seed}: the new sessions cover those still waiting`);
      }
    }
    assert.deepEqual(await listValues(kv, ["course_waitlist_cover"]), [], `seed ${seed}: every walk finished`);
    assert.deepEqual((await checkConsistency(kv, clock.now)).problems, []);
    assert.ok(spy.most() <= 10, `seed ${seed}: at most 10 checks per commit (saw ${spy.most()})`);
    await teardown(kv);
  }
});
