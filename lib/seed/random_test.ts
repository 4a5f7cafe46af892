import assert from "node:assert/strict";
import { Random } from "./random.ts";

Deno.test("[seed] Random is deterministic and in range", () => {
  const a = new Random(42);
  const b = new Random(42);
  const xs = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.next()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const r = new Random(7);
  for (let i = 0; i < 1000; i++) {
    const n = r.int(6, 30);
    assert.ok(Number.isInteger(n) && n >= 6 && n <= 30);
  }
  assert.match(r.uuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual(r.shuffle([1, 2, 3, 4, 5]).sort(), [1, 2, 3, 4, 5]);
  assert.notDeepEqual(new Random(1).next(), new Random(2).next());
});
