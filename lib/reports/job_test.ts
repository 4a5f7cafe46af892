import assert from "node:assert/strict";
import { putCourse, putSession, putUser, self, setup, teardown } from "../../tests/booking/test_fixtures.ts";
import { createReportsJob, lastRecount, recountNow, requestRecount } from "./job.ts";
import { buildReport, clearReportCache } from "./query.ts";

/** Polls `check` until it returns a value (the loop runs on its own schedule). */
async function eventually<T>(check: () => Promise<T | null | undefined | false>, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = await check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

Deno.test("[reports] the worker's loop folds new events and answers a recount request", async () => {
  const { kv, engine } = await setup();
  const job = createReportsJob(kv, () => engine.now(), { log: () => {} });
  try {
    job.start();
    const course = await putCourse(kv);
    const s = await putSession(kv, course.id, { capacity: 4 });
    const [a, b] = [await putUser(kv), await putUser(kv)];
    await engine.placeHold(s.id, a.id, self(a.id));
    const { hold } = await engine.placeHold(s.id, b.id, self(b.id));
    await engine.confirmHold(hold.id, self(b.id));
    const report = await eventually(async () => {
      clearReportCache();
      const r = await buildReport(kv, {});
      return r.totals.bookings === 1 && r.totals.holds === 2 && r;
    }, "the loop folded two holds and a booking");
    assert.equal(report.funnel.completionRate, 0.5);

    const id = await requestRecount(kv, false);
    const answer = await eventually(async () => {
      const last = await lastRecount(kv);
      return last?.requestId === id && last;
    }, "the loop answered the recount request");
    assert.equal(answer.ok, true);
    // While the loop holds the lease, recountNow asks it instead of running a second recount.
    const viaLoop = await recountNow(kv, { waitMs: 10_000 });
    assert.equal(viaLoop?.ok, true);
  } finally {
    await job.stop();
    await teardown(kv);
  }
});

Deno.test("[reports] two workers' loops under concurrent bookings and a handover count every event exactly once", async () => {
  const { kv, engine } = await setup();
  const log = () => {};
  const a = createReportsJob(kv, () => engine.now(), { log, owner: "worker-a", leaseMs: 2_000 });
  const b = createReportsJob(kv, () => engine.now(), { log, owner: "worker-b", leaseMs: 2_000 });
  try {
    a.start();
    b.start();
    const course = await putCourse(kv);
    const sessions = await Promise.all([0, 1, 2, 3].map(() => putSession(kv, course.id, { capacity: 8 })));
    const learners = await Promise.all(Array.from({ length: 40 }, () => putUser(kv)));
    // 40 learners at once, 4 sessions of 8 seats: 32 holds, 8 refused as full.
    const tries = await Promise.allSettled(
      learners.map((u, i) => engine.placeHold(sessions[i % 4].id, u.id, self(u.id))),
    );
    const placed = tries.filter((t) => t.status === "fulfilled").length;
    assert.equal(placed, 32);
    await a.stop(); // the other loop takes over whatever is still pending
    const more = await Promise.allSettled(
      tries.flatMap((t, i) =>
        t.status === "fulfilled" && i % 2 === 0 ? [engine.confirmHold(t.value.hold.id, self(learners[i].id))] : []
      ),
    );
    const booked = more.filter((t) => t.status === "fulfilled").length;
    assert.ok(booked > 0);
    assert.equal(booked, more.length, "every live hold confirms");
    const report = await eventually(async () => {
      clearReportCache();
      const r = await buildReport(kv, {});
      return r.totals.holds === placed && r.totals.bookings === booked && r;
    }, "every hold and booking folded once");
    assert.equal(report.sessions, 4);
    await b.stop();
    const recount = await recountNow(kv, {});
    assert.equal(recount?.ok, true, JSON.stringify(recount?.differences));
  } finally {
    await a.stop();
    await b.stop();
    await teardown(kv);
  }
});
