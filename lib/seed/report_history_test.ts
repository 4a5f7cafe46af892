import assert from "node:assert/strict";
import { seedDemoData } from "./seed.ts";
import { DEMO_HISTORY_BOOKINGS, seedReportHistory } from "./report_history.ts";
import { buildReport, clearReportCache } from "../reports/query.ts";
import { recountReports } from "../reports/recount.ts";

const openFence = { guard: (op: Deno.AtomicOperation) => op, ensure: () => Promise.resolve() };

Deno.test("[seed] the demo report history is written once, and the recount agrees with its aggregates", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const now = new Date("2026-06-15T12:00:00Z");
    await seedDemoData(kv, { now });
    assert.equal(await seedReportHistory(kv, { now }), true);
    assert.equal(await seedReportHistory(kv, { now }), false);
    clearReportCache();
    const r = await buildReport(kv, {});
    assert.ok(r.sessions > 100, `${r.sessions} sessions`);
    assert.ok(r.totals.bookings >= DEMO_HISTORY_BOOKINGS);
    assert.ok(r.noShows.count > 0 && r.lateCancels.count > 0 && r.waitlist.offers > 0);
    assert.ok(r.byCourse.length > 1 && r.byLocation.length > 1);
    const recount = await recountReports(kv, openFence, {});
    assert.equal(recount.ok, true, JSON.stringify(recount.differences.slice(0, 3)));
    assert.ok(recount.eventsScanned >= 2 * DEMO_HISTORY_BOOKINGS);
  } finally {
    kv.close();
  }
});
