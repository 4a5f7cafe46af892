import assert from "node:assert/strict";
import { distanceKm } from "../booking/ranking.ts";
import { seedDemoData } from "../seed/mod.ts";
import { listLocations } from "../store/mod.ts";
import { encodeSessionCursor } from "../store/session_cursor.ts";
import {
  browseNearMe,
  browseSessions,
  isNearCursor,
  NEAR_RADIUS_KM,
  parseBrowseFilters,
  toDateProblem,
} from "./browse.ts";

Deno.test("[catalog] near=1 is accepted; any other near value is ignored with a note", () => {
  assert.deepEqual(parseBrowseFilters(new URLSearchParams("near=1")), { filters: { near: "1" }, problems: [] });
  const bad = parseBrowseFilters(new URLSearchParams("near=true&topic=safety"));
  assert.deepEqual(bad.filters, { topic: "safety" });
  assert.equal(bad.problems.length, 1);
  assert.match(bad.problems[0], /^Near me "true" .*it was ignored\.$/);
  assert.ok(isNearCursor("n24"));
  assert.ok(!isNearCursor("abc") && !isNearCursor(undefined));
});

Deno.test("[catalog] an end date that no upcoming session can have is found: before from, or before yesterday (UTC)", () => {
  const now = new Date("2026-03-10T02:00:00Z");
  assert.equal(toDateProblem({ from: "2026-03-20", to: "2026-03-19" }, now), "before_from");
  assert.equal(toDateProblem({ to: "2026-03-08" }, now), "past");
  // Still 8 March somewhere (local dates trail UTC by up to a day), so "to 9 March" can match.
  assert.equal(toDateProblem({ to: "2026-03-09" }, now), null);
  assert.equal(toDateProblem({ from: "2026-03-20", to: "2026-03-20" }, now), null);
  assert.equal(toDateProblem({ from: "2026-03-20" }, now), null);
  const page = parseBrowseFilters(new URLSearchParams("to=2026-03-08&topic=safety"), now);
  assert.deepEqual(page.filters, { topic: "safety" });
  assert.deepEqual(page.problems, [
    "The end date is in the past, and only upcoming sessions are listed; the end date was ignored.",
  ]);
});

Deno.test("[catalog] a cursor or location the page did not make is ignored with a note", () => {
  const cursor = encodeSessionCursor({ startsAt: "2026-03-10T02:00:00.000Z", id: "01ARZ3NDEKTSV4RRFFQ69G5FAV" });
  const now = new Date("2026-03-10T02:00:00Z");
  assert.deepEqual(parseBrowseFilters(new URLSearchParams({ cursor }), now).filters, { cursor });
  assert.deepEqual(parseBrowseFilters(new URLSearchParams("cursor=n24&location=online"), now).filters, {
    cursor: "n24",
    location: "online",
  });
  const bad = parseBrowseFilters(new URLSearchParams("cursor=garbage&location=bogus"), now);
  assert.deepEqual(bad.filters, {});
  assert.deepEqual(bad.problems, [
    'Location "bogus" is not a location of the list; it was ignored.',
    'Page "garbage" is not a page of this list; it was ignored.',
  ]);
});

Deno.test("[catalog] near me orders in-person sessions by whole km, then soonest, and pages by offset", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await seedDemoData(kv);
    const [origin] = await listLocations(kv);
    const first = await browseNearMe(kv, {}, origin, new Date(), 10);
    assert.ok(first.near && first.near.total > 10, "the demo catalog has sessions near its first location");
    assert.equal(first.rows.length, 10);
    assert.equal(first.nextCursor, "n10");
    const second = await browseNearMe(kv, { cursor: "n10" }, origin, new Date(), 10);
    assert.equal(second.near!.offset, 10);
    const rows = [...first.rows, ...second.rows];
    assert.equal(new Set(rows.map((r) => r.session.id)).size, rows.length, "no repeats across pages");
    for (const [i, r] of rows.entries()) {
      assert.notEqual(r.session.mode, "online");
      assert.equal(r.distanceKm, Math.round(distanceKm(origin, r.location!)));
      assert.ok(r.distanceKm! <= NEAR_RADIUS_KM);
      if (i === 0) continue;
      const prev = rows[i - 1];
      assert.ok(prev.distanceKm! <= r.distanceKm!, "nearest first");
      if (prev.distanceKm === r.distanceKm) assert.ok(prev.session.startsAt <= r.session.startsAt, "then soonest");
    }
    // Online only: near me has nothing to show.
    assert.equal((await browseNearMe(kv, { location: "online" }, origin)).rows.length, 0);
    // The plain listing carries no distances.
    assert.ok((await browseSessions(kv, {})).rows.every((r) => r.distanceKm === undefined));
  } finally {
    kv.close();
  }
});
