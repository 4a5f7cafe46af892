import assert from "node:assert/strict";
import { decideRetry, paceRecipient } from "./policy.ts";
import { nextDigestMs } from "./produce.ts";

Deno.test("[notify] retry policy: transient failures back off doubling up to the cap, then dead; permanent ones die at once", () => {
  const p = { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 5_000 };
  assert.deepEqual(decideRetry(1, false, 0, p), { action: "retry", atMs: 1_000 });
  assert.deepEqual(decideRetry(2, false, 0, p), { action: "retry", atMs: 2_000 });
  assert.deepEqual(decideRetry(3, false, 0, p), { action: "retry", atMs: 4_000 });
  assert.deepEqual(decideRetry(4, false, 0, p), { action: "retry", atMs: 5_000 });
  assert.deepEqual(decideRetry(5, false, 0, p), { action: "dead" });
  assert.deepEqual(decideRetry(1, true, 0, p), { action: "dead" });
});

Deno.test("[notify] pacing: 5 per window, the 6th waits for the next window, a new window starts afresh", () => {
  const limit = { perWindow: 5, windowMs: 600_000 };
  let state = null;
  for (let i = 0; i < 5; i++) {
    const d = paceRecipient(state, 1_000 + i, limit);
    assert.equal(d.send, true);
    if (d.send) state = d.next;
  }
  assert.deepEqual(paceRecipient(state, 2_000, limit), { send: false, atMs: 601_000 });
  assert.deepEqual(paceRecipient(state, 601_000, limit), { send: true, next: { windowStartMs: 601_000, count: 1 } });
});

Deno.test("[notify] the digest goes at the next 07:00 in the manager's zone, across the DST change", () => {
  // 10:00 in New York on 1 March (EST): next day 07:00 EST = 12:00 UTC.
  assert.equal(
    new Date(nextDigestMs(Date.parse("2026-03-01T15:00:00Z"), "America/New_York")).toISOString(),
    "2026-03-02T12:00:00.000Z",
  );
  // 05:00 on 9 March (EDT since the 8th): the same day 07:00 EDT = 11:00 UTC.
  assert.equal(
    new Date(nextDigestMs(Date.parse("2026-03-09T09:00:00Z"), "America/New_York")).toISOString(),
    "2026-03-09T11:00:00.000Z",
  );
  // Exactly 07:00: the next day's.
  assert.equal(
    new Date(nextDigestMs(Date.parse("2026-03-09T11:00:00Z"), "America/New_York")).toISOString(),
    "2026-03-10T11:00:00.000Z",
  );
});
