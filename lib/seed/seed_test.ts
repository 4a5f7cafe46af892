import assert from "node:assert/strict";
import type { Course } from "../domain/course.ts";
import type { Location } from "../domain/location.ts";
import type { SeatCounts, Session } from "../domain/session.ts";
import type { User } from "../domain/user.ts";
import type { Booking } from "../domain/booking.ts";
import { findPrerequisiteCycle } from "../domain/course.ts";
import { zonedParts } from "../domain/zoned_time.ts";
import { keys } from "../store/keys.ts";
import { listValues } from "../store/batch.ts";
import { getUserByEmail, listUsersByManager } from "../store/users.ts";
import { listSessions } from "../store/session_listing.ts";
import { resetAndSeed, SEED_VERSION, seedDemoData, type SeedMarker } from "./seed.ts";
import { BUSINESS_END, BUSINESS_START, SCHEDULE_DAYS } from "./build_schedule.ts";
import { DEMO_EMAILS } from "./build_people.ts";
import { enforceKvConnectLimits } from "../../tests/kv_connect_limits.ts";

// Fixed "now" whose 120-day window crosses the US DST change of 2027-03-14.
const NOW = new Date("2027-01-20T15:00:00.000Z");
const DAY = 24 * 3600_000;

async function withKv(fn: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    kv.close();
  }
}

async function readAll(kv: Deno.Kv) {
  const [locations, courses, users, sessions, bookings] = await Promise.all([
    listValues<Location>(kv, { prefix: ["locations"] }),
    listValues<Course>(kv, { prefix: ["courses"] }),
    listValues<User>(kv, { prefix: ["users"] }),
    listValues<Session>(kv, { prefix: ["sessions"] }),
    listValues<Booking>(kv, { prefix: ["bookings"] }),
  ]);
  const seats = new Map<string, SeatCounts>();
  for await (const e of kv.list<SeatCounts>({ prefix: ["seats"] })) seats.set(String(e.key[1]), e.value);
  return { locations, courses, users, sessions, bookings, seats };
}

Deno.test("[seed] seeds once; the second call is a no-op", async () => {
  await withKv(async (kv) => {
    const first = await seedDemoData(kv, { now: NOW });
    assert.equal(first.seeded, true);
    console.log(`    full seed: ${first.ms} ms, counts ${JSON.stringify(first.counts)}`);
    const marker = (await kv.get<SeedMarker>(keys.seedMarker())).value;
    assert.equal(marker?.status, "complete");
    assert.equal(marker?.version, SEED_VERSION);
    const before = (await kv.get(["users_by_email", DEMO_EMAILS.admin])).versionstamp;

    const second = await seedDemoData(kv, { now: NOW });
    assert.equal(second.seeded, false);
    assert.equal(second.reason, "already_seeded");
    assert.deepEqual(second.counts, first.counts);
    assert.equal((await kv.get(["users_by_email", DEMO_EMAILS.admin])).versionstamp, before, "nothing rewritten");
  });
});

Deno.test("[seed] demo data meets the brief", async () => {
  await withKv(async (kv) => {
    await seedDemoData(kv, { now: NOW });
    const { locations, courses, users, sessions, bookings, seats } = await readAll(kv);

    // Catalog.
    assert.ok(locations.length >= 8);
    assert.ok(new Set(locations.map((l) => l.timeZone)).size >= 4);
    assert.equal(courses.length, 40);
    assert.equal(new Set(courses.map((c) => c.programType)).size, 5);
    assert.ok(new Set(courses.map((c) => c.topic)).size >= 8);
    assert.ok(courses.filter((c) => c.prerequisiteCourseIds.length).length >= 10);
    assert.deepEqual(findPrerequisiteCycle(courses), [], "prerequisites are acyclic");

    // People.
    const learners = users.filter((u) => u.roles.length === 1 && u.roles[0] === "learner");
    assert.ok(learners.length >= 2000);
    const dealerIds = new Set(learners.map((u) => u.dealerId));
    assert.ok(dealerIds.size >= 18 && !dealerIds.has(null));
    const byId = new Map(users.map((u) => [u.id, u]));
    for (const l of learners) assert.ok(byId.get(l.managerId!)?.roles.includes("manager"), `${l.email} has a manager`);
    const admin = await getUserByEmail(kv, DEMO_EMAILS.admin);
    assert.ok(admin?.roles.includes("admin"));
    assert.ok(users.filter((u) => u.roles.includes("admin")).length >= 2);
    const manager = await getUserByEmail(kv, DEMO_EMAILS.manager);
    assert.ok((await listUsersByManager(kv, manager!.id)).length > 20);
    const courseById = new Map(courses.map((c) => [c.id, c]));
    let withPast = 0;
    for (const u of users) {
      const when = new Map(u.completedCourses.map((c) => [c.courseId, c.completedAt]));
      for (const [courseId, at] of when) {
        assert.ok(at < NOW.toISOString());
        for (const pre of courseById.get(courseId)!.prerequisiteCourseIds) {
          assert.ok(when.has(pre) && when.get(pre)! <= at, `${u.email}: prerequisite completed first`);
        }
      }
      if (u.completedCourses.some((c) => Date.parse(c.completedAt) > NOW.getTime() - 90 * DAY)) withPast++;
    }
    assert.ok(withPast > 300, "many completed courses in recent months");

    // Sessions.
    assert.equal(sessions.length, 600);
    const online = sessions.filter((s) => s.mode === "online");
    assert.ok(online.length >= 120 && online.length <= 180, `~25% online (${online.length})`);
    assert.ok(sessions.some((s) => s.mode === "hybrid"));
    for (const s of sessions) {
      if (s.mode !== "in_person") assert.match(s.joinUrl!, /^https:\/\/meet\.example\.com\/[a-z0-9-]+$/);
      assert.ok(s.capacity >= 6 && s.capacity <= 30);
      const start = Date.parse(s.startsAt);
      assert.ok(start > NOW.getTime() && start < NOW.getTime() + SCHEDULE_DAYS * DAY);
      const local = zonedParts(new Date(s.startsAt), s.timeZone);
      const localEnd = zonedParts(new Date(s.endsAt), s.timeZone);
      const startMin = local.hour * 60 + local.minute;
      const endMin = localEnd.hour * 60 + localEnd.minute;
      assert.ok(local.weekday >= 1 && local.weekday <= 5, `${s.startsAt} ${s.timeZone} is a weekday`);
      assert.ok(startMin >= BUSINESS_START && endMin <= BUSINESS_END && endMin > startMin, `${s.startsAt} in hours`);
      if (s.locationId) {
        assert.equal(s.timeZone, locations.find((l) => l.id === s.locationId)!.timeZone);
      }
    }
    // Both sides of the DST change are scheduled at local business hours.
    assert.ok(sessions.some((s) => s.startsAt < "2027-03-14" && s.timeZone === "America/New_York"));
    assert.ok(sessions.some((s) => s.startsAt > "2027-03-15" && s.timeZone === "America/New_York"));
    assert.ok(sessions.some((s) => !s.waitlistEnabled));
    assert.ok(sessions.some((s) => s.waitlistEnabled));

    // Seats and bookings.
    const perSession = new Map<string, number>();
    for (const b of bookings) perSession.set(b.sessionId, (perSession.get(b.sessionId) ?? 0) + 1);
    let full = 0;
    let nearlyFull = 0;
    for (const s of sessions) {
      const count = seats.get(s.id)!;
      assert.equal(count.confirmed, perSession.get(s.id) ?? 0, "seat counter matches bookings");
      assert.equal(count.holds, 0);
      assert.ok(count.confirmed <= s.capacity, "never over capacity");
      if (count.confirmed === s.capacity) full++;
      else if (s.capacity - count.confirmed <= Math.max(2, s.capacity * 0.15)) nearlyFull++;
    }
    assert.ok(full >= 50 && full <= 70, `~10% full (${full})`);
    assert.ok(nearlyFull >= 60, `some nearly full (${nearlyFull})`);
    const places = new Set(bookings.map((b) => `${b.sessionId}/${b.learnerId}`));
    assert.equal(places.size, bookings.length, "one place per learner and session");
    const sessionById = new Map(sessions.map((s) => [s.id, s]));
    for (const b of bookings) {
      const learner = byId.get(b.learnerId)!;
      const course = courseById.get(sessionById.get(b.sessionId)!.courseId)!;
      const done = new Set(learner.completedCourses.map((c) => c.courseId));
      assert.ok(course.prerequisiteCourseIds.every((p) => done.has(p)), "booked learners meet prerequisites");
      assert.ok(b.createdAt < NOW.toISOString());
    }
    const demo = await getUserByEmail(kv, DEMO_EMAILS.learner);
    assert.ok(bookings.some((b) => b.learnerId === demo!.id), "the demo learner has bookings");

    // Indexes agree with the records.
    let all = 0;
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof listSessions>> = await listSessions(kv, { cursor, limit: 250 });
      all += page.sessions.length;
      cursor = page.nextCursor;
    } while (cursor);
    assert.equal(all, 600);
  });
});

Deno.test("[seed] same seed and now give the same data", async () => {
  const { buildDemoData } = await import("./demo_data.ts");
  const strip = (d: ReturnType<typeof buildDemoData>) => {
    const code = new Map(d.courses.map((c) => [c.id, c.code]));
    const email = new Map(d.users.map((u) => [u.id, u.email]));
    const start = new Map(d.sessions.map((s) => [s.id, `${code.get(s.courseId)}@${s.startsAt}`]));
    return {
      users: d.users.map((
        u,
      ) => [u.email, u.roles.join(), u.completedCourses.map((c) => code.get(c.courseId) + c.completedAt).join()]),
      sessions: d.sessions.map((s) => [start.get(s.id), s.mode, s.capacity, s.timeZone, email.get(s.instructorId)]),
      bookings: d.bookings.map((b) => [start.get(b.sessionId), email.get(b.learnerId), b.createdAt, b.registration]),
    };
  };
  assert.deepEqual(strip(buildDemoData(NOW)), strip(buildDemoData(NOW)));
  assert.notDeepEqual(strip(buildDemoData(NOW, 1)).sessions, strip(buildDemoData(NOW)).sessions);
});

Deno.test("[seed] a crashed seed is redone; unmarked data is refused; reset reseeds", async () => {
  await withKv(async (kv) => {
    // A crash left a stale in-progress marker and partial data.
    await kv.set(
      keys.seedMarker(),
      {
        version: SEED_VERSION,
        status: "in_progress",
        startedAt: new Date(Date.now() - 3_600_000).toISOString(),
        completedAt: null,
        counts: null,
      } satisfies SeedMarker,
    );
    await kv.set(["locations", "partial"], { junk: true });
    const redo = await seedDemoData(kv, { now: NOW });
    assert.equal(redo.seeded, true);
    assert.equal(redo.deleted, 1, "the partial data, not the claimed marker");
    assert.equal((await kv.get(["locations", "partial"])).value, null);

    // A recent in-progress marker means another process is seeding.
    await kv.set(
      keys.seedMarker(),
      {
        version: SEED_VERSION,
        status: "in_progress",
        startedAt: new Date().toISOString(),
        completedAt: null,
        counts: null,
      } satisfies SeedMarker,
    );
    assert.equal((await seedDemoData(kv, { now: NOW })).reason, "seed_in_progress");

    // Data without any marker is not overwritten.
    await kv.delete(keys.seedMarker());
    await assert.rejects(seedDemoData(kv, { now: NOW }), /no seed marker/);

    const reset = await resetAndSeed(kv, { now: NOW });
    assert.equal(reset.seeded, true);
    assert.ok(reset.deleted > 20000);
    assert.equal((await readAll(kv)).sessions.length, 600);
  });
});

Deno.test("[seed] schedule stays in local business hours for any 'now'", async () => {
  const { buildDemoData } = await import("./demo_data.ts");
  for (const now of [new Date(), new Date("2026-07-01T23:30:00Z"), new Date("2027-10-15T04:00:00Z")]) {
    const d = buildDemoData(now);
    assert.equal(d.sessions.length, 600);
    const perSession = new Map<string, number>();
    for (const b of d.bookings) perSession.set(b.sessionId, (perSession.get(b.sessionId) ?? 0) + 1);
    for (const s of d.sessions) {
      const local = zonedParts(new Date(s.startsAt), s.timeZone);
      const end = zonedParts(new Date(s.endsAt), s.timeZone);
      assert.ok(local.weekday >= 1 && local.weekday <= 5);
      assert.ok(local.hour * 60 + local.minute >= BUSINESS_START);
      assert.ok(end.hour * 60 + end.minute <= BUSINESS_END && end.day === local.day);
      assert.ok(Date.parse(s.startsAt) > now.getTime());
      assert.ok((perSession.get(s.id) ?? 0) <= s.capacity);
    }
  }
});

Deno.test("[seed] seeds and reseeds within KV Connect's 10-check budget", async () => {
  await withKv(async (kv) => {
    const spy = enforceKvConnectLimits(kv);
    const first = await seedDemoData(kv, { now: NOW });
    assert.equal(first.seeded, true);
    const again = await resetAndSeed(kv, { now: NOW });
    assert.equal(again.seeded, true);
    assert.deepEqual(again.counts, first.counts);
    const { bookings, seats } = await readAll(kv);
    assert.equal(bookings.length, first.counts!.bookings);
    const confirmed = [...seats.values()].reduce((n, s) => n + s.confirmed, 0);
    assert.equal(confirmed, bookings.length);
    assert.ok(spy.most() <= 10, `a commit carried ${spy.most()} checks`);
    assert.ok(spy.commits() > 0);
  });
});
