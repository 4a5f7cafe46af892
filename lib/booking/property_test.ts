/**
 * Property-based runs (fast-check): random sequences of booking operations on a small world of
 * sessions and learners, run one by one and in concurrent groups. After every run the recount is
 * clean and every event matches a committed change; run one by one, each refused operation adds
 * no event of its own, each success adds its event, offers follow the waitlist's join order, and
 * nobody gets a hold on a session while others wait for it.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { getAvailability } from "./availability.ts";
import { checkConsistency } from "./consistency.ts";
import { BookingEngine } from "./engine.ts";
import { DomainError } from "./errors.ts";
import { type AnyEventType, listEvents } from "./events.ts";
import { keys } from "../store/keys.ts";
import type { Place, Session } from "./model.ts";
import { assertEventsMatch, newObserved, type Observed, rawEvents } from "../../tests/booking/storm.ts";
import { Clock, MINUTE, putCourse, putSession, putUsers, self } from "../../tests/booking/test_fixtures.ts";

type Cmd =
  | {
    op: "hold" | "confirm" | "confirmStale" | "release" | "cancel" | "join" | "leave" | "expire";
    s: number;
    l: number;
  }
  | { op: "reschedule"; s: number; l: number; to: number }
  | { op: "sweep" }
  | { op: "tick"; minutes: number };

const N_SESSIONS = 3;
const N_LEARNERS = 5;

const sl = { s: fc.nat(N_SESSIONS - 1), l: fc.nat(N_LEARNERS - 1) };
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("hold" as const), ...sl }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant("confirm" as const), ...sl }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("confirmStale" as const), ...sl }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("release" as const), ...sl }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("cancel" as const), ...sl }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("reschedule" as const), ...sl, to: fc.nat(N_SESSIONS - 1) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("join" as const), ...sl }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("leave" as const), ...sl }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("expire" as const), ...sl }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("sweep" as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("tick" as const),
      // Mostly a few minutes (holds last 15), sometimes hours (offers last 2 h or 24 h).
      minutes: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 1, max: 20 }) },
        fc.integer({ min: 60, max: 24 * 60 }),
      ),
    }),
  },
);

const worldArb = fc.record({
  capacities: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: N_SESSIONS, maxLength: N_SESSIONS }),
  waitlist: fc.array(fc.boolean(), { minLength: N_SESSIONS, maxLength: N_SESSIONS }),
  /** Hours until each session starts: some start within 48 h (2 h offers), some during the run. */
  startsIn: fc.array(fc.integer({ min: 3, max: 24 * 6 }), { minLength: N_SESSIONS, maxLength: N_SESSIONS }),
  cmds: fc.array(cmdArb, { minLength: 20, maxLength: 60 }),
});

/** Codes a random operation may be refused with (anything else fails the run). */
const REFUSALS = new Set([
  "session_full",
  "session_started",
  "already_holding",
  "already_booked",
  "already_waitlisted",
  "offer_pending",
  "too_many_holds",
  "hold_expired",
  "hold_released",
  "hold_already_confirmed",
  "hold_not_active",
  "booking_not_active",
  "seats_available",
  "waitlist_closed",
  "not_on_waitlist",
  "same_session",
]);

/** The event a successful operation must have written. */
const SUCCESS_EVENTS: Record<string, AnyEventType[]> = {
  hold: ["hold.placed"],
  confirm: ["booking.confirmed"],
  confirmStale: ["booking.confirmed"],
  release: ["hold.released", "hold.expired"],
  cancel: ["booking.cancelled"],
  reschedule: ["booking.rescheduled"],
  join: ["waitlist.joined"],
  leave: ["waitlist.left", "hold.released"],
};

interface World {
  kv: Deno.Kv;
  clock: Clock;
  engines: BookingEngine[];
  sessions: Session[];
  learners: string[];
  observed: Observed;
  /** Every hold id ever placed per `${s} ${l}` (to confirm stale ones). */
  past: Map<string, string[]>;
}

async function makeWorld(
  w: { capacities: number[]; waitlist: boolean[]; startsIn: number[] },
  engines = 1,
): Promise<World> {
  const kv = await Deno.openKv(":memory:");
  const clock = new Clock();
  const course = await putCourse(kv);
  const sessions: Session[] = [];
  for (let i = 0; i < N_SESSIONS; i++) {
    sessions.push(
      await putSession(kv, course.id, {
        capacity: w.capacities[i],
        waitlistEnabled: w.waitlist[i],
        startsInHours: w.startsIn[i],
      }),
    );
  }
  const learners = (await putUsers(kv, N_LEARNERS)).map((u) => u.id);
  return {
    kv,
    clock,
    engines: Array.from({ length: engines }, () => new BookingEngine(kv, { holdMinutes: 15, now: clock.now })),
    sessions,
    learners,
    observed: newObserved(),
    past: new Map(),
  };
}

/** Runs one command; returns whether it succeeded. Throws on anything but an expected refusal. */
async function exec(w: World, cmd: Cmd, engineIndex = 0): Promise<boolean> {
  const engine = w.engines[engineIndex % w.engines.length];
  const o = w.observed;
  if (cmd.op === "tick") {
    w.clock.advance(cmd.minutes * MINUTE);
    return true;
  }
  if (cmd.op === "sweep") {
    await engine.sweepExpiredHolds();
    return true;
  }
  const learnerId = w.learners[cmd.l];
  const me = self(learnerId);
  // Operations on an existing place act on the learner's first place of the right kind, looking
  // from session `s` on, so that most of them hit something.
  const wanted: Record<string, Place["kind"][]> = {
    confirm: ["hold", "offer"],
    release: ["hold"],
    cancel: ["booking"],
    reschedule: ["booking"],
    expire: ["hold", "offer"],
    leave: ["waitlist", "offer"],
  };
  let si = cmd.s;
  let place: Place | null = null;
  for (let k = 0; k < N_SESSIONS; k++) {
    const i = (cmd.s + k) % N_SESSIONS;
    const p = (await w.kv.get<Place>(keys.place(w.sessions[i].id, learnerId))).value;
    if (!wanted[cmd.op]) {
      place = p;
      break;
    }
    if (p && wanted[cmd.op].includes(p.kind)) {
      [si, place] = [i, p];
      break;
    }
  }
  const s = w.sessions[si];
  o.ops++;
  try {
    switch (cmd.op) {
      case "hold": {
        const { hold } = await engine.placeHold(s.id, learnerId, me);
        o.holdsPlaced.add(hold.id);
        const key = `${cmd.s} ${cmd.l}`;
        w.past.set(key, [...w.past.get(key) ?? [], hold.id]);
        return true;
      }
      case "confirm":
      case "confirmStale": {
        const id = cmd.op === "confirm"
          ? (place?.kind === "hold" || place?.kind === "offer" ? place.id : null)
          : w.past.get(`${cmd.s} ${cmd.l}`)?.[0];
        if (!id) return false;
        const { booking } = await engine.confirmHold(id, me);
        o.bookingsConfirmed.add(booking.id);
        return true;
      }
      case "release": {
        if (place?.kind !== "hold") return false;
        const hold = await engine.releaseHold(place.id, me);
        if (hold.status === "released") o.released++;
        else o.releasedAsExpired++;
        return true;
      }
      case "cancel": {
        if (place?.kind !== "booking") return false;
        o.bookingsCancelled.add((await engine.cancelBooking(place.id, me)).id);
        return true;
      }
      case "reschedule": {
        if (place?.kind !== "booking") return false;
        const { booking } = await engine.rescheduleBooking(place.id, w.sessions[cmd.to].id, me);
        o.rescheduled.add(booking.id);
        return true;
      }
      case "join":
        await engine.joinWaitlist(s.id, learnerId, me);
        o.joins++;
        return true;
      case "leave":
        await engine.leaveWaitlist(s.id, learnerId, me);
        o.leaves++;
        return true;
      case "expire":
        if (place?.kind !== "hold" && place?.kind !== "offer") return false;
        await engine.expireHold(place.id);
        return true;
    }
  } catch (err) {
    if (err instanceof DomainError && REFUSALS.has(err.code)) return false;
    throw err;
  }
}

async function assertClean(w: World): Promise<void> {
  const report = await checkConsistency(w.kv, w.clock.now());
  assert.deepEqual(report.problems, []);
  const avail = await getAvailability(w.kv, w.sessions, w.clock.now());
  for (const a of avail.values()) assert.ok(a.taken <= a.capacity, `taken ${a.taken} of ${a.capacity}`);
}

const stats = { runs: 0, joins: 0, offers: 0, holds: 0, bookings: 0 };

Deno.test("[booking] property: random operation sequences keep the store consistent and events exact", async () => {
  await fc.assert(
    fc.asyncProperty(worldArb, async (spec) => {
      const w = await makeWorld(spec);
      try {
        /** Model of each session's queue: learners in the order their joins succeeded. */
        const queues = new Map<string, string[]>(w.sessions.map((s) => [s.id, []]));
        let seen = 0;
        for (const cmd of spec.cmds) {
          const ok = await exec(w, cmd);
          const events = await rawEvents(w.kv);
          const fresh = events.slice(seen);
          seen = events.length;
          // Offers go to the head of the queue, in order.
          for (const e of fresh) {
            const q = queues.get(e.sessionId)!;
            if (e.type === "waitlist.joined") q.push(e.learnerId!);
            if (e.type === "waitlist.offered" || e.type === "waitlist.left") {
              if (e.type === "waitlist.offered") assert.equal(e.learnerId, q[0], "offer goes to the head of the queue");
              q.splice(q.indexOf(e.learnerId!), 1);
            }
          }
          if (ok && cmd.op === "hold") {
            const q = queues.get(w.sessions[cmd.s].id)!;
            assert.deepEqual(q, [], "nobody gets a hold while learners wait for that session");
          }
          const own = fresh.filter((e) => e.type !== "waitlist.offered" && e.type !== "hold.expired");
          if (!ok && "s" in cmd && cmd.op !== "expire") {
            // A full or expired refusal records the offer of its alternatives (at most once); nothing else.
            const offers = own.filter((e) => e.type === "alternatives.offered" && e.learnerId === w.learners[cmd.l]);
            assert.ok(offers.length <= 1, `refused ${cmd.op} recorded one offer at most`);
            assert.deepEqual(
              own.filter((e) => !offers.includes(e)).map((e) => e.type),
              [],
              `refused ${cmd.op} wrote no other event`,
            );
          }
          if (ok && SUCCESS_EVENTS[cmd.op]) {
            assert.ok(
              fresh.some((e) => SUCCESS_EVENTS[cmd.op].includes(e.type)),
              `${cmd.op} succeeded and wrote ${SUCCESS_EVENTS[cmd.op].join(" or ")}`,
            );
          }
          await assertClean(w);
        }
        await assertEventsMatch(w.kv, w.observed);
        const events = await rawEvents(w.kv);
        stats.runs++;
        stats.joins += events.filter((e) => e.type === "waitlist.joined").length;
        stats.offers += events.filter((e) => e.type === "waitlist.offered").length;
        stats.holds += w.observed.holdsPlaced.size;
        stats.bookings += w.observed.bookingsConfirmed.size;
      } finally {
        w.kv.close();
      }
    }),
    { numRuns: 150 },
  );
  console.log(`  ${JSON.stringify(stats)}`);
});

Deno.test("[booking] property: random operations in concurrent groups on two engines stay consistent", async () => {
  const groupedArb = fc.record({
    world: worldArb,
    groups: fc.array(fc.array(cmdArb, { minLength: 3, maxLength: 14 }), { minLength: 2, maxLength: 6 }),
  });
  await fc.assert(
    fc.asyncProperty(groupedArb, async ({ world, groups }) => {
      const w = await makeWorld(world, 2);
      try {
        for (const group of groups) {
          // Clock moves happen between groups, not inside one, so each group has one "now".
          await Promise.all(group.filter((c) => c.op !== "tick").map((c, i) => exec(w, c, i)));
          for (const c of group) if (c.op === "tick") w.clock.advance(c.minutes * MINUTE);
          await assertClean(w);
        }
        await assertEventsMatch(w.kv, w.observed);
      } finally {
        w.kv.close();
      }
    }),
    { numRuns: 80 },
  );
});

Deno.test("[booking] listEvents pages return every event exactly once, in commit order, for any page size", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(cmdArb, { minLength: 5, maxLength: 30 }),
      fc.integer({ min: 1, max: 12 }),
      async (cmds, limit) => {
        const w = await makeWorld({ capacities: [1, 2, 3], waitlist: [true, true, false], startsIn: [100, 40, 10] }, 2);
        try {
          await Promise.all(cmds.map((c, i) => exec(w, c, i)));
          const raw = await rawEvents(w.kv);
          const paged = [];
          let after: string | null = null;
          for (;;) {
            const page: Awaited<ReturnType<typeof listEvents>> = await listEvents(w.kv, { after, limit });
            assert.ok(page.events.length <= limit);
            if (!page.events.length) {
              assert.equal(page.nextCursor, after, "an empty page keeps the cursor");
              break;
            }
            paged.push(...page.events);
            after = page.nextCursor;
          }
          assert.deepEqual(paged.map((e) => e.id), raw.map((e) => e.id));
          // Commit order: versionstamps never go backwards.
          for (let i = 1; i < paged.length; i++) assert.ok(paged[i - 1].versionstamp <= paged[i].versionstamp);
        } finally {
          w.kv.close();
        }
      },
    ),
    { numRuns: 40 },
  );
});
