import assert from "node:assert/strict";
import { checkConsistency } from "../booking/consistency.ts";
import { type Actor, listEvents, useEventClock } from "../booking/events.ts";
import { putSession, putUsers, self, setup, teardown } from "../../tests/booking/test_fixtures.ts";
import type { Booking } from "../domain/booking.ts";
import type { Session } from "../domain/session.ts";
import { keys } from "../store/keys.ts";
import { applyRetention } from "./retention.ts";

const DAY = 86_400_000;

/** putSession writes only the course index; retention walks sessions by start. */
async function indexByStart(kv: Deno.Kv, s: Session): Promise<void> {
  await kv.set(keys.sessionsByStart(s.startsAt, s.id), {
    id: s.id,
    courseId: s.courseId,
    locationId: s.locationId,
    instructorId: s.instructorId,
    mode: s.mode,
    status: s.status,
  });
}

function withReason(actor: Actor, reason: string): Actor {
  return { ...actor, reason };
}

Deno.test("[privacy] retention pseudonymises events and audit older than the period, and only those", async () => {
  const { kv, engine, clock, course } = await setup();
  // Event keys follow the injected clock, as a store written over two years would have them.
  useEventClock(kv, () => clock.ms);
  try {
    const [ann, bob] = await putUsers(kv, 2);
    const t0 = clock.ms;
    const old = await putSession(kv, course.id, { startsInHours: 24 * 7 });
    const recent = await putSession(kv, course.id, { startsInHours: 24 * 407 });
    await indexByStart(kv, old);
    await indexByStart(kv, recent);

    const h1 = await engine.placeHold(old.id, ann.id, self(ann.id));
    const b1 = await engine.confirmHold(h1.hold.id, self(ann.id));
    await engine.cancelBooking(b1.booking.id, withReason(self(ann.id), "Ann's old personal reason"));
    const h2 = await engine.placeHold(old.id, bob.id, self(bob.id));
    await engine.confirmHold(h2.hold.id, self(bob.id));

    clock.advance(400 * DAY);
    const h3 = await engine.placeHold(recent.id, ann.id, self(ann.id));
    const b3 = await engine.confirmHold(h3.hold.id, self(ann.id));
    await engine.cancelBooking(b3.booking.id, withReason(self(ann.id), "Ann's recent reason"));

    const before = (await listEvents(kv, { limit: 1000 })).events;
    const seatsBefore = [(await kv.get(keys.seats(old.id))).value, (await kv.get(keys.seats(recent.id))).value];

    // Two years after the first changes: the cut-off falls between the two sessions.
    const now = new Date(t0 + 740 * DAY);
    const r = await applyRetention(kv, { now, retentionDays: 730 });
    assert.equal(r.cutoff, new Date(t0 + 10 * DAY).toISOString());
    assert.equal(r.eventsPseudonymised, 1, "the one old event with free text");
    assert.equal(r.bookingsPseudonymised, 1, "Ann's booking in the old session");

    const after = (await listEvents(kv, { limit: 1000 })).events;
    assert.deepEqual(after.map((e) => e.id), before.map((e) => e.id), "history keeps its order and size");
    assert.deepEqual(
      after.map((e) => e.versionstamp),
      before.map((e) => e.versionstamp),
      "rewritten events keep their commit position",
    );
    for (const e of after) {
      const wasOld = Date.parse(e.occurredAt) < t0 + 10 * DAY;
      const original = before.find((x) => x.id === e.id)!;
      if (wasOld) assert.equal(e.reason, null, `${e.type} at ${e.occurredAt}`);
      else assert.equal(e.reason, original.reason, `${e.type} at ${e.occurredAt} is left alone`);
      assert.deepEqual(e.data, original.data, "ids and counters stay");
      assert.equal(e.learnerId, original.learnerId);
    }
    assert.ok(after.some((e) => e.reason === "Ann's recent reason"));

    const oldBooking = (await kv.get<Booking>(keys.booking(b1.booking.id))).value!;
    assert.equal(oldBooking.cancelReason, null);
    assert.ok(oldBooking.audit.every((a) => a.reason === null));
    assert.equal(oldBooking.status, "cancelled");
    const recentBooking = (await kv.get<Booking>(keys.booking(b3.booking.id))).value!;
    assert.equal(recentBooking.cancelReason, "Ann's recent reason");

    assert.deepEqual(
      [(await kv.get(keys.seats(old.id))).value, (await kv.get(keys.seats(recent.id))).value],
      seatsBefore,
    );
    assert.deepEqual((await checkConsistency(kv, now)).problems, []);

    // The next day's run starts where this one stopped: nothing read twice, nothing to do.
    const again = await applyRetention(kv, { now: new Date(now.getTime() + DAY), retentionDays: 730 });
    assert.equal(again.eventsPseudonymised, 0);
    assert.equal(again.bookingsPseudonymised, 0);
    assert.ok(again.eventsScanned < before.length, `scanned ${again.eventsScanned} of ${before.length}`);
  } finally {
    await teardown(kv);
  }
});
