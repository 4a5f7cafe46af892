/**
 * Reconciliation against the emulator: every kind of disagreement between Cal.com and us, planned
 * in a dry run that changes nothing, then applied, then a second pass that finds nothing new.
 */
import assert from "node:assert/strict";
import type { BookingEngine } from "../../lib/booking/engine.ts";
import { listEvents } from "../../lib/booking/events.ts";
import type { Session } from "../../lib/booking/model.ts";
import { putCourse, putSession, putUser, self, setup, teardown } from "../booking/test_fixtures.ts";
import type { CalcomClient } from "../../lib/calcom/client.ts";
import { reconcile, type ReconcileDeps, reconcileDepsFor } from "../../lib/calcom/reconcile.ts";
import {
  getSeatLink,
  getSyncState,
  listReviewItems,
  listSyncStates,
  saveEventTypeLink,
  saveSeatLink,
} from "../../lib/calcom/sync_store.ts";
import { loadConfig } from "../../lib/config.ts";
import type { User } from "../../lib/domain/user.ts";
import { getBooking, listBookingsBySession } from "../../lib/store/bookings.ts";
import { withCalcom } from "./fixture.ts";

async function book(engine: BookingEngine, sessionId: string, learner: User): Promise<string> {
  const { hold } = await engine.placeHold(sessionId, learner.id, self(learner.id));
  const { booking } = await engine.confirmHold(hold.id, self(learner.id));
  return booking.id;
}

async function seat(client: CalcomClient, eventTypeId: number, session: Session, who: User) {
  return await client.bookSeat({
    eventTypeId,
    start: session.startsAt,
    attendee: { name: who.name, email: who.email, timeZone: "UTC" },
  });
}

/** A seated Cal.com event type for `session` (seats = its capacity), mapped to it for the default tenant. */
async function mirrorSession(kv: Deno.Kv, client: CalcomClient, session: Session, title: string, slug: string) {
  const et = await client.createSeatedEventType({
    title,
    slug,
    lengthInMinutes: 60,
    seats: { seatsPerTimeSlot: session.capacity, showAttendeeInfo: false, showAvailabilityCount: true },
  });
  await saveEventTypeLink(kv, {
    sessionId: session.id,
    tenant: "default",
    eventTypeId: et.id,
    slug: et.slug,
    capacity: session.capacity,
    startsAt: session.startsAt,
    status: "active",
    syncedAt: new Date().toISOString(),
  });
  return et;
}

Deno.test("[calcom] reconcile: a dry run plans every repair and changes nothing; the real pass applies them once", async () => {
  const { kv, engine, clock, course } = await setup();
  try {
    await withCalcom(async ({ emulator, client }) => {
      const config = loadConfig({
        CALCOM_API_URL: emulator.url,
        CALCOM_API_KEY: emulator.apiKey,
        CALCOM_WEBHOOK_SECRET: emulator.webhookSecret,
      });
      const session = await putSession(kv, course.id, { capacity: 6 });
      const et = await mirrorSession(kv, client, session, course.title, `s-${session.id.toLowerCase()}`);
      const [agreed, unsent, cancelledThere, cancelledHere, unlinked] = await Promise.all(
        Array.from({ length: 5 }, (_, i) => putUser(kv, { name: `Learner ${i}` })),
      );
      const stranger = { ...(await putUser(kv, { name: "Unused" })), email: "walk-in@example.com", name: "Walk In" };
      const link = async (bookingId: string, who: User, s: { bookingUid: string; seatUid: string }) =>
        await saveSeatLink(kv, {
          bookingId,
          sessionId: session.id,
          tenant: "default",
          eventTypeId: et.id,
          calBookingUid: s.bookingUid,
          seatUid: s.seatUid,
          email: who.email,
          status: "active",
          createdBy: "ours",
          linkedAt: clock.now().toISOString(),
        });

      // Both sides agree.
      const agreedId = await book(engine, session.id, agreed);
      await link(agreedId, agreed, await seat(client, et.id, session, agreed));
      // Ours, never sent.
      const unsentId = await book(engine, session.id, unsent);
      // Mirrored, then cancelled on Cal.com; the webhook never came.
      const ctId = await book(engine, session.id, cancelledThere);
      const ctSeat = await seat(client, et.id, session, cancelledThere);
      await link(ctId, cancelledThere, ctSeat);
      await client.cancelSeat(ctSeat.bookingUid, ctSeat.seatUid);
      // Mirrored, then cancelled here; our cancel never reached Cal.com.
      const chId = await book(engine, session.id, cancelledHere);
      await link(chId, cancelledHere, await seat(client, et.id, session, cancelledHere));
      await engine.cancelBooking(chId, self(cancelledHere.id));
      // Sent, but the answer (and so the link) was lost.
      const unlinkedId = await book(engine, session.id, unlinked);
      await seat(client, et.id, session, unlinked);
      // Booked directly on Cal.com; the webhook never came.
      const walkIn = await seat(client, et.id, session, stranger);

      const deps: ReconcileDeps = { ...reconcileDepsFor(kv, config, engine), now: () => clock.ms };
      const bookingsBefore = (await listBookingsBySession(kv, session.id)).length;
      const eventsBefore = (await listEvents(kv, { limit: 1000 })).events.length;
      const writesBefore = emulator.requests.filter((r) => r.method !== "GET").length;

      const plan = await reconcile(deps, { dryRun: true });
      const byAction = (r: typeof plan, action: string) =>
        r.steps.filter((s) => s.action === action).map((s) => s.bookingId ?? s.email).sort();
      assert.deepEqual(byAction(plan, "verified"), [agreedId]);
      assert.deepEqual(byAction(plan, "resend"), [unsentId, chId].sort());
      assert.deepEqual(byAction(plan, "apply_cancel"), [ctId]);
      assert.deepEqual(byAction(plan, "link"), [unlinkedId]);
      assert.deepEqual(byAction(plan, "import"), ["walk-in@example.com"]);
      assert.deepEqual(plan.counts, { import: 1, link: 1, apply_cancel: 1, resend: 2, conflict: 0, verified: 1 });
      // The dry run changed nothing, here or on Cal.com.
      assert.equal((await listBookingsBySession(kv, session.id)).length, bookingsBefore);
      assert.equal((await listEvents(kv, { limit: 1000 })).events.length, eventsBefore);
      assert.equal(emulator.requests.filter((r) => r.method !== "GET").length, writesBefore);
      assert.deepEqual(await listSyncStates(kv), []);
      assert.equal(await getSeatLink(kv, unlinkedId), null);

      const done = await reconcile(deps);
      assert.deepEqual(done.counts, plan.counts);
      // Imported with origin calcom, linked to Cal.com's seat.
      const imported = done.steps.find((s) => s.action === "import")!;
      assert.equal(imported.result, "created");
      const walkInBooking = (await getBooking(kv, imported.bookingId!))!;
      assert.equal(walkInBooking.status, "confirmed");
      assert.equal(walkInBooking.origin, "calcom");
      assert.equal((await getSeatLink(kv, walkInBooking.id))?.calBookingUid, walkIn.bookingUid);
      // The missed cancel is applied here with origin calcom.
      const ct = (await getBooking(kv, ctId))!;
      assert.equal(ct.status, "cancelled");
      assert.equal(ct.audit.at(-1)?.origin, "calcom");
      // The lost link is restored; the unsent and the cancelled-here bookings are queued for the runner.
      assert.equal((await getSeatLink(kv, unlinkedId))?.status, "active");
      assert.equal((await getSyncState(kv, unsentId))?.status, "pending");
      assert.equal((await getSyncState(kv, chId))?.status, "pending");
      assert.equal((await getBooking(kv, agreedId))?.status, "confirmed");
      // Nothing was written to Cal.com by reconciliation itself: sends are the runner's job.
      assert.equal(emulator.requests.filter((r) => r.method !== "GET").length, writesBefore);

      // A second pass finds only what still waits for the runner.
      const again = await reconcile(deps);
      assert.deepEqual(again.counts, { import: 0, link: 0, apply_cancel: 0, resend: 2, conflict: 0, verified: 3 });
      assert.deepEqual(await listReviewItems(kv, "open"), []);
    }, { now: () => clock.ms });
  } finally {
    await teardown(kv);
  }
});

Deno.test("[calcom] reconcile: a seat Cal.com moved to another time is flagged once; Cal.com down is reported, not thrown", async () => {
  const { kv, engine, clock, course } = await setup();
  try {
    await withCalcom(async ({ emulator, client }) => {
      const config = loadConfig({ CALCOM_API_URL: emulator.url, CALCOM_API_KEY: emulator.apiKey });
      const session = await putSession(kv, course.id, { capacity: 3 });
      const et = await mirrorSession(kv, client, session, course.title, "moved");
      const other = new Date(Date.parse(session.startsAt) + 3_600_000).toISOString();
      await client.bookSeat({
        eventTypeId: et.id,
        start: other,
        attendee: { name: "Early Bird", email: "early@example.com", timeZone: "UTC" },
      });
      const deps: ReconcileDeps = { ...reconcileDepsFor(kv, config, engine), now: () => clock.ms };
      const first = await reconcile(deps);
      assert.equal(first.counts.conflict, 1);
      await reconcile(deps);
      const items = await listReviewItems(kv, "open");
      assert.equal(items.length, 1, "a later pass does not flag the same seat twice");
      assert.equal(items[0].kind, "calcom_conflict");
      assert.match(items[0].message, /not at the session's start/);
      assert.equal((await listBookingsBySession(kv, session.id)).length, 0, "nothing was imported");

      await emulator.down();
      const down = await reconcile(deps);
      assert.equal(down.tenants[0].slug, "default");
      assert.ok(down.tenants[0].error, "the unreachable tenant is reported");
      await emulator.up();
    }, { now: () => clock.ms, timeoutMs: 1_000 });
  } finally {
    await teardown(kv);
  }
});

Deno.test("[calcom] reconcile task: --dry-run prints the plan and changes nothing; without it, it imports", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reconcile-task-" });
  const kvPath = `${dir}/app.kv`;
  try {
    await withCalcom(async ({ emulator, client }) => {
      // A session in the real future (the task's window is around now), mirrored to an event type
      // on which a walk-in booked directly.
      const setupKv = await Deno.openKv(kvPath);
      let sessionId: string;
      try {
        const course = await putCourse(setupKv);
        const session = await putSession(setupKv, course.id, {
          capacity: 3,
          startsAt: new Date(Date.now() + 5 * 86_400_000).toISOString(),
          endsAt: new Date(Date.now() + 5 * 86_400_000 + 3_600_000).toISOString(),
        });
        sessionId = session.id;
        const et = await mirrorSession(setupKv, client, session, course.title, "task-session");
        await client.bookSeat({
          eventTypeId: et.id,
          start: session.startsAt,
          attendee: { name: "Task Walk In", email: "task-walk-in@example.com", timeZone: "UTC" },
        });
      } finally {
        setupKv.close();
      }
      const run = async (...args: string[]) => {
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "scripts/calcom_reconcile.ts", ...args],
          env: { DENO_KV_PATH: kvPath, CALCOM_API_URL: emulator.url, CALCOM_API_KEY: emulator.apiKey },
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
        assert.equal(text.includes(emulator.apiKey), false, "the task never prints the key");
        return { code: out.code, text };
      };
      const countBookings = async () => {
        const kv = await Deno.openKv(kvPath);
        try {
          return (await listBookingsBySession(kv, sessionId)).length;
        } finally {
          kv.close();
        }
      };

      const dry = await run("--dry-run");
      assert.equal(dry.code, 0, dry.text);
      assert.match(dry.text, /Plan \(dry run, nothing changed\)/);
      assert.match(dry.text, /would import .*task-walk-in@example\.com/);
      assert.equal(await countBookings(), 0, "the dry run booked nothing");

      const real = await run();
      assert.equal(real.code, 0, real.text);
      assert.match(real.text, /did import .*task-walk-in@example\.com.*→ created/);
      assert.equal(await countBookings(), 1);

      const bad = await run("--bogus");
      assert.equal(bad.code, 2);
      assert.match(bad.text, /Usage: deno task calcom:reconcile/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
