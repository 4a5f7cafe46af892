/**
 * One Cal.com reconciliation pass over the store, the same pass the hourly `Deno.cron` runs.
 *
 *   deno task calcom:reconcile [--dry-run] [--tenant <slug>] [--past-hours N] [--ahead-days N] [--json]
 *
 * `--dry-run` prints the plan and changes nothing. The store is `DENO_KV_PATH` or ./data/app.kv;
 * tenants come from `CALCOM_*` and the stored tenants. Exit 1 when a tenant could not be read.
 */
import { BookingEngine } from "../lib/booking/engine.ts";
import { reconcile, reconcileDepsFor } from "../lib/calcom/reconcile.ts";
import { loadConfig } from "../lib/config.ts";
import { openStore } from "../lib/store/kv.ts";

const USAGE =
  "Usage: deno task calcom:reconcile [--dry-run] [--tenant <slug>] [--past-hours N] [--ahead-days N] [--json]";

function parseArgs(args: string[]) {
  const out = { dryRun: false, json: false, tenant: undefined as string | undefined, pastHours: 24, aheadDays: 90 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const num = () => {
      const n = Number(args[++i]);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${a} needs a number`);
      return n;
    };
    if (a === "--dry-run") out.dryRun = true;
    else if (a === "--json") out.json = true;
    else if (a === "--tenant" && args[i + 1]) out.tenant = args[++i];
    else if (a === "--past-hours") out.pastHours = num();
    else if (a === "--ahead-days") out.aheadDays = num();
    else throw new Error(`unknown argument ${a}`);
  }
  return out;
}

let opts: ReturnType<typeof parseArgs>;
try {
  opts = parseArgs(Deno.args);
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  Deno.exit(2);
}

const config = loadConfig();
const kv = await openStore(config.kvPath);
try {
  const engine = new BookingEngine(kv, { holdMinutes: config.holdMinutes });
  const report = await reconcile(reconcileDepsFor(kv, config, engine), opts);
  if (opts.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    const verb = report.dryRun ? "would" : "did";
    console.log(
      `${
        report.dryRun ? "Plan (dry run, nothing changed)" : "Reconciled"
      }: ${report.window.from} → ${report.window.to}`,
    );
    for (const t of report.tenants) {
      console.log(`  tenant ${t.slug}: ${t.sessions} mirrored session(s)${t.error ? `; error: ${t.error}` : ""}`);
    }
    if (report.tenants.length === 0) {
      console.log("  no tenant can call Cal.com (set CALCOM_API_URL and CALCOM_API_KEY)");
    }
    for (const s of report.steps.filter((s) => s.action !== "verified")) {
      console.log(
        `  ${verb} ${s.action.padEnd(12)} session ${s.sessionId} ${s.email ?? "-"} booking ${s.bookingId ?? "-"} ` +
          `cal ${s.calBookingUid ?? "-"}: ${s.reason}${s.result ? ` → ${s.result}` : ""}`,
      );
    }
    console.log(`  counts: ${JSON.stringify(report.counts)}`);
  }
  if (report.tenants.some((t) => t.error)) Deno.exitCode = 1;
} finally {
  kv.close();
}
