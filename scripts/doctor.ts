/**
 * Checks the store: recounts every session's seats from holds, bookings and waitlist offers and
 * reports each mismatch (the same report as GET /api/v1/admin/consistency). Exit code 1 when
 * anything disagrees.
 *
 *   deno task doctor [--json]
 */
import { checkConsistency } from "../lib/booking/consistency.ts";
import { openStore } from "../lib/store/kv.ts";

const json = Deno.args.includes("--json");
const kv = await openStore();
try {
  const t0 = performance.now();
  const report = await checkConsistency(kv);
  const tookMs = Math.round(performance.now() - t0);
  if (json) {
    console.log(JSON.stringify({ ok: report.problems.length === 0, ...report, tookMs }, null, 2));
  } else if (report.problems.length === 0) {
    console.log(`OK: ${report.sessions} sessions recounted in ${tookMs} ms; seats, places and indexes agree.`);
  } else {
    console.log(`${report.problems.length} problem(s) in ${report.sessions} sessions (${tookMs} ms):`);
    for (const p of report.problems) console.log(`  ${p.code}  session ${p.sessionId ?? "-"}  ${p.message}`);
  }
  if (report.problems.length) Deno.exitCode = 1;
} finally {
  kv.close();
}
