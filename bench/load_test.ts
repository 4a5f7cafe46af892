import assert from "node:assert/strict";
import { startClient } from "./client.ts";
import { runLoad } from "./load.ts";
import { HOLDS_PATH, planRequest, validatePlan } from "./plan.ts";
import { percentile, summarizeLatencies } from "./stats.ts";

/** A tiny server: even requests 201 after `delayMs`, odd ones 409 session_full; tracks concurrency. */
function tinyServer(delayMs: number) {
  const seen: { auth: string | null; body: string; method: string; path: string }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const body = await req.text();
    const n = seen.push({
      auth: req.headers.get("authorization"),
      body,
      method: req.method,
      path: new URL(req.url).pathname,
    });
    await new Promise((r) => setTimeout(r, delayMs));
    inFlight--;
    return n % 2
      ? Response.json({ ok: true }, { status: 201 })
      : Response.json({ error: "session_full" }, { status: 409 });
  });
  return {
    url: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`,
    seen,
    maxInFlight: () => maxInFlight,
    close: () => server.shutdown(),
  };
}

Deno.test("[bench] behaviour", async (t) => {
  await t.step("stats: nearest-rank percentiles and summary", () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    const s = summarizeLatencies(xs);
    assert.equal(s.p50Ms, 50);
    assert.equal(s.p90Ms, 90);
    assert.equal(s.p99Ms, 99);
    assert.equal(s.maxMs, 100);
    assert.equal(s.meanMs, 50.5);
    assert.equal(percentile([7], 99), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  await t.step("load: counts every request, status, error code and latency", async () => {
    const srv = tinyServer(5);
    try {
      const r = await runLoad({
        baseUrl: srv.url,
        concurrency: 8,
        maxRequests: 200,
        request: (i) => ({ path: HOLDS_PATH, token: `tok-${i}`, body: JSON.stringify({ i }) }),
      });
      assert.equal(r.completed, 200);
      assert.equal(r.failed, 0);
      assert.equal(r.exhausted, false);
      assert.deepEqual(r.statuses, { "201": 100, "409": 100 });
      assert.deepEqual(r.errorCodes, { session_full: 100 });
      assert.equal(r.latenciesMs.length, 200);
      assert.ok(r.latenciesMs.every((ms) => ms >= 4), "each latency includes the server's 5 ms");
      assert.ok(r.elapsedMs >= (200 / 8) * 5, `closed loop of 8: at least 125 ms, got ${r.elapsedMs}`);
      assert.equal(srv.seen.length, 200);
      assert.equal(srv.maxInFlight(), 8, "exactly `concurrency` requests in flight");
      // Every request sent once, as a POST with its own token and body.
      const bodies = new Set(srv.seen.map((s) => s.body));
      assert.equal(bodies.size, 200);
      assert.ok(srv.seen.every((s) => s.method === "POST" && s.path === HOLDS_PATH));
      assert.ok(srv.seen.every((s) => s.auth === `Bearer tok-${JSON.parse(s.body).i}`));
    } finally {
      await srv.close();
    }
  });

  await t.step("load: stops at the deadline, or when the plan runs out", async () => {
    const srv = tinyServer(2);
    try {
      const timed = await runLoad({
        baseUrl: srv.url,
        concurrency: 4,
        durationMs: 250,
        request: () => ({ path: "/", body: "{}" }),
      });
      assert.ok(timed.elapsedMs >= 250, `elapsed ${timed.elapsedMs}`);
      assert.ok(timed.completed > 20);
      assert.equal(timed.exhausted, false);
      const short = await runLoad({
        baseUrl: srv.url,
        concurrency: 4,
        durationMs: 5_000,
        request: (i) => i < 30 ? { path: "/", body: "{}" } : null,
      });
      assert.equal(short.completed, 30);
      assert.equal(short.exhausted, true);
    } finally {
      await srv.close();
    }
  });

  await t.step("load: network errors are counted as failed, not as responses", async () => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close(); // nothing listens there now
    const r = await runLoad({
      baseUrl: `http://127.0.0.1:${port}`,
      concurrency: 2,
      maxRequests: 6,
      request: () => ({ path: "/", body: "{}" }),
    });
    assert.equal(r.completed, 0);
    assert.equal(r.failed, 6);
    assert.ok(r.firstError);
  });

  await t.step("plans: no learner asks twice for a session or for more than 3 holds", () => {
    const tokens = Array.from({ length: 50 }, (_, i) => `t${i}`);
    const sessionIds = Array.from({ length: 7 }, (_, i) => `s${i}`);
    for (
      const plan of [
        { kind: "blocks" as const, tokens, sessionIds: sessionIds.slice(0, 3), perSession: 50 },
        { kind: "spread" as const, tokens, sessionIds },
      ]
    ) {
      validatePlan(plan);
      const pairs = new Set<string>();
      const perLearner = new Map<string, number>();
      let n = 0;
      for (let i = 0;; i++) {
        const r = planRequest(plan, i);
        if (!r) break;
        n++;
        const pair = `${r.token} ${JSON.parse(r.body).sessionId}`;
        assert.ok(!pairs.has(pair), `${plan.kind}: ${pair} twice`);
        pairs.add(pair);
        perLearner.set(r.token!, (perLearner.get(r.token!) ?? 0) + 1);
      }
      assert.equal(n, 150, plan.kind);
      assert.ok([...perLearner.values()].every((c) => c <= 3));
    }
    assert.throws(() => validatePlan({ kind: "blocks", tokens, sessionIds, perSession: 51 }));
    assert.throws(() => validatePlan({ kind: "blocks", tokens, sessionIds, perSession: 50 })); // 7 sessions
  });

  await t.step("load: a rate-limited run sends request i to the servers in turn", async () => {
    const a = tinyServer(0);
    const b = tinyServer(0);
    try {
      const r = await runLoad({
        baseUrl: a.url,
        alsoBaseUrls: [b.url],
        ratePerSec: 200,
        concurrency: 4,
        maxRequests: 20,
        request: (i) => ({ path: HOLDS_PATH, body: JSON.stringify({ i }) }),
      });
      assert.equal(r.completed, 20);
      assert.deepEqual(a.seen.map((s) => JSON.parse(s.body).i).sort((x, y) => x - y), [
        0,
        2,
        4,
        6,
        8,
        10,
        12,
        14,
        16,
        18,
      ]);
      assert.deepEqual(b.seen.map((s) => JSON.parse(s.body).i).sort((x, y) => x - y), [
        1,
        3,
        5,
        7,
        9,
        11,
        13,
        15,
        17,
        19,
      ]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  await t.step("client process: runs a plan and reports", async () => {
    const srv = tinyServer(1);
    try {
      const client = await startClient({
        baseUrl: srv.url,
        concurrency: 4,
        maxRequests: 40,
        plan: { kind: "echo", tokens: ["a", "b"], sessionIds: ["s"] },
      });
      const report = await client.go();
      assert.equal(report.completed, 40);
      assert.deepEqual(report.statuses, { "201": 20, "409": 20 });
      assert.ok(report.reqPerSec > 0 && report.p99Ms >= report.p50Ms);
      assert.ok(srv.seen.every((s) => s.body === JSON.stringify({ sessionId: "s" })));
      assert.deepEqual(new Set(srv.seen.map((s) => s.auth)), new Set(["Bearer a", "Bearer b"]));
    } finally {
      await srv.close();
    }
  });
});
