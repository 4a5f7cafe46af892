import assert from "node:assert/strict";
import { putUsers, setup, teardown } from "../../tests/booking/test_fixtures.ts";
import { OutboundSync } from "../calcom/outbound.ts";
import type { ReconcileDeps } from "../calcom/reconcile.ts";
import { loadConfig } from "../config.ts";
import { createRelay } from "../relay/mod.ts";
import { newId } from "../domain/ids.ts";
import { saveRequirement } from "../store/compliance.ts";
import { keys } from "../store/keys.ts";
import { startWorker } from "./mod.ts";

Deno.test("[compliance] the nightly scan runs under its lease: of two at once, one scans", async () => {
  const { kv, engine, course } = await setup();
  const config = loadConfig({ DENO_KV_PATH: ":memory:" });
  const worker = startWorker({
    kv,
    engine,
    relay: createRelay(kv, config),
    outbound: new OutboundSync({ kv, config }),
    reconcile: {} as ReconcileDeps,
    holdSweep: { log: () => {} },
    compliance: config.compliance,
  });
  try {
    const [ann] = await putUsers(kv, 1);
    await saveRequirement(kv, {
      id: newId(),
      courseId: course.id,
      roles: ["learner"],
      jobFunctions: [],
      dealerIds: [],
      periodMonths: null,
      dueOn: null,
      createdAt: engine.now().toISOString(),
      createdBy: null,
    });
    const ran = await Promise.all([worker.complianceScanCron(), worker.complianceScanCron()]);
    assert.deepEqual(ran.sort(), [false, true]);
    const stored = (await kv.get<{ gaps: { courseId: string }[] }>(keys.recommendations(ann.id))).value;
    assert.deepEqual(stored?.gaps.map((g) => g.courseId), [course.id]);
    assert.ok((await kv.get(keys.complianceMeta("last_scan"))).value, "the full scan's summary is kept");
  } finally {
    await worker.stop();
    await teardown(kv);
  }
});
