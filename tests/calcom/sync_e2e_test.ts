/**
 * Two-way sync end to end: the real app (HTTP API, webhook route, outbound runner) against the
 * Cal.com emulator. A scripted mix of changes on both sides, with echoes, dropped webhooks and an
 * outage, then one reconciliation pass: both sides must hold the same set of seats.
 */
import assert from "node:assert/strict";
import { OutboundSync } from "../../lib/calcom/outbound.ts";
import { reconcile, reconcileDepsFor } from "../../lib/calcom/reconcile.ts";
import { getEventTypeLink, getSyncState, listReviewItems, syncReviewId } from "../../lib/calcom/sync_store.ts";
import type { Booking } from "../../lib/domain/mod.ts";
import { listBookingsBySession } from "../../lib/store/bookings.ts";
import { getCourse } from "../../lib/store/courses.ts";
import { type ApiFixture, startApiFixture } from "../api/fixture.ts";
import type { CalcomEmulator, SignedWebhook } from "./emulator.ts";
import { withCalcom } from "./fixture.ts";
import { book, calcomSeats, drain, ourSeats } from "./sync_fixture.ts";

const API_KEY = "cal_live_e2e_secret_key_0123456789";
const WEBHOOK_SECRET = "whsec-e2e-never-in-logs-9876";

async function deliver(f: ApiFixture, w: SignedWebhook): Promise<Record<string, unknown>> {
  const res = await f.app.request("/api/webhooks/calcom/booking", { method: "POST", headers: w.headers, body: w.body });
  const json = await res.json();
  assert.ok(res.status === 200 || res.status === 202, `webhook ${w.trigger} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

Deno.test({
  name: "[calcom] two-way sync: a mix of changes on both sides, echoes, dropped webhooks and an outage converge",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const logged: string[] = [];
    const original = { log: console.log, warn: console.warn, error: console.error, info: console.info };
    const capture = (...args: unknown[]) => logged.push(args.map(String).join(" "));
    console.log =
      console.warn =
      console.error =
      console.info =
        capture;
    try {
      await withCalcom(async ({ emulator, client }) => {
        const f = await startApiFixture({
          CALCOM_API_URL: emulator.url,
          CALCOM_API_KEY: API_KEY,
          CALCOM_WEBHOOK_SECRET: WEBHOOK_SECRET,
        });
        const { kv, config } = f.services;
        const sync = new OutboundSync({ kv, config, retryDelaysMs: [50, 100, 200], requestTimeoutMs: 2_000 });
        try {
          // Two sessions of one course, scheduled over the API: each gets its seated event type.
          const s1 = await f.session({ capacity: 4 });
          const course = (await getCourse(kv, s1.courseId))!;
          const s2 = await f.session({ capacity: 4, course, startsInHours: 96 });
          // Sessions made straight in the store have no session.scheduled event: the runner makes
          // their event types lazily, before the first seat.
          const [l1, l2, l3, l4, l5] = await f.learners(5);

          // Ours: three bookings → three seats.
          const b1 = await book(l1, s1.id);
          const b2 = await book(l2, s1.id);
          const b3 = await book(l3, s2.id);
          await drain(sync, kv);
          const et1 = (await getEventTypeLink(kv, s1.id))!;
          const et2 = (await getEventTypeLink(kv, s2.id))!;
          assert.ok(et1 && et2, "both sessions have event types");
          assert.equal((await getSyncState(kv, b1.id))?.status, "synced");

          // Cal.com: a walk-in books S1 directly; its webhook arrives.
          const walkIn = await client.bookSeat({
            eventTypeId: et1.eventTypeId,
            start: s1.startsAt,
            attendee: { name: "Walk In", email: "walk-in@example.com", timeZone: "UTC" },
          });
          const created = await deliver(f, await (emulator.webhooks.bookingCreated(walkIn.seatUid)));
          assert.equal((created.outcome as { action: string }).action, "created");
          // The echo of our own seat (Cal.com fires BOOKING_CREATED for it too) changes nothing.
          const b1Seat = [...emulator.state.bookings.values()].find((b) =>
            b.seats.some((a) => a.email === l1.user.email)
          )!;
          const seatOfL1 = b1Seat.seats.find((a) => a.email === l1.user.email)!.seatUid;
          const echo = await deliver(f, await emulator.webhooks.bookingCreated(seatOfL1));
          assert.notEqual((echo.outcome as { action: string }).action, "created");
          assert.equal((await listBookingsBySession(kv, s1.id, { status: "confirmed" })).length, 3);

          // Ours: L2 cancels; L1 moves to S2.
          assert.equal((await l2.api.post(`/api/v1/bookings/${b2.id}/cancel`, {})).status, 200);
          const moved = await l1.api.post<{ booking: Booking }>(`/api/v1/bookings/${b1.id}/reschedule`, {
            sessionId: s2.id,
          });
          assert.equal(moved.status, 200, JSON.stringify(moved.body));
          await drain(sync, kv);

          // Cal.com: L3's seat is cancelled there; the webhook arrives and matches by email.
          const b3Seat = [...emulator.state.bookings.values()].find((b) =>
            b.status === "accepted" && b.seats.some((a) => a.email === l3.user.email)
          )!;
          const seatOfL3 = b3Seat.seats.find((a) => a.email === l3.user.email)!.seatUid;
          await client.cancelSeat(b3Seat.uid, seatOfL3);
          await deliver(f, await emulator.webhooks.bookingCancelled(seatOfL3));
          const l3Booking = (await listBookingsBySession(kv, s2.id)).find((b) => b.id === b3.id)!;
          assert.equal(l3Booking.status, "cancelled");
          assert.equal(l3Booking.audit.at(-1)?.origin, "calcom");

          // Dropped webhooks: another walk-in books S2, and the first walk-in cancels, on Cal.com only.
          await client.bookSeat({
            eventTypeId: et2.eventTypeId,
            start: s2.startsAt,
            attendee: { name: "Quiet One", email: "quiet@example.com", timeZone: "UTC" },
          });
          await client.cancelSeat(walkIn.bookingUid, walkIn.seatUid);

          // An outage: L4's seat fails 4 times → failed, flagged; retried from the queue → synced.
          emulator.failNext(20, { status: 503 });
          const b4 = await book(l4, s1.id);
          await drain(sync, kv);
          const failed = (await getSyncState(kv, b4.id))!;
          assert.equal(failed.status, "failed");
          assert.equal(failed.requiresManualReview, true);
          assert.equal(failed.attempts, 4);
          while (await tryOnce(emulator)) { /* use up the faults still queued */ }
          const retry = await f.admin.post(`/api/v1/admin/calcom/review/${syncReviewId(b4.id)}/retry`);
          assert.equal(retry.status, 202, JSON.stringify(retry.body));
          await drain(sync, kv);
          assert.equal((await getSyncState(kv, b4.id))?.status, "synced");

          // L5 books while Cal.com refuses it for good (a 4xx): not retried, flagged.
          emulator.failNext(1, { status: 400 });
          const b5 = await book(l5, s2.id);
          await drain(sync, kv);
          const b5State = (await getSyncState(kv, b5.id))!;
          assert.deepEqual([b5State.status, b5State.attempts, b5State.requiresManualReview], ["failed", 1, true]);

          // Before reconciliation the sides disagree (the dropped webhooks, L5's refused seat).
          assert.notDeepEqual(await calcomSeats(emulator, et2.eventTypeId, s2), await ourSeats(kv, s2.id));

          // One reconciliation pass, then the runner sends what it queued.
          const deps = reconcileDepsFor(kv, config, f.services.engine, undefined);
          const report = await reconcile(deps);
          assert.ok(report.counts.import >= 1, JSON.stringify(report.counts));
          assert.ok(report.counts.apply_cancel >= 1, JSON.stringify(report.counts));
          assert.ok(report.counts.resend >= 1, JSON.stringify(report.counts));
          await drain(sync, kv);

          for (const [session, et] of [[s1, et1], [s2, et2]] as const) {
            const theirs = await calcomSeats(emulator, et.eventTypeId, session);
            const ours = await ourSeats(kv, session.id);
            assert.deepEqual(theirs, ours, `session ${session.id}: Cal.com and we hold the same seats`);
            assert.ok(ours.length <= session.capacity);
          }
          assert.deepEqual(await ourSeats(kv, s1.id), [l4.user.email].map((e) => e.toLowerCase()).sort());
          assert.deepEqual(
            await ourSeats(kv, s2.id),
            [l1.user.email, l5.user.email, "quiet@example.com"].map((e) => e.toLowerCase()).sort(),
          );
          // The refused seat's review item was resolved by the successful re-send.
          const open = (await listReviewItems(kv, "open")).filter((i) => i.kind === "sync_failed");
          assert.deepEqual(open, []);
        } finally {
          await sync.stop();
          await f.close();
        }
      }, { apiKey: API_KEY, webhookSecret: WEBHOOK_SECRET });
    } finally {
      Object.assign(console, original);
    }
    const text = logged.join("\n");
    assert.ok(logged.length > 0, "the outage was logged");
    assert.equal(text.includes(API_KEY), false, "the API key never reaches the logs");
    assert.equal(text.includes(WEBHOOK_SECRET), false, "the webhook secret never reaches the logs");
  },
});

/** Sends one cheap request so queued faults are used up; false once answers are normal again. */
async function tryOnce(emulator: CalcomEmulator): Promise<boolean> {
  const res = await fetch(`${emulator.url}/v2/me`, { headers: { authorization: `Bearer ${emulator.apiKey}` } });
  await res.body?.cancel();
  return res.status >= 500;
}
