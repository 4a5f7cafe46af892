import assert from "node:assert/strict";
import { distanceKm } from "../booking/alternatives.ts";
import { seedDemoData } from "../seed/mod.ts";
import { listLocations } from "../store/mod.ts";
import { browseNearMe, browseSessions, isNearCursor, NEAR_RADIUS_KM, parseBrowseFilters } from "./browse.ts";

Deno.test("[catalog] near=1 is accepted; any other near value is ignored with a note", () => {
  assert.deepEqual(parseBrowseFilters(new URLSearchParams("near=1")), { filters: { near: "1" }, problems: [] });
  const bad = parseBrowseFilters(new URLSearchParams("near=true&topic=safety"));
  assert.deepEqual(bad.filters, { topic: "safety" });
  assert.equal(bad.problems.length, 1);
  assert.match(bad.problems[0], /^Near me "true" .*it was ignored\.$/);
  assert.ok(isNearCursor("n24"));
  assert.ok(!isNearCursor("abc") && !isNearCursor(undefined));
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
