import assert from "node:assert/strict";
import { addLocalDays, zonedParts, zonedWallTimeToUtc, zoneOffsetMinutes } from "./zoned_time.ts";

const iso = (d: Date) => d.toISOString();

Deno.test("[domain] wall time to UTC follows DST in New York", () => {
  const tz = "America/New_York";
  // 2026-03-08 is the spring-forward Sunday in the US.
  assert.equal(
    iso(
      zonedWallTimeToUtc(
        { year: 2026, month: 3, day: 6, hour: 9, minute: 0 },
        tz,
      ),
    ),
    "2026-03-06T14:00:00.000Z",
  );
  assert.equal(
    iso(
      zonedWallTimeToUtc(
        { year: 2026, month: 3, day: 9, hour: 9, minute: 0 },
        tz,
      ),
    ),
    "2026-03-09T13:00:00.000Z",
  );
  // 2026-11-01 is the fall-back Sunday.
  assert.equal(
    iso(
      zonedWallTimeToUtc(
        { year: 2026, month: 11, day: 2, hour: 9, minute: 30 },
        tz,
      ),
    ),
    "2026-11-02T14:30:00.000Z",
  );
});

Deno.test("[domain] Phoenix has no DST; Los Angeles does", () => {
  const march = { year: 2026, month: 3, day: 20, hour: 10, minute: 0 };
  assert.equal(
    iso(zonedWallTimeToUtc(march, "America/Phoenix")),
    "2026-03-20T17:00:00.000Z",
  );
  assert.equal(
    iso(zonedWallTimeToUtc(march, "America/Los_Angeles")),
    "2026-03-20T17:00:00.000Z",
  );
  const jan = { ...march, month: 1 };
  assert.equal(
    iso(zonedWallTimeToUtc(jan, "America/Phoenix")),
    "2026-01-20T17:00:00.000Z",
  );
  assert.equal(
    iso(zonedWallTimeToUtc(jan, "America/Los_Angeles")),
    "2026-01-20T18:00:00.000Z",
  );
});

Deno.test("[domain] gap and overlap times resolve like Temporal 'compatible'", () => {
  const tz = "America/Chicago";
  // 02:30 does not exist on 2026-03-08 in Chicago: lands at 03:30 CDT.
  const gap = zonedWallTimeToUtc({
    year: 2026,
    month: 3,
    day: 8,
    hour: 2,
    minute: 30,
  }, tz);
  assert.equal(iso(gap), "2026-03-08T08:30:00.000Z");
  // 01:30 happens twice on 2026-11-01: the earlier (CDT) one wins.
  const dup = zonedWallTimeToUtc({
    year: 2026,
    month: 11,
    day: 1,
    hour: 1,
    minute: 30,
  }, tz);
  assert.equal(iso(dup), "2026-11-01T06:30:00.000Z");
});

Deno.test("[domain] zonedParts and offsets round-trip", () => {
  const d = new Date("2026-07-04T16:45:00Z");
  const p = zonedParts(d, "America/Denver");
  assert.deepEqual(p, {
    year: 2026,
    month: 7,
    day: 4,
    hour: 10,
    minute: 45,
    second: 0,
    weekday: 6,
  });
  assert.equal(zoneOffsetMinutes(d, "America/Denver"), -360);
  assert.equal(
    zoneOffsetMinutes(new Date("2026-01-04T16:45:00Z"), "America/Denver"),
    -420,
  );
  assert.deepEqual(addLocalDays({ year: 2026, month: 12, day: 30 }, 3), {
    year: 2027,
    month: 1,
    day: 2,
  });
});
