/**
 * Two outbound workers on one store and one Cal.com emulator: the lease changes hands while a
 * seat POST is being answered slowly, and the seat is still posted exactly once.
 */
import assert from "node:assert/strict";
import { BookingEngine } from "../../lib/booking/engine.ts";
import { admin, putCourse, putUser, self, teardown } from "../booking/test_fixtures.ts";
import { OUTBOUND_JOB, OutboundSync } from "../../lib/calcom/outbound.ts";
import { getEventTypeLink, getSeatLink, getSyncState } from "../../lib/calcom/sync_store.ts";
import { loadConfig } from "../../lib/config.ts";
import { keys } from "../../lib/store/keys.ts";
import type { LeaseRecord } from "../../lib/worker/lease.ts";
import { withCalcom } from "./fixture.ts";
import { calcomSeats } from "./sync_fixture.ts";

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const v = await probe();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

Deno.test(
  "[calcom] outbound a seat is posted once while the lease changes hands during a slow answer",
  () =>
    withCalcom(async ({ emulator }) => {
      const kv = await Deno.openKv(":memory:");
      const config = loadConfig({
        DENO_KV_PATH: ":memory:",
        CALCOM_API_URL: emulator.url,
        CALCOM_API_KEY: emulator.apiKey,
        CALCOM_WEBHOOK_SECRET: emulator.webhookSecret,
      });
      const engine = new BookingEngine(kv, { holdMinutes: 15 });
      const course = await putCourse(kv);
      const instructor = await putUser(kv, { roles: ["instructor"] });
      const logs: string[] = [];
      const worker = (owner: string) =>
        new OutboundSync({
          kv,
          config,
          owner,
          pollMs: 50,
          leaseMs: 1_000,
          requestTimeoutMs: 2_000,
          maxClockSkewMs: 500,
          retryDelaysMs: [100, 300, 900],
          log: (level, m) => logs.push(`${owner} ${level}: ${m}`),
        });
      const a = worker("worker-a");
      const b = worker("worker-b");
      const leaseOf = async () => (await kv.get<LeaseRecord>(keys.workerLease(OUTBOUND_JOB))).value;
      a.start();
      try {
        const start = Math.ceil((Date.now() + 7 * 86_400_000) / 3_600_000) * 3_600_000;
        const session = await engine.scheduleSession({
          courseId: course.id,
          startsAt: new Date(start).toISOString(),
          endsAt: new Date(start + 3_600_000).toISOString(),
          timeZone: "America/New_York",
          mode: "online",
          joinUrl: "https://meet.example.com/lease",
          capacity: 5,
          instructorId: instructor.id,
        }, admin());
        const eventType = await waitFor("the event type", () => getEventTypeLink(kv, session.id));
        assert.equal((await leaseOf())?.owner, "worker-a");
        b.start();

        // A's seat POST is served at once (the seat exists on Cal.com) but answered 1.5 s late.
        // Meanwhile A loses its lease (as after a pause longer than the lease) and B takes over.
        let takenOver: Promise<LeaseRecord> | null = null;
        emulator.answerLate("POST", "/v2/bookings", 1_500, async () => {
          const entry = await kv.get<LeaseRecord>(keys.workerLease(OUTBOUND_JOB));
          await kv.set(entry.key, { ...entry.value!, until: 0 });
          b.wake();
          takenOver = waitFor("worker B to take the lease", async () => {
            const rec = await leaseOf();
            return rec?.owner === "worker-b" ? rec : null;
          });
        });
        const learner = await putUser(kv, { name: "Lease Learner" });
        const { hold } = await engine.placeHold(session.id, learner.id, self(learner.id));
        const { booking } = await engine.confirmHold(hold.id, self(learner.id));

        const synced = await waitFor("the booking synced", async () => {
          const s = await getSyncState(kv, booking.id);
          return s?.status === "synced" ? s : null;
        });
        assert.ok(takenOver, "the slow answer happened");
        const rec = await (takenOver as unknown as Promise<LeaseRecord>);
        assert.equal(rec.token, 2, "the takeover raised the fencing token");
        assert.equal(emulator.requestCount({ method: "POST", path: "/v2/bookings" }), 1, "exactly one seat POST");
        assert.deepEqual(calcomSeats(emulator, eventType.eventTypeId, session), [learner.email.toLowerCase()]);
        const link = (await getSeatLink(kv, booking.id))!;
        const calBooking = emulator.state.booking(link.calBookingUid);
        assert.deepEqual(calBooking.seats.map((s) => s.seatUid), [link.seatUid], "B linked A's seat");
        assert.equal(synced.sendingUntil ?? null, null);
        assert.equal(synced.requiresManualReview, false);
        assert.equal(a.status().state, "standby", "A stood down when its late write hit the fence");
        assert.ok(!logs.some((l) => l.includes("flagged")), logs.join("\n"));
      } finally {
        await Promise.all([a.stop(), b.stop()]);
        await teardown(kv);
      }
    }),
);
