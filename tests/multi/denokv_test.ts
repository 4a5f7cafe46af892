/**
 * Several app instances on one real `denokv` (KV Connect: 10 checks per atomic op, no queues).
 * See tests/multi/denokv.ts for where the binary comes from and SKIP_DENOKV.
 */
import assert from "node:assert/strict";
import { checkConsistency } from "../../lib/booking/consistency.ts";
import type { Session } from "../../lib/booking/model.ts";
import { keys } from "../../lib/store/keys.ts";
import type { SeedMarker } from "../../lib/seed/seed.ts";
import { putCourse, putSession, putUsers } from "../booking/test_fixtures.ts";
import { pool, skipDenokv, startCluster } from "./denokv.ts";

const ignore = skipDenokv();
const DAY = 24 * 3_600_000;

Deno.test({
  name: "[multi] two instances start together on denokv: one seeds the demo data within 10 checks per op",
  ignore,
  async fn() {
    // The second names the store as on Deno Deploy (KV_PATH, KV_ACCESS_TOKEN: no DENO_* variables).
    const cluster = await startCluster({
      instances: 2,
      env: { SEED_DEMO: "1" },
      storeEnv: (i, kv) => i === 0 ? kv.clientEnv : kv.deployEnv,
    });
    const kv = await cluster.kv.open();
    try {
      const outputs = cluster.apps.map((a) => a.output());
      assert.equal(outputs.filter((o) => /Loaded the demo catalog/.test(o)).length, 1, outputs.join("\n---\n"));
      for (const o of outputs) assert.doesNotMatch(o, /Too many checks|error/i);
      const marker = (await kv.get<SeedMarker>(keys.seedMarker())).value;
      assert.equal(marker?.status, "complete");
      assert.ok(marker!.counts!.bookings > 0 && marker!.counts!.sessions > 0);
      const report = await checkConsistency(kv);
      assert.deepEqual(report.problems, []);
      // The catalog's sessions, plus the instructor demo's and the report history's (each made once).
      assert.ok(report.sessions > marker!.counts!.sessions, `${report.sessions} sessions`);
      const sessions = await Array.fromAsync(kv.list<Session>({ prefix: ["sessions"] }));
      const live = sessions.filter((e) => e.value.joinUrl?.endsWith("-live"));
      assert.equal(live.length, 1, "one instance made the instructor demo's live session");
      for (const app of cluster.apps) {
        const res = await fetch(`${app.url}/`);
        assert.equal(res.status, 200);
        await res.body?.cancel();
      }
    } finally {
      kv.close();
      await cluster.close();
    }
  },
});

Deno.test({
  name: "[multi] hold storm across two instances on denokv: capacity 1, 5 and 50 grant exactly their seats, no 5xx",
  ignore,
  async fn() {
    const adminToken = `admin-${crypto.randomUUID()}`;
    const cluster = await startCluster({ instances: 2, env: { ADMIN_TOKEN: adminToken } });
    const kv = await cluster.kv.open();
    try {
      const course = await putCourse(kv);
      const startsAt = new Date(Date.now() + 30 * DAY).toISOString();
      const sessions: Session[] = [];
      for (const capacity of [1, 5, 50]) sessions.push(await putSession(kv, course.id, { capacity, startsAt }));
      const learners = await putUsers(kv, 500);
      // Every learner tries every session (3 holds each: the per-learner limit), through both
      // instances, 48 requests in flight.
      const tasks = learners.flatMap((learner, i) =>
        sessions.map((session, j) => async () => {
          const app = cluster.apps[(i + j) % cluster.apps.length];
          const res = await fetch(`${app.url}/api/v1/holds`, {
            method: "POST",
            headers: {
              authorization: `Bearer ${adminToken}`,
              "content-type": "application/json",
              "idempotency-key": crypto.randomUUID(),
            },
            body: JSON.stringify({ sessionId: session.id, learnerId: learner.id }),
          });
          const body = await res.json();
          return { sessionId: session.id, status: res.status, code: body.error as string | undefined };
        })
      );
      const results = await pool(tasks, 48);
      const statuses = new Map<string, number>();
      for (const r of results) {
        const k = `${r.status}${r.code ? ` ${r.code}` : ""}`;
        statuses.set(k, (statuses.get(k) ?? 0) + 1);
      }
      console.log(`  ${results.length} requests: ${[...statuses].map(([k, n]) => `${k} ×${n}`).join(", ")}`);
      assert.deepEqual(results.filter((r) => r.status >= 500), [], "no 5xx");
      for (const r of results) {
        assert.ok(r.status === 201 || (r.status === 409 && r.code === "session_full"), `${r.status} ${r.code}`);
      }
      for (const session of sessions) {
        const granted = results.filter((r) => r.sessionId === session.id && r.status === 201).length;
        assert.equal(granted, session.capacity, `session of capacity ${session.capacity}`);
        const seats = (await kv.get<{ holds: number; confirmed: number }>(keys.seats(session.id))).value!;
        assert.equal(seats.holds, session.capacity);
      }
      assert.deepEqual((await checkConsistency(kv)).problems, []);
      for (const p of [...cluster.apps, ...cluster.worker ? [cluster.worker] : []]) {
        assert.doesNotMatch(p.output(), /Too many checks|Enqueue operations/);
      }
    } finally {
      kv.close();
      await cluster.close();
    }
  },
});
