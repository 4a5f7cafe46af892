/** Fenced leases and the leased loop: one holder at a time, stale holders cannot commit, stop releases. */
import assert from "node:assert/strict";
import { keys } from "../store/keys.ts";
import { Lease, LeaseLostError, type LeaseRecord, runExclusive } from "./lease.ts";
import { LeasedLoop } from "./leased_loop.ts";

Deno.test("[worker] a lease taken over raises the token and fences the old holder's commits", async () => {
  const kv = await Deno.openKv(":memory:");
  let now = 1_000_000;
  const clock = () => now;
  const a = new Lease(kv, "job", { leaseMs: 1_000, owner: "a", clock });
  const b = new Lease(kv, "job", { leaseMs: 1_000, owner: "b", clock });
  assert.equal(await a.acquire(), true);
  assert.equal(a.token, 1);
  assert.equal(await b.acquire(), false, "a live lease is not taken");
  assert.ok((await a.guard(kv.atomic()).set(["x"], "a1").commit()).ok);

  now += 1_001; // a stalls past its lease (a GC pause): b may take over
  assert.equal(await b.acquire(), true);
  assert.equal(b.token, 2, "the fencing token rises with the change of holder");
  const res = await a.guard(kv.atomic()).set(["x"], "a2").commit();
  assert.equal(res.ok, false, "the old holder's guarded commit fails");
  await assert.rejects(a.verify(), LeaseLostError);
  await assert.rejects(a.ensure(10), LeaseLostError);
  assert.equal((await kv.get(["x"])).value, "a1");
  assert.ok((await b.guard(kv.atomic()).set(["x"], "b1").commit()).ok);

  // Renewing keeps the token; a renewal by b also fences any op prepared before it.
  now += 600;
  assert.equal(await b.acquire(), true);
  assert.equal(b.token, 2);
  await b.release();
  const rec = (await kv.get<LeaseRecord>(keys.workerLease("job"))).value!;
  assert.deepEqual(rec, { owner: null, token: 2, until: 0 });
  assert.equal(await a.acquire(), true, "a released lease is free at once");
  assert.equal(a.token, 3);
  kv.close();
});

Deno.test("[worker] a cron body under runExclusive runs once at a time across instances", async () => {
  const path = await Deno.makeTempFile({ suffix: ".kv" });
  const instances = await Promise.all([0, 1, 2, 3].map(() => Deno.openKv(path)));
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  const body = async () => {
    running++;
    runs++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise((r) => setTimeout(r, 300));
    running--;
  };
  try {
    const ran = await Promise.all(instances.map((kv) => runExclusive(kv, "cron:test", body)));
    assert.equal(ran.filter(Boolean).length, 1, "one instance ran the cron tick");
    assert.equal(runs, 1);
    assert.equal(maxRunning, 1);
    // The next tick runs again (the lease was released, not left to expire).
    assert.equal(await runExclusive(instances[2], "cron:test", body), true);
    assert.equal(runs, 2);
  } finally {
    for (const kv of instances) kv.close();
    await Deno.remove(path);
  }
});

Deno.test("[worker] leased loops: one runs the job, the other stands by and takes over after stop()", async () => {
  const kv = await Deno.openKv(":memory:");
  const steps = { a: 0, b: 0 };
  const loop = (name: "a" | "b") =>
    new LeasedLoop(kv, "job", {
      owner: name,
      leaseMs: 600,
      idleMs: 10,
      step: () => {
        steps[name]++;
        return Promise.resolve(0);
      },
    });
  const a = loop("a");
  const b = loop("b");
  a.start();
  while (steps.a === 0) await new Promise((r) => setTimeout(r, 5));
  b.start();
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(steps.b, 0, "b never ran while a held the lease");
  assert.equal(b.status().state, "standby");
  await a.stop();
  assert.equal((await kv.get<LeaseRecord>(keys.workerLease("job"))).value!.owner, null, "stop() released the lease");
  b.wake();
  while (steps.b === 0) await new Promise((r) => setTimeout(r, 5));
  assert.equal(b.status().token, 2);
  await b.stop();
  kv.close();
});

Deno.test("[worker] a computed linger is asked after each step that worked, with what it did", async () => {
  const kv = await Deno.openKv(":memory:");
  const work = [200, 3, 0];
  const asked: number[] = [];
  let steps = 0;
  const loop = new LeasedLoop(kv, "job", {
    idleMs: 10,
    lingerMs: (worked) => {
      asked.push(worked);
      return worked >= 200 ? 0 : 5; // a full batch: go on at once
    },
    step: () => Promise.resolve(work[steps++] ?? 0),
  });
  loop.start();
  while (steps < 4) await new Promise((r) => setTimeout(r, 5));
  await loop.stop();
  assert.deepEqual(asked, [200, 3], "asked after the two steps that worked, never after an idle one");
  kv.close();
});
