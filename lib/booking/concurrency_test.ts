/**
 * Real concurrency: hundreds of interleaved hold / confirm / release / cancel / reschedule /
 * expire / waitlist operations from many learners at once (see storm.ts), on one engine, on two
 * engines sharing one store (two lanes compete: versionstamp conflicts and retries), and on a
 * file-backed store. Each storm ends with checkConsistency clean and every event accounted for.
 */
import assert from "node:assert/strict";
import { checkConsistency } from "./consistency.ts";
import { BookingEngine } from "./engine.ts";
import { DomainError } from "./errors.ts";
import { keys } from "../store/keys.ts";
import type { Booking, Session } from "./model.ts";
import {
  assertEventsMatch as assertEventsMatchRecords,
  EXPECTED_CODES,
  newObserved,
  rng,
  storm,
  type StormOptions,
  type StormResult,
} from "../../tests/booking/storm.ts";
import { Clock, putCourse, putSession, putUsers, self } from "../../tests/booking/test_fixtures.ts";

const SEED = Number(Deno.env.get("STORM_SEED") ?? 20260301);

function summary(name: string, r: StormResult): void {
  const refusals = [...r.observed.refusals].map(([k, v]) => `${k}=${v}`).join(" ");
  const o = r.observed;
  console.log(
    `  ${name}: ${o.ops} ops in ${r.elapsedMs} ms → ${o.holdsPlaced.size} holds, ${o.bookingsConfirmed.size} confirmed, ` +
      `${o.bookingsCancelled.size} cancelled, ${o.rescheduled.size} rescheduled, ${o.joins} joins; ${r.eventCount} events; ` +
      `lanes ${r.lanes.ops} ops/${r.lanes.commits} commits/${r.lanes.conflicts} conflicts; ` +
      `${r.samples} availability samples, ${r.liveChecks} live checks; refusals: ${refusals}`,
  );
}

async function run(name: string, o: StormOptions): Promise<StormResult> {
  const r = await storm(o);
  summary(name, r);
  // The storm must have exercised the engine, not just bounced off it.
  const { holdsPlaced, bookingsConfirmed } = r.observed;
  assert.ok(
    holdsPlaced.size > 0 && bookingsConfirmed.size > 0,
    `storm did real work: ${holdsPlaced.size} holds, ${bookingsConfirmed.size} bookings`,
  );
  return r;
}

for (const capacity of [1, 2, 10]) {
  Deno.test(`[booking] storm: capacity ${capacity}, 250 learner flows × 6 steps, one engine`, async () => {
    const r = await run(`capacity ${capacity}`, {
      seed: SEED + capacity,
      capacity,
      sessions: capacity === 1 ? 8 : capacity === 2 ? 6 : 3,
      learners: capacity === 10 ? 120 : 80,
      flows: 250,
      steps: 6,
      prefill: 0.5,
    });
    assert.ok(r.observed.ops >= 1000, `${r.observed.ops} operations`);
  });
}

Deno.test("[booking] storm: holds expire mid-storm while the clock moves; live checks stay clean", async () => {
  for (const capacity of [1, 2, 10]) {
    const r = await run(`expiring, capacity ${capacity}`, {
      seed: SEED + 100 + capacity,
      capacity,
      sessions: capacity === 1 ? 6 : capacity === 2 ? 4 : 3,
      learners: capacity === 10 ? 60 : 40,
      flows: 150,
      steps: 5,
      prefill: 0.5,
      clockStepMs: 90_000, // ≤ 1.5 min every ~2 ms: 15-minute holds lapse during the storm
      liveConsistency: true,
    });
    assert.ok(r.liveChecks > 0);
  }
});

Deno.test("[booking] storm: two engines on one store compete for the same sessions", async () => {
  for (const capacity of [1, 2, 10]) {
    await run(`two engines, capacity ${capacity}`, {
      seed: SEED + 200 + capacity,
      capacity,
      sessions: capacity === 1 ? 6 : capacity === 2 ? 4 : 2,
      learners: capacity === 10 ? 60 : 40,
      flows: 150,
      steps: 5,
      prefill: 0.5,
      engines: 2,
      clockStepMs: 60_000,
      liveConsistency: true,
    });
  }
});

Deno.test("[booking] storm: two engines within KV Connect's 10-check budget (as on denokv)", async () => {
  for (const capacity of [1, 5]) {
    const r = await run(`KV Connect budget, capacity ${capacity}`, {
      seed: SEED + 500 + capacity,
      capacity,
      sessions: capacity === 1 ? 6 : 3,
      learners: 40,
      flows: 150,
      steps: 5,
      prefill: 0.5,
      engines: 2,
      clockStepMs: 60_000,
      liveConsistency: true,
      kvConnectLimits: true,
    });
    // Group commit still batches: more operations than commits.
    assert.ok(r.lanes.ops > r.lanes.commits, `${r.lanes.ops} ops in ${r.lanes.commits} commits`);
  }
});

Deno.test("[booking] storm: two engines with their own handles on a file-backed store", async () => {
  const dir = await Deno.makeTempDir({ prefix: "booking_storm_" });
  try {
    for (const capacity of [1, 10]) {
      await run(`file-backed, capacity ${capacity}`, {
        seed: SEED + 300 + capacity,
        capacity,
        sessions: capacity === 1 ? 6 : 2,
        learners: 40,
        flows: 120,
        steps: 5,
        prefill: 0.5,
        engines: 2,
        path: `${dir}/storm_${capacity}.sqlite`,
        clockStepMs: 60_000,
        liveConsistency: true,
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[booking] storm: concurrent reschedules, cancels and newcomers on the same seats are all-or-nothing", async () => {
  for (const capacity of [1, 2, 10]) {
    const random = rng(SEED + 400 + capacity);
    const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
    const kv = await Deno.openKv(":memory:");
    const clock = new Clock();
    const engines = [0, 1].map(() => new BookingEngine(kv, { holdMinutes: 15, now: clock.now }));
    const engine = () => pick(engines);
    const course = await putCourse(kv);
    // ~60 learners booked into full sessions, a third as many sessions empty, 60 newcomers.
    const nFull = Math.ceil(60 / capacity);
    const sessions: Session[] = [];
    for (let i = 0; i < nFull + Math.ceil(nFull / 3); i++) {
      sessions.push(await putSession(kv, course.id, { capacity, startsInHours: 24 * 30 + i }));
    }
    const empty = sessions.slice(nFull);
    const observed = newObserved();
    const originals: Booking[] = [];
    for (const s of sessions.slice(0, nFull)) {
      for (const u of await putUsers(kv, capacity)) {
        const { hold } = await engines[0].placeHold(s.id, u.id, self(u.id));
        const { booking } = await engines[0].confirmHold(hold.id, self(u.id));
        observed.holdsPlaced.add(hold.id);
        observed.bookingsConfirmed.add(booking.id);
        originals.push(booking);
      }
    }
    const newcomers = await putUsers(kv, 60);
    const unexpected: unknown[] = [];
    const call = async <T>(f: () => Promise<T>): Promise<T | null> => {
      observed.ops++;
      await new Promise((r) => setTimeout(r, random() * 4));
      try {
        return await f();
      } catch (err) {
        if (err instanceof DomainError && EXPECTED_CODES.has(err.code)) return null;
        unexpected.push(err);
        return null;
      }
    };
    const jobs: Promise<unknown>[] = [];
    for (const b of originals) {
      const me = self(b.learnerId);
      jobs.push((async () => {
        let current = b;
        for (let hop = 0; hop < 3; hop++) {
          const others = sessions.filter((s) => s.id !== current.sessionId);
          const target = pick(random() < 0.5 ? others.filter((s) => empty.includes(s)) : others);
          const moved = await call(() => engine().rescheduleBooking(current.id, target.id, me));
          if (!moved) continue;
          observed.rescheduled.add(moved.booking.id);
          current = moved.booking;
        }
      })());
      if (random() < 0.25) {
        jobs.push(call(() => engine().cancelBooking(b.id, me)).then((c) => c && observed.bookingsCancelled.add(c.id)));
      }
    }
    for (const u of newcomers) {
      const me = self(u.id);
      jobs.push((async () => {
        const target = pick(random() < 0.6 ? empty : sessions);
        const held = await call(() => engine().placeHold(target.id, u.id, me));
        if (!held) {
          if (await call(() => engine().joinWaitlist(target.id, u.id, me))) observed.joins++;
          return;
        }
        observed.holdsPlaced.add(held.hold.id);
        if (random() < 0.8) {
          const done = await call(() => engine().confirmHold(held.hold.id, me));
          if (done) observed.bookingsConfirmed.add(done.booking.id);
        }
      })());
    }
    jobs.push((async () => {
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 2));
        clock.advance(60_000);
        await engine().sweepExpiredHolds();
      }
    })());
    await Promise.all(jobs);
    assert.deepEqual(unexpected, []);
    assert.deepEqual((await checkConsistency(kv, clock.now)).problems, []);
    // Every original booking is intact, or was moved exactly along one chain, or was cancelled.
    for (const b of originals) {
      let cur = (await kv.get<Booking>(keys.booking(b.id))).value!;
      const seen = new Set([cur.id]);
      while (cur.rescheduledToBookingId) {
        assert.equal(cur.status, "cancelled");
        const next = (await kv.get<Booking>(keys.booking(cur.rescheduledToBookingId))).value!;
        assert.equal(next.rescheduledFromBookingId, cur.id);
        assert.equal(next.registration, b.registration);
        assert.ok(!seen.has(next.id));
        seen.add(next.id);
        cur = next;
      }
    }
    const all: Booking[] = [];
    for await (const e of kv.list<Booking>({ prefix: ["bookings"] })) all.push(e.value);
    const live = all.filter((x) => x.status === "confirmed");
    assert.equal(new Set(live.map((x) => x.registration)).size, live.length, "one live booking per registration");
    for (const s of sessions) assert.ok(live.filter((x) => x.sessionId === s.id).length <= capacity);
    const events = await assertEventsMatchRecords(kv, observed);
    console.log(
      `  capacity ${capacity}: ${observed.ops} ops, ${observed.rescheduled.size} reschedules, ` +
        `${observed.bookingsCancelled.size} cancels, ${events} events`,
    );
    kv.close();
  }
});
