import assert from "node:assert/strict";
import { Draft, keyId } from "./draft.ts";

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

Deno.test("[booking] draft: a rollback undoes exactly the writes and hooks made after its checkpoint", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await kv.set(["kept"], "stored");
    const draft = new Draft(kv);
    await draft.load([["kept"], ["gone"]]);
    draft.set(["a"], 1);
    draft.delete(["kept"]);
    const ran: string[] = [];
    draft.afterCommit(() => ran.push("first"));
    const cp = draft.checkpoint();
    draft.set(["a"], 2); // overwrites a write made before the checkpoint
    draft.set(["a"], 3);
    draft.set(["b"], 1); // new after the checkpoint
    draft.set(["kept"], "again"); // replaces the delete
    draft.afterCommit(() => ran.push("second"));
    assert.equal(draft.get(["a"]), 3);
    draft.rollback(cp);
    assert.equal(draft.get(["a"]), 1);
    assert.equal(draft.has(["b"]), false);
    assert.equal(draft.get(["kept"]), null, "the delete made before the checkpoint stands");
    assert.deepEqual(draft.size(), { checks: 2, mutations: 2 });
    // A second step after the rollback, rolled back in turn, leaves the first step's writes alone.
    const cp2 = draft.checkpoint();
    draft.set(["c"], 1);
    draft.rollback(cp2);
    assert.ok(await draft.commit());
    assert.deepEqual(ran, ["first"]);
    assert.equal((await kv.get(["a"])).value, 1);
    assert.equal((await kv.get(["b"])).versionstamp, null);
    assert.equal((await kv.get(["c"])).versionstamp, null);
    assert.equal((await kv.get(["kept"])).versionstamp, null);
  } finally {
    kv.close();
  }
});
