/**
 * The report recount (like `deno task doctor` for seats): folds the WHOLE history again into empty
 * rows, compares them with the stored day blobs and, with `repair`, rewrites every blob that
 * differs. Sources: the event history `["events", …]`, the per-session view counters and the
 * decided alternative offers, with the same fold as the aggregator (lib/reports/ledger.ts).
 *
 * It runs under the aggregator's lease (nothing is folded meanwhile), so "what the blobs should
 * hold" is exactly: every event committed before the recount started and not pending in the
 * `reports` outbox, every view not pending in the inbox, every decided offer. Events committed
 * after the start (their commit versionstamp is later) are left to the aggregator.
 *
 * Known limit: rows follow each learner's CURRENT dealer and each session's current fields; the
 * aggregator used them as they were when it folded, so a learner who changed dealer since shows up
 * as a difference, which a repair settles in favour of the current dealer.
 */
import type { DomainEvent } from "../booking/events.ts";
import type { Session, User } from "../domain/mod.ts";
import { keys } from "../store/keys.ts";
import type { Lease } from "../worker/lease.ts";
import { ulid } from "ulid";
import { bookingOf, sessionMeta } from "./aggregator.ts";
import { foldAltOffer, foldEvent, type FoldLookup, foldViews, Ledger, offerAccepted } from "./ledger.ts";
import type { AltOffer, ReportBlob, ReportInboxItem, ReportRow, SessionMeta } from "./model.ts";

/** One blob whose stored rows differ from the recount. */
export interface BlobDifference {
  key: Deno.KvKey;
  /** Sessions whose row differs (or exists on one side only). */
  sessions: string[];
}

/** What a recount found. */
export interface RecountResult {
  ok: boolean;
  eventsScanned: number;
  /** Events left to the aggregator (pending, or committed after the recount started). */
  eventsPending: number;
  blobs: number;
  rows: number;
  differences: BlobDifference[];
  repaired: number;
  tookMs: number;
  at: string;
}

/** What the recount needs of the lease: its guard, and renewal during a long scan. */
export type RecountFence = Pick<Lease, "guard" | "ensure">;

/** Rows in a canonical form (sorted people maps) for comparison. */
function canonical(row: ReportRow | undefined): string {
  if (!row) return "";
  const sort = (m: Record<string, number>) => Object.keys(m).sort().map((k) => [k, m[k]]);
  return JSON.stringify([row.c, row.l, row.i, row.cap, row.x, row.n, sort(row.ns), sort(row.lc)]);
}

function differingSessions(a: ReportBlob | null, b: ReportBlob | null): string[] {
  const ids = new Set([...Object.keys(a?.rows ?? {}), ...Object.keys(b?.rows ?? {})]);
  return [...ids].filter((id) => canonical(a?.rows[id]) !== canonical(b?.rows[id])).sort();
}

/** Recounts every report blob; with `repair`, rewrites the ones that differ. Run it under {@link REPORTS_JOB}'s lease. */
export async function recountReports(
  kv: Deno.Kv,
  fence: RecountFence,
  options: { repair?: boolean; leaseMs?: number } = {},
): Promise<RecountResult> {
  const t0 = performance.now();
  const leaseMs = options.leaseMs ?? 60_000;
  await fence.ensure(leaseMs);
  // The start: a commit whose versionstamp splits "before" from "after".
  const start = await fence.guard(kv.atomic()).set(keys.reportMeta("recount_start"), { at: new Date().toISOString() })
    .commit();
  if (!start.ok) throw new Error("recount: the reports lease changed hands");
  const startVs = start.versionstamp;
  const pendingEvents = new Set<string>();
  for await (const e of kv.list<DomainEvent>({ prefix: keys.outboxPrefix("reports") }, { batchSize: 1000 })) {
    pendingEvents.add(String(e.key[3]));
  }

  // Lookups: every session and every user's dealer (the fold attributes rows to them).
  const sessions = new Map<string, SessionMeta>();
  for await (const e of kv.list<Session>({ prefix: ["sessions"] }, { batchSize: 1000 })) {
    sessions.set(e.value.id, sessionMeta(e.value));
  }
  const dealers = new Map<string, string | null>();
  for await (const e of kv.list<User>({ prefix: ["users"] }, { batchSize: 1000 })) {
    dealers.set(e.value.id, e.value.dealerId ?? null);
  }
  const look: FoldLookup = { session: (id) => sessions.get(id) ?? null, dealerOf: (id) => dealers.get(id) ?? null };
  const ledger = new Ledger();

  // Decided alternative offers, and their learners' bookings gathered from the same scan.
  const offers: AltOffer[] = [];
  for await (const e of kv.list<AltOffer>({ prefix: keys.reportAltOffersPrefix() })) {
    if (e.value.decided) offers.push(e.value);
  }
  const offerLearners = new Map<string, { sessionId: string; createdAtMs: number }[]>(
    offers.map((o) => [o.learnerId, []]),
  );

  let eventsScanned = 0;
  let eventsPending = 0;
  for await (const e of kv.list<DomainEvent>({ prefix: keys.eventsPrefix() }, { batchSize: 1000 })) {
    eventsScanned++;
    if (eventsScanned % 20_000 === 0) await fence.ensure(leaseMs);
    if (e.value.learnerId && offerLearners.has(e.value.learnerId)) {
      offerLearners.get(e.value.learnerId)!.push(...bookingOf(e.value));
    }
    const vs = e.value.commitVersionstamp ?? e.versionstamp;
    if (vs > startVs || pendingEvents.has(e.value.key)) {
      eventsPending++;
      continue;
    }
    foldEvent(ledger, e.value, look);
  }

  // Views: the counters minus views still in the inbox (committed with their counter increment).
  const pendingViews = new Map<string, { vs: string }[]>();
  for await (const e of kv.list<ReportInboxItem>({ prefix: keys.reportInboxPrefix() })) {
    const id = `${e.value.sessionId}/${e.value.dealerId ?? "-"}`;
    pendingViews.set(id, [...pendingViews.get(id) ?? [], { vs: e.versionstamp }]);
  }
  for await (const e of kv.list<Deno.KvU64>({ prefix: keys.reportViewCountsPrefix() })) {
    const [, sessionId, dealer] = e.key as [string, string, string];
    const meta = sessions.get(sessionId);
    if (!meta) continue;
    const pending = (pendingViews.get(`${sessionId}/${dealer}`) ?? []).filter((p) => p.vs <= e.versionstamp).length;
    const folded = Number(e.value.value) - pending;
    if (folded > 0) foldViews(ledger, meta, dealer === "-" ? null : dealer, folded);
  }

  // Alternative offers the aggregator decided, decided again from the learner's bookings.
  for (const offer of offers) {
    foldAltOffer(ledger, { ...offer, accepted: offerAccepted(offer, offerLearners.get(offer.learnerId) ?? []) }, look);
  }

  // Compare with what is stored (both sides: a stored blob the recount has no rows for is wrong too).
  const expected = new Map([...ledger.blobs.values()].map((b) => [JSON.stringify(b.key), b]));
  const differences: BlobDifference[] = [];
  let blobs = 0;
  let rows = 0;
  const seen = new Set<string>();
  for (const prefix of [keys.reportDaysPrefix(), ["report_dealer_days"]]) {
    for await (const e of kv.list<ReportBlob>({ prefix }, { batchSize: 500 })) {
      blobs++;
      rows += Object.keys(e.value.rows).length;
      const id = JSON.stringify(e.key);
      seen.add(id);
      const diff = differingSessions(e.value, expected.get(id)?.blob ?? null);
      if (diff.length) differences.push({ key: e.key, sessions: diff });
    }
  }
  for (const [id, b] of expected) {
    if (!seen.has(id) && Object.keys(b.blob.rows).length) {
      differences.push({ key: b.key, sessions: Object.keys(b.blob.rows).sort() });
    }
  }

  let repaired = 0;
  if (options.repair && differences.length) {
    for (let i = 0; i < differences.length; i += 20) {
      await fence.ensure(leaseMs);
      const op = fence.guard(kv.atomic());
      for (const d of differences.slice(i, i + 20)) {
        const blob = expected.get(JSON.stringify(d.key))?.blob;
        if (blob && Object.keys(blob.rows).length) op.set(d.key, blob);
        else op.delete(d.key);
      }
      op.set(keys.reportMeta("version"), ulid());
      if (!(await op.commit()).ok) throw new Error("recount: the reports lease changed hands");
      repaired += Math.min(20, differences.length - i);
    }
  }
  const result: RecountResult = {
    ok: differences.length === 0,
    eventsScanned,
    eventsPending,
    blobs,
    rows,
    differences: differences.slice(0, 100),
    repaired,
    tookMs: Math.round(performance.now() - t0),
    at: new Date().toISOString(),
  };
  await kv.set(keys.reportMeta("recount"), { ...result, differences: result.differences.slice(0, 20) });
  return result;
}
