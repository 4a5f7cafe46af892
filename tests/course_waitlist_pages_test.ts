/** "Any date that suits me" on pages, without JavaScript: the form on a full session, My schedule, leaving. */
import assert from "node:assert/strict";
import { keys } from "../lib/store/keys.ts";
import { courseFixture, fillSession, startTestApp } from "./app_fixture.ts";
import { devSignInCookie, getPage, postForm } from "./page_client.ts";

Deno.test("[course-waitlist-page] a full session offers any date; bad dates come back with the input kept; My schedule lists and leaves it", async () => {
  const t = await startTestApp({ seed: false });
  try {
    const kv = t.services.kv;
    const { course, learner, session } = await courseFixture(t);
    const first = await session(48, { capacity: 1 });
    const second = await session(24 * 5, { capacity: 1 });
    for (const s of [first, second]) await fillSession(t, s.id, { book: true });
    const cookie = await devSignInCookie(kv, learner.id);
    const page = await getPage(t, `/sessions/${first.id}`, cookie);
    assert.equal(page.res.status, 200);
    assert.match(page.text, /Any date that suits me/);

    const bad = await postForm(t, `/sessions/${first.id}`, cookie, {
      intent: "course_waitlist",
      from: "2030-03-10",
      to: "2030-03-01",
      maxKm: "",
    });
    assert.equal(bad.res.status, 400);
    assert.match(bad.text, /The last date must not be before the first date\./);
    assert.match(bad.text, /value="2030-03-10"/, "the input is kept");
    assert.match(bad.text, /aria-invalid="true"/);
    assert.equal((await kv.get(keys.courseWaitlist(learner.id, course.id))).value, null);

    const noHome = await postForm(t, `/sessions/${first.id}`, cookie, { intent: "course_waitlist", maxKm: "50" });
    assert.equal(noHome.res.status, 422);
    assert.match(noHome.text, /Set your preferred location on your profile/);

    const ok = await postForm(t, `/sessions/${first.id}`, cookie, { intent: "course_waitlist" });
    assert.equal(ok.res.status, 303);
    assert.equal(ok.res.headers.get("location"), "/me/schedule?done=course_waitlist");
    const schedule = await getPage(t, "/me/schedule?done=course_waitlist", cookie);
    assert.match(schedule.text, /You are on the waitlist of every date that suits you/);
    assert.match(schedule.text, /Any date that suits me/);
    assert.match(schedule.text, /Waiting on 2 dates/);
    assert.match(schedule.text, /any date · any distance/);

    const left = await postForm(t, "/me/schedule", cookie, { intent: "leave_course", course: course.id });
    assert.equal(left.res.status, 303);
    assert.equal((await kv.get(keys.courseWaitlist(learner.id, course.id))).value, null);
    const again = await postForm(t, "/me/schedule", cookie, { intent: "leave_course", course: course.id });
    assert.equal(again.res.status, 404);
    assert.match(
      again.text,
      /You are not on that course&#39;s waitlist any more\.|You are not on that course's waitlist any more\./,
    );
  } finally {
    await t.close();
  }
});
