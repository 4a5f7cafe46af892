/** Lanes: per-session group commit, rollback of one refused op, splitting, and retries. */
import assert from "node:assert/strict";
import { checkConsistency } from "./consistency.ts";
import { BookingEngine } from "./engine.ts";
import { DomainError } from "./errors.ts";
import { addEvent } from "./events.ts";
import { keys } from "../store/keys.ts";
import type { Booking, SeatDoc } from "./model.ts";
import { rawEvents } from "../../tests/booking/storm.ts";
import { enforceKvConnectLimits } from "../../tests/kv_connect_limits.ts";
import { admin, MINUTE, putSession, putUsers, self, setup, teardown } from "../../tests/booking/test_fixtures.ts";

Deno.test("[booking] lane: ops that reach a lane together commit as one batch; a refused op is rolled back alone", async () => {
  const { kv, engine, clock, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 2 });
  const [a, b, c] = await putUsers(kv, 3);
  const hold = (learnerId: string) =>
    engine.lanes.run(s.id, self(learnerId), async (tx) => {
      await tx.loadLearner(learnerId);
      if (tx.free() <= 0) throw new DomainError(409, "session_full", "full");
      const h = tx.createHold(learnerId, "hold", tx.nowMs + 15 * MINUTE, null);
      addEvent(tx.draft, tx.actor, "hold.placed", s.id, learnerId, { holdId: h.id }, tx.now);
      return h;
    });
  const broken = engine.lanes.run(s.id, admin(), async (tx) => {
    await tx.loadLearner(c.id);
    tx.createHold(c.id, "hold", tx.nowMs + 15 * MINUTE, null); // written, then the op fails
    throw new DomainError(409, "nope", "changed my mind");
  });
  const results = await Promise.allSettled([hold(a.id), broken, hold(b.id), hold(c.id)]);
  assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled", "rejected"]);
  assert.equal(((results[3] as PromiseRejectedResult).reason as DomainError).code, "session_full");
  assert.deepEqual(engine.lanes.stats, { commits: 1, ops: 4, conflicts: 0 });
  assert.deepEqual((await kv.get<SeatDoc>(keys.seats(s.id))).value, { confirmed: 0, holds: 2, waiting: 0 });
  assert.equal((await kv.get(keys.place(s.id, c.id))).value, null, "the refused op left nothing behind");
  assert.deepEqual((await rawEvents(kv)).map((e) => e.learnerId), [a.id, b.id]);
  assert.deepEqual((await checkConsistency(kv, clock.now())).problems, []);
  await teardown(kv);
});

Deno.test("[booking] lane: joins and a cancel in one batch: the freed seat is offered to the first joiner", async () => {
  const { kv, engine, clock, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 1 });
  const [a, b, c] = await putUsers(kv, 3);
  const { hold } = await engine.placeHold(s.id, a.id, self(a.id));
  const { booking } = await engine.confirmHold(hold.id, self(a.id));
  const join = (learnerId: string) =>
    engine.lanes.run(s.id, self(learnerId), async (tx) => {
      await tx.loadLearner(learnerId);
      return await tx.joinWaitlist(learnerId);
    });
  const cancel = engine.lanes.run(s.id, self(a.id), async (tx) => {
    await tx.draft.load([keys.booking(booking.id)]);
    tx.cancelBooking(tx.draft.get<Booking>(keys.booking(booking.id))!, false, "cancelled");
    addEvent(tx.draft, tx.actor, "booking.cancelled", s.id, a.id, { bookingId: booking.id }, tx.now);
  });
  // c joins first, then b, in the same batch and the same millisecond as the cancel.
  const [jc, jb] = await Promise.all([join(c.id), join(b.id), cancel]);
  assert.ok(jc.entry.joinedAt < jb.entry.joinedAt, "join order is kept within one millisecond");
  assert.equal(engine.lanes.stats.commits, 3, "hold, confirm, then one batch");
  assert.equal((await kv.get<{ kind: string }>(keys.place(s.id, c.id))).value?.kind, "offer");
  assert.equal((await kv.get<{ kind: string }>(keys.place(s.id, b.id))).value?.kind, "waitlist");
  assert.equal(await engine.waitlistPosition(s.id, b.id), 1);
  assert.deepEqual((await checkConsistency(kv, clock.now())).problems, []);
  await teardown(kv);
});

Deno.test("[booking] lane: a batch over the KV check limit splits and every op still commits once", async () => {
  const { kv, engine, clock, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 50 });
  const users = await putUsers(kv, 24);
  const ops = users.map((u, i) =>
    engine.lanes.run(s.id, self(u.id), async (tx) => {
      // Each op reads 8 more keys (all checked at commit): 24 × 10 checks > 100.
      await tx.draft.load(Array.from({ length: 8 }, (_, j) => ["scratch", i, j]));
      await tx.loadLearner(u.id);
      const h = tx.createHold(u.id, "hold", tx.nowMs + 15 * MINUTE, null);
      addEvent(tx.draft, tx.actor, "hold.placed", s.id, u.id, { holdId: h.id }, tx.now);
      return h;
    })
  );
  const holds = await Promise.all(ops);
  assert.equal(new Set(holds.map((h) => h.id)).size, 24);
  assert.ok(engine.lanes.stats.commits >= 3, `split into ${engine.lanes.stats.commits} commits`);
  assert.equal(engine.lanes.stats.ops, 24);
  assert.equal((await kv.get<SeatDoc>(keys.seats(s.id))).value!.holds, 24);
  assert.equal((await rawEvents(kv)).length, 24);
  assert.deepEqual((await checkConsistency(kv, clock.now())).problems, []);
  await teardown(kv);
});

Deno.test("[booking] lane: two engines on one store conflict, retry, and every op lands exactly once", async () => {
  const { kv, clock, course } = await setup();
  const engines = [0, 1].map(() => new BookingEngine(kv, { holdMinutes: 15, now: clock.now }));
  const s = await putSession(kv, course.id, { capacity: 30 });
  const users = await putUsers(kv, 80);
  const results = await Promise.allSettled(
    users.map((u, i) => engines[i % 2].placeHold(s.id, u.id, self(u.id))),
  );
  const ok = results.filter((r) => r.status === "fulfilled").length;
  const codes = results.flatMap((r) => r.status === "rejected" ? [(r.reason as DomainError).code] : []);
  assert.equal(ok, 30);
  assert.deepEqual([...new Set(codes)], ["session_full"]);
  const conflicts = engines[0].lanes.stats.conflicts + engines[1].lanes.stats.conflicts;
  assert.ok(conflicts > 0, "the two lanes did collide");
  assert.equal((await rawEvents(kv)).filter((e) => e.type === "hold.placed").length, 30);
  assert.deepEqual((await checkConsistency(kv, clock.now())).problems, []);
  await teardown(kv);
});

/** A store whose first `n` commits fail with SQLite's "database is locked" (nothing written). */
function lockedFor(kv: Deno.Kv, n: number): Deno.Kv {
  let left = n;
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const wrapped: Deno.AtomicOperation = new Proxy(op, {
            get(t, p) {
              if (p === "commit") {
                return () => left-- > 0 ? Promise.reject(new TypeError("database is locked")) : t.commit();
              }
              const v = Reflect.get(t, p, t);
              return typeof v === "function" ? (...args: unknown[]) => (v.apply(t, args), wrapped) : v;
            },
          });
          return wrapped;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

Deno.test("[booking] lane and reschedule: a briefly locked store is retried, not reported as an error", async () => {
  const { kv, clock, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 2 });
  const t = await putSession(kv, course.id, { capacity: 2, startsInHours: 300 });
  const [a] = await putUsers(kv, 1);
  const engine = new BookingEngine(lockedFor(kv, 2), { holdMinutes: 15, now: clock.now });
  const { hold } = await engine.placeHold(s.id, a.id, self(a.id));
  const { booking } = await new BookingEngine(kv, { holdMinutes: 15, now: clock.now }).confirmHold(hold.id, self(a.id));
  const moved = await new BookingEngine(lockedFor(kv, 2), { holdMinutes: 15, now: clock.now })
    .rescheduleBooking(booking.id, t.id, self(a.id));
  assert.equal(moved.booking.sessionId, t.id);
  assert.deepEqual((await rawEvents(kv)).map((e) => e.type), [
    "hold.placed",
    "booking.confirmed",
    "booking.rescheduled",
  ]);
  assert.deepEqual((await checkConsistency(kv, clock.now())).problems, []);
  await teardown(kv);
});

Deno.test("[booking] lane: a store that never takes the commit gives 503 busy and writes nothing", async () => {
  const { kv, clock, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 2 });
  const [a] = await putUsers(kv, 1);
  const engine = new BookingEngine(lockedFor(kv, Infinity), { holdMinutes: 15, now: clock.now });
  await assert.rejects(
    engine.placeHold(s.id, a.id, self(a.id)),
    (err) => err instanceof DomainError && err.status === 503 && err.code === "busy",
  );
  assert.deepEqual(await rawEvents(kv), []);
  assert.deepEqual((await kv.get<SeatDoc>(keys.seats(s.id))).value, { confirmed: 0, holds: 0, waiting: 0 });
  await teardown(kv);
});

Deno.test("[booking] lane: over KV Connect's 10 checks, seats owed to the waitlist are offered over several commits, never to a newcomer", async () => {
  const { kv, engine, clock, course } = await setup();
  const spy = enforceKvConnectLimits(kv);
  const s = await putSession(kv, course.id, { capacity: 6 });
  const [holders, waiting, [newcomer]] = [await putUsers(kv, 6), await putUsers(kv, 6), await putUsers(kv, 1)];
  for (const u of holders) await engine.placeHold(s.id, u.id, self(u.id));
  for (const u of waiting) await engine.joinWaitlist(s.id, u.id, self(u.id));
  // Every hold lapses at once: six seats are owed to six waiting learners, 12 checks of offers.
  clock.advance(16 * MINUTE);
  await assert.rejects(engine.placeHold(s.id, newcomer.id, self(newcomer.id)), (err: DomainError) => {
    return err.code === "session_full";
  });
  // The lane's follow-up commits make the remaining offers; settled() waits for them.
  await engine.lanes.settled();
  assert.equal((await kv.get<SeatDoc>(keys.seats(s.id))).value!.waiting, 0);
  const offered = await Promise.all(waiting.map((u) => kv.get<{ kind: string }>(keys.place(s.id, u.id))));
  assert.deepEqual(offered.map((e) => e.value?.kind), Array(6).fill("offer"));
  assert.equal((await kv.get(keys.place(s.id, newcomer.id))).value, null);
  assert.ok(engine.lanes.stats.commits >= 6 + 6 + 3, `offers over several commits: ${engine.lanes.stats.commits}`);
  assert.ok(spy.most() <= 10, `a commit carried ${spy.most()} checks`);
  assert.deepEqual((await checkConsistency(kv, clock.now())).problems, []);
  await teardown(kv);
});

Deno.test("[booking] reschedule over KV Connect's 10 checks: offers to the target's waitlist fit the same commit", async () => {
  const { kv, engine, clock, course } = await setup();
  const spy = enforceKvConnectLimits(kv);
  const from = await putSession(kv, course.id, { capacity: 2 });
  const to = await putSession(kv, course.id, { capacity: 6, startsInHours: 24 * 8 });
  const [mover] = await putUsers(kv, 1);
  const { hold } = await engine.placeHold(from.id, mover.id, self(mover.id));
  const { booking } = await engine.confirmHold(hold.id, self(mover.id));
  for (const u of await putUsers(kv, 6)) await engine.placeHold(to.id, u.id, self(u.id));
  const waiting = await putUsers(kv, 2);
  for (const u of waiting) await engine.joinWaitlist(to.id, u.id, self(u.id));
  clock.advance(16 * MINUTE); // six seats free up: two owed to the waitlist, four open
  const { booking: moved } = await engine.rescheduleBooking(booking.id, to.id, self(mover.id));
  assert.equal(moved.sessionId, to.id);
  assert.ok(spy.most() <= 10, `a commit carried ${spy.most()} checks`);
  // Offers that did not fit that commit are made by the next pass over the session.
  await engine.sweepExpiredHolds();
  const places = await Promise.all(waiting.map((u) => kv.get<{ kind: string }>(keys.place(to.id, u.id))));
  assert.deepEqual(places.map((e) => e.value?.kind), ["offer", "offer"]);
  assert.ok(spy.most() <= 10, `a commit carried ${spy.most()} checks`);
  assert.deepEqual((await checkConsistency(kv, clock.now())).problems, []);
  await teardown(kv);
});

Deno.test("[booking] lane: an op's ready read is awaited with the batch's load; a failed one fails its op alone", async () => {
  const { kv, engine, clock, course } = await setup();
  try {
    const s = await putSession(kv, course.id, { capacity: 5 });
    const [a, b, c] = await putUsers(kv, 3);
    const settled = new Set<string>();
    const later = (learnerId: string, fail: boolean) => {
      const p = new Promise<string>((resolve, reject) =>
        setTimeout(() => {
          settled.add(learnerId);
          if (fail) reject(new DomainError(503, "read_failed", "the read failed"));
          else resolve(learnerId);
        }, 30)
      );
      p.catch(() => {});
      return p;
    };
    const hold = (learnerId: string, ready: Promise<string>) =>
      engine.lanes.run(
        s.id,
        self(learnerId),
        async (tx) => {
          // Every op of the batch finds every ready read settled: none holds up the others.
          assert.equal(settled.size, 3);
          assert.equal(await ready, learnerId);
          await tx.loadLearner(learnerId);
          const h = tx.createHold(learnerId, "hold", tx.nowMs + 15 * MINUTE, null);
          addEvent(tx.draft, tx.actor, "hold.placed", s.id, learnerId, { holdId: h.id }, tx.now);
          return h;
        },
        [keys.place(s.id, learnerId), keys.learnerHolds(learnerId)],
        ready,
      );
    const readies = [later(a.id, false), later(b.id, true), later(c.id, false)];
    const results = await Promise.allSettled([hold(a.id, readies[0]), hold(b.id, readies[1]), hold(c.id, readies[2])]);
    assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
    assert.equal(((results[1] as PromiseRejectedResult).reason as DomainError).code, "read_failed");
    assert.deepEqual(engine.lanes.stats, { commits: 1, ops: 3, conflicts: 0 });
    assert.deepEqual((await kv.get<SeatDoc>(keys.seats(s.id))).value, { confirmed: 0, holds: 2, waiting: 0 });
    assert.deepEqual((await checkConsistency(kv, clock.now())).problems, []);
  } finally {
    await teardown(kv);
  }
});

Deno.test("[booking] lane: a lapsed hold expired by another instance while a batch loads is not freed twice", async () => {
  const { kv, engine: first, clock, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 1 });
  const [a, b, c] = await putUsers(kv, 3);
  const { hold } = await first.placeHold(s.id, a.id, self(a.id));
  clock.advance(16 * MINUTE); // a's hold lapses, with no write yet
  const other = new BookingEngine(kv, { holdMinutes: 15, now: clock.now });
  // A store where another instance's sweep commits the expiry right after this instance lists the
  // session's lapsed holds; a read of the seat counter that is still waiting then sees the commit.
  let listed: () => void = () => {};
  const listedOnce = new Promise<void>((r) => listed = r);
  let swept: Promise<unknown> | null = null;
  const isSeats = (k: Deno.KvKey) => k[0] === "seats" && k[1] === s.id;
  const store = new Proxy(kv, {
    get(target, prop) {
      if (prop === "list") {
        return (selector: Deno.KvListSelector, options?: Deno.KvListOptions) => {
          const rows = target.list(selector, options);
          if (swept || !("start" in selector) || selector.start[0] !== "holds_by_session") return rows;
          swept = (async () => {
            const out = [];
            for await (const e of rows) out.push(e);
            await other.expireHold(hold.id);
            return out;
          })();
          listed();
          return (async function* () {
            yield* (await swept) as Deno.KvEntry<unknown>[];
          })();
        };
      }
      if (prop === "getMany") {
        return async (keys: Deno.KvKey[], options?: { consistency?: Deno.KvConsistencyLevel }) => {
          if (keys.some(isSeats) && !swept) {
            // Held back a moment, as a slow round trip would be (longer only when the list comes first).
            await Promise.race([listedOnce, new Promise((r) => setTimeout(r, 50))]);
          }
          if (keys.some(isSeats) && swept) await swept;
          return target.getMany(keys, options);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  const engine = new BookingEngine(store, { holdMinutes: 15, now: clock.now });
  const results = await Promise.allSettled([
    engine.placeHold(s.id, b.id, self(b.id)),
    engine.placeHold(s.id, c.id, self(c.id)),
  ]);
  assert.ok(swept, "the other instance's sweep ran during the batch");
  assert.equal(results.filter((r) => r.status === "fulfilled").length, 1, "one seat, one hold");
  assert.deepEqual((await checkConsistency(kv, clock.now())).problems, []);
  await teardown(kv);
});
