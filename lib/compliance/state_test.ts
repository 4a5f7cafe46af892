import assert from "node:assert/strict";
import { addMonths, daysBetween, endOfDay, localDate } from "./dates.ts";
import {
  alertThreshold,
  certificationsOf,
  complianceState,
  DEFAULT_COMPLIANCE_SETTINGS,
  dueSoonThreshold,
  type RequiredCourse,
  requiredCoursesFor,
  type RequirementRule,
} from "./state.ts";

const S = DEFAULT_COMPLIANCE_SETTINGS; // America/Chicago, 30-day window
const COURSE = "01JCOURSE000000000000000001";
const need = (over: Partial<RequiredCourse> = {}): RequiredCourse => ({
  courseId: COURSE,
  validMonths: null,
  dueOn: null,
  requirementIds: [],
  assignmentId: null,
  ...over,
});
const done = (completedAt: string) => [{ courseId: COURSE, completedAt }];

Deno.test("[compliance] dates: months clamp to the month's end and days count calendar days", () => {
  assert.equal(addMonths("2027-01-31", 1), "2027-02-28");
  assert.equal(addMonths("2028-01-31", 1), "2028-02-29");
  assert.equal(addMonths("2026-11-15", 3), "2027-02-15");
  assert.equal(addMonths("2026-03-15", -3), "2025-12-15");
  assert.equal(daysBetween("2026-03-01", "2026-03-15"), 14);
  assert.equal(daysBetween("2026-03-15", "2026-03-01"), -14);
});

Deno.test("[compliance] a certification expiring across a daylight-saving change keeps its local expiry day", () => {
  // Completed 15 Jan 2026, 23:30 in Chicago (CST, 05:30 UTC on the 16th); valid 2 months → through 15 Mar
  // local. DST starts 8 Mar 2026, so the last valid local evening is already 16 Mar in UTC.
  const completedAt = "2026-01-16T05:30:00.000Z";
  assert.equal(localDate(new Date(completedAt), S.timeZone), "2026-01-15");
  const n = need({ validMonths: 2 });
  const lastEvening = new Date("2026-03-16T04:30:00.000Z"); // 15 Mar 23:30 CDT
  const cell = complianceState(n, done(completedAt), [], lastEvening, S);
  assert.equal(cell.expiresOn, "2026-03-15");
  assert.equal(cell.state, "expiring");
  assert.equal(cell.daysLeft, 0);
  // The day ends at local midnight, 05:00 UTC under CDT (06:00 under CST would be an hour late).
  assert.equal(endOfDay("2026-03-15", S.timeZone).toISOString(), "2026-03-16T05:00:00.000Z");
  const justAfter = complianceState(n, done(completedAt), [], new Date("2026-03-16T05:00:00.000Z"), S);
  assert.equal(justAfter.state, "overdue");
  assert.equal(justAfter.daysLeft, -1);
});

Deno.test("[compliance] a completion on the last valid day renews the certification without a gap", () => {
  const n = need({ validMonths: 12 });
  const first = "2025-03-10T15:00:00.000Z"; // 10 Mar 2025, valid through 10 Mar 2026
  const lastDay = new Date("2026-03-10T22:00:00.000Z"); // still 10 Mar in Chicago
  assert.equal(complianceState(n, done(first), [], lastDay, S).state, "expiring");
  const renewed = [...done(first), { courseId: COURSE, completedAt: "2026-03-10T21:00:00.000Z" }];
  const cell = complianceState(n, renewed, [], lastDay, S);
  assert.equal(cell.state, "completed");
  assert.equal(cell.expiresOn, "2027-03-10");
  assert.equal(cell.completedAt, "2026-03-10T21:00:00.000Z");
});

Deno.test("[compliance] completing an assignment on its due date is on time; the day after it is overdue", () => {
  const n = need({ dueOn: "2027-01-14" });
  const evening = new Date("2027-01-15T03:00:00.000Z"); // 14 Jan 21:00 CST
  assert.equal(complianceState(n, [], [], evening, S).state, "missing");
  assert.equal(complianceState(n, done("2027-01-15T02:00:00.000Z"), [], evening, S).state, "completed");
  const nextDay = new Date("2027-01-15T06:30:00.000Z"); // 15 Jan 00:30 CST
  const cell = complianceState(n, [], [], nextDay, S);
  assert.equal(cell.state, "overdue");
  assert.equal(cell.daysLeft, -1);
});

Deno.test("[compliance] a cancelled booked seat turns the course back into overdue", () => {
  const n = need({ dueOn: "2027-01-14" });
  const now = new Date("2027-01-20T15:00:00.000Z");
  const seat = { sessionId: "s1", startsAt: "2027-01-25T15:00:00.000Z" };
  const booked = complianceState(n, [], [seat], now, S);
  assert.equal(booked.state, "booked");
  assert.deepEqual(booked.seat, { ...seat, late: true });
  // The booking is cancelled: it is no longer among the person's confirmed seats.
  const after = complianceState(n, [], [], now, S);
  assert.equal(after.state, "overdue");
  assert.equal(after.seat, null);
});

Deno.test("[compliance] booked needs an upcoming seat; one before the due date is not late", () => {
  const n = need({ dueOn: "2027-01-14" });
  const now = new Date("2027-01-05T15:00:00.000Z");
  const cell = complianceState(n, [], [{ sessionId: "s1", startsAt: "2027-01-14T20:00:00.000Z" }], now, S);
  assert.equal(cell.state, "booked");
  assert.equal(cell.seat?.late, false);
  const past = complianceState(n, [], [{ sessionId: "s0", startsAt: "2027-01-04T15:00:00.000Z" }], now, S);
  assert.equal(past.state, "missing");
  assert.equal(past.daysLeft, 9);
});

Deno.test("[compliance] expiring follows the configured window; once-only courses never lapse", () => {
  const n = need({ validMonths: 12 });
  const completed = done("2026-01-20T15:00:00.000Z"); // expires 20 Jan 2027
  const now = new Date("2026-12-10T15:00:00.000Z"); // 41 days left
  assert.equal(complianceState(n, completed, [], now, S).state, "completed");
  assert.equal(complianceState(n, completed, [], now, { ...S, expiringWindowDays: 60 }).state, "expiring");
  const recert = complianceState(n, completed, [{ sessionId: "s", startsAt: "2027-01-05T15:00:00.000Z" }], now, {
    ...S,
    expiringWindowDays: 60,
  });
  assert.equal(recert.state, "booked");
  const once = complianceState(need(), done("2010-01-01T00:00:00.000Z"), [], now, S);
  assert.equal(once.state, "completed");
  assert.equal(once.expiresOn, null);
  assert.equal(once.dueOn, null);
});

Deno.test("[compliance] requirements apply by role, job function or dealer and merge per course", () => {
  const rule = (over: Partial<RequirementRule>): RequirementRule => ({
    id: "r",
    courseId: COURSE,
    roles: [],
    jobFunctions: [],
    dealerIds: [],
    periodMonths: null,
    dueOn: null,
    ...over,
  });
  const person = { id: "p1", roles: ["learner"], jobFunction: "technician", dealerId: "d1" };
  const other = "01JCOURSE000000000000000002";
  const needs = requiredCoursesFor(person, [
    rule({ id: "r1", roles: ["learner"], periodMonths: 24, dueOn: "2027-03-01" }),
    rule({ id: "r2", jobFunctions: ["technician"], periodMonths: 12 }),
    rule({ id: "r3", dealerIds: ["d2"], courseId: other }),
    rule({ id: "r4", jobFunctions: ["sales"], courseId: other }),
  ], [
    { id: "a1", learnerId: "p1", courseId: COURSE, dueOn: "2027-02-01" },
    { id: "a2", learnerId: "p2", courseId: other, dueOn: "2027-02-01" },
  ], (id) => id === COURSE ? 36 : null);
  assert.deepEqual(needs, [{
    courseId: COURSE,
    validMonths: 12,
    dueOn: "2027-02-01",
    requirementIds: ["r1", "r2"],
    assignmentId: "a1",
  }]);
});

Deno.test("[compliance] certifications list their expiry; alerts fire at the configured thresholds", () => {
  const certs = certificationsOf(
    [
      { courseId: "a", completedAt: "2025-06-01T15:00:00.000Z" },
      { courseId: "b", completedAt: "2026-01-01T15:00:00.000Z" },
      { courseId: "c", completedAt: "2026-01-01T15:00:00.000Z" },
    ],
    (id) => id === "a" ? 12 : id === "b" ? 24 : null,
    new Date("2026-05-20T15:00:00.000Z"),
    S,
  );
  assert.deepEqual(certs.map((c) => [c.courseId, c.expiresOn, c.status, c.daysLeft]), [
    ["a", "2026-06-01", "expiring", 12],
    ["b", "2028-01-01", "valid", 591],
  ]);
  assert.equal(alertThreshold(61, [60, 30, 7]), null);
  assert.equal(alertThreshold(60, [60, 30, 7]), 60);
  assert.equal(alertThreshold(12, [60, 30, 7]), 30);
  assert.equal(alertThreshold(0, [60, 30, 7]), 7);
  assert.equal(alertThreshold(-1, [60, 30, 7]), null);
});

Deno.test("[compliance] local dates agree with Intl at every quarter hour around a DST change", () => {
  const fmt = new Intl.DateTimeFormat("en-CA", {
    timeZone: "America/Chicago",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  });
  for (let ms = Date.parse("2026-11-01T00:00:00Z"); ms < Date.parse("2026-11-02T12:00:00Z"); ms += 7 * 60_000) {
    assert.equal(localDate(new Date(ms), "America/Chicago"), fmt.format(new Date(ms)), new Date(ms).toISOString());
  }
});

Deno.test("[compliance] due soon: 14 and 3 days before a due date across a DST change, each reached at local midnight", () => {
  // Due 19 Mar 2026 in Chicago; DST starts 8 Mar, so local midnight is 06:00 UTC before and 05:00 UTC after.
  const n = need({ dueOn: "2026-03-19", assignmentId: "a1" });
  let at = Date.parse("2026-03-01T00:00:00.000Z");
  const clock = { now: () => new Date(at), advance: (ms: number) => at += ms };
  const reached: [string, number | null][] = [];
  const identities = new Set<string>();
  let last: number | null | undefined;
  while (at < Date.parse("2026-03-21T00:00:00.000Z")) {
    const cell = complianceState(n, [], [], clock.now(), S);
    const threshold = dueSoonThreshold(cell, S.dueSoonDays);
    if (threshold !== last) reached.push([clock.now().toISOString(), threshold]);
    if (threshold !== null) identities.add(`${cell.courseId}:${cell.dueOn}:${threshold}`);
    last = threshold;
    clock.advance(15 * 60_000);
  }
  assert.deepEqual(reached, [
    ["2026-03-01T00:00:00.000Z", null],
    ["2026-03-05T06:00:00.000Z", 14], // 5 Mar 00:00 CST: 14 days left
    ["2026-03-16T05:00:00.000Z", 3], // 16 Mar 00:00 CDT: 3 days left
    ["2026-03-20T05:00:00.000Z", null], // 20 Mar: overdue, no longer "due soon"
  ]);
  assert.equal(identities.size, 2, "one identity per threshold, however often the scan runs");
});

Deno.test("[compliance] due soon: not when done, booked (even late), expiring, overdue or without a date", () => {
  const now = new Date("2026-03-10T15:00:00.000Z");
  const soon = need({ dueOn: "2026-03-12" });
  const threshold = (n: RequiredCourse, completions = [] as { courseId: string; completedAt: string }[], seats = []) =>
    dueSoonThreshold(complianceState(n, completions, seats, now, S), S.dueSoonDays);
  assert.equal(threshold(soon), 3);
  assert.equal(threshold(need({ dueOn: "2026-03-10" })), 3, "due today: still the 3-day alert");
  assert.equal(threshold(need({ dueOn: "2026-03-30" })), null, "20 days left: none yet");
  assert.equal(threshold(need({ dueOn: null })), null);
  assert.equal(threshold(need({ dueOn: "2026-03-09" })), null, "overdue has its own alert");
  assert.equal(threshold(soon, done("2026-01-10T15:00:00.000Z")), null, "done");
  const booked = complianceState(soon, [], [{ sessionId: "s", startsAt: "2026-03-20T15:00:00.000Z" }], now, S);
  assert.deepEqual([booked.state, booked.seat?.late], ["booked", true]);
  assert.equal(dueSoonThreshold(booked, S.dueSoonDays), null, "a booked person is on track, even with a late seat");
  const expiring = complianceState(
    need({ validMonths: 12, dueOn: "2026-03-12" }),
    done("2025-03-15T15:00:00.000Z"),
    [],
    now,
    S,
  );
  assert.equal(expiring.state, "expiring");
  assert.equal(dueSoonThreshold(expiring, S.dueSoonDays), null, "certification.expiring covers it");
  assert.equal(dueSoonThreshold({ state: "missing", dueOn: "2026-03-12", daysLeft: 2 }, [21, 7, 1]), 7);
});
