/**
 * The outbound sync against the Cal.com emulator: real HTTP to an in-process server whose every
 * exchange is checked against Cal.com's OpenAPI document (when ../shared/calcom is present;
 * `withCalcom` asserts no violation). Sessions and bookings go through the real BookingEngine.
 */
import assert from "node:assert/strict";
import { BookingEngine } from "../../lib/booking/engine.ts";
import type { Actor } from "../../lib/booking/events.ts";
import { admin, putCourse, putLocation, putUser, self, teardown } from "../booking/test_fixtures.ts";
import { CALCOM_API_VERSIONS } from "../../lib/calcom/client.ts";
import { NOTE_ERASED } from "../../lib/calcom/outbound_context.ts";
import { eraseUser } from "../../lib/privacy/erase.ts";
import {
  NOTE_FROM_CALCOM,
  NOTE_NO_TENANT,
  NOTE_SESSION_OVER,
  OutboundSync,
  type OutboundSyncDeps,
} from "../../lib/calcom/outbound.ts";
import {
  getEventTypeLink,
  getReviewItem,
  getSeatLink,
  getSyncState,
  requeueSync,
  syncReviewId,
  type SyncState,
} from "../../lib/calcom/sync_store.ts";
import { getSessionJob, requeueSessionSync, sessionReviewId } from "../../lib/calcom/outbound_store.ts";
import { type Config, loadConfig } from "../../lib/config.ts";
import type { Course, Session, User } from "../../lib/domain/mod.ts";
import type { CalcomEmulator } from "./emulator.ts";
import { withCalcom } from "./fixture.ts";

const DAY = 86_400_000;

interface Ctx {
  emulator: CalcomEmulator;
  kv: Deno.Kv;
  engine: BookingEngine;
  config: Config;
  sync: OutboundSync;
  course: Course;
  instructor: User;
  logs: string[];
}

function calcomConfig(emulator: CalcomEmulator | null): Config {
  return loadConfig({
    DENO_KV_PATH: ":memory:",
    ...(emulator
      ? { CALCOM_API_URL: emulator.url, CALCOM_API_KEY: emulator.apiKey, CALCOM_WEBHOOK_SECRET: emulator.webhookSecret }
      : {}),
  });
}

async function withWorld(
  emulator: CalcomEmulator | null,
  fn: (ctx: Ctx) => Promise<void>,
  deps: Partial<OutboundSyncDeps> = {},
): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  const config = calcomConfig(emulator);
  const engine = new BookingEngine(kv, { holdMinutes: 15 });
  const course = await putCourse(kv);
  const instructor = await putUser(kv, { roles: ["instructor"], name: "Ines Instructor" });
  const logs: string[] = [];
  const sync = new OutboundSync({
    kv,
    config,
    retryDelaysMs: [100, 300, 900],
    pollMs: 50,
    requestTimeoutMs: 2_000,
    log: (level, message) => logs.push(`${level}: ${message}`),
    ...deps,
  });
  sync.start();
  try {
    await fn({ emulator: emulator!, kv, engine, config, sync, course, instructor, logs });
  } finally {
    await sync.stop();
    await teardown(kv);
  }
}

/** Runs `fn` with an emulator (contract-checked), a fresh store, an engine and a running sync. */
function scenario(fn: (ctx: Ctx) => Promise<void>, deps: Partial<OutboundSyncDeps> = {}, apiKey?: string) {
  return () => withCalcom(({ emulator }) => withWorld(emulator, fn, deps), apiKey ? { apiKey } : {});
}

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 8_000): Promise<T> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const v = await probe();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function waitState(ctx: Ctx, bookingId: string, status: SyncState["status"], ms?: number): Promise<SyncState> {
  return waitFor(
    `booking ${bookingId} to be ${status}`,
    async () => {
      const s = await getSyncState(ctx.kv, bookingId);
      return s?.status === status ? s : null;
    },
    ms,
  );
}

async function schedule(
  ctx: Ctx,
  over: { capacity?: number; inDays?: number; inPerson?: boolean; wait?: boolean } = {},
): Promise<Session> {
  const start = Math.ceil((Date.now() + (over.inDays ?? 7) * DAY) / 3_600_000) * 3_600_000;
  const location = over.inPerson ? await putLocation(ctx.kv) : null;
  const session = await ctx.engine.scheduleSession({
    courseId: ctx.course.id,
    startsAt: new Date(start).toISOString(),
    endsAt: new Date(start + 90 * 60_000).toISOString(),
    timeZone: "America/New_York",
    mode: location ? "in_person" : "online",
    locationId: location?.id ?? null,
    joinUrl: location ? null : "https://meet.example.com/safety",
    capacity: over.capacity ?? 5,
    instructorId: ctx.instructor.id,
  }, admin());
  if (over.wait !== false) await waitFor(`event type of ${session.id}`, () => getEventTypeLink(ctx.kv, session.id));
  return session;
}

async function book(ctx: Ctx, sessionId: string, origin: Actor["origin"] = "web") {
  const learner = await putUser(ctx.kv, { name: `Learner ${crypto.randomUUID().slice(0, 4)}` });
  const actor = self(learner.id, origin);
  const { hold } = await ctx.engine.placeHold(sessionId, learner.id, actor);
  const { booking } = await ctx.engine.confirmHold(hold.id, actor);
  return { booking, learner, actor };
}

const count = (e: CalcomEmulator, method: string, path: string | RegExp) => e.requestCount({ method, path });

Deno.test(
  "[calcom] outbound a confirmed booking becomes a Cal.com seat with both uids, Bearer key and cal-api-version",
  scenario(async (ctx) => {
    const session = await schedule(ctx, { capacity: 5, inPerson: true });
    const { booking, learner } = await book(ctx, session.id);
    const state = await waitState(ctx, booking.id, "synced");
    const link = (await getSeatLink(ctx.kv, booking.id))!;
    assert.equal(link.status, "active");
    assert.equal(link.createdBy, "ours");
    assert.ok(link.calBookingUid && link.seatUid);
    assert.equal(link.email, learner.email);
    const calBooking = ctx.emulator.state.booking(link.calBookingUid);
    assert.deepEqual(calBooking.seats.map((s) => [s.seatUid, s.email]), [[link.seatUid, learner.email]]);
    assert.equal(new Date(calBooking.start).toISOString(), session.startsAt);

    const et = ctx.emulator.requests.find((r) => r.method === "POST" && r.path === "/v2/event-types")!;
    assert.equal(et.headers["cal-api-version"], CALCOM_API_VERSIONS.eventTypes);
    assert.equal(et.headers["authorization"], `Bearer ${ctx.emulator.apiKey}`);
    const body = et.body as {
      seats: { seatsPerTimeSlot: number };
      locations: { type: string }[];
      lengthInMinutes: number;
    };
    assert.equal(body.seats.seatsPerTimeSlot, 5);
    assert.equal(body.lengthInMinutes, 90);
    assert.deepEqual(body.locations.map((l) => l.type), ["address"]);
    const post = ctx.emulator.requests.find((r) => r.method === "POST" && r.path === "/v2/bookings")!;
    assert.equal(post.headers["cal-api-version"], CALCOM_API_VERSIONS.bookings);
    assert.equal(post.headers["authorization"], `Bearer ${ctx.emulator.apiKey}`);
    assert.deepEqual((post.body as { metadata: unknown }).metadata, { bookingId: booking.id, sessionId: session.id });

    assert.equal(state.attempts, 1);
    assert.equal(state.origin, "web");
    assert.equal(state.tenant, "default");
    assert.ok(state.verifiedAt && state.syncedAt);
    assert.ok(state.latencyMs !== null && state.latencyMs >= 0, `${state.latencyMs}`);
    assert.equal(state.requiresManualReview, false);
  }),
);

Deno.test(
  "[calcom] outbound seats: a second booking joins the same Cal.com booking uid; a cancel frees only its seat",
  scenario(async (ctx) => {
    const session = await schedule(ctx);
    const a = await book(ctx, session.id);
    const b = await book(ctx, session.id);
    await waitState(ctx, a.booking.id, "synced");
    await waitState(ctx, b.booking.id, "synced");
    const la = (await getSeatLink(ctx.kv, a.booking.id))!;
    const lb = (await getSeatLink(ctx.kv, b.booking.id))!;
    assert.equal(la.calBookingUid, lb.calBookingUid);
    assert.notEqual(la.seatUid, lb.seatUid);
    assert.equal(ctx.emulator.state.booking(la.calBookingUid).seats.length, 2);

    await ctx.engine.cancelBooking(a.booking.id, a.actor);
    const state = await waitFor("cancel synced", async () => {
      const s = await getSyncState(ctx.kv, a.booking.id);
      return s?.status === "synced" && s.note === "seat cancelled on Cal.com" ? s : null;
    });
    assert.equal(state.attempts, 1);
    const cancel = ctx.emulator.requests.find((r) => r.method === "POST" && r.path.endsWith("/cancel"))!;
    assert.equal(cancel.path, `/v2/bookings/${la.calBookingUid}/cancel`);
    assert.deepEqual(cancel.body, { seatUid: la.seatUid });
    const remaining = ctx.emulator.state.booking(la.calBookingUid);
    assert.equal(remaining.status, "accepted");
    assert.deepEqual(remaining.seats.map((s) => s.seatUid), [lb.seatUid]);
    assert.equal((await getSeatLink(ctx.kv, a.booking.id))!.status, "cancelled");
    assert.equal((await getSeatLink(ctx.kv, b.booking.id))!.status, "active");
  }),
);

Deno.test(
  "[calcom] outbound reschedule between sessions: the old seat is cancelled, a new seat is booked on the target",
  scenario(async (ctx) => {
    const from = await schedule(ctx, { inDays: 7 });
    const to = await schedule(ctx, { inDays: 8 });
    const { booking, actor } = await book(ctx, from.id);
    await waitState(ctx, booking.id, "synced");
    const old = (await getSeatLink(ctx.kv, booking.id))!;
    const { booking: moved } = await ctx.engine.rescheduleBooking(booking.id, to.id, actor);
    await waitState(ctx, moved.id, "synced");
    await waitFor("old seat cancelled", async () => (await getSeatLink(ctx.kv, booking.id))?.status === "cancelled");
    const oldState = (await getSyncState(ctx.kv, booking.id))!;
    assert.equal(oldState.status, "synced");
    const fresh = (await getSeatLink(ctx.kv, moved.id))!;
    const toEt = (await getEventTypeLink(ctx.kv, to.id))!;
    assert.equal(fresh.eventTypeId, toEt.eventTypeId);
    assert.notEqual(fresh.calBookingUid, old.calBookingUid);
    assert.deepEqual(ctx.emulator.state.booking(old.calBookingUid).seats, []);
    assert.equal(ctx.emulator.state.booking(fresh.calBookingUid).seats[0].seatUid, fresh.seatUid);
    assert.equal(count(ctx.emulator, "POST", /\/reschedule$/), 0, "a move between sessions is cancel + new seat");
    const cancel = ctx.emulator.requests.find((r) => r.path.endsWith("/cancel"))!;
    assert.deepEqual(cancel.body, { seatUid: old.seatUid });
  }),
);

Deno.test(
  "[calcom] outbound session update: capacity PATCHes seats; a new start reschedules every seat by its seat uid",
  scenario(async (ctx) => {
    const session = await schedule(ctx, { capacity: 4 });
    const a = await book(ctx, session.id);
    const b = await book(ctx, session.id);
    await waitState(ctx, a.booking.id, "synced");
    await waitState(ctx, b.booking.id, "synced");
    const et = (await getEventTypeLink(ctx.kv, session.id))!;

    await ctx.engine.updateSession(session.id, { capacity: 9 }, admin());
    await waitFor("capacity on Cal.com", async () => (await getEventTypeLink(ctx.kv, session.id))?.capacity === 9);
    const patch = ctx.emulator.requests.find((r) => r.method === "PATCH")!;
    assert.equal(patch.path, `/v2/event-types/${et.eventTypeId}`);
    assert.equal(patch.headers["cal-api-version"], CALCOM_API_VERSIONS.eventTypes);
    assert.equal((patch.body as { seats: { seatsPerTimeSlot: number } }).seats.seatsPerTimeSlot, 9);
    assert.equal(ctx.emulator.state.eventType(et.eventTypeId).seats?.seatsPerTimeSlot, 9);
    assert.equal(count(ctx.emulator, "POST", /\/reschedule$/), 0, "no seat moves for a capacity change");

    const before = [(await getSeatLink(ctx.kv, a.booking.id))!, (await getSeatLink(ctx.kv, b.booking.id))!];
    const newStart = new Date(Date.parse(session.startsAt) + 2 * 3_600_000).toISOString();
    const newEnd = new Date(Date.parse(session.endsAt) + 2 * 3_600_000).toISOString();
    await ctx.engine.updateSession(session.id, { startsAt: newStart, endsAt: newEnd }, admin());
    await waitFor("start on Cal.com", async () => (await getEventTypeLink(ctx.kv, session.id))?.startsAt === newStart);
    const moves = ctx.emulator.requests.filter((r) => r.path.endsWith("/reschedule"));
    assert.equal(moves.length, 2);
    assert.deepEqual(
      moves.map((m) => (m.body as { seatUid: string }).seatUid).sort(),
      before.map((l) => l.seatUid).sort(),
    );
    for (const m of moves) assert.equal(new Date((m.body as { start: string }).start).toISOString(), newStart);
    const after = [(await getSeatLink(ctx.kv, a.booking.id))!, (await getSeatLink(ctx.kv, b.booking.id))!];
    assert.equal(after[0].calBookingUid, after[1].calBookingUid);
    const moved = ctx.emulator.state.booking(after[0].calBookingUid);
    assert.equal(new Date(moved.start).toISOString(), newStart);
    assert.equal(moved.seats.length, 2);
    assert.deepEqual(ctx.emulator.state.booking(before[0].calBookingUid).seats, []);
  }),
);

Deno.test(
  "[calcom] outbound session cancelled: its seats are cancelled first, then its event type is deleted",
  scenario(async (ctx) => {
    const session = await schedule(ctx);
    const a = await book(ctx, session.id);
    const b = await book(ctx, session.id);
    await waitState(ctx, a.booking.id, "synced");
    await waitState(ctx, b.booking.id, "synced");
    const et = (await getEventTypeLink(ctx.kv, session.id))!;
    await ctx.engine.cancelSession(session.id, admin());
    await waitFor("event type deleted", async () => (await getEventTypeLink(ctx.kv, session.id))?.status === "deleted");
    const paths = ctx.emulator.requests.map((r) => `${r.method} ${r.path}`);
    const deleteAt = paths.indexOf(`DELETE /v2/event-types/${et.eventTypeId}`);
    const cancels = paths.flatMap((p, i) => p.endsWith("/cancel") ? [i] : []);
    assert.equal(cancels.length, 2, paths.join("\n"));
    assert.ok(cancels.every((i) => i < deleteAt), paths.join("\n"));
    assert.equal(ctx.emulator.state.eventTypes.has(et.eventTypeId), false);
    for (const id of [a.booking.id, b.booking.id]) {
      assert.equal((await getSeatLink(ctx.kv, id))!.status, "cancelled");
      assert.equal((await waitState(ctx, id, "synced")).requiresManualReview, false);
    }
  }),
);

Deno.test(
  "[calcom] outbound a change whose origin is calcom is never sent back (0 requests)",
  scenario(async (ctx) => {
    const session = await schedule(ctx);
    const before = ctx.emulator.requests.length;
    const { booking, actor } = await book(ctx, session.id, "calcom");
    const state = await waitState(ctx, booking.id, "skipped");
    assert.equal(state.origin, "calcom");
    assert.equal(state.note, NOTE_FROM_CALCOM);
    await ctx.engine.cancelBooking(booking.id, actor);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(ctx.emulator.requests.length, before, "no request for a Cal.com-origin change");
    assert.equal((await getSyncState(ctx.kv, booking.id))!.status, "skipped");
    assert.equal(await getSeatLink(ctx.kv, booking.id), null);
  }),
);

Deno.test("[calcom] outbound no tenant for the session: the booking is skipped, nothing sent", async () => {
  await withWorld(null, async (ctx) => {
    const start = Date.now() + 7 * DAY;
    const session = await ctx.engine.scheduleSession({
      courseId: ctx.course.id,
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + 3_600_000).toISOString(),
      timeZone: "America/New_York",
      mode: "online",
      joinUrl: "https://meet.example.com/x",
      capacity: 3,
      instructorId: ctx.instructor.id,
    }, admin());
    const { booking } = await book(ctx, session.id);
    const state = await waitState(ctx, booking.id, "skipped");
    assert.equal(state.note, NOTE_NO_TENANT);
    assert.equal(state.tenant, null);
    assert.equal(await getEventTypeLink(ctx.kv, session.id), null);
  });
});

Deno.test(
  "[calcom] outbound 500 twice then ok: synced after 3 attempts, waiting at least the first two delays",
  scenario(async (ctx) => {
    const session = await schedule(ctx);
    ctx.emulator.failNext(2, { status: 500 });
    const t0 = Date.now();
    const { booking } = await book(ctx, session.id);
    const state = await waitState(ctx, booking.id, "synced");
    const elapsed = Date.now() - t0;
    assert.equal(state.attempts, 3);
    assert.ok(elapsed >= 100 + 300, `took ${elapsed} ms`);
    assert.equal(state.errorCode, null);
    assert.equal(state.requiresManualReview, false);
    assert.equal(ctx.emulator.state.booking((await getSeatLink(ctx.kv, booking.id))!.calBookingUid).seats.length, 1);
    assert.equal(ctx.logs.filter((l) => l.startsWith("warn:")).length, 2, ctx.logs.join("\n"));
  }),
);

Deno.test(
  "[calcom] outbound 429 with Retry-After: 2 waits at least 2 s before the next attempt",
  scenario(async (ctx) => {
    const session = await schedule(ctx);
    ctx.emulator.failNext(1, { status: 429, retryAfter: "2" });
    const t0 = Date.now();
    const { booking } = await book(ctx, session.id);
    const pending = await waitFor("the 429 recorded", async () => {
      const s = await getSyncState(ctx.kv, booking.id);
      return s?.errorCode === "ThrottlerException" ? s : null;
    });
    const waitMs = Date.parse(pending.nextAttemptAt!) - Date.parse(pending.lastAttemptAt!);
    assert.ok(waitMs >= 2_000, `scheduled after ${waitMs} ms`);
    const state = await waitState(ctx, booking.id, "synced");
    assert.ok(Date.now() - t0 >= 2_000, `synced after ${Date.now() - t0} ms`);
    assert.equal(state.attempts, 2);
  }),
);

Deno.test(
  "[calcom] outbound 400 is not retried: failed and flagged after 1 request",
  scenario(async (ctx) => {
    const session = await schedule(ctx);
    ctx.emulator.failNext(1, { status: 400, message: "attendee email rejected" });
    const { booking } = await book(ctx, session.id);
    const state = await waitState(ctx, booking.id, "failed");
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(count(ctx.emulator, "POST", "/v2/bookings"), 1);
    assert.equal(state.attempts, 1);
    assert.equal(state.errorCode, "BadRequestException");
    assert.match(state.errorMessage!, /attendee email rejected/);
    assert.equal(state.requiresManualReview, true);
    assert.ok(state.flaggedAt);
    const item = (await getReviewItem(ctx.kv, syncReviewId(booking.id)))!;
    assert.equal(item.kind, "sync_failed");
    assert.equal(item.status, "open");
    assert.equal(item.bookingId, booking.id);
    assert.equal(item.code, "BadRequestException");
  }),
);

Deno.test(
  "[calcom] outbound 5xx four times: failed and flagged; requeued from the review queue it syncs and the item resolves",
  scenario(async (ctx) => {
    const session = await schedule(ctx);
    ctx.emulator.failNext(4, { status: 503 });
    const t0 = Date.now();
    const { booking } = await book(ctx, session.id);
    const failed = await waitState(ctx, booking.id, "failed");
    assert.ok(Date.now() - t0 >= 100 + 300 + 900, `failed after ${Date.now() - t0} ms`);
    assert.equal(failed.attempts, 4);
    assert.equal(failed.errorCode, "ServiceUnavailableException");
    assert.equal(failed.requiresManualReview, true);
    const item = (await getReviewItem(ctx.kv, syncReviewId(booking.id)))!;
    assert.equal(item.status, "open");
    assert.match(item.message, /retries exhausted after 4 attempts/);
    assert.equal(await getSeatLink(ctx.kv, booking.id), null);

    await requeueSync(ctx.kv, booking.id);
    ctx.sync.wake();
    const synced = await waitState(ctx, booking.id, "synced");
    assert.equal(synced.requiresManualReview, false);
    assert.equal(synced.flaggedAt, null);
    const resolved = (await getReviewItem(ctx.kv, syncReviewId(booking.id)))!;
    assert.equal(resolved.status, "resolved");
    assert.equal(resolved.comment, "synced on retry");
    assert.equal((await getSeatLink(ctx.kv, booking.id))!.status, "active");
  }),
);

Deno.test(
  "[calcom] outbound Cal.com down then up: the booking is retried and catches up",
  scenario(async (ctx) => {
    const session = await schedule(ctx);
    await ctx.emulator.down();
    const { booking } = await book(ctx, session.id);
    const pending = await waitFor("a network failure recorded", async () => {
      const s = await getSyncState(ctx.kv, booking.id);
      return s && s.attempts >= 1 ? s : null;
    });
    assert.equal(pending.status, "pending");
    assert.equal(pending.errorCode, "NETWORK_ERROR");
    await ctx.emulator.up();
    const state = await waitState(ctx, booking.id, "synced");
    assert.ok(state.attempts >= 2);
    assert.equal((await getSeatLink(ctx.kv, booking.id))!.status, "active");
  }, { retryDelaysMs: [300, 900, 2_700] }),
);

Deno.test(
  "[calcom] outbound logs never contain the API key or the webhook secret",
  async () => {
    const apiKey = "cal_live_outbound_secret_key_0123456789";
    const captured: string[] = [];
    const original = { log: console.log, error: console.error, warn: console.warn };
    const grab = (...args: unknown[]) => void captured.push(args.map(String).join(" "));
    console.log = grab;
    console.error = grab;
    console.warn = grab;
    try {
      await withCalcom(({ emulator }) =>
        withWorld(emulator, async (ctx) => {
          const session = await schedule(ctx);
          ctx.emulator.failNext(1, { status: 500 });
          const a = await book(ctx, session.id);
          await waitState(ctx, a.booking.id, "synced");
          ctx.emulator.failNext(1, { status: 401 });
          const b = await book(ctx, session.id);
          await waitState(ctx, b.booking.id, "failed");
          for (const id of [a.booking.id, b.booking.id]) {
            const text = JSON.stringify([
              await getSyncState(ctx.kv, id),
              await getReviewItem(ctx.kv, syncReviewId(id)),
            ]);
            assert.ok(!text.includes(apiKey) && !text.includes(emulator.webhookSecret));
          }
        }, { log: undefined }), { apiKey });
    } finally {
      Object.assign(console, original);
    }
    const all = captured.join("\n");
    assert.ok(captured.some((l) => l.includes("attempt 1 failed")), `failures are logged:\n${all}`);
    assert.ok(!all.includes(apiKey), "the API key must never be logged");
    assert.ok(!/Bearer\s+cal_/i.test(all), "no Authorization header in logs");
  },
);

Deno.test(
  "[calcom] outbound a session job that fails is flagged (sessionId set, bookingId null) and resolves on retry",
  scenario(async (ctx) => {
    ctx.emulator.failNext(1, { status: 422, message: "slug taken" });
    const session = await schedule(ctx, { wait: false });
    const item = await waitFor("session review item", () => getReviewItem(ctx.kv, sessionReviewId(session.id)));
    assert.equal(item.kind, "sync_failed");
    assert.equal(item.sessionId, session.id);
    assert.equal(item.bookingId, null);
    assert.equal(item.status, "open");
    const job = (await getSessionJob(ctx.kv, session.id))!;
    assert.equal(job.status, "failed");
    assert.equal(job.attempts, 1);
    assert.equal(job.requiresManualReview, true);
    assert.equal(count(ctx.emulator, "POST", "/v2/event-types"), 1);
    assert.equal(ctx.sync.status().flagged, 1);

    await requeueSessionSync(ctx.kv, session.id);
    ctx.sync.wake();
    await waitFor("event type created", () => getEventTypeLink(ctx.kv, session.id));
    await waitFor("job done", async () => (await getSessionJob(ctx.kv, session.id)) === null);
    const resolved = (await getReviewItem(ctx.kv, sessionReviewId(session.id)))!;
    assert.equal(resolved.status, "resolved");
    assert.equal(resolved.comment, "synced on retry");
    assert.equal(ctx.sync.status().state, "running");
  }),
);

Deno.test(
  "[calcom] outbound a session already over is not replayed to Cal.com (skipped, 0 requests)",
  scenario(async (ctx) => {
    const session = await schedule(ctx, { wait: false });
    const { booking } = await book(ctx, session.id);
    const state = await waitState(ctx, booking.id, "skipped");
    assert.equal(state.note, NOTE_SESSION_OVER);
    assert.equal(ctx.emulator.requests.length, 0);
    assert.equal(await getEventTypeLink(ctx.kv, session.id), null);
  }, { now: () => Date.now() + 30 * DAY }),
);

Deno.test(
  "[privacy] erasure cancels the person's Cal.com seat by uid and their name and email are never sent again",
  scenario(async (ctx) => {
    const session = await schedule(ctx);
    const { booking, learner } = await book(ctx, session.id);
    await waitState(ctx, booking.id, "synced");
    const link = (await getSeatLink(ctx.kv, booking.id))!;
    assert.equal(ctx.emulator.state.booking(link.calBookingUid).seats.length, 1);
    const sentBefore = ctx.emulator.requests.length;

    const erased = await eraseUser(ctx.kv, ctx.engine, learner.id, { actor: admin(), reason: "GDPR request" });
    assert.equal(erased.outcome, "erased");
    await waitFor("the seat cancel", async () => (await getSeatLink(ctx.kv, booking.id))?.status === "cancelled");
    assert.equal(ctx.emulator.state.booking(link.calBookingUid).seats.length, 0, "her seat is gone on Cal.com");

    // A booking made for the erased account later (by an admin) is not mirrored with any attendee data.
    const { hold } = await ctx.engine.placeHold(session.id, learner.id, admin());
    const { booking: again } = await ctx.engine.confirmHold(hold.id, admin());
    const state = await waitState(ctx, again.id, "skipped");
    assert.equal(state.note, NOTE_ERASED);

    const after = JSON.stringify(ctx.emulator.requests.slice(sentBefore));
    assert.equal(after.includes(learner.email), false, "no email sent after the erasure");
    assert.equal(after.includes(learner.name), false, "no name sent after the erasure");
    assert.equal(after.includes(`erased-${learner.id.toLowerCase()}`), false, "nor the pseudonym");
    assert.equal(ctx.logs.join("\n").includes(learner.email), false);
  }),
);
