import assert from "node:assert/strict";
import xapiValidation from "@learninglocker/xapi-validation";
import { DomainError } from "../booking/errors.ts";
import { listEvents } from "../booking/events.ts";
import { getUser } from "../store/users.ts";
import { loadStatementContext, topicFor, toStatement } from "../relay/xapi.ts";
import { admin, putSession, putUser, self, setup, teardown } from "../../tests/booking/test_fixtures.ts";
import { addRecording, getRecording, openRecording, reportProgress } from "./recording.ts";

const is = (code: string, status: number) => (e: unknown) =>
  e instanceof DomainError && e.code === code && e.status === status;

async function world() {
  const base = await setup();
  const instructor = await putUser(base.kv, { roles: ["instructor"] });
  const session = await putSession(base.kv, base.course.id, { instructorId: instructor.id, startsInHours: 24 });
  const [ann, bob] = [await putUser(base.kv), await putUser(base.kv)];
  const { hold } = await base.engine.placeHold(session.id, ann.id, self(ann.id));
  await base.engine.confirmHold(hold.id, self(ann.id));
  const end = Date.parse(session.endsAt);
  const staff = { userId: instructor.id, roles: ["instructor"], origin: "web" as const, correlationId: "c" };
  return { ...base, session, ann, bob, end, staff };
}

Deno.test("[recording] staff add it after the end; others 403; before the end 409; learners not booked 403", async () => {
  const w = await world();
  try {
    const input = { sessionId: w.session.id, url: "https://video.example.com/r/1.mp4", durationSeconds: 1000 };
    await assert.rejects(addRecording(w.kv, input, w.staff, new Date(w.end - 1)), is("session_not_ended", 409));
    await assert.rejects(addRecording(w.kv, input, self(w.ann.id), new Date(w.end)), is("forbidden", 403));
    const r = await addRecording(w.kv, input, w.staff, new Date(w.end));
    assert.deepEqual([r.url, r.durationSeconds, r.source], [input.url, 1000, "staff"]);
    const byAdmin = await addRecording(w.kv, { sessionId: w.session.id, url: input.url }, admin(), new Date(w.end));
    assert.equal(byAdmin.durationSeconds, 2 * 3600, "the scheduled length when none is given");
    assert.equal((await getRecording(w.kv, w.session.id))?.url, input.url);
    await assert.rejects(openRecording(w.kv, w.session.id, w.bob.id, new Date(w.end)), is("not_booked", 403));
  } finally {
    await teardown(w.kv);
  }
});

Deno.test("[recording] completes at 90 % and not at 89 %; never more than the real playing time; once", async () => {
  const w = await world();
  try {
    await addRecording(
      w.kv,
      { sessionId: w.session.id, url: "https://v.example.com/a.mp4", durationSeconds: 1000 },
      w.staff,
      new Date(w.end),
    );
    const t0 = w.end + 3600_000;
    const at = (s: number) => new Date(t0 + s * 1000);
    const report = (played: number, s: number) =>
      reportProgress(
        w.kv,
        { sessionId: w.session.id, learnerId: w.ann.id, playedSeconds: played },
        self(w.ann.id),
        at(s),
      );
    await assert.rejects(report(10, 0), is("player_not_open", 409));
    await openRecording(w.kv, w.session.id, w.ann.id, at(0));
    // A forged report: 900 s claimed 10 s after opening: only 10 s (+2 s slack) count.
    const forged = await report(900, 10);
    assert.equal(forged.credited, 12);
    assert.equal(forged.completedNow, false);
    // Honest playing in 30-second reports up to 890 s: 89 %.
    let watched = forged.view.watchedSeconds;
    let s = 10;
    while (watched < 890) {
      const step = Math.min(30, 890 - watched);
      s += step;
      const r = await report(step, s);
      watched = r.view.watchedSeconds;
      assert.equal(r.completedNow, false, `at ${watched} s`);
    }
    assert.equal(watched, 890);
    assert.deepEqual((await getUser(w.kv, w.ann.id))!.completedCourses, [], "89 % does not complete");
    const done = await report(10, s + 10);
    assert.equal(done.share, 0.9);
    assert.equal(done.completedNow, true, "90 % completes");
    assert.deepEqual((await getUser(w.kv, w.ann.id))!.completedCourses.map((c) => c.courseId), [w.course.id]);
    const again = await report(30, s + 40);
    assert.equal(again.completedNow, false, "completed once");
    const completed = (await listEvents(w.kv, { limit: 100 })).events.filter((e) => e.type === "course.completed");
    assert.equal(completed.length, 1);
    const st = toStatement(completed[0], await loadStatementContext(w.kv, completed[0]));
    assert.deepEqual(xapiValidation.default(st).map((x) => x.path.join(".")), []);
    assert.equal(topicFor(completed[0]), "nlj.training.completion");
    assert.equal(st.result?.completion, true);
  } finally {
    await teardown(w.kv);
  }
});
