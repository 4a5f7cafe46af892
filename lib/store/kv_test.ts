import assert from "node:assert/strict";
import { openStore } from "./kv.ts";

Deno.test("[store] openStore creates the folder of a file path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const kv = await openStore(`${dir}/nested/app.kv`);
    await kv.set(["x"], 1);
    kv.close();
    assert.ok((await Deno.stat(`${dir}/nested/app.kv`)).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[store] openStore accepts :memory:", async () => {
  const kv = await openStore(":memory:");
  await kv.set(["x"], 1);
  assert.equal((await kv.get(["x"])).value, 1);
  kv.close();
});
