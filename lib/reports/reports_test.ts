import assert from "node:assert/strict";
import { newId } from "../domain/ids.ts";
import type { Session, WaitlistEntry } from "../domain/mod.ts";
import { DomainError } from "../booking/errors.ts";
import { REPORT_EVENT_TYPES } from "../booking/events.ts";
import type { Alternative } from "../booking/alternatives.ts";
import { keys } from "../store/keys.ts";
import {
  admin,
  HOUR,
  MINUTE,
  putCourse,
  putLocation,
  putSession,
  putUser,
  self,
  setup,
  T0,
  teardown,
} from "../../tests/booking/test_fixtures.ts";
import { foldPending, handled } from "./aggregator.ts";
import { buildReport, clearReportCache, type Report } from "./query.ts";
import { recountReports } from "./recount.ts";
import { recordSessionView } from "./record.ts";
import { C, decodeBlob, encodeBlob, type PackedBlob } from "./model.ts";
import { csvCell, reportTables, tableCsv } from "./tables.ts";
import type { BookingEngine } from "../booking/engine.ts";

const noGuard = (op: Deno.AtomicOperation) => op;
/** A fence for tests: no lease (nobody else writes the blobs here). */
const openFence = { guard: noGuard, ensure: () => Promise.resolve() };

async function foldAll(kv: Deno.Kv, now: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const r = await foldPending(kv, noGuard, now);
    assert.ok(r, "the unguarded fold commits");
    if (!handled(r)) return total;
    total += handled(r);
  }
}

async function book(engine: BookingEngine, sessionId: string, learnerId: string) {
  const { hold } = await engine.placeHold(sessionId, learnerId, self(learnerId));
  const { booking } = await engine.confirmHold(hold.id, self(learnerId));
  return booking;
}

/**
 * The hand-computed scenario (see the expected figures below):
 * S1 course A at location L1, capacity 2, in 48 h; S2 course A online, capacity 10, in 72 h;
 * S3 course B (sales) online, capacity 5, in 50 h. Learners a1, a2 of dealer D1, b1 of dealer D2,
 * c1 of no dealer.
 */
async function scenario() {
  const { kv, engine, clock } = await setup();
  const courseA = await putCourse(kv);
  const courseB = await putCourse(kv, { code: "SAL-201", title: "Consultative Selling", topic: "sales" });
  const l1 = await putLocation(kv);
  const D1 = newId();
  const D2 = newId();
  const a1 = await putUser(kv, { name: "Ada One", dealerId: D1 });
  const a2 = await putUser(kv, { name: "Ada Two", dealerId: D1 });
  const b1 = await putUser(kv, { name: "Ben One", dealerId: D2 });
  const c1 = await putUser(kv, { name: "Cy One" });
  const s1 = await putSession(
    kv,
    courseA.id,
    {
      mode: "in_person",
      locationId: l1.id,
      joinUrl: null,
      capacity: 2,
      startsInHours: 48,
    } as Partial<Session> & { startsInHours: number },
  );
  const s2 = await putSession(kv, courseA.id, { capacity: 10, startsInHours: 72 });
  const s3 = await putSession(kv, courseB.id, { capacity: 5, startsInHours: 50 });

  await book(engine, s1.id, a1.id);
  const b1s1 = await book(engine, s1.id, b1.id);
  // S1 is full: the refusal offers a2 S2 (same course; the engine records the offer), and a2 joins S1's waitlist.
  let offered: Alternative[] = [];
  await assert.rejects(engine.placeHold(s1.id, a2.id, self(a2.id)), (e: unknown) => {
    assert.ok(e instanceof DomainError && e.code === "session_full");
    offered = (e.details as { alternatives: Alternative[] }).alternatives;
    return true;
  });
  assert.deepEqual(offered.map((a) => a.sessionId), [s2.id]);
  await engine.joinWaitlist(s1.id, a2.id, self(a2.id));
  await book(engine, s2.id, a2.id);
  const c1hold = await engine.placeHold(s3.id, c1.id, self(c1.id));
  await engine.releaseHold(c1hold.hold.id, self(c1.id));
  await engine.placeHold(s3.id, a1.id, self(a1.id));
  // Fold part of it now: the aggregates are built step by step, as in production.
  await foldAll(kv, clock.now());
  clock.advance(16 * MINUTE);
  assert.equal(await engine.sweepExpiredHolds(), 1);

  clock.ms = T0 + 30 * HOUR; // inside S1's 24 h cut-off
  await engine.cancelBooking(b1s1.id, self(b1.id)); // late; the seat is offered to a2
  const entry = (await kv.get<WaitlistEntry>(keys.waitlistByLearner(a2.id, s1.id))).value!;
  assert.equal(entry.status, "offered");
  await engine.confirmHold(entry.offerHoldId!, self(a2.id));
  const a1s3 = await book(engine, s3.id, a1.id);
  const b1s2 = await book(engine, s2.id, b1.id);

  await recordSessionView(kv, s1.id, D1, clock.now());
  await recordSessionView(kv, s1.id, D1, clock.now());
  await recordSessionView(kv, s1.id, null, clock.now());

  clock.ms = T0 + 49 * HOUR; // S1 has started
  const bookingOf = async (sessionId: string, learnerId: string) => {
    for await (const e of kv.list<string>({ prefix: keys.bookingsByLearnerPrefix(learnerId) })) {
      const b = (await kv.get<{ sessionId: string; status: string; id: string }>(keys.booking(e.value))).value!;
      if (b.sessionId === sessionId && b.status === "confirmed") return b.id;
    }
    throw new Error("no booking");
  };
  const a1s1 = await bookingOf(s1.id, a1.id);
  const a2s1 = await bookingOf(s1.id, a2.id);
  const att = (sessionId: string, learnerId: string, bookingId: string, status: "attended" | "no_show") =>
    engine.recordAttendance({ sessionId, learnerId, bookingId, status, source: "instructor" }, admin());
  await att(s1.id, a1.id, a1s1, "attended");
  await att(s1.id, a1.id, a1s1, "no_show"); // corrected: attended → no-show
  await att(s1.id, a2.id, a2s1, "attended");
  await engine.cancelBooking(b1s2.id, self(b1.id)); // S2 in 23 h: late
  clock.ms = T0 + 51 * HOUR;
  await att(s3.id, a1.id, a1s3.id, "no_show");
  await foldAll(kv, clock.now()); // the alternative offer (made at T0) is decided now
  clearReportCache();
  return { kv, engine, clock, s1, s2, s3, a1, a2, b1, c1, D1, D2, courseA, courseB, l1 };
}

Deno.test("[reports] figures match the hand-computed scenario", async () => {
  const f = await scenario();
  try {
    const r = await buildReport(f.kv, {});
    assert.equal(r.sessions, 3);
    assert.deepEqual(
      { ...r.totals },
      {
        views: 3,
        holds: 7,
        holdsConfirmed: 5,
        bookings: 6,
        holdsExpired: 1,
        holdsReleased: 1,
        altOffered: 1,
        altAccepted: 1,
        waitJoins: 1,
        waitOffers: 1,
        waitAccepted: 1,
        waitLapsed: 0,
        waitDeclined: 0,
        waitToOfferSec: 30 * 3600,
        attended: 1,
        noShows: 2,
        excused: 0,
        cancels: 2,
        lateCancels: 2,
      },
    );
    assert.equal(r.noShows.rate, 2 / 3);
    assert.deepEqual(r.noShows.people, [{ learnerId: f.a1.id, name: "Ada One", count: 2 }]);
    assert.equal(r.lateCancels.rate, 2 / 6);
    assert.deepEqual(r.lateCancels.people, [{ learnerId: f.b1.id, name: "Ben One", count: 2 }]);
    assert.equal(r.funnel.completionRate, 5 / 7);
    assert.equal(r.alternatives.rate, 1);
    assert.equal(r.waitlist.avgHoursToOffer, 30);
    const courseA = r.byCourse.find((l) => l.id === f.courseA.id)!;
    assert.deepEqual(
      [courseA.sessions, courseA.bookings, courseA.recorded, courseA.attended, courseA.capacity, courseA.seats],
      [2, 5, 2, 1, 12, 3],
    );
    assert.equal(courseA.completionRate, 0.5);
    assert.equal(courseA.fillRate, 0.25);
    const l1 = r.byLocation.find((l) => l.id === f.l1.id)!;
    assert.deepEqual([l1.sessions, l1.bookings, l1.capacity, l1.seats, l1.fillRate], [1, 3, 2, 2, 1]);
    const online = r.byLocation.find((l) => l.id === "online")!;
    assert.deepEqual([online.sessions, online.bookings, online.recorded, online.capacity, online.seats], [
      2,
      3,
      1,
      15,
      2,
    ]);

    // Filters: topic, course, location.
    const sales = await buildReport(f.kv, { topic: "sales" });
    assert.deepEqual([sales.sessions, sales.totals.holds, sales.totals.noShows], [1, 3, 1]);
    assert.deepEqual(sales.noShows.people, []);
    const atL1 = await buildReport(f.kv, { locationId: f.l1.id });
    assert.deepEqual([atL1.sessions, atL1.totals.views, atL1.totals.lateCancels], [1, 3, 1]);
    const outside = await buildReport(f.kv, { from: "2030-01-01" });
    assert.equal(outside.sessions, 0);
    assert.equal(outside.noShows.rate, null);
  } finally {
    await teardown(f.kv);
  }
});

Deno.test("[reports] a dealer's slice counts only that dealer's learners", async () => {
  const f = await scenario();
  try {
    const d1 = await buildReport(f.kv, { dealerId: f.D1 });
    assert.deepEqual(
      [d1.totals.views, d1.totals.holds, d1.totals.holdsConfirmed, d1.totals.bookings, d1.totals.holdsExpired],
      [2, 4, 3, 4, 1],
    );
    assert.deepEqual([d1.totals.holdsReleased, d1.totals.cancels, d1.totals.lateCancels], [0, 0, 0]);
    assert.deepEqual([d1.totals.altOffered, d1.totals.altAccepted, d1.totals.waitAccepted], [1, 1, 1]);
    assert.deepEqual(d1.noShows.people.map((p) => p.learnerId), [f.a1.id]);
    assert.deepEqual(d1.lateCancels.people, []);
    const d2 = await buildReport(f.kv, { dealerId: f.D2 });
    assert.deepEqual([d2.totals.holds, d2.totals.bookings, d2.totals.cancels, d2.totals.lateCancels], [2, 2, 2, 2]);
    assert.deepEqual(d2.lateCancels.people.map((p) => p.name), ["Ben One"]);
    assert.deepEqual(d2.noShows.people, []);
  } finally {
    await teardown(f.kv);
  }
});

Deno.test("[reports] a redelivered event is acknowledged without counting it twice", async () => {
  const f = await scenario();
  try {
    const before = await buildReport(f.kv, {});
    // Write the outbox entry of every event again, as a redelivery would.
    let n = 0;
    for await (
      const e of f.kv.list<{ key: string; type: string; sessionId: string }>({ prefix: keys.eventsPrefix() })
    ) {
      if (!REPORT_EVENT_TYPES.has(e.value.type)) continue; // never pending for the reports
      await f.kv.set(keys.outboxEntry("reports", e.value.sessionId, e.value.key), e.value);
      n++;
    }
    const r = await foldPending(f.kv, noGuard, f.clock.now());
    assert.ok(r && r.redelivered > 0 && r.events === 0);
    await foldAll(f.kv, f.clock.now());
    clearReportCache();
    const after = await buildReport(f.kv, {});
    assert.deepEqual(after.totals, before.totals);
    assert.ok(n > 20);
  } finally {
    await teardown(f.kv);
  }
});

Deno.test("[reports] a fold whose commit fails leaves everything pending, and the next one counts it once", async () => {
  const { kv, engine } = await setup();
  try {
    const course = await putCourse(kv);
    const s = await putSession(kv, course.id, { capacity: 3 });
    const u = await putUser(kv);
    await engine.placeHold(s.id, u.id, self(u.id));
    // A guard whose check always fails: the lease changed hands mid-step (a crash looks the same).
    const lost = (op: Deno.AtomicOperation) => op.check({ key: ["nowhere"], versionstamp: "00000000000000000001" });
    assert.equal(await foldPending(kv, lost, engine.now()), null);
    assert.equal((await buildReport(kv, {})).sessions, 0);
    await foldAll(kv, engine.now());
    clearReportCache();
    assert.equal((await buildReport(kv, {})).totals.holds, 1);
  } finally {
    await teardown(kv);
  }
});

Deno.test("[reports] the recount agrees, finds a corrupted row and repairs it", async () => {
  const f = await scenario();
  try {
    const clean = await recountReports(f.kv, openFence, {});
    assert.equal(clean.ok, true, JSON.stringify(clean.differences));
    assert.ok(clean.eventsScanned > 20);
    const before = await buildReport(f.kv, {});

    // Corrupt S1's row: one hold more, one no-show person fewer.
    const day = f.s1.startsAt.slice(0, 10);
    let corrupted: Deno.KvKey | null = null;
    for await (const e of f.kv.list<PackedBlob>({ prefix: [...keys.reportDaysPrefix(), day] })) {
      const blob = decodeBlob(e.value);
      const row = blob.rows[f.s1.id];
      if (!row) continue;
      row.n[C.holds] += 1;
      row.ns = {};
      await f.kv.set(e.key, encodeBlob(blob));
      corrupted = e.key;
    }
    assert.ok(corrupted);
    clearReportCache();
    assert.equal((await buildReport(f.kv, {})).totals.holds, before.totals.holds + 1);

    const found = await recountReports(f.kv, openFence, {});
    assert.equal(found.ok, false);
    assert.deepEqual(found.differences, [{ key: corrupted, sessions: [f.s1.id] }]);
    assert.equal(found.repaired, 0);
    const fixed = await recountReports(f.kv, openFence, { repair: true });
    assert.equal(fixed.repaired, 1);
    assert.equal((await recountReports(f.kv, openFence, {})).ok, true);
    clearReportCache();
    const after = await buildReport(f.kv, {});
    assert.deepEqual(after.totals, before.totals);
    assert.deepEqual(after.noShows.people, before.noShows.people);
  } finally {
    await teardown(f.kv);
  }
});

Deno.test("[reports] the recount leaves events the aggregator has not folded yet to it", async () => {
  const f = await scenario();
  try {
    // New activity not folded yet: the recount must not call the blobs wrong.
    const u = await putUser(f.kv, { dealerId: f.D1 });
    await f.engine.placeHold(f.s2.id, u.id, self(u.id));
    await recordSessionView(f.kv, f.s2.id, f.D1, f.clock.now());
    const r = await recountReports(f.kv, openFence, {});
    assert.equal(r.ok, true, JSON.stringify(r.differences));
    assert.ok(r.eventsPending >= 1);
    await foldAll(f.kv, f.clock.now());
    assert.equal((await recountReports(f.kv, openFence, {})).ok, true);
  } finally {
    await teardown(f.kv);
  }
});

Deno.test("[reports] CSV cells that a spreadsheet would run as formulas are escaped", () => {
  assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
  assert.equal(csvCell("+1"), "'+1");
  assert.equal(csvCell("-2"), "'-2");
  assert.equal(csvCell("@SUM(A1)"), "'@SUM(A1)");
  assert.equal(csvCell("\tx"), "'\tx");
  assert.equal(csvCell("Smith, Jo"), `"Smith, Jo"`);
  assert.equal(csvCell("plain"), "plain");
  assert.equal(csvCell(12), "12");
});

Deno.test("[reports] the CSV holds exactly the section's table, names escaped", async () => {
  const f = await scenario();
  try {
    await f.kv.set(keys.user(f.a1.id), {
      ...(await f.kv.get<object>(keys.user(f.a1.id))).value,
      name: "=cmd|' /C calc'!A0",
    });
    clearReportCache();
    const r: Report = await buildReport(f.kv, {});
    const table = reportTables(r)["no-shows"];
    const csv = tableCsv(table);
    const lines = csv.trimEnd().split("\r\n");
    assert.equal(lines.length, table.rows.length + 1);
    assert.equal(lines[0], "Measure,Value");
    assert.equal(lines[1], "No-shows,2");
    assert.equal(lines[3], "No-show rate,66.7 %");
    // The name is inside the cell text ("No-shows of =cmd…"), so it does not start a cell; a name
    // alone in a cell would be escaped (see the cell test).
    assert.ok(lines.some((l) => l.startsWith("No-shows of =cmd")));

    // A label that starts a cell is escaped: a location named like a formula.
    await f.kv.set(keys.location(f.l1.id), { ...f.l1, name: "=1+1" });
    clearReportCache();
    const locations = tableCsv(reportTables(await buildReport(f.kv, {})).locations).split("\r\n");
    assert.ok(locations.includes("'=1+1,1,3,2,1,50.0 %,2,2,100.0 %"), locations.join("\n"));
  } finally {
    await teardown(f.kv);
  }
});

Deno.test("[reports] filters: days must exist, from not after to, ids well-formed", async () => {
  const { ReportFiltersSchema } = await import("./model.ts");
  assert.equal(ReportFiltersSchema.safeParse({ from: "2026-02-28", to: "2026-03-01" }).success, true);
  for (
    const bad of [{ from: "2026-13-40" }, { to: "2025-02-30" }, { from: "2026-3-1" }, {
      from: "2026-03-02",
      to: "2026-03-01",
    }]
  ) {
    assert.equal(ReportFiltersSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
  assert.equal(ReportFiltersSchema.safeParse({ courseId: "nope" }).success, false);
  assert.equal(ReportFiltersSchema.safeParse({ locationId: "online" }).success, true);
  assert.equal(ReportFiltersSchema.safeParse({ extra: "x" }).success, false);
});

Deno.test("[reports] one busy session with more pending events than a commit can take is folded over several steps", async () => {
  const { kv, engine } = await setup();
  try {
    const course = await putCourse(kv);
    const s = await putSession(kv, course.id, { capacity: 600 });
    const HOLDS = 550; // one session: a page brings all of them, more than one commit may delete
    const users = await Promise.all(Array.from({ length: HOLDS }, () => putUser(kv)));
    await Promise.all(users.map((u) => engine.placeHold(s.id, u.id, self(u.id))));
    const first = await foldPending(kv, noGuard, engine.now());
    assert.ok(first && first.events > 0 && first.events < HOLDS, `a first step folds part: ${first?.events}`);
    await foldAll(kv, engine.now());
    clearReportCache();
    assert.equal((await buildReport(kv, {})).totals.holds, HOLDS);
    assert.deepEqual(await Array.fromAsync(kv.list({ prefix: keys.outboxPrefix("reports") })), []);
  } finally {
    await teardown(kv);
  }
});

Deno.test("[reports] events spread over many days are folded a full page per step, not a few dozen blobs' worth", async () => {
  const { kv, engine } = await setup();
  try {
    const course = await putCourse(kv);
    // 150 sessions on 150 different days: each hold touches its own day blob.
    const sessions = [];
    for (let i = 0; i < 150; i++) {
      sessions.push(await putSession(kv, course.id, { capacity: 5, startsInHours: 48 + 24 * i }));
    }
    const users = await Promise.all(sessions.map(() => putUser(kv)));
    await Promise.all(sessions.map((s, i) => engine.placeHold(s.id, users[i].id, self(users[i].id))));
    const first = await foldPending(kv, noGuard, engine.now());
    assert.equal(first?.events, 150, "one step folds every pending event");
    assert.equal(first?.more, false);
    clearReportCache();
    assert.equal((await buildReport(kv, {})).totals.holds, 150);
  } finally {
    await teardown(kv);
  }
});
