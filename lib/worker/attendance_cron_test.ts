import assert from "node:assert/strict";
import { HOUR, putSession, putUsers, self, setup, teardown } from "../../tests/booking/test_fixtures.ts";
import { OutboundSync } from "../calcom/outbound.ts";
import type { ReconcileDeps } from "../calcom/reconcile.ts";
import { loadConfig } from "../config.ts";
import { createRelay } from "../relay/mod.ts";
import { keys } from "../store/keys.ts";
import { startWorker } from "./mod.ts";

Deno.test("[attendance] the worker's hourly close runs under its lease on the engine's clock: never-marked learners become no-shows", async () => {
  const { kv, engine, clock, course } = await setup();
  const config = loadConfig({ DENO_KV_PATH: ":memory:", ATTENDANCE_CLOSE_DAYS: "2" });
  const worker = startWorker({
    kv,
    engine,
    relay: createRelay(kv, config),
    outbound: new OutboundSync({ kv, config }),
    reconcile: {} as ReconcileDeps,
    attendance: { checkInOpensMinutes: 30, closeAfterDays: 2, lateAfterMinutes: 10, joinOpensMinutes: 10 },
    holdSweep: { log: () => {} },
  });
  try {
    const [ann] = await putUsers(kv, 1);
    const session = await putSession(kv, course.id, { startsInHours: 24 });
    await kv.set(keys.sessionsByStart(session.startsAt, session.id), { id: session.id });
    const { hold } = await engine.placeHold(session.id, ann.id, self(ann.id));
    await engine.confirmHold(hold.id, self(ann.id));
    clock.advance(24 * HOUR + 2 * HOUR + 47 * HOUR);
    assert.equal(await worker.attendanceCloseCron(), true);
    assert.equal((await kv.get(keys.attendanceClose(session.id))).value, null, "the 2-day window is not over");
    clock.advance(HOUR);
    const ran = await Promise.all([worker.attendanceCloseCron(), worker.attendanceCloseCron()]);
    assert.deepEqual(ran.sort(), [false, true]);
    const close = (await kv.get<{ counts: { no_show: number } }>(keys.attendanceClose(session.id))).value;
    assert.equal(close?.counts.no_show, 1);
  } finally {
    await worker.stop();
    await teardown(kv);
  }
});
