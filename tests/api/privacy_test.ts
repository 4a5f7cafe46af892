/**
 * GDPR export and erasure over HTTP: a learner with bookings (future, cancelled, past with
 * attendance), a live hold, a waitlist place, a Cal.com seat link and a stored Cal.com delivery.
 * The export holds every section; the erasure cancels what is future, keeps seat counts and
 * booking totals consistent, leaves no trace of the person's name, email or token anywhere in KV
 * and logs none, and announces itself on nlj.privacy.erasure.
 */
import assert from "node:assert/strict";
import { TOKEN_CACHE_MS, useTokenCacheClock } from "../../lib/auth/principal.ts";
import { mintToken } from "../../lib/auth/tokens.ts";
import { recordAttendance } from "../../lib/booking/attendance.ts";
import { checkConsistency } from "../../lib/booking/consistency.ts";
import { type DomainEvent, listEvents } from "../../lib/booking/events.ts";
import { saveSeatLink } from "../../lib/calcom/sync_store.ts";
import type { Booking } from "../../lib/domain/booking.ts";
import { newId } from "../../lib/domain/ids.ts";
import { sha256Hex } from "../../lib/hash.ts";
import { EventRelay } from "../../lib/relay/relay.ts";
import { TOPICS } from "../../lib/relay/xapi.ts";
import { createSession, createUser, importConfirmedBookings, keys, listLocations } from "../../lib/store/mod.ts";
import { captureConsole, linesContaining } from "../kv_dump.ts";
import { devSignInCookie } from "../page_client.ts";
import { ApiClient, type Body } from "./client.ts";
import { type ApiFixture, startApiFixture } from "./fixture.ts";

interface Person {
  id: string;
  email: string;
  name: string;
  token: string;
  api: ApiClient;
}

interface History {
  ann: Person;
  booked: Booking;
  cancelled: Booking;
  past: Booking;
  holdId: string;
  sessions: { booked: string; full: string; held: string; past: string };
}

let n = 0;

async function person(f: ApiFixture, name: string): Promise<Person> {
  const email = `${name.toLowerCase().replace(/\W+/g, ".")}.${Date.now()}.${++n}@privacy.example.org`;
  const user = await createUser(f.services.kv, { email, name, roles: ["learner"] });
  const { token } = await mintToken(f.services.kv, user.id);
  return { id: user.id, email, name, token, api: new ApiClient(f.app, token) };
}

async function book(p: Person, sessionId: string): Promise<Booking> {
  const hold = await p.api.post<Body>("/api/v1/holds", { sessionId });
  assert.equal(hold.status, 201, JSON.stringify(hold.body));
  const res = await p.api.post<Body>("/api/v1/bookings", { holdId: hold.body.hold.id });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.booking;
}

/** Ann's history, and Bob beside her in the full session. */
async function annWithHistory(f: ApiFixture): Promise<History> {
  const kv = f.services.kv;
  const ann = await person(f, "Annika Privacy-Testperson");
  const bob = await person(f, "Bob Bystander-Learner");
  const booked = await f.session({ capacity: 3 });
  const full = await f.session({ capacity: 1, waitlist: true });
  const held = await f.session({ capacity: 3 });
  const other = await f.session({ capacity: 3 });

  const bookedBooking = await book(ann, booked.id);
  await book(bob, full.id);
  assert.equal((await ann.api.post("/api/v1/waitlist", { sessionId: full.id })).status, 201);
  const hold = await ann.api.post<Body>("/api/v1/holds", { sessionId: held.id });
  assert.equal(hold.status, 201);
  const toCancel = await book(ann, other.id);
  const cancel = await ann.api.post<Body>(`/api/v1/bookings/${toCancel.id}/cancel`, {
    reason: `${ann.name} (${ann.email}) has a clash`,
  });
  assert.equal(cancel.status, 200, JSON.stringify(cancel.body));

  // A session that is over, with her attendance recorded.
  const loc = (await listLocations(kv))[0];
  const start = Date.now() - 3 * 86_400_000;
  const past = await createSession(kv, {
    courseId: booked.courseId,
    startsAt: new Date(start).toISOString(),
    endsAt: new Date(start + 7_200_000).toISOString(),
    timeZone: loc.timeZone,
    mode: "in_person",
    locationId: loc.id,
    capacity: 5,
    instructorId: booked.instructorId,
  });
  const pastId = newId();
  await importConfirmedBookings(kv, [{ id: pastId, sessionId: past.id, learnerId: ann.id }]);
  await recordAttendance(kv, {
    sessionId: past.id,
    learnerId: ann.id,
    bookingId: pastId,
    status: "attended",
    source: "instructor",
  }, { userId: null, roles: ["admin"], origin: "admin", correlationId: crypto.randomUUID() });

  // What the Cal.com side holds about her: a seat link and a stored webhook delivery.
  await saveSeatLink(kv, {
    bookingId: bookedBooking.id,
    sessionId: booked.id,
    tenant: "default",
    eventTypeId: 77,
    calBookingUid: "cal-booking-1",
    seatUid: "cal-seat-1",
    email: ann.email,
    status: "active",
    createdBy: "ours",
    linkedAt: new Date().toISOString(),
  });
  await kv.set(keys.calcomDelivery("default", newId()), {
    trigger: "BOOKING_CREATED",
    createdAt: new Date().toISOString(),
    payload: { uid: "cal-booking-1", attendees: [{ email: ann.email, name: ann.name, timeZone: "UTC" }] },
    receivedAt: new Date().toISOString(),
    bodyHash: "x",
  });
  // A dead letter holding a copy of her cancellation (its reason names her).
  const cancelEvent = (await allEvents(kv)).find((e) => e.type === "booking.cancelled" && e.learnerId === ann.id)!;
  await kv.set(keys.deadLetter(cancelEvent.key), {
    eventKey: cancelEvent.key,
    eventId: cancelEvent.id,
    eventType: cancelEvent.type,
    sessionId: cancelEvent.sessionId,
    topic: null,
    reason: "Kafka refused it",
    attempts: 1,
    failedAt: new Date().toISOString(),
    event: cancelEvent,
  });
  const get = async (id: string) => (await kv.get<Booking>(keys.booking(id))).value!;
  return {
    ann,
    booked: await get(bookedBooking.id),
    cancelled: await get(toCancel.id),
    past: await get(pastId),
    holdId: hold.body.hold.id,
    sessions: { booked: booked.id, full: full.id, held: held.id, past: past.id },
  };
}

async function allEvents(kv: Deno.Kv): Promise<DomainEvent[]> {
  return (await listEvents(kv, { limit: 100_000 })).events;
}

/** Seat counters per session and bookings per status: what reports are built from. */
async function totals(kv: Deno.Kv) {
  const seats = new Map<string, { confirmed: number; holds: number; waiting: number }>();
  for await (const e of kv.list<{ confirmed: number; holds: number; waiting: number }>({ prefix: ["seats"] })) {
    seats.set(String(e.key[1]), e.value);
  }
  const byStatus: Record<string, number> = {};
  let bookings = 0;
  for await (const e of kv.list<Booking>({ prefix: ["bookings"] })) {
    byStatus[e.value.status] = (byStatus[e.value.status] ?? 0) + 1;
    bookings++;
  }
  return { seats, byStatus, bookings };
}

Deno.test("[privacy] the export holds profile, bookings with audit and Cal.com state, attendance, holds, waitlist and events", async () => {
  const f = await startApiFixture();
  try {
    const h = await annWithHistory(f);
    const res = await f.admin.get<Body>(`/api/v1/users/${h.ann.id}/export`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.match(res.headers.get("content-disposition") ?? "", /^attachment; filename="personal-data-.+\.json"$/);
    const x = res.body;
    assert.equal(x.profile.id, h.ann.id);
    assert.equal(x.profile.email, h.ann.email);
    assert.equal(x.profile.name, h.ann.name);

    const bookings = new Map<string, Body>(x.bookings.map((b: Body) => [b.id, b]));
    assert.deepEqual([...bookings.keys()].sort(), [h.booked.id, h.cancelled.id, h.past.id].sort());
    assert.equal(bookings.get(h.cancelled.id)!.status, "cancelled");
    assert.ok(bookings.get(h.cancelled.id)!.audit.length >= 2, "the cancelled booking's audit trail");
    assert.equal(bookings.get(h.booked.id)!.calcom.seat.calBookingUid, "cal-booking-1");
    assert.ok("sync" in bookings.get(h.booked.id)!.calcom);

    assert.deepEqual(x.attendance.map((a: Body) => [a.bookingId, a.status]), [[h.past.id, "attended"]]);
    const holdIds = x.holds.map((hd: Body) => hd.id);
    assert.ok(holdIds.includes(h.holdId), "the live hold");
    assert.ok(x.holds.every((hd: Body) => hd.learnerId === h.ann.id));
    assert.deepEqual(x.waitlist.map((w: Body) => [w.sessionId, w.status]), [[h.sessions.full, "waiting"]]);

    const types = new Set(x.events.map((e: Body) => e.type));
    for (
      const t of ["hold.placed", "booking.confirmed", "booking.cancelled", "waitlist.joined", "attendance.recorded"]
    ) {
      assert.ok(types.has(t), `event ${t} in the export`);
    }
    assert.ok(x.events.every((e: Body) => e.learnerId === h.ann.id), "only events about her");
    const hers = (await allEvents(f.services.kv)).filter((e) => e.learnerId === h.ann.id);
    assert.equal(x.events.length, hers.length, "every event about her (through the index)");
    assert.equal(x.apiTokens.length, 1);
    assert.ok(!JSON.stringify(x).includes(h.ann.token), "never the token itself");

    // The person's own API export is the same document; the admin export is for admins only.
    const own = await h.ann.api.get<Body>("/api/v1/me/export");
    assert.equal(own.status, 200);
    assert.deepEqual({ ...own.body, exportedAt: null }, { ...x, exportedAt: null });
    assert.equal((await f.admin.get("/api/v1/me/export")).status, 400, "the admin token has no data of its own");
    assert.equal((await f.anonymous.get("/api/v1/me/export")).status, 401);
    assert.equal((await h.ann.api.get(`/api/v1/users/${h.ann.id}/export`)).status, 403);
    assert.equal((await f.admin.get(`/api/v1/users/${newId()}/export`)).status, 404);
  } finally {
    await f.close();
  }
});

Deno.test("[privacy] /me/privacy offers a plain download of the signed-in person's own data", async () => {
  const f = await startApiFixture();
  try {
    const h = await annWithHistory(f);
    const cookie = await devSignInCookie(f.services.kv, h.ann.id);
    const page = await f.app.fetch(new Request("http://test/me/privacy", { headers: { cookie } }));
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<form method="get" action="\/me\/privacy\/export\.json">/);

    const file = await f.app.fetch(new Request("http://test/me/privacy/export.json", { headers: { cookie } }));
    assert.equal(file.status, 200);
    assert.match(file.headers.get("content-disposition") ?? "", /^attachment; /);
    const data = await file.json();
    assert.equal(data.profile.id, h.ann.id);
    assert.equal(data.bookings.length, 3);

    const anonymous = await f.app.fetch(new Request("http://test/me/privacy/export.json", { redirect: "manual" }));
    assert.equal(anonymous.status, 303);
    await anonymous.body?.cancel();
  } finally {
    await f.close();
  }
});

Deno.test("[privacy] erasure: future places cancelled, counts consistent, nothing personal left in KV or logs, erasure on its own topic", async () => {
  const f = await startApiFixture();
  const kv = f.services.kv;
  let skewMs = 0;
  useTokenCacheClock(kv, () => Date.now() + skewMs);
  try {
    const h = await annWithHistory(f);
    const tokenHash = await sha256Hex(h.ann.token);
    const before = await totals(kv);
    const eventsBefore = (await allEvents(kv)).length;

    const { result: res, output } = await captureConsole(async () => {
      const exported = await f.admin.get<Body>(`/api/v1/users/${h.ann.id}/export`);
      assert.equal(exported.status, 200);
      return await f.admin.post<Body>(`/api/v1/users/${h.ann.id}/erase`, { reason: "GDPR request, ticket 4711" });
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.alreadyErased, false);
    assert.deepEqual(res.body.erasure.cancelled, { bookings: 1, holds: 1, waitlist: 1 });
    assert.equal(res.body.erasure.status, "done");
    assert.equal(res.body.erasure.reason, "GDPR request, ticket 4711");
    for (const secret of [h.ann.email, h.ann.token, tokenHash]) {
      assert.ok(!output.some((line) => line.includes(secret)), "no email or token in the logs");
    }

    // Seat counts and reports: consistent, and moved only by what the erasure cancelled.
    assert.deepEqual((await checkConsistency(kv)).problems, []);
    const after = await totals(kv);
    assert.equal(after.bookings, before.bookings, "no booking disappears");
    assert.equal(after.byStatus.confirmed, before.byStatus.confirmed - 1);
    assert.equal(after.byStatus.cancelled, (before.byStatus.cancelled ?? 0) + 1);
    const moved = new Map([
      [h.sessions.booked, { confirmed: -1, holds: 0, waiting: 0 }],
      [h.sessions.held, { confirmed: 0, holds: -1, waiting: 0 }],
      [h.sessions.full, { confirmed: 0, holds: 0, waiting: -1 }],
    ]);
    for (const [id, seats] of before.seats) {
      const d = moved.get(id);
      const expected = d
        ? { confirmed: seats.confirmed + d.confirmed, holds: seats.holds + d.holds, waiting: seats.waiting + d.waiting }
        : seats;
      assert.deepEqual(after.seats.get(id), expected, `seats of ${id}`);
    }
    const past = (await kv.get<Booking>(keys.booking(h.past.id))).value!;
    assert.equal(past.status, "confirmed", "a past booking stays as it was");
    const cancelled = (await kv.get<Booking>(keys.booking(h.cancelled.id))).value!;
    assert.equal(cancelled.cancelReason, null);
    assert.ok(cancelled.audit.every((a) => a.reason === null));

    // Not a trace of her name, email or token, in any key or value.
    const left = await linesContaining(kv, [h.ann.email, h.ann.name, h.ann.token, tokenHash]);
    assert.deepEqual(left, []);
    const user = (await kv.get<Body>(keys.user(h.ann.id))).value!;
    assert.equal(user.name, "Erased user");
    assert.equal(user.email, `erased-${h.ann.id.toLowerCase()}@erased.invalid`);
    const afterExport = await f.admin.get<Body>(`/api/v1/users/${h.ann.id}/export`);
    assert.equal(afterExport.status, 200, "the tombstone still exports (and fits the published schema)");
    assert.equal(afterExport.body.profile.name, "Erased user");
    skewMs = TOKEN_CACHE_MS + 1; // past the token cache's lifetime (revocation is bounded by it)
    assert.equal((await h.ann.api.get("/api/v1/me")).status, 401, "her token is gone");

    // Her Cal.com seat is cancelled through the Cal.com outbox (the sync cancels by seat uid).
    const calcom: DomainEvent[] = [];
    for await (const e of kv.list<DomainEvent>({ prefix: keys.outboxSessionPrefix("calcom", h.sessions.booked) })) {
      calcom.push(e.value);
    }
    assert.ok(calcom.some((e) => e.type === "booking.cancelled" && e.data.bookingId === h.booked.id));

    // The erasure event: user id and time only, on nlj.privacy.erasure.
    const erased = (await allEvents(kv)).filter((e) => e.type === "user.erased");
    assert.equal(erased.length, 1);
    assert.equal(erased[0].learnerId, h.ann.id);
    assert.deepEqual(Object.keys(erased[0].data), ["erasedAt"]);
    const message = await new EventRelay(kv, null).buildMessage(erased[0]);
    assert.equal(message.topic, TOPICS.privacyErasure);
    assert.equal(message.topic, "nlj.privacy.erasure");
    assert.equal(message.key, h.ann.id);
    assert.deepEqual(JSON.parse(message.value), {
      type: "user.erased",
      userId: h.ann.id,
      erasedAt: res.body.erasure.erasedAt,
      eventId: erased[0].id,
    });
    const pending = await kv.get(keys.outboxEntry("kafka", "_privacy", erased[0].key));
    assert.ok(pending.value, "the erasure waits in the Kafka outbox like every event");

    // Again: nothing more happens. Unknown: 404. No reason: 400. A learner: 403.
    const eventsAfter = (await allEvents(kv)).length;
    assert.equal(eventsAfter, eventsBefore + 4, "three cancellations and the erasure event");
    const again = await f.admin.post<Body>(`/api/v1/users/${h.ann.id}/erase`, { reason: "again" });
    assert.equal(again.status, 200);
    assert.equal(again.body.alreadyErased, true);
    assert.equal(again.body.erasure.erasedAt, res.body.erasure.erasedAt);
    assert.equal((await allEvents(kv)).length, eventsAfter);
    const unknown = await f.admin.post<Body>(`/api/v1/users/${newId()}/erase`, { reason: "GDPR request" });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, "user_not_found");
    assert.equal((await f.admin.post(`/api/v1/users/${h.ann.id}/erase`, {})).status, 400);
    const other = await person(f, "Carla Curious-Learner");
    assert.equal((await other.api.post(`/api/v1/users/${other.id}/erase`, { reason: "me" })).status, 403);
  } finally {
    await f.close();
  }
});
