import assert from "node:assert/strict";
import { newId } from "../domain/ids.ts";
import { ValidationError } from "../domain/validation.ts";
import { ConflictError, NotFoundError } from "./errors.ts";
import { createSession, getSeatCounts, updateSession } from "./sessions.ts";
import { getBooking, importConfirmedBookings, listBookingsByLearner, listBookingsBySession } from "./bookings.ts";
import { getHold } from "./holds.ts";
import { listWaitlist } from "./waitlist.ts";
import { keys } from "./keys.ts";
import { allKeys, seedTinyCatalog, sessionAt, withKv } from "./test_helpers.ts";

const learners = (n: number) => Array.from({ length: n }, () => newId());

Deno.test("[store] importConfirmedBookings writes bookings, indexes, places and seats", async () => {
  await withKv(async (kv) => {
    const cat = await seedTinyCatalog(kv);
    const a = await createSession(kv, sessionAt(cat, 0, { capacity: 5 }));
    const b = await createSession(kv, sessionAt(cat, 5, { capacity: 3 }));
    const people = learners(4);
    const res = await importConfirmedBookings(kv, [
      ...people.map((learnerId) => ({ sessionId: a.id, learnerId })),
      { sessionId: b.id, learnerId: people[0], origin: "web" as const },
    ]);
    assert.deepEqual(res, { imported: 5, sessions: 2, commits: 1 });
    const seats = await getSeatCounts(kv, [a.id, b.id]);
    assert.deepEqual(seats.get(a.id), { confirmed: 4, holds: 0 });
    assert.deepEqual(seats.get(b.id), { confirmed: 1, holds: 0 });
    const inA = await listBookingsBySession(kv, a.id);
    assert.equal(inA.length, 4);
    assert.deepEqual(inA.map((x) => x.learnerId).sort(), [...people].sort());
    const mine = await listBookingsByLearner(kv, people[0]);
    assert.deepEqual(mine.map((x) => x.sessionId).sort(), [a.id, b.id].sort());
    const one = await getBooking(kv, inA[0].id);
    assert.equal(one?.status, "confirmed");
    assert.match(one!.registration, /^[0-9a-f-]{36}$/);
    assert.equal(one?.audit[0].action, "imported");
    assert.deepEqual((await kv.get(keys.place(a.id, inA[0].learnerId))).value, { kind: "booking", id: inA[0].id });
    assert.deepEqual(await listBookingsBySession(kv, a.id, { status: "cancelled" }), []);
  });
});

Deno.test("[store] importConfirmedBookings cannot overfill a session", async () => {
  await withKv(async (kv) => {
    const cat = await seedTinyCatalog(kv);
    const s = await createSession(kv, sessionAt(cat, 0, { capacity: 3 }));
    await assert.rejects(
      importConfirmedBookings(kv, learners(4).map((learnerId) => ({ sessionId: s.id, learnerId }))),
      (e) => e instanceof ConflictError && e.code === "over_capacity",
    );
    assert.deepEqual(await allKeys(kv, "bookings"), [], "nothing written");
    await importConfirmedBookings(kv, learners(2).map((learnerId) => ({ sessionId: s.id, learnerId })));
    await kv.set(keys.seats(s.id), { confirmed: 2, holds: 1 }); // a live hold takes the last seat
    await assert.rejects(
      importConfirmedBookings(kv, [{ sessionId: s.id, learnerId: newId() }]),
      (e) => e instanceof ConflictError && e.code === "over_capacity",
    );
    await kv.set(keys.seats(s.id), { confirmed: 2, holds: 0 });
    await importConfirmedBookings(kv, [{ sessionId: s.id, learnerId: newId() }]);
    assert.deepEqual((await getSeatCounts(kv, [s.id])).get(s.id), { confirmed: 3, holds: 0 });
    await assert.rejects(
      importConfirmedBookings(kv, [{ sessionId: s.id, learnerId: newId() }]),
      (e) => e instanceof ConflictError && e.code === "over_capacity",
    );
  });
});

Deno.test("[store] concurrent imports into one session never exceed capacity", async () => {
  await withKv(async (kv) => {
    const cat = await seedTinyCatalog(kv);
    const s = await createSession(kv, sessionAt(cat, 0, { capacity: 10 }));
    const results = await Promise.allSettled(
      Array.from(
        { length: 8 },
        () => importConfirmedBookings(kv, learners(3).map((learnerId) => ({ sessionId: s.id, learnerId }))),
      ),
    );
    const ok = results.filter((r) => r.status === "fulfilled").length;
    const seats = (await getSeatCounts(kv, [s.id])).get(s.id)!;
    assert.ok(seats.confirmed <= 10);
    assert.equal(seats.confirmed, ok * 3);
    assert.equal((await listBookingsBySession(kv, s.id)).length, seats.confirmed);
  });
});

Deno.test("[store] importConfirmedBookings refuses a second place and bad input", async () => {
  await withKv(async (kv) => {
    const cat = await seedTinyCatalog(kv);
    const s = await createSession(kv, sessionAt(cat, 0));
    const learnerId = newId();
    await assert.rejects(
      importConfirmedBookings(kv, [{ sessionId: s.id, learnerId }, { sessionId: s.id, learnerId }]),
      (e) => e instanceof ConflictError && e.code === "duplicate_place",
    );
    await importConfirmedBookings(kv, [{ sessionId: s.id, learnerId }]);
    await assert.rejects(
      importConfirmedBookings(kv, [{ sessionId: s.id, learnerId }]),
      (e) => e instanceof ConflictError && e.code === "duplicate_place",
    );
    await assert.rejects(importConfirmedBookings(kv, [{ sessionId: newId(), learnerId }]), NotFoundError);
    await assert.rejects(
      importConfirmedBookings(kv, [{ sessionId: s.id, learnerId: newId(), status: "cancelled" }]),
      ValidationError,
    );
    await assert.rejects(
      importConfirmedBookings(kv, [{ sessionId: s.id, learnerId: newId(), registration: "nope" }]),
      (e) => e instanceof ValidationError && e.issues[0].path === "registration",
    );
    await updateSession(kv, s.id, { status: "cancelled" });
    await assert.rejects(
      importConfirmedBookings(kv, [{ sessionId: s.id, learnerId: newId() }]),
      (e) => e instanceof ConflictError && e.code === "invalid_state",
    );
  });
});

Deno.test("[store] importConfirmedBookings splits big sessions within KV limits", async () => {
  await withKv(async (kv) => {
    const cat = await seedTinyCatalog(kv);
    const big = await createSession(kv, sessionAt(cat, 0, { capacity: 500 }));
    const smalls = await Promise.all(
      Array.from({ length: 12 }, (_, i) => createSession(kv, sessionAt(cat, 10 + i, { capacity: 30 }))),
    );
    const res = await importConfirmedBookings(kv, [
      ...learners(250).map((learnerId) => ({ sessionId: big.id, learnerId })),
      ...smalls.flatMap((s) => learners(25).map((learnerId) => ({ sessionId: s.id, learnerId }))),
    ]);
    assert.equal(res.imported, 550);
    // 12 × 25 small: 27 checks each → 3 per op → 4 ops; big: ceil(250 / 98) = 3 ops.
    assert.equal(res.commits, 7);
    const seats = await getSeatCounts(kv, [big.id, ...smalls.map((s) => s.id)]);
    assert.equal(seats.get(big.id)?.confirmed, 250);
    for (const s of smalls) assert.equal(seats.get(s.id)?.confirmed, 25);
    assert.equal((await listBookingsBySession(kv, big.id)).length, 250);
  });
});

Deno.test("[store] getHold and listWaitlist read what the engine writes", async () => {
  await withKv(async (kv) => {
    const sessionId = newId();
    const [l1, l2] = [newId(), newId()];
    assert.equal(await getHold(kv, newId()), null);
    await kv.set(keys.waitlistEntry(sessionId, "2027-01-02T00:00:00.000Z", l2), {
      sessionId,
      learnerId: l2,
      joinedAt: "2027-01-02T00:00:00.000Z",
      status: "waiting",
      offerHoldId: null,
    });
    await kv.set(keys.waitlistEntry(sessionId, "2027-01-01T00:00:00.000Z", l1), {
      sessionId,
      learnerId: l1,
      joinedAt: "2027-01-01T00:00:00.000Z",
      status: "waiting",
      offerHoldId: null,
    });
    assert.deepEqual((await listWaitlist(kv, sessionId)).map((e) => e.learnerId), [l1, l2]);
  });
});
