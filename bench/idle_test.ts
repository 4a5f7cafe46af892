import assert from "node:assert/strict";
import { keys } from "../lib/store/keys.ts";
import { backgroundIdle, outboxBacklog, procCpuSeconds, procRssMb, waitForIdle } from "./idle.ts";

Deno.test("[bench] idle: busy while an outbox entry or a due hold is pending, idle once both are gone", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const now = Date.now();
    assert.equal(await backgroundIdle(kv, now), true);
    await kv.set(keys.outboxEntry("kafka", "s1", "e1"), { key: "e1" });
    await kv.set(keys.outboxEntry("calcom", "s1", "e1"), { key: "e1" });
    await kv.set(keys.outboxEntry("calcom", "s2", "e2"), { key: "e2" });
    assert.deepEqual(await outboxBacklog(kv), { kafka: 1, calcom: 2, reports: 0, notify: 0 });
    assert.equal(await backgroundIdle(kv, now), false);
    await kv.delete(keys.outboxEntry("kafka", "s1", "e1"));
    await kv.delete(keys.outboxEntry("calcom", "s1", "e1"));
    await kv.delete(keys.outboxEntry("calcom", "s2", "e2"));
    // A hold due for the sweep keeps it busy; one that expires later does not.
    await kv.set(keys.holdByExpiry(now - 1_000, "h1"), { holdId: "h1" });
    await kv.set(keys.holdByExpiry(now + 60_000, "h2"), { holdId: "h2" });
    assert.equal(await backgroundIdle(kv, now), false);
    await kv.delete(keys.holdByExpiry(now - 1_000, "h1"));
    assert.equal(await backgroundIdle(kv, now), true);
  } finally {
    kv.close();
  }
});

Deno.test("[bench] idle: waitForIdle returns once a consumer delivered the backlog", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await kv.set(keys.outboxEntry("kafka", "s1", "e1"), { key: "e1" });
    setTimeout(() => kv.delete(keys.outboxEntry("kafka", "s1", "e1")), 50);
    const drain = await waitForIdle(kv, () => 0, { pollMs: 10 });
    assert.equal(drain.idle, true);
    assert.deepEqual(drain.backlogAtStop, { kafka: 1, calcom: 0, reports: 0, notify: 0 });
  } finally {
    kv.close();
  }
});

Deno.test({
  name: "[bench] idle: reads a process's CPU time and resident memory from /proc",
  ignore: Deno.build.os !== "linux",
  fn() {
    let x = 0;
    for (let i = 0; i < 5e7; i++) x += i;
    assert.ok(x > 0);
    assert.ok(procCpuSeconds(Deno.pid) > 0);
    assert.ok(procRssMb(Deno.pid) > 0);
    assert.equal(procRssMb(2 ** 30), 0);
  },
});
