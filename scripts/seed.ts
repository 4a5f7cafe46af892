/**
 * Seeds the demo data into the app's KV store.
 *
 *   deno task seed           load demo data unless this seed version is already loaded
 *   deno task seed --reset   delete every key first, then load
 *
 * The store is `DENO_KV_PATH` or ./data/app.kv.
 */
import { openStore } from "../lib/store/kv.ts";
import { resetAndSeed, seedDemoData } from "../lib/seed/seed.ts";
import { seedTeachingDemo } from "../lib/seed/teaching.ts";
import { DEMO_HISTORY_BOOKINGS, seedReportHistory } from "../lib/seed/report_history.ts";

const reset = Deno.args.includes("--reset");
const unknown = Deno.args.filter((a) => a !== "--reset");
if (unknown.length) {
  console.error(`Unknown argument(s): ${unknown.join(" ")}\nUsage: deno task seed [--reset]`);
  Deno.exit(2);
}

const kv = await openStore();
try {
  const result = reset ? await resetAndSeed(kv) : await seedDemoData(kv);
  const teaching = await seedTeachingDemo(kv);
  if (teaching.live) console.log(`Instructor demo: a session live now (${teaching.live}).`);
  if (result.deleted) console.log(`Deleted ${result.deleted} keys.`);
  if (!result.seeded) {
    const why = result.reason === "seed_in_progress"
      ? "another process is seeding right now"
      : `demo data ${result.version} is already loaded (use --reset to reload)`;
    console.log(`Nothing to do: ${why}.`);
  } else {
    console.log(`Seeded demo data ${result.version} in ${(result.ms / 1000).toFixed(2)} s:`);
    console.table(result.counts);
  }
  if (await seedReportHistory(kv)) console.log(`Wrote ${DEMO_HISTORY_BOOKINGS} past bookings for the reports.`);
} finally {
  kv.close();
}
