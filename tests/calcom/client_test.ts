import assert from "node:assert/strict";
import { CALCOM_API_VERSIONS, type CalcomClient, CalcomError, createCalcomClient } from "../../lib/calcom/client.ts";
import type { CalcomEmulator } from "./emulator.ts";
import { createSession, learner, startAt, withCalcom } from "./fixture.ts";
import { hasCalcomReference } from "./reference.ts";

interface Seeded {
  eventTypeId: number;
  bookingUid: string;
  seatUid: string;
}

async function seed(client: CalcomClient): Promise<Seeded> {
  const et = await createSession(client);
  const seat = await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(1) });
  return { eventTypeId: et.id, bookingUid: seat.bookingUid, seatUid: seat.seatUid };
}

async function rejects(promise: Promise<unknown>): Promise<CalcomError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof CalcomError, `expected a CalcomError, got ${e}`);
    return e;
  }
  assert.fail("expected the call to fail");
}

/** One client operation: `run` calls it; `check` asserts its happy result. */
interface OperationCase {
  name: string;
  method: string;
  path: RegExp;
  version: string | undefined;
  run(client: CalcomClient, s: Seeded): Promise<unknown>;
  check(result: unknown, s: Seeded, emulator: CalcomEmulator): void;
}

const cases: OperationCase[] = [
  {
    name: "me",
    method: "GET",
    path: /^\/v2\/me$/,
    version: undefined,
    run: (c) => c.me(),
    check: (r) => assert.equal((r as { email: string }).email, "training@example.com"),
  },
  {
    name: "createSeatedEventType",
    method: "POST",
    path: /^\/v2\/event-types$/,
    version: CALCOM_API_VERSIONS.eventTypes,
    run: (c) =>
      c.createSeatedEventType({
        title: "Live online: fire safety",
        slug: "fire-safety-online",
        lengthInMinutes: 60,
        seats: { seatsPerTimeSlot: 12, showAttendeeInfo: false, showAvailabilityCount: true },
        locations: [{ type: "link", link: "https://meet.example.com/fire" }, {
          type: "integration",
          integration: "cal-video",
        }],
      }),
    check: (r, _s, emulator) => {
      const et = r as { id: number; seats?: { seatsPerTimeSlot: number } };
      assert.equal(et.seats?.seatsPerTimeSlot, 12);
      const sent = emulator.requests.findLast((q) => q.method === "POST" && q.path === "/v2/event-types");
      assert.deepEqual((sent?.body as { locations: unknown[] }).locations, [
        { type: "link", link: "https://meet.example.com/fire", public: true },
        { type: "integration", integration: "cal-video" },
      ]);
    },
  },
  {
    name: "updateEventType",
    method: "PATCH",
    path: /^\/v2\/event-types\/\d+$/,
    version: CALCOM_API_VERSIONS.eventTypes,
    run: (c, s) =>
      c.updateEventType(s.eventTypeId, {
        title: "First aid basics (new room)",
        seats: { seatsPerTimeSlot: 5, showAttendeeInfo: false, showAvailabilityCount: true },
      }),
    check: (r) => {
      const et = r as { title: string; seats?: { seatsPerTimeSlot: number } };
      assert.equal(et.title, "First aid basics (new room)");
      assert.equal(et.seats?.seatsPerTimeSlot, 5);
    },
  },
  {
    name: "deleteEventType",
    method: "DELETE",
    path: /^\/v2\/event-types\/\d+$/,
    version: CALCOM_API_VERSIONS.eventTypes,
    run: (c, s) => c.deleteEventType(s.eventTypeId),
    check: (r, s, emulator) => {
      assert.equal((r as { id: number }).id, s.eventTypeId);
      assert.equal(emulator.state.eventTypes.has(s.eventTypeId), false);
    },
  },
  {
    name: "bookSeat",
    method: "POST",
    path: /^\/v2\/bookings$/,
    version: CALCOM_API_VERSIONS.bookings,
    run: (c, s) => c.bookSeat({ eventTypeId: s.eventTypeId, start: startAt(6), attendee: learner(2) }),
    check: (r, s) => {
      const seat = r as { bookingUid: string; seatUid: string; booking: { attendees: unknown[] } };
      assert.equal(seat.bookingUid, s.bookingUid, "a second seat joins the start time's booking");
      assert.notEqual(seat.seatUid, s.seatUid);
      assert.equal(seat.booking.attendees.length, 2);
    },
  },
  {
    name: "cancelSeat",
    method: "POST",
    path: /^\/v2\/bookings\/[^/]+\/cancel$/,
    version: CALCOM_API_VERSIONS.bookings,
    run: (c, s) => c.cancelSeat(s.bookingUid, s.seatUid),
    check: (r, _s, emulator) => {
      const b = r as { status: string; attendees: unknown[] };
      assert.equal(b.status, "accepted", "one seat cancelled, the session stays");
      assert.equal(b.attendees.length, 0);
      const sent = emulator.requests.findLast((q) => q.path.endsWith("/cancel"));
      assert.deepEqual(Object.keys(sent?.body as object), ["seatUid"]);
    },
  },
  {
    name: "rescheduleSeat",
    method: "POST",
    path: /^\/v2\/bookings\/[^/]+\/reschedule$/,
    version: CALCOM_API_VERSIONS.bookings,
    run: (c, s) => c.rescheduleSeat(s.bookingUid, s.seatUid, startAt(13)),
    check: (r, s) => {
      const moved = r as { bookingUid: string; seatUid: string; booking: { start: string } };
      assert.notEqual(moved.bookingUid, s.bookingUid);
      assert.equal(moved.seatUid, s.seatUid);
      assert.equal(moved.booking.start, startAt(13));
    },
  },
  {
    name: "markAbsent",
    method: "POST",
    path: /^\/v2\/bookings\/[^/]+\/mark-absent$/,
    version: CALCOM_API_VERSIONS.bookings,
    run: (c, s) => c.markAbsent(s.bookingUid, [{ email: learner(1).email, absent: true }]),
    check: (r) => assert.equal((r as { attendees: { absent: boolean }[] }).attendees[0].absent, true),
  },
  {
    name: "listBookings",
    method: "GET",
    path: /^\/v2\/bookings$/,
    version: CALCOM_API_VERSIONS.bookings,
    run: (c, s) =>
      c.listBookings({ eventTypeId: s.eventTypeId, afterStart: startAt(1), beforeEnd: startAt(30), take: 10 }),
    check: (r, s) => {
      const page = r as { bookings: { uid: string }[]; pagination: { totalItems: number } };
      assert.deepEqual(page.bookings.map((b) => b.uid), [s.bookingUid]);
      assert.equal(page.pagination.totalItems, 1);
    },
  },
  {
    name: "getBooking",
    method: "GET",
    path: /^\/v2\/bookings\/[^/]+$/,
    version: CALCOM_API_VERSIONS.bookings,
    run: (c, s) => c.getBooking(s.bookingUid),
    check: (r, s) => {
      const b = r as { uid: string; attendees: { seatUid?: string }[] };
      assert.equal(b.uid, s.bookingUid);
      assert.equal(b.attendees[0].seatUid, s.seatUid);
    },
  },
];

for (const op of cases) {
  Deno.test(`[calcom] client ${op.name}: happy path, 401, 429 Retry-After, 500 retryable, 400 not`, async () => {
    await withCalcom(async ({ emulator, client }) => {
      const seeded = await seed(client);

      const wrongKey = createCalcomClient({ baseUrl: emulator.url, apiKey: "cal_wrong_key" });
      const unauthorized = await rejects(op.run(wrongKey, seeded));
      assert.equal(unauthorized.status, 401);
      assert.equal(unauthorized.code, "UnauthorizedException");
      assert.equal(unauthorized.retryable, false);

      emulator.failNext(1, { status: 429, retryAfter: "3" });
      const limited = await rejects(op.run(client, seeded));
      assert.deepEqual([limited.status, limited.code, limited.retryable, limited.retryAfterMs], [
        429,
        "ThrottlerException",
        true,
        3000,
      ]);

      emulator.failNext(1, { status: 500 });
      const broken = await rejects(op.run(client, seeded));
      assert.deepEqual([broken.status, broken.code, broken.retryable], [500, "InternalServerErrorException", true]);

      emulator.failNext(1, { status: 400, message: "start must be a valid ISO 8601 date" });
      const bad = await rejects(op.run(client, seeded));
      assert.deepEqual([bad.status, bad.code, bad.retryable], [400, "BadRequestException", false]);
      assert.match(bad.message, /start must be a valid ISO 8601 date/);

      const before = emulator.requests.length;
      op.check(await op.run(client, seeded), seeded, emulator);
      const sent = emulator.requests.slice(before);
      assert.equal(sent.length, 1);
      assert.equal(sent[0].method, op.method);
      assert.match(sent[0].path, op.path);
      assert.equal(sent[0].headers["authorization"], `Bearer ${emulator.apiKey}`);
      assert.equal(sent[0].headers["cal-api-version"], op.version);
    });
  });
}

Deno.test("[calcom] client seat lifecycle: two seats share a booking, one cancelled, one moved", async () => {
  await withCalcom(async ({ emulator, client }) => {
    const et = await createSession(client);
    const a = await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(1) });
    const b = await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(2) });
    const c = await client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(3) });
    assert.equal(new Set([a.bookingUid, b.bookingUid, c.bookingUid]).size, 1);
    assert.equal(new Set([a.seatUid, b.seatUid, c.seatUid]).size, 3);

    const full = await rejects(client.bookSeat({ eventTypeId: et.id, start: startAt(6), attendee: learner(4) }));
    assert.deepEqual([full.status, full.retryable], [400, false]);
    assert.match(full.message, /seats are full/);

    const after = await client.cancelSeat(a.bookingUid, b.seatUid);
    assert.deepEqual(after.attendees.map((x) => x.email), [learner(1).email, learner(3).email]);

    const moved = await client.rescheduleSeat(a.bookingUid, c.seatUid, startAt(7));
    assert.equal(moved.seatUid, c.seatUid);
    assert.deepEqual(moved.booking.attendees.map((x) => x.seatUid), [c.seatUid]);
    const old = await client.getBooking(a.bookingUid);
    assert.deepEqual(old.attendees.map((x) => x.seatUid), [a.seatUid]);
    assert.equal(emulator.state.seatMoves.length, 1);
  });
});

Deno.test("[calcom] client listBookings filters and pages; listAllBookings walks every page", async () => {
  await withCalcom(async ({ client }) => {
    const first = await createSession(client, "session-a");
    const second = await createSession(client, "session-b");
    for (const day of [3, 4, 5, 6, 7]) {
      await client.bookSeat({ eventTypeId: first.id, start: startAt(day), attendee: learner(day) });
    }
    await client.bookSeat({ eventTypeId: second.id, start: startAt(5), attendee: learner(99) });

    const page1 = await client.listBookings({ eventTypeId: first.id, take: 2, sortStart: "asc" });
    assert.deepEqual(page1.bookings.map((b) => b.start), [startAt(3), startAt(4)]);
    assert.deepEqual(
      [page1.pagination.totalItems, page1.pagination.hasNextPage, page1.pagination.remainingItems],
      [5, true, 3],
    );
    const page3 = await client.listBookings({ eventTypeId: first.id, take: 2, skip: 4 });
    assert.deepEqual([page3.bookings.length, page3.pagination.hasNextPage, page3.pagination.currentPage], [
      1,
      false,
      3,
    ]);

    const window = await client.listBookings({ afterStart: startAt(4), beforeEnd: startAt(6) });
    assert.deepEqual(window.bookings.map((b) => b.eventType?.id), [first.id, first.id, second.id]);

    const upcoming = await client.listBookings({ status: ["upcoming"], attendeeEmail: learner(99).email });
    assert.equal(upcoming.bookings.length, 1);

    const all: string[] = [];
    for await (const b of client.listAllBookings({ eventTypeId: first.id, take: 2 })) all.push(b.start);
    assert.deepEqual(all, [3, 4, 5, 6, 7].map((d) => startAt(d)));
  });
});

Deno.test("[calcom] client network failures: timeout and refused connection are retryable", async () => {
  await withCalcom(async ({ emulator, client }) => {
    emulator.failNext(1, { hang: true });
    const slow = await rejects(client.me());
    assert.deepEqual([slow.status, slow.code, slow.retryable], [0, "TIMEOUT", true]);

    await emulator.down();
    const refused = await rejects(client.me());
    assert.deepEqual([refused.status, refused.code, refused.retryable], [0, "NETWORK_ERROR", true]);
    await emulator.up();
    assert.equal((await client.me()).username, "training-team");
  }, { timeoutMs: 300 });
});

Deno.test("[calcom] client odd answers: HTML 502 retryable, 408 retryable, malformed 200 not", async () => {
  await withCalcom(async ({ emulator, client }) => {
    emulator.failNext(1, { status: 502, rawBody: "<html>Bad gateway</html>" });
    const gateway = await rejects(client.me());
    assert.deepEqual([gateway.status, gateway.code, gateway.retryable], [502, "HTTP_502", true]);

    emulator.failNext(1, { status: 408 });
    assert.equal((await rejects(client.me())).retryable, true);

    emulator.failNext(1, { status: 200, rawBody: JSON.stringify({ status: "success", data: { id: "x" } }) });
    const odd = await rejects(client.me());
    assert.deepEqual([odd.status, odd.code, odd.retryable], [200, "INVALID_RESPONSE", false]);

    if (hasCalcomReference()) { // the contract flags both deliberate answers
      assert.deepEqual(emulator.violations.map((v) => [v.direction, v.status]), [["response", 502], ["response", 200]]);
      assert.deepEqual(emulator.violations[0].problems, ["response body is not JSON"]);
      assert.ok(emulator.violations[1].problems.some((p) => p.includes("/data/id must be number")));
      emulator.violations.length = 0;
    }
  });
});

Deno.test("[calcom] client never reveals the API key (inspection, errors)", async () => {
  await withCalcom(async ({ emulator }) => {
    const secretKey = emulator.apiKey;
    const client = createCalcomClient({ baseUrl: emulator.url, apiKey: secretKey, timeoutMs: 300 });
    assert.ok(!Deno.inspect(client, { depth: 10, showHidden: true }).includes(secretKey));
    emulator.failNext(1, { status: 500 });
    const failed = await rejects(client.me());
    await emulator.down();
    const offline = await rejects(client.me());
    for (const e of [failed, offline]) {
      assert.ok(!Deno.inspect(e, { depth: 10 }).includes(secretKey));
      assert.ok(!JSON.stringify({ ...e, message: e.message }).includes(secretKey));
    }
  });
});

Deno.test("[calcom] client refuses to cancel or move without a seat uid", async () => {
  const client = createCalcomClient({ baseUrl: "http://127.0.0.1:9", apiKey: "cal_x" });
  await assert.rejects(client.cancelSeat("uid", ""), TypeError);
  await assert.rejects(client.rescheduleSeat("uid", "", startAt(1)), TypeError);
});
