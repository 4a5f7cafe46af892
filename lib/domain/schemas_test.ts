import assert from "node:assert/strict";
import {
  AttendanceRecordSchema,
  BookingSchema,
  CalendarDateSchema,
  CourseSchema,
  DealerSchema,
  findPrerequisiteCycle,
  HoldSchema,
  isHoldLive,
  LocationSchema,
  newId,
  parseOrThrow,
  SessionSchema,
  UserSchema,
  UtcDateTimeSchema,
  ValidationError,
  WaitlistEntrySchema,
} from "./mod.ts";
import { NOW, validCourse, validLocation, validSession, validUser } from "./test_fixtures.ts";
import type { z } from "zod";

/** Asserts that parsing fails with an issue at `path` whose message matches. */
function assertRejects(
  schema: z.ZodType,
  value: unknown,
  path: string,
  message: RegExp,
) {
  try {
    parseOrThrow(schema, value, "thing");
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected ValidationError`);
    const issue = err.issues.find((i) => i.path === path);
    assert.ok(
      issue,
      `no issue at "${path}"; got ${JSON.stringify(err.issues)}`,
    );
    assert.match(issue.message, message);
    assert.match(err.message, /^Invalid thing: /);
    return;
  }
  assert.fail(`expected ${path} to be rejected`);
}

Deno.test("[domain] valid samples parse and get defaults", () => {
  const loc = parseOrThrow(LocationSchema, validLocation());
  assert.equal(loc.active, true);
  const course = parseOrThrow(CourseSchema, validCourse());
  assert.equal(course.lateCancelCutoffHours, 24);
  assert.equal(course.required, false);
  const session = parseOrThrow(SessionSchema, validSession());
  assert.equal(session.startsAt, "2026-03-10T14:00:00.000Z", "normalised");
  assert.equal(session.status, "scheduled");
  assert.equal(session.waitlistEnabled, true);
  assert.equal(session.calcom, null);
  const user = parseOrThrow(UserSchema, validUser());
  assert.equal(user.email, "ana.lopez@example.com");
  assert.deepEqual(user.completedCourses, []);
});

Deno.test("[domain] location rejects unknown time zone with a clear message", () => {
  assertRejects(
    LocationSchema,
    { ...validLocation(), timeZone: "Mars/Olympus" },
    "timeZone",
    /"Mars\/Olympus" is not a known IANA time zone/,
  );
  assertRejects(
    LocationSchema,
    { ...validLocation(), timeZone: "+05:00" },
    "timeZone",
    /not a known IANA time zone/,
  );
});

Deno.test("[domain] location rejects bad address and coordinates", () => {
  const loc = validLocation();
  assertRejects(
    LocationSchema,
    { ...loc, address: { ...loc.address as object, region: "XX" } },
    "address.region",
    /US state code/,
  );
  assertRejects(
    LocationSchema,
    { ...loc, address: { ...loc.address as object, postalCode: "ABC" } },
    "address.postalCode",
    /ZIP/,
  );
  assertRejects(LocationSchema, { ...loc, lat: 91 }, "lat", /at most 90/);
  assertRejects(
    LocationSchema,
    { ...loc, slug: "Bad Slug" },
    "slug",
    /lower-case/,
  );
});

Deno.test("[domain] session rejects end before start", () => {
  assertRejects(
    SessionSchema,
    { ...validSession(), endsAt: "2026-03-10T13:00:00Z" },
    "endsAt",
    /must be after startsAt/,
  );
});

Deno.test("[domain] session rejects non-UTC timestamps", () => {
  assertRejects(
    SessionSchema,
    { ...validSession(), startsAt: "2026-03-10T14:00:00+02:00" },
    "startsAt",
    /UTC ISO date-time ending in Z/,
  );
});

Deno.test("[domain] session mode needs location and/or join URL", () => {
  assertRejects(
    SessionSchema,
    { ...validSession(), locationId: null },
    "locationId",
    /required for in_person sessions/,
  );
  assertRejects(
    SessionSchema,
    { ...validSession(), mode: "online", locationId: null },
    "joinUrl",
    /required for online sessions/,
  );
  const hybrid = { ...validSession(), mode: "hybrid", locationId: null };
  assertRejects(SessionSchema, hybrid, "locationId", /hybrid/);
  assertRejects(SessionSchema, hybrid, "joinUrl", /hybrid/);
  assertRejects(
    SessionSchema,
    { ...validSession(), mode: "online", joinUrl: "not a url" },
    "joinUrl",
    /valid URL/,
  );
  const ok = parseOrThrow(SessionSchema, {
    ...validSession(),
    mode: "online",
    locationId: null,
    joinUrl: "https://meet.example.com/saf-101-abc",
  });
  assert.equal(ok.mode, "online");
});

Deno.test("[domain] session rejects negative or zero capacity", () => {
  assertRejects(
    SessionSchema,
    { ...validSession(), capacity: -3 },
    "capacity",
    /^must be at least 1$/,
  );
  assertRejects(
    SessionSchema,
    { ...validSession(), capacity: 0 },
    "capacity",
    /at least 1/,
  );
  assertRejects(
    SessionSchema,
    { ...validSession(), capacity: 10001 },
    "capacity",
    /at most 10000/,
  );
  assertRejects(
    SessionSchema,
    { ...validSession(), capacity: 2.5 },
    "capacity",
    /whole number/,
  );
});

Deno.test("[domain] ValidationError message reads as path: message", () => {
  try {
    parseOrThrow(SessionSchema, { ...validSession(), capacity: 0 }, "session");
    assert.fail("should throw");
  } catch (err) {
    assert.ok(err instanceof ValidationError);
    assert.equal(err.message, "Invalid session: capacity: must be at least 1");
    assert.deepEqual(err.issues, [{
      path: "capacity",
      message: "must be at least 1",
    }]);
  }
});

Deno.test("[domain] course rejects unknown programType and topic", () => {
  assertRejects(
    CourseSchema,
    { ...validCourse(), programType: "bootcamp" },
    "programType",
    /must be one of: onboarding, new_hire, compliance, development, customer_partner/,
  );
  assertRejects(
    CourseSchema,
    { ...validCourse(), topic: "cooking" },
    "topic",
    /one of/,
  );
});

Deno.test("[domain] course rejects bad code, duration and self-prerequisite", () => {
  assertRejects(
    CourseSchema,
    { ...validCourse(), code: "saf101" },
    "code",
    /SAF-101/,
  );
  assertRejects(
    CourseSchema,
    { ...validCourse(), durationMinutes: 10 },
    "durationMinutes",
    /at least 15/,
  );
  assertRejects(
    CourseSchema,
    { ...validCourse(), durationMinutes: 601 },
    "durationMinutes",
    /at most 600/,
  );
  const c = validCourse();
  assertRejects(
    CourseSchema,
    { ...c, prerequisiteCourseIds: [c.id] },
    "prerequisiteCourseIds",
    /own prerequisite/,
  );
});

Deno.test("[domain] email: at most 64 characters before the @, 63 per domain label and 254 in all", () => {
  const ok = `${"a".repeat(64)}@${"b".repeat(63)}.example.com`;
  assert.equal(UserSchema.parse({ ...validUser(), email: ` ${ok.toUpperCase()}\t` }).email, ok);
  // The fuzzer's case: a 113-character local part passed the pattern, and the 201 then broke the response schema.
  const long =
    "o.u0lf50ot5mg'67ox5ilcq.0s2s3l4.n5hgt1do9wamfj.aq8xdj1qgc59ye00dfb.0l.degp.8ysgbrnyld2fx0st.0ru7qogfkbu'xj_-.ynku";
  for (
    const email of [
      `${long}@cb.jtxrrk.zuiqivx`,
      `${"a".repeat(65)}@example.com`,
      `a@${"b".repeat(64)}.com`,
      `a@${`${"b".repeat(60)}.`.repeat(4)}${"c".repeat(10)}.com`,
    ]
  ) assertRejects(UserSchema, { ...validUser(), email }, "email", /valid email/);
});

Deno.test("[domain] user rejects bad email and empty roles", () => {
  assertRejects(
    UserSchema,
    { ...validUser(), email: "not-an-email" },
    "email",
    /valid email/,
  );
  assertRejects(
    UserSchema,
    { ...validUser(), roles: [] },
    "roles",
    /at least one role/,
  );
  assertRejects(
    UserSchema,
    { ...validUser(), roles: ["wizard"] },
    "roles.0",
    /one of/,
  );
  assertRejects(
    UserSchema,
    { ...validUser(), name: "" },
    "name",
    /must not be empty/,
  );
  assertRejects(
    UserSchema,
    { ...validUser(), name: undefined },
    "name",
    /is required/,
  );
});

Deno.test("[domain] dealer, booking, hold, waitlist and attendance validate", () => {
  assertRejects(
    DealerSchema,
    { id: newId(), name: "X", slug: "a b" },
    "slug",
    /lower-case/,
  );
  const booking = {
    id: newId(),
    sessionId: newId(),
    learnerId: newId(),
    status: "confirmed",
    registration: crypto.randomUUID(),
    origin: "web",
    createdAt: NOW,
    confirmedAt: NOW,
  };
  const parsed = parseOrThrow(BookingSchema, booking);
  assert.equal(parsed.lateCancel, false);
  assert.deepEqual(parsed.audit, []);
  assertRejects(
    BookingSchema,
    { ...booking, registration: "not-a-uuid" },
    "registration",
    /UUID/,
  );
  assertRejects(
    BookingSchema,
    { ...booking, status: "cancelled" },
    "cancelledAt",
    /required/,
  );
  assertRejects(
    BookingSchema,
    { ...booking, origin: "fax" },
    "origin",
    /one of: web, api/,
  );

  const hold = {
    id: newId(),
    sessionId: newId(),
    learnerId: newId(),
    kind: "hold",
    status: "active",
    createdAt: NOW,
    expiresAt: "2026-03-01T15:15:00.000Z",
    origin: "web",
  };
  assert.equal(parseOrThrow(HoldSchema, hold).idempotencyKey, null);
  assertRejects(
    HoldSchema,
    { ...hold, expiresAt: NOW },
    "expiresAt",
    /after createdAt/,
  );
  const h = parseOrThrow(HoldSchema, hold);
  assert.equal(isHoldLive(h, new Date("2026-03-01T15:10:00Z")), true);
  assert.equal(isHoldLive(h, new Date("2026-03-01T15:15:00Z")), false);
  assert.equal(isHoldLive({ ...h, status: "released" }, new Date(NOW)), false);

  assertRejects(
    WaitlistEntrySchema,
    { sessionId: newId(), learnerId: newId(), joinedAt: NOW, status: "maybe" },
    "status",
    /waiting, offered, left, converted/,
  );
  assertRejects(
    AttendanceRecordSchema,
    {
      sessionId: newId(),
      learnerId: newId(),
      bookingId: newId(),
      status: "late",
      recordedAt: NOW,
      recordedBy: newId(),
      origin: "web",
    },
    "status",
    /attended, no_show, excused/,
  );
});

Deno.test("[domain] findPrerequisiteCycle finds cycles", () => {
  const [a, b, c] = [newId(), newId(), newId()];
  assert.deepEqual(
    findPrerequisiteCycle([
      { id: a, prerequisiteCourseIds: [] },
      { id: b, prerequisiteCourseIds: [a] },
      { id: c, prerequisiteCourseIds: [a, b] },
    ]),
    [],
  );
  const cycle = findPrerequisiteCycle([
    { id: a, prerequisiteCourseIds: [c] },
    { id: b, prerequisiteCourseIds: [a] },
    { id: c, prerequisiteCourseIds: [b] },
  ]);
  assert.deepEqual(new Set(cycle), new Set([a, b, c]));
});

Deno.test("[domain] newId is a monotonic ULID", () => {
  const ids = Array.from({ length: 1000 }, () => newId());
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  assert.match(ids[0], /^[0-9A-HJKMNP-TV-Z]{26}$/);
});

Deno.test("[domain] an unparsable date-time is a validation issue, not a thrown RangeError", () => {
  for (const input of ["x", "", "yesterday", "2026-13-01T00:00:00Z", "2026-02-30T10:00:00Z"]) {
    const r = UtcDateTimeSchema.safeParse(input);
    assert.equal(r.success, false, input);
  }
  const bad = UserSchema.safeParse({
    ...validUser(),
    completedCourses: [{ courseId: newId(), completedAt: "yesterday" }],
  });
  assert.equal(bad.success, false);
  assert.deepEqual(bad.error!.issues.map((i) => i.path.join(".")), ["completedCourses.0.completedAt"]);
  assert.equal(UtcDateTimeSchema.parse("2026-03-01T15:00:00Z"), "2026-03-01T15:00:00.000Z");
});

Deno.test("[domain] calendar dates: the pattern accepts exactly the real dates of years 1000-9999", () => {
  const pattern = new RegExp(CalendarDateSchema.toJSONSchema().pattern as string);
  const pad = (n: number, width: number) => String(n).padStart(width, "0");
  let real = 0;
  for (const year of [1000, 1582, 1600, 1700, 1800, 1900, 1999, 2000, 2023, 2024, 2026, 2100, 2400, 9996, 9999]) {
    for (let month = 0; month <= 13; month++) {
      for (let day = 0; day <= 32; day++) {
        const d = `${year}-${pad(month, 2)}-${pad(day, 2)}`;
        const t = Date.UTC(year, month - 1, day);
        const isReal = month >= 1 && month <= 12 && day >= 1 && new Date(t).toISOString().slice(0, 10) === d;
        if (isReal) real++;
        assert.equal(pattern.test(d), isReal, d);
        assert.equal(CalendarDateSchema.safeParse(d).success, isReal, d);
      }
    }
  }
  assert.equal(real, 15 * 365 + 5); // leap years in the list: 1600, 2000, 2024, 2400, 9996
  for (const bad of ["0000-00-00", "0999-12-31", "2026-1-01", "2026-01-01T00:00:00Z", " 2026-01-01", "20260101"]) {
    assert.equal(CalendarDateSchema.safeParse(bad).success, false, bad);
  }
});
