import assert from "node:assert/strict";
import type { Actor } from "../booking/events.ts";
import { listEvents, useEventClock } from "../booking/events.ts";
import { putSession, putUsers, self, setup, teardown } from "../../tests/booking/test_fixtures.ts";
import { OutboundSync } from "../calcom/outbound.ts";
import type { ReconcileDeps } from "../calcom/reconcile.ts";
import { loadConfig } from "../config.ts";
import { createRelay } from "../relay/mod.ts";
import { startWorker } from "./mod.ts";

const DAY = 86_400_000;

Deno.test("[privacy] the worker's daily retention job runs under its lease, on the engine's clock", async () => {
  const { kv, engine, clock, course } = await setup();
  useEventClock(kv, () => clock.ms);
  const config = loadConfig({ DENO_KV_PATH: ":memory:" });
  const worker = startWorker({
    kv,
    engine,
    relay: createRelay(kv, config),
    outbound: new OutboundSync({ kv, config }),
    reconcile: {} as ReconcileDeps,
    retentionDays: 30,
    holdSweep: { log: () => {} },
  });
  try {
    const [ann] = await putUsers(kv, 1);
    const session = await putSession(kv, course.id);
    const { hold } = await engine.placeHold(session.id, ann.id, self(ann.id));
    const actor: Actor = { ...self(ann.id), reason: "personal note" };
    await engine.releaseHold(hold.id, actor);
    const reasons = async () => (await listEvents(kv)).events.map((e) => e.reason);

    assert.equal(await worker.retentionCron(), true);
    assert.deepEqual(await reasons(), [null, "personal note"], "nothing is 30 days old yet");

    clock.advance(31 * DAY);
    // Two workers' crons at once: one runs, the other finds the lease taken.
    const ran = await Promise.all([worker.retentionCron(), worker.retentionCron()]);
    assert.deepEqual(ran.sort(), [false, true]);
    assert.deepEqual(await reasons(), [null, null]);
  } finally {
    await worker.stop();
    await teardown(kv);
  }
});
