/** The outbox: an event exists exactly when its change committed, and listEvents replays in commit order. */
import assert from "node:assert/strict";
import { BookingEngine } from "./engine.ts";
import { DomainError } from "./errors.ts";
import {
  type CommittedEvent,
  EVENT_TYPES,
  isEventCursor,
  listEvents,
  onEventsCommitted,
  OUTBOX_CONSUMERS,
  type OutboxConsumer,
  outboxConsumersFor,
} from "./events.ts";
import { keys } from "../store/keys.ts";
import type { Session } from "./model.ts";
import { pageEvents, rawEvents } from "../../tests/booking/storm.ts";
import { HOUR, MINUTE, putSession, putUsers, self, setup, teardown } from "../../tests/booking/test_fixtures.ts";

/** A store whose first commit waits until `release()`; `reached` resolves when it is attempted. */
function gated(kv: Deno.Kv): { kv: Deno.Kv; reached: Promise<void>; release: () => void } {
  const reached = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  let first = true;
  const proxy = new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const wrapped: Deno.AtomicOperation = new Proxy(op, {
            get(t, p) {
              if (p === "commit") {
                return async () => {
                  if (first) {
                    first = false;
                    reached.resolve();
                    await gate.promise;
                  }
                  return await t.commit();
                };
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
  return { kv: proxy, reached: reached.promise, release: () => gate.resolve() };
}

Deno.test("[booking] events: a commit that lands after a later one is still replayed (keys follow the wall clock)", async () => {
  const { kv, clock, course } = await setup();
  const s1 = await putSession(kv, course.id, { capacity: 5 });
  const s2 = await putSession(kv, course.id, { capacity: 5, startsInHours: 300 });
  const [a, b] = await putUsers(kv, 2);
  const slow = gated(kv);
  const slowEngine = new BookingEngine(slow.kv, { holdMinutes: 15, now: clock.now });
  const fastEngine = new BookingEngine(kv, { holdMinutes: 15, now: clock.now });
  // a's hold is prepared (its event minted) but its commit stalls…
  const pending = slowEngine.placeHold(s1.id, a.id, self(a.id));
  await slow.reached;
  // …while the engine clock moves on an hour and b's hold commits first.
  clock.advance(HOUR);
  const { hold: hb } = await fastEngine.placeHold(s2.id, b.id, self(b.id));
  slow.release();
  const { hold: ha } = await pending;
  const raw = await rawEvents(kv);
  assert.deepEqual(raw.map((e) => e.data.holdId), [hb.id, ha.id], "commit order: b, then a");
  // occurredAt is business time; only the storage key follows the wall clock.
  assert.deepEqual(raw.map((e) => e.occurredAt), [clock.now().toISOString(), new Date(clock.ms - HOUR).toISOString()]);
  for (const limit of [1, 2, 10]) {
    assert.deepEqual((await pageEvents(kv, limit)).map((e) => e.id), raw.map((e) => e.id), `limit ${limit}`);
  }
  await teardown(kv);
});

Deno.test("[booking] events: refused operations leave no event; each committed change leaves exactly its own", async () => {
  const { kv, engine, clock, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 1, waitlistEnabled: false });
  const t = await putSession(kv, course.id, { capacity: 1, startsInHours: 300 });
  const [a, b] = await putUsers(kv, 2);
  const { hold } = await engine.placeHold(s.id, a.id, self(a.id));
  const { booking } = await engine.confirmHold(hold.id, self(a.id));
  const { hold: hb } = await engine.placeHold(t.id, b.id, self(b.id));
  const before = await rawEvents(kv);
  const refused: [Promise<unknown>, string][] = [
    [engine.placeHold(s.id, b.id, self(b.id)), "session_full"],
    [engine.placeHold(s.id, a.id, self(a.id)), "already_booked"],
    [engine.joinWaitlist(s.id, b.id, self(b.id)), "waitlist_closed"],
    [engine.confirmHold(hold.id, self(a.id)), "hold_already_confirmed"],
    [engine.rescheduleBooking(booking.id, t.id, self(a.id)), "session_full"],
    [engine.cancelBooking(booking.id, self(b.id)), "forbidden"],
    [engine.leaveWaitlist(s.id, b.id, self(b.id)), "not_on_waitlist"],
  ];
  const settled = await Promise.allSettled(refused.map(([p]) => p));
  assert.deepEqual(
    settled.map((r) => r.status === "rejected" && r.reason instanceof DomainError ? r.reason.code : r.status),
    refused.map(([, code]) => code),
  );
  clock.advance(15 * MINUTE);
  await assert.rejects(
    engine.confirmHold(hb.id, self(b.id)),
    (err) => err instanceof DomainError && err.code === "hold_expired",
  );
  assert.deepEqual(await rawEvents(kv), before, "no event from any refused operation");
  // The lapsed hold's cleanup is a change of its own, with its event.
  await engine.expireHold(hb.id);
  const after = await rawEvents(kv);
  assert.deepEqual(after.slice(before.length).map((e) => [e.type, e.data.holdId]), [["hold.expired", hb.id]]);
  // Each event carries who, where from, and when (business time).
  const placed = after.find((e) => e.type === "hold.placed")!;
  assert.equal(placed.actor.userId, a.id);
  assert.equal(placed.origin, "web");
  assert.equal(placed.sessionId, s.id);
  assert.equal(placed.learnerId, a.id);
  assert.equal(placed.schemaVersion, 1);
  assert.match(placed.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const { versionstamp: _, ...stored } = placed;
  assert.deepEqual((await kv.get(keys.event(placed.key))).value, stored);
  await teardown(kv);
});

Deno.test("[booking] listEvents: a reader paging while writers commit sees every event exactly once, in commit order", async () => {
  const { kv, engine, clock, course } = await setup();
  const sessions: Session[] = [];
  for (let i = 0; i < 4; i++) sessions.push(await putSession(kv, course.id, { capacity: 8, startsInHours: 100 + i }));
  const users = await putUsers(kv, 40);
  let done = false;
  const seen: CommittedEvent[] = [];
  const reader = (async () => {
    let after: string | null = null;
    for (;;) {
      const finished = done;
      const page: Awaited<ReturnType<typeof listEvents>> = await listEvents(kv, { after, limit: 4 });
      seen.push(...page.events);
      after = page.nextCursor;
      if (!page.events.length) {
        if (finished) return;
        await new Promise((r) => setTimeout(r, 1));
      }
    }
  })();
  const writers = users.map(async (u, i) => {
    await new Promise((r) => setTimeout(r, i % 7));
    const s = sessions[i % sessions.length];
    try {
      const { hold } = await engine.placeHold(s.id, u.id, self(u.id));
      if (i % 3) await engine.confirmHold(hold.id, self(u.id));
      else await engine.releaseHold(hold.id, self(u.id));
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      if (i % 2) await engine.joinWaitlist(s.id, u.id, self(u.id)).catch(() => {});
    }
  });
  await Promise.all(writers);
  done = true;
  await reader;
  const raw = await rawEvents(kv);
  assert.ok(raw.length >= 40, `${raw.length} events`);
  assert.deepEqual(seen.map((e) => e.id), raw.map((e) => e.id));
  void clock;
  await teardown(kv);
});

Deno.test("[booking] listEvents: cursors are opaque, validated, and an exhausted log keeps the cursor", async () => {
  const { kv, engine, course } = await setup();
  const s = await putSession(kv, course.id, { capacity: 5 });
  const users = await putUsers(kv, 3);
  for (const u of users) await engine.placeHold(s.id, u.id, self(u.id));
  const first = await listEvents(kv, { limit: 2 });
  assert.equal(first.events.length, 2);
  assert.ok(first.nextCursor && isEventCursor(first.nextCursor));
  const second = await listEvents(kv, { after: first.nextCursor, limit: 2 });
  assert.equal(second.events.length, 1);
  const third = await listEvents(kv, { after: second.nextCursor, limit: 2 });
  assert.deepEqual(third, { events: [], nextCursor: second.nextCursor });
  assert.equal(isEventCursor("not-a-cursor"), false);
  assert.equal(isEventCursor(btoa("00000000000000000000.nope")), false);
  assert.deepEqual((await listEvents(kv)).events.length, 3);
  await teardown(kv);
});

Deno.test("[booking] outbox: a hold is pending for Kafka only, a booking for Kafka and Cal.com", async () => {
  const { kv, clock, course } = await setup();
  try {
    const session = await putSession(kv, course.id, { capacity: 5 });
    const [learner] = await putUsers(kv, 1);
    const engine = new BookingEngine(kv, { holdMinutes: 15, now: clock.now });
    const { hold } = await engine.placeHold(session.id, learner.id, self(learner.id));
    const pendingTypes = async (consumer: string) =>
      (await Array.fromAsync(kv.list<CommittedEvent>({ prefix: keys.outboxSessionPrefix(consumer, session.id) })))
        .map((e) => e.value.type).sort();
    assert.deepEqual(await pendingTypes("kafka"), ["hold.placed"]);
    assert.deepEqual(await pendingTypes("calcom"), []);
    await engine.confirmHold(hold.id, self(learner.id));
    assert.deepEqual(await pendingTypes("kafka"), ["booking.confirmed", "hold.placed"]);
    assert.deepEqual(await pendingTypes("calcom"), ["booking.confirmed"]);
    for (const type of EVENT_TYPES) {
      assert.equal(outboxConsumersFor(type).includes("kafka"), true, `${type} reaches Kafka`);
    }
  } finally {
    await teardown(kv);
  }
});

Deno.test("[booking] events: a commit wakes only the consumers it left a pending entry for", async () => {
  const { kv, clock, course } = await setup();
  const woken: string[] = [];
  const unsubscribe = [
    ...OUTBOX_CONSUMERS.map((c: OutboxConsumer) => onEventsCommitted(() => woken.push(c), c)),
    onEventsCommitted(() => woken.push("any")),
  ];
  try {
    const session = await putSession(kv, course.id, { capacity: 5 });
    const [learner] = await putUsers(kv, 1);
    const engine = new BookingEngine(kv, { holdMinutes: 15, now: clock.now });
    const { hold } = await engine.placeHold(session.id, learner.id, self(learner.id));
    // A hold is news for Kafka and the reports only: the Cal.com sync and the notifier sleep on.
    assert.deepEqual([...new Set(woken)].sort(), ["any", "kafka", "reports"]);
    woken.length = 0;
    await engine.confirmHold(hold.id, self(learner.id));
    assert.deepEqual([...new Set(woken)].sort(), ["any", "calcom", "kafka", "notify", "reports"]);
    woken.length = 0;
    await assert.rejects(engine.placeHold(session.id, learner.id, self(learner.id)));
    assert.deepEqual(woken, [], "a refused hold commits nothing and wakes nobody");
  } finally {
    for (const u of unsubscribe) u();
    await teardown(kv);
  }
});
