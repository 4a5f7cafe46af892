/**
 * Real concurrency: hundreds of interleaved hold / confirm / release / cancel / reschedule /
 * expire / waitlist operations from many learners at once (see storm.ts), on one engine, on two
 * engines sharing one store (two lanes compete: versionstamp conflicts and retries), and on a
 * file-backed store. Each storm ends with checkConsistency clean and every event accounted for.
 */
import assert from "node:assert/strict";
import { storm, type StormOptions, type StormResult } from "./storm.ts";

const SEED = Number(Deno.env.get("STORM_SEED") ?? 20260301);

function summary(name: string, r: StormResult): void {
  const refusals = [...r.observed.refusals].map(([k, v]) => `${k}=${v}`).join(" ");
  console.log(
    `  ${name}: ${r.observed.ops} ops, ${r.eventCount} events, ${r.samples} availability samples, ` +
      `${r.liveChecks} live checks, ${r.elapsedMs} ms; refusals: ${refusals}`,
  );
}

async function run(name: string, o: StormOptions): Promise<StormResult> {
  const r = await storm(o);
  summary(name, r);
  // The storm must have exercised the engine, not just bounced off it.
  assert.ok(r.observed.holdsPlaced.size > 0 && r.observed.bookingsConfirmed.size > 0, "storm did real work");
  return r;
}

for (const capacity of [1, 2, 10]) {
  Deno.test(`[booking] storm: capacity ${capacity}, 250 learner flows × 5 ops, one engine`, async () => {
    const r = await run(`capacity ${capacity}`, {
      seed: SEED + capacity,
      capacity,
      sessions: 3,
      learners: capacity === 10 ? 120 : 80,
      flows: 250,
      steps: 5,
    });
    assert.ok(r.observed.ops >= 800, `${r.observed.ops} operations`);
  });
}

Deno.test("[booking] storm: holds expire mid-storm while the clock moves; live checks stay clean", async () => {
  for (const capacity of [1, 2, 10]) {
    const r = await run(`expiring, capacity ${capacity}`, {
      seed: SEED + 100 + capacity,
      capacity,
      sessions: 3,
      learners: capacity === 10 ? 50 : 20,
      flows: 120,
      steps: 5,
      clockStepMs: 90_000, // ≤ 1.5 min every ~2 ms: 15-minute holds lapse during the storm
      liveConsistency: true,
    });
    assert.ok(r.liveChecks > 0);
  }
});

Deno.test("[booking] storm: two engines on one store compete for the same sessions", async () => {
  for (const capacity of [1, 2, 10]) {
    await run(`two engines, capacity ${capacity}`, {
      seed: SEED + 200 + capacity,
      capacity,
      sessions: 2,
      learners: capacity === 10 ? 50 : 20,
      flows: 150,
      steps: 4,
      engines: 2,
      clockStepMs: 60_000,
    });
  }
});

Deno.test("[booking] storm: two engines with their own handles on a file-backed store", async () => {
  const dir = await Deno.makeTempDir({ prefix: "booking_storm_" });
  try {
    for (const capacity of [1, 10]) {
      await run(`file-backed, capacity ${capacity}`, {
        seed: SEED + 300 + capacity,
        capacity,
        sessions: 2,
        learners: 25,
        flows: 100,
        steps: 4,
        engines: 2,
        path: `${dir}/storm_${capacity}.sqlite`,
        clockStepMs: 60_000,
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
