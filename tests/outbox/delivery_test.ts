/**
 * The outbox does not trust wall clocks: a commit that lands 10 s after its event keys were minted
 * (held for real) and instances whose clocks are skewed by ±5 s still get every event delivered
 * exactly once to Kafka (a recording publisher behind two relays) and to the Cal.com sync, each
 * session's events in commit order.
 */
import assert from "node:assert/strict";
import { BookingEngine } from "../../lib/booking/engine.ts";
import { CALCOM_EVENT_TYPES, COMMIT_LAG_MS, type DomainEvent } from "../../lib/booking/events.ts";
import { OutboundSync } from "../../lib/calcom/outbound.ts";
import { loadConfig } from "../../lib/config.ts";
import type { OutboundMessage } from "../../lib/relay/publisher.ts";
import { EventRelay } from "../../lib/relay/relay.ts";
import { keys } from "../../lib/store/keys.ts";
import { createCatalogSession, createLearners, createTinyCatalog, waitFor } from "../kafka/relay_fixture.ts";
import { instance } from "./instances.ts";

const LATE_MS = 10_000;

function ulidMs(key: string): number {
  const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  let t = 0;
  for (const ch of key.slice(0, 10)) t = t * 32 + alphabet.indexOf(ch);
  return t;
}

Deno.test("[outbox] a commit landing 10 s late and instances skewed ±5 s: every event delivered once, in per-session commit order", async () => {
  const raw = await Deno.openKv(":memory:");
  const catalog = await createTinyCatalog(raw);
  const [s1, s2, s3] = [
    await createCatalogSession(raw, catalog),
    await createCatalogSession(raw, catalog),
    await createCatalogSession(raw, catalog),
  ];
  const learners = (await createLearners(raw, 24)).map((l) => l.user);
  const ahead = instance(raw, +5_000);
  const behind = instance(raw, -5_000);
  const late = instance(raw, 0);
  const engine = (i: { kv: Deno.Kv }) => new BookingEngine(i.kv, { holdMinutes: 15 });
  const [eAhead, eBehind, eLate] = [engine(ahead), engine(behind), engine(late)];
  const actor = (id: string) => ({
    userId: id,
    roles: ["learner" as const],
    origin: "api" as const,
    correlationId: crypto.randomUUID(),
  });

  // Kafka: two relays (the skewed instances, their leases on their own clocks), one recording publisher.
  const published: OutboundMessage[] = [];
  const publisher = {
    connect: () => Promise.resolve(),
    publish: (m: readonly OutboundMessage[]) => {
      published.push(...m);
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
  const relays = [ahead, behind].map((i) =>
    new EventRelay(i.kv, publisher, { idleMs: 50, lingerMs: 0, clock: i.clock, log: () => {} })
  );
  // Cal.com: the outbound sync (no tenant configured: bookings end "skipped"), recording what it read.
  const consumed: DomainEvent[] = [];
  const outbound = new OutboundSync({
    kv: late.kv,
    config: loadConfig({ DENO_KV_PATH: ":memory:" }),
    pollMs: 50,
    log: () => {},
    onEvent: (e) => consumed.push(e),
  });
  for (const r of relays) r.start();
  outbound.start();
  const ids = (msgs: readonly OutboundMessage[]) => msgs.map((m) => m.headers["event-id"]);
  // The Cal.com sync gets bookings and session changes only (holds never reach Cal.com).
  const forCalcom = (e: DomainEvent) => CALCOM_EVENT_TYPES.has(e.type);
  try {
    // Session 1: one hold from each skewed instance.
    const h0 = await eAhead.placeHold(s1.id, learners[0].id, actor(learners[0].id));
    const h1 = await eBehind.placeHold(s1.id, learners[1].id, actor(learners[1].id));

    // The late instance's booking on session 1 (an event both consumers get): its keys are minted
    // now, its commit lands 10 s later.
    const { hold: h2 } = await eLate.placeHold(s1.id, learners[2].id, actor(learners[2].id));
    const held = late.holdNextCommit(LATE_MS);
    const lateBooking = eLate.confirmHold(h2.id, actor(learners[2].id));
    await held.entered;
    const mintedAt = Date.now();

    // Meanwhile the skewed instances commit on sessions 2 and 3, and both consumers deliver them.
    const others = [];
    for (let i = 3; i < 23; i++) {
      const e = i % 2 ? eAhead : eBehind;
      const s = i % 3 ? s2 : s3;
      const { hold } = await e.placeHold(s.id, learners[i].id, actor(learners[i].id));
      if (i % 4 === 0) others.push(await e.confirmHold(hold.id, actor(learners[i].id)));
    }
    const before = (await Array.fromAsync(raw.list<DomainEvent>({ prefix: keys.eventsPrefix() }))).map((e) => e.value);
    await waitFor(
      () => "the events committed meanwhile delivered",
      () => {
        const got = new Set(ids(published));
        const read = new Set(consumed.map((e) => e.id));
        return before.every((e) => got.has(e.id) && (read.has(e.id) || !forCalcom(e)));
      },
      8_000,
      20,
    );
    assert.ok(Date.now() - mintedAt < LATE_MS, "the held commit has not landed yet");

    await lateBooking;
    assert.ok(Date.now() - mintedAt >= LATE_MS - 50, "the commit landed about 10 s after its keys were minted");
    // Session 1 goes on after the late commit.
    await eBehind.confirmHold(h1.hold.id, actor(learners[1].id));
    await eAhead.releaseHold(h0.hold.id, actor(learners[0].id));

    const history = await Array.fromAsync(raw.list<DomainEvent>({ prefix: keys.eventsPrefix() }));
    await waitFor(
      () => `${history.length} events delivered to both consumers`,
      () => {
        const got = new Set(ids(published));
        const read = new Set(consumed.map((e) => e.id));
        return history.every((e) => got.has(e.value.id) && (read.has(e.value.id) || !forCalcom(e.value)));
      },
      10_000,
      20,
    );
    for (const r of relays) await r.stop();
    await outbound.stop();

    // Exactly once, to each consumer.
    const count = (list: string[]) =>
      list.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map<string, number>());
    const kafkaCounts = count(ids(published));
    const calcomCounts = count(consumed.map((e) => e.id));
    for (const { value: e } of history) {
      assert.equal(kafkaCounts.get(e.id), 1, `${e.type} ${e.id} on Kafka once`);
      assert.equal(calcomCounts.get(e.id), forCalcom(e) ? 1 : undefined, `${e.type} ${e.id} read by the Cal.com sync`);
    }
    assert.equal(published.length, history.length);
    assert.equal(consumed.length, history.filter((e) => forCalcom(e.value)).length);
    assert.ok(consumed.length >= 6, "bookings reached the Cal.com sync");
    for (const consumer of ["kafka", "calcom"]) {
      assert.deepEqual(
        await Array.fromAsync(raw.list({ prefix: keys.outboxPrefix(consumer) })),
        [],
        `${consumer} outbox empty`,
      );
    }

    // Per session: delivery order == commit order (versionstamps of the history entries).
    const commitOrder = [...history].sort((a, b) =>
      a.versionstamp !== b.versionstamp ? (a.versionstamp < b.versionstamp ? -1 : 1) : a.key < b.key ? -1 : 1
    );
    for (const s of [s1, s2, s3]) {
      const want = commitOrder.filter((e) => e.value.sessionId === s.id);
      assert.deepEqual(
        ids(published.filter((m) => m.key === s.id)),
        want.map((e) => e.value.id),
        `Kafka order of session ${s.id}`,
      );
      assert.deepEqual(
        consumed.filter((e) => e.sessionId === s.id).map((e) => e.id),
        want.filter((e) => forCalcom(e.value)).map((e) => e.value.id),
        `Cal.com order of ${s.id}`,
      );
    }

    // The late event really was "in the past": events delivered before it carry keys more than
    // COMMIT_LAG_MS after its own (a cursor over keys would have passed it over for good).
    const lateEvent = history.find((e) => e.value.type === "booking.confirmed" && e.value.data.holdId === h2.id)!.value;
    assert.ok(consumed.some((e) => e.id === lateEvent.id), "the late booking reached the Cal.com sync");
    const lateIndex = ids(published).indexOf(lateEvent.id);
    const passed = published.slice(0, lateIndex).filter((m) =>
      ulidMs(history.find((e) => e.value.id === m.headers["event-id"])!.value.key) >
        ulidMs(lateEvent.key) + COMMIT_LAG_MS
    );
    assert.ok(passed.length > 0, "some events with keys well after the late one's were delivered before it");
    // Keys of the skewed instances sit ±5 s off their commit times: history order is approximate, delivery is not.
    assert.equal(others.length, 5);
  } finally {
    for (const r of relays) await r.stop();
    await outbound.stop();
    raw.close();
  }
});
