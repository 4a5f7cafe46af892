import assert from "node:assert/strict";
import { complianceEvent, emitOnce, readComplianceOutbox } from "./compliance.ts";

const NOW = new Date("2026-03-02T15:00:00.000Z");
const alert = (learnerId: string, alertId: string | null) => ({
  alertId,
  event: complianceEvent("assignment.due_soon", learnerId, "c1", [], { dueOn: "2026-03-14" }, NOW),
});

Deno.test("[compliance] emitOnce: an identity from several writers at once is written once; events without one always", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    // Three writers, each with its own events (new keys) for the same 30 identities, plus one without identity.
    const writers = Array.from({ length: 3 }, () => [
      ...Array.from({ length: 30 }, (_, i) => alert(`L${i}`, "due_soon:c1:2026-03-14:14")),
      alert("L0", null),
    ]);
    const results = await Promise.all(writers.map((w) => emitOnce(kv, w)));
    const outbox = await readComplianceOutbox(kv, 1000);
    assert.equal(outbox.length, 30 + 3);
    assert.equal(results.flat().length, outbox.length, "each call returns what it wrote, nothing twice");
    assert.deepEqual(
      new Set(outbox.map((e) => e.key)),
      new Set(results.flat().map((e) => e.key)),
    );
    const again = await emitOnce(kv, writers[0]);
    assert.deepEqual(again.map((e) => e.learnerId), ["L0"], "a second pass: only the event without identity");
  } finally {
    kv.close();
  }
});
