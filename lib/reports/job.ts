/**
 * The `reports` background job: a {@link LeasedLoop} that folds pending events, views and decided
 * alternative offers into the report blobs (lib/reports/aggregator.ts), woken by every commit of
 * this process. A recount asked for by the daily cron, the API or `deno task reports:recount`
 * (`["report_meta", "recount_request"]`) runs inside the loop, under the same lease, so nothing is
 * folded while it scans.
 */
import { onEventsCommitted } from "../booking/events.ts";
import { keys } from "../store/keys.ts";
import { LeasedLoop } from "../worker/leased_loop.ts";
import { runExclusive } from "../worker/lease.ts";
import { foldPending, handled, REPORTS_JOB } from "./aggregator.ts";
import { recountReports, type RecountResult } from "./recount.ts";

/** A recount asked for. */
export interface RecountRequest {
  id: string;
  repair: boolean;
  at: string;
}

/** Settings of the loop. */
export interface ReportsJobOptions {
  /** Longest wait between looks (default 1 000 ms): views and due offers are folded at most this late. */
  maxIdleMs?: number;
  leaseMs?: number;
  owner?: string;
  log?: (message: string) => void;
}

/** The aggregator loop (not started). `now` is the business clock (decides when offers are due). */
export function createReportsJob(kv: Deno.Kv, now: () => Date, options: ReportsJobOptions = {}): LeasedLoop {
  const log = options.log ?? ((m: string) => console.log(m));
  let more = false;
  return new LeasedLoop(kv, REPORTS_JOB, {
    step: async ({ lease }) => {
      const request = await kv.get<RecountRequest>(keys.reportMeta("recount_request"));
      if (request.value) {
        const r = await recountReports(kv, lease, { repair: request.value.repair });
        await lease.guard(kv.atomic()).check(request).delete(request.key)
          .set(keys.reportMeta("recount"), {
            ...r,
            requestId: request.value.id,
            differences: r.differences.slice(0, 20),
          })
          .commit();
        log(`reports recount: ${r.ok ? "agrees" : `${r.differences.length} blob(s) differ, ${r.repaired} repaired`}`);
        return 1;
      }
      const r = await foldPending(kv, lease.guard, now());
      if (r === null) {
        await lease.verify(); // throws when the lease changed hands
        throw new Error("reports: the fold did not commit");
      }
      more = r.more;
      return handled(r);
    },
    idleMs: options.maxIdleMs ?? 1_000,
    // Under light load, gather a bigger batch per step instead of folding every commit on its own; after a full
    // page a backlog is waiting, so go on at once.
    lingerMs: () => more ? 0 : 200,
    wakeOn: (wake) => onEventsCommitted(wake, "reports"),
    leaseMs: options.leaseMs,
    owner: options.owner,
  });
}

/** Asks the running aggregator for a recount (the daily cron; the API). Returns the request id. */
export async function requestRecount(kv: Deno.Kv, repair: boolean): Promise<string> {
  const id = crypto.randomUUID();
  await kv.set(
    keys.reportMeta("recount_request"),
    { id, repair, at: new Date().toISOString() } satisfies RecountRequest,
  );
  return id;
}

/** The last recount's result (with the id of the request it answered, when it was one). */
export async function lastRecount(kv: Deno.Kv): Promise<(RecountResult & { requestId?: string }) | null> {
  return (await kv.get<RecountResult & { requestId?: string }>(keys.reportMeta("recount"))).value;
}

/** Runs a recount here under the aggregator's lease; null when a worker holds it (ask it instead). */
export async function tryRecountHere(kv: Deno.Kv, repair: boolean): Promise<RecountResult | null> {
  let result: RecountResult | null = null;
  const ran = await runExclusive(kv, REPORTS_JOB, async (lease) => {
    result = await recountReports(kv, lease, { repair });
  }, { leaseMs: 60_000 });
  return ran ? result : null;
}

/**
 * Runs a recount now when no worker holds the aggregator's lease (the script, tests), else asks the
 * worker and waits up to `waitMs` for its answer. Null when the worker did not answer in time.
 */
export async function recountNow(
  kv: Deno.Kv,
  options: { repair?: boolean; waitMs?: number } = {},
): Promise<RecountResult | null> {
  const here = await tryRecountHere(kv, options.repair ?? false);
  if (here) return here;
  const id = await requestRecount(kv, options.repair ?? false);
  const deadline = Date.now() + (options.waitMs ?? 10 * 60_000);
  while (Date.now() < deadline) {
    const last = await lastRecount(kv);
    if (last?.requestId === id) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  return null;
}
