/**
 * The worker role as its own process: `main.ts` with WORKER=0 serves and commits but runs no
 * background job; `scripts/worker.ts` (deno task worker) on the same KV file releases the lapsed
 * hold (seat, hold.expired) and drains the Cal.com outbox (a session scheduled through the API); SIGTERM stops it and releases its leases.
 */
import assert from "node:assert/strict";
import { mintToken } from "../../lib/auth/tokens.ts";
import type { DomainEvent } from "../../lib/booking/events.ts";
import type { Hold } from "../../lib/domain/mod.ts";
import { keys } from "../../lib/store/keys.ts";
import { createUser } from "../../lib/store/mod.ts";
import type { LeaseRecord } from "../../lib/worker/lease.ts";
import { createCatalogSession, createTinyCatalog, httpJson, spawnApp, waitFor } from "../kafka/relay_fixture.ts";

const ADMIN_TOKEN = "worker-process-admin-token-0123456789";

Deno.test("[worker] WORKER=0 app + deno task worker on one KV file: the worker releases lapsed holds and drains the outbox", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/app.kv`;
  const kv = await Deno.openKv(path);
  const env = { DENO_KV_PATH: path, SEED_DEMO: "0", ADMIN_TOKEN, HOLD_MINUTES: "0.01", KAFKA_BROKERS: "" };
  const catalog = await createTinyCatalog(kv);
  const session = await createCatalogSession(kv, catalog, 5);
  const learner = await createUser(kv, { email: "worker.proc@example.com", name: "Wanda", roles: ["learner"] });
  const { token } = await mintToken(kv, learner.id);
  const app = await spawnApp({ ...env, WORKER: "0" });
  let worker: Deno.ChildProcess | null = null;
  try {
    const held = await httpJson(app.baseUrl, "POST", "/api/v1/holds", token, { sessionId: session.id });
    assert.equal(held.status, 201, JSON.stringify(held.body));
    const holdId = held.body.hold.id as string;
    // A session change is Cal.com's business (a hold is not): its event waits in the Cal.com outbox.
    const scheduled = await httpJson(app.baseUrl, "POST", "/api/v1/sessions", ADMIN_TOKEN, {
      courseId: catalog.course.id,
      startsAt: new Date(Date.now() + 96 * 3_600_000).toISOString(),
      mode: "in_person",
      locationId: catalog.location.id,
      capacity: 5,
      instructorId: catalog.instructor.id,
    });
    assert.equal(scheduled.status, 201, JSON.stringify(scheduled.body));
    const calcomPending = async () => (await Array.fromAsync(kv.list({ prefix: keys.outboxPrefix("calcom") }))).length;
    // The hold lapses after 0.6 s; with no worker anywhere nothing writes its release.
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal((await kv.get<Hold>(keys.hold(holdId))).value!.status, "active", "no background work in the app");
    assert.equal(await calcomPending(), 1, "the session.scheduled event waits in the Cal.com outbox");

    worker = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/worker.ts"],
      cwd: new URL("../../", import.meta.url).pathname,
      env,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitFor(
      () => "the worker to release the hold",
      async () => (await kv.get<Hold>(keys.hold(holdId))).value!.status === "expired",
      60_000,
      100,
    );
    const events = (await Array.fromAsync(kv.list<DomainEvent>({ prefix: keys.eventsPrefix() }))).map((e) => e.value);
    assert.deepEqual(events.map((e) => e.type).sort(), ["hold.expired", "hold.placed", "session.scheduled"]);
    await waitFor(() => "the Cal.com outbox drained", async () => (await calcomPending()) === 0, 30_000, 100);
    assert.equal(
      (await Array.fromAsync(kv.list({ prefix: keys.outboxPrefix("kafka") }))).length,
      3,
      "without KAFKA_BROKERS the Kafka outbox keeps every event pending",
    );

    worker.kill("SIGTERM");
    const status = await worker.status;
    worker = null;
    assert.equal(status.code, 0, "SIGTERM: a clean exit");
    for (const name of ["calcom-outbound", "hold-sweep"]) {
      const rec = (await kv.get<LeaseRecord>(keys.workerLease(name))).value;
      assert.equal(rec?.owner, null, `${name} lease released`);
    }
  } finally {
    if (worker) {
      worker.kill("SIGKILL");
      await worker.status;
    }
    await app.kill("SIGTERM");
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});
