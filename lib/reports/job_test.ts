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
