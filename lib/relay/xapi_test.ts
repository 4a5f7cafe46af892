import assert from "node:assert/strict";
import xapiValidation from "@learninglocker/xapi-validation";
import { type DomainEvent, EVENT_TYPES, type EventType, listEvents, type Origin } from "../booking/events.ts";
import {
  admin,
  putCourse,
  putLocation,
  putSession,
  putUser,
  self,
  setup,
  teardown,
} from "../../tests/booking/test_fixtures.ts";
import {
  courseActivityId,
  EXT,
  loadStatementContext,
  sessionActivityId,
  SYSTEM_AGENT,
  topicFor,
  toStatement,
  VERBS,
  XAPI_BASE,
  type XapiStatement,
} from "./xapi.ts";

// The package is CommonJS with `exports.default`; Deno's default import is the whole
// `module.exports` (and typed so), so the function is its `default`.
const validate = xapiValidation.default;

/** Learning Locker's validator (conformance-tested against the xAPI spec): [] when valid. */
function problems(statement: unknown): string[] {
  return validate(statement).map((w) => `${w.path.join(".")}: ${w.constructor.name}`);
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Event data shaped like the booking engine's (lib/booking/engine.ts, session_tx.ts). */
function dataFor(type: EventType, registration: string, otherSessionId: string): Record<string, unknown> {
  const holdId = "01JHOLD0000000000000000000";
  const bookingId = "01JBOOK0000000000000000000";
  const expiresAt = "2026-03-01T15:15:00.000Z";
  switch (type) {
    case "session.scheduled":
      return {};
    case "session.updated":
      return { changes: { capacity: { from: 10, to: 12 } } };
    case "session.cancelled":
      return { bookingsCancelled: 2 };
    case "hold.placed":
      return { holdId, expiresAt };
    case "hold.released":
      return { holdId, kind: "hold" };
    case "hold.expired":
      return { holdId, kind: "offer", expiresAt };
    case "booking.confirmed":
      return { bookingId, holdId, registration, viaOffer: false };
    case "booking.cancelled":
      return { bookingId, registration, late: true, cutoffHours: 24 };
    case "booking.rescheduled":
      return {
        bookingId,
        fromBookingId: "01JBOOK0000000000000000001",
        fromSessionId: otherSessionId,
        toSessionId: "",
        registration,
        late: false,
      };
    case "waitlist.joined":
    case "waitlist.left":
      return { joinedAt: "2026-03-01T14:00:00.000Z" };
    case "waitlist.offered":
      return { holdId, expiresAt, joinedAt: "2026-03-01T14:00:00.000Z" };
    case "attendance.recorded":
      return { bookingId, registration, status: "attended", source: "calcom:MEETING_ENDED", previousStatus: null };
    case "alternatives.offered":
      return {
        shownOn: "session_page",
        alternatives: [{ sessionId: otherSessionId, score: 101.5, reasons: ["same course", "in 3 days"] }],
      };
    case "course.completed":
      return {
        bookingId,
        registration,
        courseId: "01JCOURSE00000000000000000",
        method: "in_person",
        durationSeconds: 5400,
      };
  }
}

function event(
  type: EventType,
  sessionId: string,
  learnerId: string | null,
  actorId: string | null,
  data: Record<string, unknown>,
  origin: Origin = "web",
): DomainEvent {
  return {
    id: crypto.randomUUID(),
    key: "01JKEY0000000000000000000",
    type,
    schemaVersion: 1,
    occurredAt: "2026-03-01T15:00:00.123Z",
    origin,
    correlationId: crypto.randomUUID(),
    actor: { userId: actorId },
    sessionId,
    learnerId,
    reason: null,
    data,
  };
}

async function world(kv: Deno.Kv) {
  const location = await putLocation(kv);
  const basics = await putCourse(kv, { code: "SAF-100", title: "Safety Basics" });
  const course = await putCourse(kv, { prerequisiteCourseIds: [basics.id] });
  const instructor = await putUser(kv, { name: "Ida Instructor", roles: ["instructor"] });
  const learner = await putUser(kv, { name: "Lea Learner", email: "lea.learner@example.com" });
  const staff = await putUser(kv, { name: "Ada Admin", roles: ["admin"] });
  const session = await putSession(kv, course.id, {
    mode: "in_person",
    locationId: location.id,
    joinUrl: null,
    instructorId: instructor.id,
    capacity: 12,
  });
  const other = await putSession(kv, course.id, { instructorId: instructor.id });
  return { location, basics, course, instructor, learner, staff, session, other };
}

Deno.test("[xapi] every event type becomes a statement the independent validator accepts", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const w = await world(kv);
    const registration = crypto.randomUUID();
    for (const type of EVENT_TYPES) {
      const isSession = type.startsWith("session.");
      const ev = event(
        type,
        w.session.id,
        isSession ? null : w.learner.id,
        isSession ? w.staff.id : w.learner.id,
        dataFor(type, registration, w.other.id),
      );
      const s = toStatement(ev, await loadStatementContext(kv, ev));
      assert.deepEqual(problems(s), [], `${type}: ${JSON.stringify(s, null, 2)}`);
      assert.equal(s.id, ev.id, type);
      assert.match(s.timestamp, TIMESTAMP, type);
      assert.equal(s.verb.id, VERBS[type].id);
      assert.equal(s.verb.display["en-US"], VERBS[type].display["en-US"]);
      assert.equal(s.actor.mbox, isSession ? "mailto:" + w.staff.email : "mailto:lea.learner@example.com", type);
      assert.match(s.actor.mbox!, /^mailto:[^@\s]+@[^@\s]+$/);
      assert.equal(s.object.id, sessionActivityId(w.session.id));
      assert.equal(s.object.definition.name["en-US"], w.course.title);
      assert.equal(s.object.definition.type, "http://adlnet.gov/expapi/activities/meeting");
      assert.deepEqual(s.context.contextActivities?.parent.map((a) => a.id), [courseActivityId(w.course.id)]);
      assert.equal(s.context.instructor?.mbox, `mailto:${w.instructor.email}`);
      const x = s.context.extensions;
      assert.equal(x[EXT.eventType], type);
      assert.equal(x[EXT.sessionId], w.session.id);
      assert.equal(x[EXT.correlationId], ev.correlationId);
      assert.equal(x[EXT.origin], "web");
      assert.equal(x[EXT.capacity], 12);
      assert.equal(x[EXT.startsAt], w.session.startsAt);
      assert.equal(x[EXT.endsAt], w.session.endsAt);
      assert.equal((x[EXT.location] as { id: string }).id, w.location.id);
      assert.deepEqual(x[EXT.prerequisites], [{ id: w.basics.id, activity: courseActivityId(w.basics.id) }]);
      if (type.startsWith("booking.") || type === "attendance.recorded" || type === "course.completed") {
        assert.equal(s.context.registration, registration, type);
        assert.match(s.context.registration!, UUID);
      } else {
        assert.equal(s.context.registration, undefined, type);
      }
    }
  } finally {
    kv.close();
  }
});

Deno.test("[xapi] the validator is live: it rejects broken statements", () => {
  const ok: XapiStatement = {
    id: crypto.randomUUID(),
    actor: { objectType: "Agent", mbox: "mailto:a@example.com" },
    verb: { id: VERBS["booking.confirmed"].id, display: { "en-US": "registered" } },
    object: {
      objectType: "Activity",
      id: sessionActivityId("S1"),
      definition: { name: { "en-US": "x" }, type: "t:x" },
    },
    context: { platform: "p", extensions: {} },
    timestamp: "2026-03-01T15:00:00.000Z",
  };
  assert.deepEqual(problems(ok), []);
  assert.notDeepEqual(problems({ ...ok, id: "not-a-uuid" }), []);
  assert.notDeepEqual(problems({ ...ok, actor: { objectType: "Agent", mbox: "a@example.com" } }), []);
  assert.notDeepEqual(problems({ ...ok, timestamp: "yesterday" }), []);
  assert.notDeepEqual(problems({ ...ok, context: { ...ok.context, registration: "reg-1" } }), []);
});

Deno.test("[xapi] session events: acting user, else the instructor, else the system agent", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const w = await world(kv);
    const byStaff = event("session.scheduled", w.session.id, null, w.staff.id, {}, "admin");
    assert.equal(toStatement(byStaff, await loadStatementContext(kv, byStaff)).actor.mbox, `mailto:${w.staff.email}`);

    const bySystem = event("session.cancelled", w.session.id, null, null, {}, "system");
    const s = toStatement(bySystem, await loadStatementContext(kv, bySystem));
    assert.equal(s.actor.mbox, `mailto:${w.instructor.email}`);

    const unknown = event("session.updated", "01JNOSUCHSESSION0000000000", null, null, {}, "system");
    const s2 = toStatement(unknown, await loadStatementContext(kv, unknown));
    assert.deepEqual(s2.actor, SYSTEM_AGENT);
    assert.equal(s2.context.contextActivities, undefined);
    assert.deepEqual(problems(s2), []);
    assert.deepEqual(problems(s), []);
  } finally {
    kv.close();
  }
});

Deno.test("[xapi] a learner missing from the store becomes an account agent; acted-by records staff", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const w = await world(kv);
    const gone = "01JGONE0000000000000000000";
    const ev = event("waitlist.joined", w.session.id, gone, w.staff.id, { joinedAt: "2026-03-01T14:00:00.000Z" });
    const s = toStatement(ev, await loadStatementContext(kv, ev));
    assert.deepEqual(s.actor, { objectType: "Agent", account: { homePage: XAPI_BASE, name: gone } });
    assert.equal(s.context.extensions[EXT.actedBy], w.staff.id);
    assert.deepEqual(problems(s), []);
  } finally {
    kv.close();
  }
});

Deno.test("[xapi] cancellations carry late-cancel in the result", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const w = await world(kv);
    for (const late of [true, false]) {
      const ev = event("booking.cancelled", w.session.id, w.learner.id, w.learner.id, {
        bookingId: "B",
        registration: crypto.randomUUID(),
        late,
        cutoffHours: 24,
      });
      const s = toStatement(ev, await loadStatementContext(kv, ev));
      assert.deepEqual(s.result, { extensions: { [EXT.lateCancel]: late } });
      assert.equal(s.verb.id, "http://id.tincanapi.com/verb/unregistered");
    }
    const confirmed = event("booking.confirmed", w.session.id, w.learner.id, w.learner.id, {});
    assert.equal(toStatement(confirmed, await loadStatementContext(kv, confirmed)).result, undefined);
  } finally {
    kv.close();
  }
});

Deno.test("[xapi] topicFor: sessions, registrations, and Cal.com bookings", () => {
  const t = (type: EventType, origin: Origin = "web") => topicFor({ type, origin });
  for (const type of ["session.scheduled", "session.updated", "session.cancelled"] as const) {
    assert.equal(t(type), "nlj.training.scheduled");
    assert.equal(t(type, "calcom"), "nlj.training.scheduled");
  }
  const own = ["session.", "attendance.", "course."];
  for (const type of EVENT_TYPES.filter((x) => !own.some((p) => x.startsWith(p)))) {
    assert.equal(t(type), "nlj.training.registration", type);
  }
  assert.equal(t("attendance.recorded"), "nlj.training.attendance");
  assert.equal(t("attendance.recorded", "calcom"), "nlj.training.attendance");
  assert.equal(t("course.completed"), "nlj.training.completion");
  assert.equal(t("booking.confirmed", "calcom"), "cal.booking.created");
  assert.equal(t("booking.cancelled", "calcom"), "cal.booking.cancelled");
  assert.equal(t("booking.rescheduled", "calcom"), "cal.booking.rescheduled");
  assert.equal(t("hold.placed", "calcom"), "nlj.training.registration");
});

Deno.test("[xapi] verbs: the design's registered IRIs, every other verb under the one project base", () => {
  assert.equal(VERBS["booking.confirmed"].id, "http://adlnet.gov/expapi/verbs/registered");
  assert.equal(VERBS["booking.cancelled"].id, "http://id.tincanapi.com/verb/unregistered");
  assert.equal(VERBS["session.scheduled"].id, "http://activitystrea.ms/schema/1.0/schedule");
  assert.equal(VERBS["session.cancelled"].id, "http://activitystrea.ms/schema/1.0/cancel");
  const ids = EVENT_TYPES.map((type) => VERBS[type].id);
  assert.equal(new Set(ids).size, ids.length, "one verb per event type");
  for (const type of EVENT_TYPES) {
    const v = VERBS[type];
    assert.equal(v.id.startsWith(`${XAPI_BASE}/verbs/`), !v.registered, type);
    assert.ok(v.display["en-US"]);
  }
});

Deno.test("[xapi] events from the real booking engine become valid statements", async () => {
  const { kv, engine, course } = await setup();
  try {
    const location = await putLocation(kv);
    const instructor = await putUser(kv, { roles: ["instructor"] });
    const session = await putSession(kv, course.id, {
      mode: "in_person",
      locationId: location.id,
      joinUrl: null,
      instructorId: instructor.id,
    });
    const learner = await putUser(kv);
    const { hold } = await engine.placeHold(session.id, learner.id, self(learner.id));
    const { booking } = await engine.confirmHold(hold.id, self(learner.id));
    await engine.cancelBooking(booking.id, admin());
    const { events } = await listEvents(kv);
    assert.deepEqual(events.map((e) => e.type), ["hold.placed", "booking.confirmed", "booking.cancelled"]);
    for (const ev of events) {
      const s = toStatement(ev, await loadStatementContext(kv, ev));
      assert.deepEqual(problems(s), [], ev.type);
      assert.equal(s.id, ev.id);
      assert.equal(s.actor.mbox, `mailto:${learner.email}`);
      if (ev.type !== "hold.placed") assert.equal(s.context.registration, booking.registration);
    }
  } finally {
    await teardown(kv);
  }
});

Deno.test("[xapi] attendance: verb attended, success for attended, false plus a status extension for no-show", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const w = await world(kv);
    const registration = crypto.randomUUID();
    for (const status of ["attended", "no_show"] as const) {
      const ev = event("attendance.recorded", w.session.id, w.learner.id, null, {
        bookingId: "01JBOOK0000000000000000000",
        registration,
        status,
        source: "calcom:BOOKING_NO_SHOW_UPDATED",
        previousStatus: null,
      }, "calcom");
      const s = toStatement(ev, await loadStatementContext(kv, ev));
      assert.deepEqual(problems(s), [], JSON.stringify(s, null, 2));
      assert.equal(s.verb.id, "http://adlnet.gov/expapi/verbs/attended");
      assert.equal(s.result?.success, status === "attended");
      assert.equal(s.result?.extensions[EXT.attendanceStatus], status);
      assert.equal(s.context.registration, registration);
      assert.equal(s.actor.mbox, "mailto:lea.learner@example.com");
      assert.equal(topicFor(ev), "nlj.training.attendance");
    }
  } finally {
    kv.close();
  }
});
