import assert from "node:assert/strict";
import { CALCOM_API_VERSIONS } from "../../lib/calcom/client.ts";
import { startCalcomEmulator } from "./emulator.ts";
import { loadContract } from "./fixture.ts";
import { OpenApiContract } from "./openapi_contract.ts";
import { skipWithoutCalcomReference } from "./reference.ts";

const ignore = skipWithoutCalcomReference();

async function contract(): Promise<OpenApiContract> {
  const c = await loadContract();
  assert.ok(c, "reference data present");
  return c;
}

const bookings = { Authorization: "Bearer cal_test", "cal-api-version": CALCOM_API_VERSIONS.bookings };
const seatBody = {
  start: "2030-05-06T09:00:00Z",
  eventTypeId: 1001,
  attendee: { name: "Learner", email: "learner@example.com", timeZone: "Europe/Berlin", language: "en" },
};

/** A seated booking as the 2024-08-13 API answers it (GetSeatedBookingOutput). */
function seatedBooking(): Record<string, unknown> {
  return {
    id: 5001,
    uid: "qVyXscm1ryg2QoQ4K8uHLW",
    title: "First aid basics",
    description: "",
    hosts: [{ id: 42, name: "Training Team", email: "t@example.com", username: "t", timeZone: "UTC" }],
    status: "accepted",
    start: "2030-05-06T09:00:00.000Z",
    end: "2030-05-06T10:30:00.000Z",
    duration: 90,
    eventTypeId: 1001,
    eventType: { id: 1001, slug: "first-aid-basics" },
    location: "1 Main St",
    absentHost: false,
    createdAt: "2030-05-01T09:00:00.000Z",
    updatedAt: "2030-05-01T09:00:00.000Z",
    attendees: [{
      name: "Learner",
      email: "learner@example.com",
      timeZone: "Europe/Berlin",
      absent: false,
      seatUid: "3be561a9-31f1-4b8e-aefc-9d9a085f0dd1",
      bookingFieldsResponses: {},
    }],
  };
}

Deno.test({
  name: "[calcom] contract finds the operation for a concrete path, literal paths first",
  ignore,
  async fn() {
    const c = await contract();
    const id = (m: string, p: string) => c.findOperation(m, p)?.operationId;
    assert.equal(id("GET", "/v2/me"), "MeController_getMe");
    assert.equal(id("POST", "/v2/event-types"), "EventTypesController_2024_06_14_createEventType");
    assert.equal(id("PATCH", "/v2/event-types/1001"), "EventTypesController_2024_06_14_updateEventType");
    assert.equal(id("DELETE", "/v2/event-types/1001"), "EventTypesController_2024_06_14_deleteEventType");
    assert.equal(id("POST", "/v2/bookings"), "BookingsController_2024_08_13_createBooking");
    assert.equal(id("GET", "/v2/bookings?take=5"), "BookingsController_2024_08_13_getBookings");
    assert.equal(id("GET", "/v2/bookings/abc"), "BookingsController_2024_08_13_getBooking");
    assert.equal(id("POST", "/v2/bookings/abc/cancel"), "BookingsController_2024_08_13_cancelBooking");
    assert.equal(id("POST", "/v2/bookings/abc/reschedule"), "BookingsController_2024_08_13_rescheduleBooking");
    assert.equal(id("POST", "/v2/bookings/abc/mark-absent"), "BookingsController_2024_08_13_markNoShow");
    assert.deepEqual(c.findOperation("POST", "/v2/bookings/abc/cancel")?.pathParams, { bookingUid: "abc" });
    assert.equal(c.findOperation("GET", "/v2/nothing-here"), undefined);
    assert.equal(c.findOperation("PUT", "/v2/bookings"), undefined);
  },
});

Deno.test({
  name: "[calcom] contract catches wrong requests: missing field, wrong type, wrong version, unknown query",
  ignore,
  async fn() {
    const c = await contract();
    assert.deepEqual(c.checkRequest({ method: "POST", url: "/v2/bookings", headers: bookings, body: seatBody }), []);

    const { attendee: _dropped, ...noAttendee } = seatBody;
    const missing = c.checkRequest({ method: "POST", url: "/v2/bookings", headers: bookings, body: noAttendee });
    assert.ok(missing.some((p) => p.includes("required property 'attendee'")), missing.join("\n"));

    const wrongType = c.checkRequest({
      method: "POST",
      url: "/v2/bookings",
      headers: bookings,
      body: { ...seatBody, eventTypeId: "1001" },
    });
    assert.ok(wrongType.some((p) => p.includes("/eventTypeId must be number")), wrongType.join("\n"));

    const noBody = c.checkRequest({ method: "POST", url: "/v2/bookings/abc/cancel", headers: bookings });
    assert.deepEqual(noBody, ["a JSON request body is required"]);

    const version = c.checkRequest({
      method: "GET",
      url: "/v2/bookings?eventTypeId=1001&take=ten&eventTypeID=3",
      headers: { ...bookings, "cal-api-version": CALCOM_API_VERSIONS.eventTypes },
    });
    assert.deepEqual(version, [
      "header cal-api-version must be 2024-08-13, got 2024-06-14",
      "query take must be number",
      "query parameter eventTypeID is not in the document",
    ]);

    const location = c.checkRequest({
      method: "POST",
      url: "/v2/event-types",
      headers: { ...bookings, "cal-api-version": CALCOM_API_VERSIONS.eventTypes },
      body: { title: "T", slug: "t", lengthInMinutes: 60, locations: [{ type: "address", address: "1 Main St" }] },
    });
    assert.ok(location.some((p) => p.includes("required property 'public'")), location.join("\n"));
  },
});

Deno.test({
  name: "[calcom] contract catches wrong responses: shape, status casing, undocumented status, bad error envelope",
  ignore,
  async fn() {
    const c = await contract();
    const ok = { status: "success", data: seatedBooking() };
    assert.deepEqual(c.checkResponse("GET", "/v2/bookings/x", { status: 200, body: ok }), []);

    const upper = { status: "success", data: { ...seatedBooking(), status: "ACCEPTED" } };
    assert.ok(c.checkResponse("GET", "/v2/bookings/x", { status: 200, body: upper }).length > 0);

    const { attendees: _a, ...noAttendees } = seatedBooking();
    const missing = c.checkResponse("GET", "/v2/bookings/x", {
      status: 200,
      body: { status: "success", data: noAttendees },
    });
    assert.ok(missing.some((p) => p.includes("required property 'attendees'")), missing.join("\n"));

    assert.deepEqual(
      c.checkResponse("POST", "/v2/bookings", { status: 200, body: ok }),
      ["status 200 is not documented (documented: 201)"],
    );

    const badError = c.checkResponse("GET", "/v2/me", { status: 401, body: { status: "error", message: "no" } });
    assert.ok(badError.some((p) => p.includes("required property 'error'")), badError.join("\n"));
    const goodError = {
      status: "error",
      timestamp: new Date().toISOString(),
      path: "/v2/me",
      error: { code: "UnauthorizedException", message: "Invalid API key" },
    };
    assert.deepEqual(c.checkResponse("GET", "/v2/me", { status: 401, body: goodError }), []);
  },
});

Deno.test({
  name: "[calcom] contract handles nullable beside $ref/allOf and checks overlapping oneOf as anyOf",
  ignore,
  async fn() {
    const c = await contract();
    const me = { id: 1, username: "u", email: "e", timeFormat: 24, weekStart: "Monday", timeZone: "UTC" };
    const nulls = { ...me, defaultScheduleId: null, organizationId: null };
    assert.deepEqual(c.checkResponse("GET", "/v2/me", { status: 200, body: { status: "success", data: nulls } }), []);
    const wrong = { ...me, defaultScheduleId: "7", organizationId: null };
    assert.ok(c.checkResponse("GET", "/v2/me", { status: 200, body: { status: "success", data: wrong } }).length > 0);
    // GetEventTypeOutput.data is `{nullable: true, allOf: [$ref]}` (no `type`): null must pass.
    assert.deepEqual(
      c.checkResponse("GET", "/v2/event-types/1", { status: 200, body: { status: "success", data: null } }),
      [],
    );

    // Cal.com's oneOf alternatives overlap: a seat cancel `{seatUid}` also matches CancelBookingInput
    // (all optional), and a seat booking matches both CreateBookingInput and CreateRecurringBookingInput.
    const strict = new OpenApiContract(c.document, { strictOneOf: true });
    const cancel = { method: "POST", url: "/v2/bookings/abc/cancel", headers: bookings, body: { seatUid: "s-1" } };
    assert.deepEqual(strict.checkRequest(cancel), ["body must match exactly one schema in oneOf"]);
    assert.ok(
      strict.checkRequest({ method: "POST", url: "/v2/bookings", headers: bookings, body: seatBody }).length > 0,
    );
    assert.deepEqual(c.checkRequest(cancel), []);
  },
});

Deno.test({
  name: "[calcom] emulator records a contract violation for every non-conforming request",
  ignore,
  async fn() {
    await using emulator = startCalcomEmulator({ contract: await contract() });
    const post = (path: string, body: unknown, version: string) =>
      fetch(`${emulator.url}${path}`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${emulator.apiKey}`,
          "cal-api-version": version,
          "Content-Type": "application/json",
        },
        body: JSON.stringify(body),
      });
    const noAttendee = await post("/v2/bookings", { start: "2030-05-06T09:00:00Z", eventTypeId: 1 }, "2024-08-13");
    assert.equal(noAttendee.status, 400);
    await noAttendee.body?.cancel();
    const oldVersion = await post("/v2/bookings", { ...seatBody }, "2024-04-15");
    assert.equal(oldVersion.status, 400);
    assert.match((await oldVersion.json()).error.message, /cal-api-version must be 2024-08-13/);

    assert.deepEqual(emulator.violations.map((v) => [v.direction, v.operationId]), [
      ["request", "BookingsController_2024_08_13_createBooking"],
      ["request", "BookingsController_2024_08_13_createBooking"],
    ]);
    assert.ok(emulator.violations[0].problems.some((p) => p.includes("'attendee'")));
    assert.ok(emulator.violations[1].problems.some((p) => p.includes("cal-api-version")));
  },
});
