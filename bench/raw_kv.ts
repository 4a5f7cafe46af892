/**
 * The KV baseline: one writer, no contention, a read-check-set loop: get a key, then
 * `atomic().check(entry).set(key, …).commit()`, as fast as it goes. Each iteration is one
 * committed atomic op, the unit a booking lane pays per batch.
 */
import { perSecond, round, summarizeLatencies } from "./stats.ts";

/** Result of {@link rawKvLoop}. */
export interface RawKvResult {
  ops: number;
  opsPerSec: number;
  elapsedMs: number;
  p50Ms: number;
  p99Ms: number;
  /** Commits refused by the check (must be 0: nobody else writes the key). */
  conflicts: number;
}

/** Runs the loop on `key` for `durationMs`. */
export async function rawKvLoop(kv: Deno.Kv, key: Deno.KvKey, durationMs: number): Promise<RawKvResult> {
  const latencies: number[] = [];
  let conflicts = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  while (performance.now() < deadline) {
    const t0 = performance.now();
    const entry = await kv.get<{ n: number }>(key);
    const res = await kv.atomic().check(entry).set(key, { n: (entry.value?.n ?? 0) + 1, at: Date.now() }).commit();
    if (!res.ok) conflicts++;
    latencies.push(performance.now() - t0);
  }
  const elapsedMs = performance.now() - started;
  const { p50Ms, p99Ms } = summarizeLatencies(latencies);
  return {
    ops: latencies.length - conflicts,
    opsPerSec: perSecond(latencies.length - conflicts, elapsedMs),
    elapsedMs: round(elapsedMs, 1),
    p50Ms,
    p99Ms,
    conflicts,
  };
}
