import assert from "node:assert/strict";
import { measureHomeRender } from "./render.ts";

Deno.test("[bench] home render bench returns sane percentiles on a tiny run", async () => {
  const r = await measureHomeRender({ requests: 12, warmup: 4 });
  assert.equal(r.requests, 12);
  assert.ok(r.p50Ms > 0 && Number.isFinite(r.p50Ms), `p50 ${r.p50Ms}`);
  assert.ok(r.p50Ms <= r.p95Ms && r.p95Ms <= r.p99Ms, JSON.stringify(r));
  assert.deepEqual(Object.keys(r.byPath).sort(), ["/", "/?near=1", "/?q=safety", "/?topic=safety"]);
});
