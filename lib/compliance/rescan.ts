/**
 * Rescans between the nightly runs, for the people concerned:
 * - a requirement changed → everyone (`["compliance_meta", "rescan_all"]`);
 * - an assignment, or a booking made for a person → that person (`["compliance_rescan", id]`);
 * - a session opened or freed seats → the people whose stored gaps include its course
 *   ({@link SeatWatcher}, which compares each upcoming session's taken seats with its last look).
 * The worker's `compliance-rescan` loop (lib/worker/mod.ts) runs {@link runPendingRescans}.
 */
import type { SessionIndexEntry } from "../store/keys.ts";
import { keys } from "../store/keys.ts";
import type { LearnerRecommendations } from "./recommend.ts";
import { runComplianceScan, type ScanSummary } from "./scan.ts";
import type { ComplianceSettings } from "./state.ts";

/** Asks for a rescan of everyone, or of these people. */
export async function requestRescan(kv: Deno.Kv, who: "all" | readonly string[]): Promise<void> {
  const at = new Date().toISOString();
  if (who === "all") {
    await kv.set(keys.complianceMeta("rescan_all"), { at });
    return;
  }
  for (let i = 0; i < who.length; i += 500) {
    const op = kv.atomic();
    for (const id of who.slice(i, i + 500)) op.set(keys.complianceRescan(id), { at });
    await op.commit();
  }
}

/** At most this many people per targeted rescan. */
const RESCAN_BATCH = 500;

/**
 * Runs the rescans asked for: a full scan when one is wanted, else the people waiting (up to 500).
 * A request made while a scan runs stays for the next call (its marker is deleted only if unchanged).
 */
export async function runPendingRescans(
  kv: Deno.Kv,
  now: Date,
  settings: ComplianceSettings,
): Promise<ScanSummary | null> {
  const all = await kv.get(keys.complianceMeta("rescan_all"));
  if (all.versionstamp) {
    const summary = await runComplianceScan(kv, { now, settings });
    await kv.atomic().check(all).delete(all.key).commit();
    return summary;
  }
  const waiting: Deno.KvEntry<unknown>[] = [];
  for await (const e of kv.list({ prefix: keys.complianceRescanPrefix() }, { limit: RESCAN_BATCH })) waiting.push(e);
  if (!waiting.length) return null;
  const summary = await runComplianceScan(kv, { now, settings, learnerIds: waiting.map((e) => e.key[1] as string) });
  await Promise.all(waiting.map((e) => kv.atomic().check(e).delete(e.key).commit()));
  return summary;
}

/**
 * Notices sessions that opened or freed seats since its last look, and asks for a rescan of the
 * people whose stored gaps include their courses. The first look only learns the picture.
 */
export class SeatWatcher {
  #taken = new Map<string, number>();
  #primed = false;

  /** One look; returns how many people it asked to rescan. */
  async look(kv: Deno.Kv, now: Date): Promise<number> {
    const course = new Map<string, string>();
    const start = [...keys.sessionsByStartPrefix(), now.toISOString()];
    for await (const e of kv.list<SessionIndexEntry>({ start, end: [...keys.sessionsByStartPrefix(), "\uffff"] })) {
      if (e.value.status === "scheduled") course.set(e.value.id, e.value.courseId);
    }
    const ids = [...course.keys()];
    const taken = new Map<string, number>();
    for (let i = 0; i < ids.length; i += 10) {
      const chunk = ids.slice(i, i + 10);
      const got = await kv.getMany<{ confirmed: number; holds: number }[]>(chunk.map(keys.seats));
      got.forEach((g, j) => taken.set(chunk[j], (g.value?.confirmed ?? 0) + (g.value?.holds ?? 0)));
    }
    const changed = new Set<string>();
    if (this.#primed) {
      for (const [id, n] of taken) {
        const before = this.#taken.get(id);
        if (before === undefined || n < before) changed.add(course.get(id)!);
      }
    }
    this.#taken = taken;
    this.#primed = true;
    if (!changed.size) return 0;
    const people: string[] = [];
    for await (const e of kv.list<LearnerRecommendations>({ prefix: ["recommendations"] })) {
      if (e.value.gaps.some((g) => changed.has(g.courseId))) people.push(e.value.learnerId);
    }
    await requestRescan(kv, people);
    return people.length;
  }
}
