/**
 * Recounts the report aggregates from the whole history and compares them with what is stored
 * (lib/reports/recount.ts); `--repair` rewrites what differs. With a worker running, the worker's
 * aggregator runs it (under its lease) and this waits for the answer. Exit code 1 when anything
 * disagreed (even if repaired).
 *
 *   deno task reports:recount [--repair] [--json]
 */
import { recountNow } from "../lib/reports/job.ts";
import { openStore } from "../lib/store/kv.ts";

const json = Deno.args.includes("--json");
const repair = Deno.args.includes("--repair");
const kv = await openStore();
try {
  const r = await recountNow(kv, { repair });
  if (!r) {
    console.log(
      "The worker did not answer within 10 minutes; its recount result will be in GET /api/v1/admin/reports/recount.",
    );
    Deno.exitCode = 2;
  } else if (json) {
    console.log(JSON.stringify(r, null, 2));
  } else if (r.ok) {
    console.log(`OK: ${r.eventsScanned} events recounted into ${r.rows} rows in ${r.tookMs} ms; the aggregates agree.`);
  } else {
    console.log(`${r.differences.length} blob(s) differ (${r.repaired} repaired) after ${r.eventsScanned} events:`);
    for (const d of r.differences) console.log(`  ${JSON.stringify(d.key)}  sessions ${d.sessions.join(", ")}`);
  }
  if (r && !r.ok) Deno.exitCode = 1;
} finally {
  kv.close();
}
