import assert from "node:assert/strict";
import { getAttendance } from "../booking/attendance.ts";
import type { BookingEngine } from "../booking/engine.ts";
import { type CommittedEvent, listEvents } from "../booking/events.ts";
import type { Booking, Session } from "../booking/model.ts";
import { admin, type Clock, HOUR, putSession, self, setup, teardown } from "../../tests/booking/test_fixtures.ts";
import { newId } from "../domain/ids.ts";
import { topicFor } from "../relay/xapi.ts";
import { keys } from "../store/keys.ts";
import { createUser, getUserByEmail } from "../store/users.ts";
import { applyDelivery, type ApplyOutcome, type InboundDeps } from "./inbound.ts";
import { signCalcomWebhook } from "./signature.ts";
import {
  findBookingBySeat,
  getSeatLink,
  getSyncMeta,
  getSyncState,
  listReviewItems,
  saveEventTypeLink,
  saveSeatLink,
} from "./sync_store.ts";
import type { Tenant } from "./tenants.ts";
import { type Delivery, intakeWebhook, type KnownTrigger, listDeliveries } from "./webhook_intake.ts";

const TENANT = "acme";
const ET = 42;

interface World {
  kv: Deno.Kv;
  engine: BookingEngine;
  clock: Clock;
  deps: InboundDeps;
  courseId: string;
  session: Session;
}

async function withWorld(fn: (w: World) => Promise<void>, sessionOver: Partial<Session> = {}): Promise<void> {
  const { kv, engine, clock, course } = await setup();
  try {
    const session = await putSession(kv, course.id, { capacity: 5, ...sessionOver });
    await mapEventType(kv, session, ET);
    await fn({ kv, engine, clock, deps: { kv, engine, now: clock.now }, courseId: course.id, session });
  } finally {
    await teardown(kv);
  }
}

async function mapEventType(kv: Deno.Kv, session: Session, eventTypeId: number, tenant = TENANT): Promise<void> {
  await saveEventTypeLink(kv, {
    sessionId: session.id,
    tenant,
    eventTypeId,
    slug: `s-${eventTypeId}`,
    capacity: session.capacity,
    startsAt: session.startsAt,
    status: "active",
    syncedAt: session.createdAt,
  });
}

function delivery(trigger: KnownTrigger, payload: Record<string, unknown>): Delivery {
  return {
    id: newId(),
    trigger,
    createdAt: new Date().toISOString(),
    payload,
    receivedAt: new Date().toISOString(),
    bodyHash: "0".repeat(64),
  };
}

const attendee = (n: number) => ({ email: `Seat${n}@Example.com`, name: `Seat ${n}`, timeZone: "UTC" });

function created(session: Session, n: number, over: Record<string, unknown> = {}): Delivery {
  return delivery("BOOKING_CREATED", {
    uid: "parent-uid",
    bookingId: 1,
    eventTypeId: ET,
    startTime: session.startsAt,
    endTime: session.endsAt,
    attendees: [attendee(n)],
    attendeeSeatId: `seat-${n}`,
    status: "ACCEPTED",
    ...over,
  });
}

function cancelled(session: Session, n: number, uid = "parent-uid"): Delivery {
  return delivery("BOOKING_CANCELLED", {
    uid,
    bookingId: 1,
    eventTypeId: ET,
    startTime: session.startsAt,
    endTime: session.endsAt,
    attendees: [attendee(n)],
    status: "CANCELLED",
    cancellationReason: null,
  });
}

async function events(kv: Deno.Kv): Promise<CommittedEvent[]> {
  return (await listEvents(kv, { limit: 1000 })).events;
}

async function booking(kv: Deno.Kv, id: string): Promise<Booking> {
  return (await kv.get<Booking>(keys.booking(id))).value!;
}

async function confirmedIn(kv: Deno.Kv, sessionId: string): Promise<Booking[]> {
  const out: Booking[] = [];
  for await (const e of kv.list<string>({ prefix: keys.bookingsBySessionPrefix(sessionId) })) {
    const b = await booking(kv, e.value);
    if (b.status === "confirmed") out.push(b);
  }
  return out;
}

Deno.test("[calcom] inbound BOOKING_CREATED made on Cal.com books the learner with origin calcom", async () => {
  await withWorld(async ({ kv, deps, session }) => {
    const d = created(session, 1);
    const outcome = await applyDelivery(deps, TENANT, d);
    assert.equal(outcome.action, "created", JSON.stringify(outcome));
    const [seat] = outcome.seats;
    assert.equal(seat.learnerCreated, true, "an unknown attendee becomes a learner");
    const learner = await getUserByEmail(kv, "seat1@example.com");
    assert.ok(learner);
    assert.deepEqual([learner.name, learner.roles], ["Seat 1", ["learner"]]);
    const b = await booking(kv, seat.bookingId!);
    assert.deepEqual([b.status, b.origin, b.sessionId, b.learnerId], ["confirmed", "calcom", session.id, learner.id]);
    assert.equal(b.audit[0].reason, "Cal.com BOOKING_CREATED");

    const evs = await events(kv);
    assert.deepEqual(evs.map((e) => e.type), ["booking.confirmed"]);
    assert.equal(evs[0].origin, "calcom");
    assert.equal(evs[0].correlationId, d.id);
    assert.equal(evs[0].actor.userId, null);
    assert.equal(evs[0].data.calBookingUid, "parent-uid");
    assert.equal(topicFor(evs[0]), "cal.booking.created");

    const link = await getSeatLink(kv, b.id);
    assert.deepEqual(
      [link?.calBookingUid, link?.seatUid, link?.email, link?.createdBy, link?.status],
      ["parent-uid", "seat-1", "seat1@example.com", "calcom", "active"],
    );
    const sync = await getSyncState(kv, b.id);
    assert.deepEqual([sync?.status, sync?.origin, sync?.note], [
      "skipped",
      "calcom",
      "came from Cal.com; not sent back",
    ]);
    assert.ok(sync?.verifiedAt);

    const stored = (await kv.get<{ appliedAt: string; outcome: ApplyOutcome }>(keys.calcomDelivery(TENANT, d.id)))
      .value;
    assert.ok(stored?.appliedAt);
    assert.deepEqual(stored?.outcome, outcome);
    const meta = await getSyncMeta<{ trigger: string; deliveryId: string }>(kv, `last_webhook:${TENANT}`);
    assert.deepEqual([meta?.trigger, meta?.deliveryId], ["BOOKING_CREATED", d.id]);

    assert.deepEqual(await applyDelivery(deps, TENANT, d), outcome, "a delivery is applied once");
    assert.equal((await events(kv)).length, 1);
  });
});

Deno.test("[calcom] inbound echo of our own booking is a no-op: no new booking, no event", async () => {
  await withWorld(async ({ kv, engine, deps, session }) => {
    const ours = await createUser(kv, { email: "seat1@example.com", name: "Ours", roles: ["learner"] });
    const { hold } = await engine.placeHold(session.id, ours.id, self(ours.id));
    const { booking: b } = await engine.confirmHold(hold.id, self(ours.id));
    await saveSeatLink(kv, {
      bookingId: b.id,
      sessionId: session.id,
      tenant: TENANT,
      eventTypeId: ET,
      calBookingUid: "parent-uid",
      seatUid: "seat-1",
      email: ours.email,
      status: "active",
      createdBy: "ours",
      linkedAt: new Date().toISOString(),
    });
    const before = (await events(kv)).length;
    const linked = await applyDelivery(deps, TENANT, created(session, 1));
    assert.equal(linked.action, "linked", JSON.stringify(linked));
    assert.equal(linked.seats[0].bookingId, b.id);

    // Our second learner's webhook arrives before the outbound runner saved its seat link.
    const other = await createUser(kv, { email: "seat2@example.com", name: "Other", roles: ["learner"] });
    const { hold: h2 } = await engine.placeHold(session.id, other.id, self(other.id));
    const { booking: b2 } = await engine.confirmHold(h2.id, self(other.id));
    const before2 = (await events(kv)).length;
    const echo = await applyDelivery(deps, TENANT, created(session, 2));
    assert.equal(echo.action, "already_booked", JSON.stringify(echo));
    assert.equal(echo.seats[0].bookingId, b2.id);
    assert.equal((await getSeatLink(kv, b2.id))?.createdBy, "ours");
    assert.equal(await findBookingBySeat(kv, TENANT, "parent-uid", "seat2@example.com"), b2.id);

    assert.equal((await events(kv)).length, before2, "no event for an echo");
    assert.equal(before2 - before, 2, "only our own hold and confirm");
    assert.equal((await confirmedIn(kv, session.id)).length, 2);
  });
});

Deno.test("[calcom] inbound seat cancel matched by email cancels only that learner", async () => {
  await withWorld(async ({ kv, deps, session }) => {
    const one = await applyDelivery(deps, TENANT, created(session, 1));
    const two = await applyDelivery(deps, TENANT, created(session, 2));
    const outcome = await applyDelivery(deps, TENANT, cancelled(session, 1));
    assert.equal(outcome.action, "cancelled", JSON.stringify(outcome));
    assert.equal((await booking(kv, one.seats[0].bookingId!)).status, "cancelled");
    assert.equal((await booking(kv, two.seats[0].bookingId!)).status, "confirmed");
    const s = (await kv.get<Session>(keys.session(session.id))).value!;
    assert.equal(s.status, "scheduled");
    assert.equal((await getSeatLink(kv, one.seats[0].bookingId!))?.status, "cancelled");
    assert.equal((await getSeatLink(kv, two.seats[0].bookingId!))?.status, "active");
    const cancel = (await events(kv)).filter((e) => e.type === "booking.cancelled");
    assert.equal(cancel.length, 1);
    assert.equal(topicFor(cancel[0]), "cal.booking.cancelled");

    assert.equal((await applyDelivery(deps, TENANT, cancelled(session, 1))).action, "already_cancelled");
    assert.equal((await applyDelivery(deps, TENANT, cancelled(session, 9))).action, "ignored");
    assert.equal((await events(kv)).filter((e) => e.type === "booking.cancelled").length, 1);
  });
});

Deno.test("[calcom] inbound reschedule moves the seat to the session at the new start and relinks the uid", async () => {
  await withWorld(async ({ kv, deps, session, courseId }) => {
    const later = await putSession(kv, courseId, { capacity: 5, startsInHours: 24 * 9 });
    const first = await applyDelivery(deps, TENANT, created(session, 1));
    const oldId = first.seats[0].bookingId!;
    const moved = (startTime: string, uid: string, from: string) =>
      delivery("BOOKING_RESCHEDULED", {
        uid,
        bookingId: 2,
        eventTypeId: ET,
        startTime,
        endTime: new Date(Date.parse(startTime) + HOUR).toISOString(),
        attendees: [attendee(1)],
        rescheduleUid: from,
        rescheduleStartTime: session.startsAt,
      });
    const outcome = await applyDelivery(deps, TENANT, moved(later.startsAt, "new-uid", "parent-uid"));
    assert.equal(outcome.action, "rescheduled", JSON.stringify(outcome));
    const newId = outcome.seats[0].bookingId!;
    const b = await booking(kv, newId);
    assert.deepEqual([b.sessionId, b.status, b.origin], [later.id, "confirmed", "calcom"]);
    assert.equal((await booking(kv, oldId)).status, "cancelled");
    assert.equal(await findBookingBySeat(kv, TENANT, "new-uid", "seat1@example.com"), newId);
    const link = await getSeatLink(kv, newId);
    assert.deepEqual([link?.calBookingUid, link?.seatUid, link?.status], ["new-uid", "seat-1", "active"]);
    assert.equal((await getSeatLink(kv, oldId))?.status, "cancelled");
    const ev = (await events(kv)).find((e) => e.type === "booking.rescheduled")!;
    assert.equal(topicFor(ev), "cal.booking.rescheduled");

    // The same move again (or the echo of one we made) only relinks.
    const again = await applyDelivery(deps, TENANT, moved(later.startsAt, "new-uid", "parent-uid"));
    assert.equal(again.action, "linked", JSON.stringify(again));
    // No session of the course starts then: flagged, nothing moved.
    const nowhere = new Date(Date.parse(later.startsAt) + 3 * HOUR).toISOString();
    const flagged = await applyDelivery(deps, TENANT, moved(nowhere, "third-uid", "new-uid"));
    assert.equal(flagged.action, "flagged");
    assert.match(flagged.reason!, /no_matching_session/);
    assert.equal((await booking(kv, newId)).status, "confirmed");
    const items = await listReviewItems(kv, "open");
    assert.deepEqual(items.map((i) => [i.kind, i.code]), [["calcom_conflict", "no_matching_session"]]);
  });
});

Deno.test("[calcom] inbound booking for a full session is not oversold and is flagged for review", async () => {
  await withWorld(async ({ kv, deps, session }) => {
    assert.equal((await applyDelivery(deps, TENANT, created(session, 1))).action, "created");
    const full = await applyDelivery(deps, TENANT, created(session, 2));
    assert.equal(full.action, "flagged", JSON.stringify(full));
    assert.match(full.reason!, /session_full/);
    assert.equal((await confirmedIn(kv, session.id)).length, 1);
    const [item] = await listReviewItems(kv, "open");
    assert.deepEqual(
      [item.kind, item.code, item.tenant, item.calBookingUid, item.email, item.sessionId],
      ["calcom_conflict", "session_full", TENANT, "parent-uid", "seat2@example.com", session.id],
    );
    assert.equal(full.seats[0].reviewItemId, item.id);
  }, { capacity: 1 });
});

Deno.test("[calcom] inbound no-show and meeting-ended record attendance with events; staff records stand", async () => {
  await withWorld(async ({ kv, deps, session, clock }) => {
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push((await applyDelivery(deps, TENANT, created(session, n))).seats[0].bookingId!);
    const learnerOf = async (i: number) => (await booking(kv, ids[i])).learnerId;
    // An instructor recorded learner 3 first: Cal.com never overrides that.
    await deps.engine.recordAttendance({
      sessionId: session.id,
      learnerId: await learnerOf(2),
      bookingId: ids[2],
      status: "attended",
      source: "instructor",
    }, admin());
    clock.advance(24 * 8 * HOUR);

    const noShow = await applyDelivery(
      deps,
      TENANT,
      delivery("BOOKING_NO_SHOW_UPDATED", {
        bookingUid: "parent-uid",
        bookingId: 1,
        attendees: [{ email: "seat1@example.com", noShow: true }],
      }),
    );
    assert.equal(noShow.action, "attendance_recorded", JSON.stringify(noShow));
    assert.equal((await getAttendance(kv, session.id, await learnerOf(0)))?.status, "no_show");

    const { startsAt: startTime, endsAt: endTime } = session;
    const ended = await applyDelivery(
      deps,
      TENANT,
      delivery("MEETING_ENDED", {
        uid: "parent-uid",
        eventTypeId: ET,
        startTime,
        endTime,
        attendees: [1, 2, 3].map((n) => ({ ...attendee(n), noShow: n === 1 })),
      }),
    );
    assert.deepEqual(ended.seats.map((s) => s.action), ["attendance_kept", "attendance_recorded", "attendance_kept"]);
    assert.equal((await getAttendance(kv, session.id, await learnerOf(1)))?.status, "attended");
    const staff = await getAttendance(kv, session.id, await learnerOf(2));
    assert.deepEqual([staff?.status, staff?.origin], ["attended", "admin"]);

    const recorded = (await events(kv)).filter((e) => e.type === "attendance.recorded");
    assert.deepEqual(recorded.map((e) => [e.origin, e.data.status]), [
      ["admin", "attended"],
      ["calcom", "no_show"],
      ["calcom", "attended"],
    ]);
    for (const e of recorded) assert.equal(topicFor(e), "nlj.training.attendance");

    // Another tenant's webhook naming the same uid touches nothing.
    const foreign = await applyDelivery(
      deps,
      "beta",
      delivery("BOOKING_NO_SHOW_UPDATED", {
        bookingUid: "parent-uid",
        bookingId: 1,
        attendees: [{ email: "seat2@example.com", noShow: true }],
      }),
    );
    assert.equal(foreign.action, "ignored");
    assert.equal((await getAttendance(kv, session.id, await learnerOf(1)))?.status, "attended");
  });
});

Deno.test("[calcom] inbound 10 concurrent Cal.com bookings for 3 free seats: 3 booked, 7 flagged", async () => {
  await withWorld(async ({ kv, deps, session }) => {
    for (const n of [101, 102]) {
      assert.equal((await applyDelivery(deps, TENANT, created(session, n))).action, "created");
    }
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => applyDelivery(deps, TENANT, created(session, i + 1))),
    );
    const count = (a: string) => outcomes.filter((o) => o.action === a).length;
    assert.deepEqual([count("created"), count("flagged")], [3, 7], JSON.stringify(outcomes.map((o) => o.reason)));
    assert.equal((await confirmedIn(kv, session.id)).length, 5);
    const seats = (await kv.get<{ confirmed: number; holds: number }>(keys.seats(session.id))).value!;
    assert.equal(seats.confirmed, 5, "never over capacity");
    const items = await listReviewItems(kv, "open");
    assert.equal(items.filter((i) => i.code === "session_full").length, 7);
  });
});

// ── through the intake ─────────────────────────────────────────────────

const SECRET = "inbound-test-secret-0123456789";
const ACME: Tenant = {
  slug: TENANT,
  baseUrl: null,
  apiKey: null,
  webhookSecret: SECRET,
  eventTypeIds: [],
  locationIds: [],
};

async function intake(w: World, body: Record<string, unknown>, tenant = ACME) {
  const raw = new TextEncoder().encode(JSON.stringify(body));
  return await intakeWebhook(w.kv, tenant, raw, await signCalcomWebhook(SECRET, raw), {
    maxAgeSeconds: 600,
    engine: w.engine,
  });
}

function envelope(trigger: string, payload: Record<string, unknown>) {
  return { triggerEvent: trigger, createdAt: new Date().toISOString(), payload };
}

Deno.test("[calcom] inbound intake applies a delivery once, refuses another tenant's event type, ignores unmapped ones", async () => {
  await withWorld(async (w) => {
    const { kv, session } = w;
    const body = envelope("BOOKING_CREATED", { ...created(session, 1).payload });
    const first = await intake(w, body);
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.equal((first.body.outcome as ApplyOutcome).action, "created");
    const again = await intake(w, body);
    assert.deepEqual([again.status, again.body.duplicate], [200, true]);
    assert.equal((await confirmedIn(kv, session.id)).length, 1, "no second change");

    const other = await putSession(kv, w.courseId, { startsInHours: 24 * 10 });
    await mapEventType(kv, other, 77, "beta");
    const foreign = await intake(w, envelope("BOOKING_CREATED", { ...created(other, 2, { eventTypeId: 77 }).payload }));
    assert.deepEqual([foreign.status, foreign.body.error], [403, "event_type_not_owned"]);

    const unmapped = await intake(
      w,
      envelope("BOOKING_CREATED", { ...created(session, 3, { eventTypeId: 5 }).payload }),
    );
    assert.equal(unmapped.status, 202);
    assert.deepEqual(
      [(unmapped.body.outcome as ApplyOutcome).action, (unmapped.body.outcome as ApplyOutcome).reason],
      ["ignored", "event type not mirrored"],
    );
    const deliveries = await listDeliveries(kv, TENANT);
    assert.equal(deliveries.length, 2, "the foreign delivery was not stored");
    assert.ok(deliveries.every((d) => d.appliedAt && d.outcome));
    assert.equal((await confirmedIn(kv, other.id)).length, 0);
  });
});

Deno.test("[calcom] RECORDING_READY adds the session's recording once it ended, for mirrored event types only", async () => {
  await withWorld(async (w) => {
    const ready = delivery("RECORDING_READY", { eventTypeId: ET, downloadLink: "https://cal.example.com/rec/1.mp4" });
    const early = await applyDelivery(w.deps, TENANT, ready);
    assert.equal(early.action, "ignored");
    assert.match(early.reason ?? "", /session_not_ended/);
    w.clock.advance(24 * 8 * HOUR);
    const again = delivery("RECORDING_READY", { eventTypeId: ET, downloadLink: "https://cal.example.com/rec/1.mp4" });
    const added = await applyDelivery(w.deps, TENANT, again);
    assert.equal(added.action, "recording_added", JSON.stringify(added));
    const rec = (await w.kv.get<{ url: string; source: string }>(keys.recording(w.session.id))).value;
    assert.deepEqual([rec?.url, rec?.source], ["https://cal.example.com/rec/1.mp4", "calcom"]);
    const unknown = delivery("RECORDING_READY", { eventTypeId: 999, downloadLink: "https://cal.example.com/x.mp4" });
    assert.equal((await applyDelivery(w.deps, TENANT, unknown)).reason, "event type not mirrored");
  });
});
