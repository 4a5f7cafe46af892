/**
 * Two-way sync with LIVE webhooks: the real app served over HTTP, the outbound runner, and the
 * Cal.com emulator POSTing a signed webhook for every change made through its API, like Cal.com
 * does: once, never retried. With `before-response` the echo of a seat WE book reaches the app
 * before the runner has Cal.com's answer (so before it stored the seat uid); with
 * `after-response` it comes after. Either way no booking may be duplicated, Cal.com-side changes
 * arrive by webhook, and a lost webhook is caught by one reconciliation pass.
 */
import assert from "node:assert/strict";
import { mintToken } from "../../lib/auth/tokens.ts";
import { OutboundSync } from "../../lib/calcom/outbound.ts";
import { reconcile, reconcileDepsFor } from "../../lib/calcom/reconcile.ts";
import { getSeatLink, getSyncState, listReviewItems } from "../../lib/calcom/sync_store.ts";
import type { Booking, Session } from "../../lib/domain/mod.ts";
import { listBookingsBySession } from "../../lib/store/bookings.ts";
import { createSession, createUser, listCourses, listLocations } from "../../lib/store/mod.ts";
import { ApiClient } from "../api/client.ts";
import { startTestApp, type TestApp } from "../app_fixture.ts";
import type { CalcomEmulator, WebhookLogEntry, WebhookTiming } from "./emulator.ts";
import { withCalcom } from "./fixture.ts";
import { book, calcomSeats, drain, ourSeats } from "./sync_fixture.ts";

const API_KEY = "cal_live_live_webhooks_key_0123456789";
const WEBHOOK_SECRET = "whsec-live-webhooks-5544";

interface Learner {
  email: string;
  api: ApiClient;
}

let seq = 0;

async function learners(t: TestApp, n: number): Promise<Learner[]> {
  const out: Learner[] = [];
  for (let i = 0; i < n; i++) {
    const user = await createUser(t.services.kv, {
      email: `live-${++seq}-${crypto.randomUUID().slice(0, 8)}@example.com`,
      name: `Live Learner ${seq}`,
      roles: ["learner"],
    });
    const { token } = await mintToken(t.services.kv, user.id);
    out.push({ email: user.email.toLowerCase(), api: new ApiClient(t.app, token) });
  }
  return out;
}

/** Two sessions of one course without prerequisites (72 h and 96 h ahead), capacity 4. */
async function twoSessions(t: TestApp): Promise<[Session, Session]> {
  const kv = t.services.kv;
  const course = (await listCourses(kv)).find((c) => c.prerequisiteCourseIds.length === 0)!;
  const location = (await listLocations(kv))[0];
  const instructor = await createUser(kv, {
    email: `live-instructor-${crypto.randomUUID().slice(0, 8)}@example.com`,
    name: "Live Instructor",
    roles: ["instructor"],
  });
  const make = (hours: number) => {
    const start = Date.now() + hours * 3_600_000;
    return createSession(kv, {
      courseId: course.id,
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + 2 * 3_600_000).toISOString(),
      timeZone: location.timeZone,
      mode: "in_person",
      locationId: location.id,
      capacity: 4,
      instructorId: instructor.id,
      waitlistEnabled: true,
    });
  };
  return [await make(72), await make(96)];
}

/** What the app did with a delivered webhook (`outcome.action` of its 202 answer). */
function actionOf(e: WebhookLogEntry): string {
  if (e.dropped) return "dropped";
  if (e.status === undefined) return `error: ${e.error}`;
  const body = JSON.parse(e.responseBody ?? "{}") as { outcome?: { action?: string }; duplicate?: boolean };
  return body.outcome?.action ?? (body.duplicate ? "duplicate" : `http ${e.status}`);
}

/** The log entries from index `from` on, as `[trigger, action]`. */
function since(emulator: CalcomEmulator, from: number): [string, string][] {
  return emulator.webhookLog.slice(from).map((e) => [e.trigger, actionOf(e)]);
}

const ECHO_OF_CREATE = new Set(["already_booked", "linked"]);

async function scenario(timing: WebhookTiming): Promise<void> {
  const logged: string[] = [];
  await withCalcom(async ({ emulator, client }) => {
    const t = await startTestApp({
      serve: true,
      env: { CALCOM_API_URL: emulator.url, CALCOM_API_KEY: API_KEY, CALCOM_WEBHOOK_SECRET: WEBHOOK_SECRET },
    });
    emulator.setWebhookUrl(`${t.baseUrl}/api/webhooks/calcom/booking`);
    const { kv, config, engine } = t.services;
    const sync = new OutboundSync({
      kv,
      config,
      retryDelaysMs: [50, 100, 200],
      requestTimeoutMs: 2_000,
      log: (level, message) => logged.push(`${level} ${message}`),
    });
    /** Lets after-response deliveries land before looking at our side. */
    const settle = () => emulator.waitForWebhooks();
    try {
      const [s1, s2] = await twoSessions(t);
      const [l1, l2, l3] = await learners(t, 3);

      // ── Ours: three learners book; the runner creates the seats; Cal.com echoes each one.
      const b1 = await book(l1, s1.id);
      const b2 = await book(l2, s1.id);
      const b3 = await book(l3, s2.id);
      await drain(sync, kv);
      await settle();
      const echoes = since(emulator, 0);
      assert.equal(echoes.length, 3, JSON.stringify(echoes));
      for (const [trigger, action] of echoes) {
        assert.equal(trigger, "BOOKING_CREATED");
        assert.ok(ECHO_OF_CREATE.has(action), `${timing}: the echo of our own seat is a no-op, got ${action}`);
      }
      if (timing === "before-response") {
        // The echo came while the runner still waited for Cal.com's answer: no seat link yet.
        assert.deepEqual(echoes.map(([, a]) => a), ["already_booked", "already_booked", "already_booked"]);
      }
      const et1 = (await getSeatLink(kv, b1.id))!.eventTypeId;
      const et2 = (await getSeatLink(kv, b3.id))!.eventTypeId;
      for (const b of [b1, b2, b3]) {
        assert.equal((await getSyncState(kv, b.id))?.status, "synced");
        const link = (await getSeatLink(kv, b.id))!;
        const held = emulator.state.findSeat(link.seatUid!);
        assert.ok(held && held.booking.uid === link.calBookingUid, "our link names Cal.com's seat");
      }
      assert.equal(emulator.requestCount({ method: "POST", path: "/v2/bookings" }), 3, "one seat per booking");
      assert.deepEqual(await ourSeats(kv, s1.id), [l1.email, l2.email].sort());
      assert.deepEqual(await ourSeats(kv, s2.id), [l3.email]);
      assert.deepEqual(calcomSeats(emulator, et1, s1), await ourSeats(kv, s1.id));
      assert.deepEqual(calcomSeats(emulator, et2, s2), await ourSeats(kv, s2.id));

      // ── Cal.com: a walk-in books S1 directly; the webhook makes it our booking (origin calcom).
      let mark = emulator.webhookLog.length;
      const walkIn = await client.bookSeat({
        eventTypeId: et1,
        start: s1.startsAt,
        attendee: { name: "Walk In", email: "walk-in@example.com", timeZone: "UTC" },
      });
      await settle();
      assert.deepEqual(since(emulator, mark), [["BOOKING_CREATED", "created"]]);
      assert.ok((await ourSeats(kv, s1.id)).includes("walk-in@example.com"));
      const imported = (await listBookingsBySession(kv, s1.id, { status: "confirmed" })).filter((b) =>
        b.origin === "calcom"
      );
      assert.equal(imported.length, 1, "the walk-in is ours now, origin calcom");
      assert.equal((await getSeatLink(kv, imported[0].id))?.seatUid, walkIn.seatUid);
      await drain(sync, kv);
      assert.equal(emulator.requestCount({ method: "POST", path: "/v2/bookings" }), 4, "not sent back");

      // ── Cal.com: L3's seat is cancelled there; only L3 is cancelled here.
      mark = emulator.webhookLog.length;
      const seatOfL3 = (await getSeatLink(kv, b3.id))!;
      await client.cancelSeat(seatOfL3.calBookingUid, seatOfL3.seatUid!);
      await settle();
      assert.deepEqual(since(emulator, mark), [["BOOKING_CANCELLED", "cancelled"]]);
      const l3Booking = (await listBookingsBySession(kv, s2.id)).find((b) => b.id === b3.id)!;
      assert.equal(l3Booking.status, "cancelled");
      assert.equal(l3Booking.audit.at(-1)?.origin, "calcom");
      assert.equal((await ourSeats(kv, s1.id)).length, 3, "S1 untouched");
      const cancelsBefore = emulator.requestCount({ method: "POST", path: /\/cancel$/ });
      await drain(sync, kv);
      assert.equal(emulator.requestCount({ method: "POST", path: /\/cancel$/ }), cancelsBefore, "not sent back");

      // ── Ours: L2 cancels; the runner cancels the seat; Cal.com's echo changes nothing further.
      assert.equal((await l2.api.post(`/api/v1/bookings/${b2.id}/cancel`, {})).status, 200);
      const auditBefore = (await listBookingsBySession(kv, s1.id)).find((b) => b.id === b2.id)!.audit.length;
      mark = emulator.webhookLog.length;
      await drain(sync, kv);
      await settle();
      assert.deepEqual(since(emulator, mark), [["BOOKING_CANCELLED", "already_cancelled"]]);
      const l2Booking = (await listBookingsBySession(kv, s1.id)).find((b) => b.id === b2.id)!;
      assert.equal(l2Booking.audit.length, auditBefore, "the echo wrote nothing on the booking");
      assert.equal(l2Booking.audit.some((a) => a.origin === "calcom"), false);
      assert.equal((await getSyncState(kv, b2.id))?.status, "synced");
      assert.equal((await getSeatLink(kv, b2.id))?.status, "cancelled");

      // ── Ours: L1 moves from S1 to S2: a seat cancel on S1 and a new seat on S2, both echoed.
      const moved = await l1.api.post<{ booking: Booking }>(`/api/v1/bookings/${b1.id}/reschedule`, {
        sessionId: s2.id,
      });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      mark = emulator.webhookLog.length;
      await drain(sync, kv);
      await settle();
      const moveEchoes = since(emulator, mark).sort();
      assert.equal(moveEchoes.length, 2, JSON.stringify(moveEchoes));
      assert.deepEqual(moveEchoes[0], ["BOOKING_CANCELLED", "already_cancelled"]);
      assert.equal(moveEchoes[1][0], "BOOKING_CREATED");
      assert.ok(ECHO_OF_CREATE.has(moveEchoes[1][1]), moveEchoes[1][1]);
      assert.equal((await getSyncState(kv, moved.body.booking.id))?.status, "synced");

      // ── A lost webhook: a Cal.com-side booking on S2 is not here until reconciliation.
      mark = emulator.webhookLog.length;
      emulator.dropNextWebhooks(1);
      await client.bookSeat({
        eventTypeId: et2,
        start: s2.startsAt,
        attendee: { name: "Quiet One", email: "quiet@example.com", timeZone: "UTC" },
      });
      await settle();
      assert.deepEqual(since(emulator, mark), [["BOOKING_CREATED", "dropped"]]);
      assert.deepEqual(await ourSeats(kv, s2.id), [l1.email], "the dropped booking has not arrived");
      assert.notDeepEqual(calcomSeats(emulator, et2, s2), await ourSeats(kv, s2.id));

      const report = await reconcile(reconcileDepsFor(kv, config, engine));
      const { verified, ...changes } = report.counts;
      assert.deepEqual(changes, { import: 1, link: 0, apply_cancel: 0, resend: 0, conflict: 0 });
      assert.ok(verified >= 2, `both sides agree on the rest (${verified} verified)`);
      await drain(sync, kv);
      await settle();
      assert.equal(emulator.webhookLog.length, mark + 1, "reconciliation changed nothing on Cal.com");

      // ── Both sides hold the same seats; nothing duplicated; no open review item.
      for (const [session, et] of [[s1, et1], [s2, et2]] as const) {
        const theirs = calcomSeats(emulator, et, session);
        const ours = await ourSeats(kv, session.id);
        assert.deepEqual(theirs, ours, `session ${session.id}: Cal.com and we hold the same seats`);
        assert.equal(new Set(ours).size, ours.length, "no learner holds two confirmed bookings");
      }
      assert.deepEqual(await ourSeats(kv, s1.id), ["walk-in@example.com"]);
      assert.deepEqual(await ourSeats(kv, s2.id), [l1.email, "quiet@example.com"].sort());
      assert.deepEqual(await listReviewItems(kv, "open"), []);
      assert.deepEqual(emulator.violations, []);

      // Figures: fired / dropped / delivered / applied (changed our data) / echo no-ops.
      const log = emulator.webhookLog;
      const actions = log.map(actionOf);
      const figures = {
        timing,
        fired: log.length,
        dropped: log.filter((e) => e.dropped).length,
        delivered: log.filter((e) => e.status !== undefined).length,
        failed: log.filter((e) => e.error !== undefined || (e.status !== undefined && e.status >= 300)).length,
        applied: actions.filter((a) => a === "created" || a === "cancelled").length,
        echoNoOps: actions.filter((a) => a === "already_booked" || a === "linked" || a === "already_cancelled")
          .length,
        reconcileImports: report.counts.import,
      };
      assert.deepEqual(
        { ...figures, timing: undefined },
        {
          timing: undefined,
          fired: 9,
          dropped: 1,
          delivered: 8,
          failed: 0,
          applied: 2,
          echoNoOps: 6,
          reconcileImports: 1,
        },
      );
      const echoMix = Object.fromEntries(
        ["already_booked", "linked", "already_cancelled"].map((a) => [a, actions.filter((x) => x === a).length]),
      );
      console.log(`live webhook figures: ${JSON.stringify({ ...figures, echoMix })}`);
    } finally {
      await emulator.waitForWebhooks();
      await sync.stop();
      await t.close();
    }
  }, { apiKey: API_KEY, webhookSecret: WEBHOOK_SECRET, webhookTiming: timing });
  const text = logged.join("\n");
  assert.equal(text.includes(API_KEY), false, "the API key never reaches the logs");
  assert.equal(text.includes(WEBHOOK_SECRET), false, "the webhook secret never reaches the logs");
}

for (const timing of ["before-response", "after-response"] as const) {
  Deno.test({
    name:
      `[calcom] live webhooks (${timing}): echoes never duplicate, Cal.com changes arrive, a lost one is reconciled`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () => scenario(timing),
  });
}
