import assert from "node:assert/strict";
import { keyId } from "./draft.ts";

Deno.test("[booking] keyId: equal keys share an id, keys that differ in any part never do", () => {
  const keys: Deno.KvKey[] = [
    ["a", "b"],
    ["a,b"],
    ["ab"],
    ["a", "b", ""],
    ["s1:a"],
    [1],
    ["1"],
    [1n],
    [1.5],
    [true],
    ["true"],
    [false],
    [new Uint8Array([1, 2])],
    [new Uint8Array([12])],
    ["a", 1],
    ["a", "1"],
  ];
  const ids = keys.map(keyId);
  assert.equal(new Set(ids).size, keys.length);
  assert.equal(keyId(["outbox", "kafka", "s", "k"]), keyId(["outbox", "kafka", "s", "k"]));
  assert.equal(keyId([new Uint8Array([1, 2])]), keyId([new Uint8Array([1, 2])]));
});
