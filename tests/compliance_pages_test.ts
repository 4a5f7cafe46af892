import assert from "node:assert/strict";
import { startTestApp } from "./app_fixture.ts";
import { devCookie, getPage, postForm } from "./page_client.ts";

Deno.test("[compliance] the learner's home and My schedule say what is required by when, with sessions", async () => {
  const t = await startTestApp();
  try {
    const cookie = await devCookie(t, "learner@example.com");
    const home = await getPage(t, "/", cookie);
    assert.equal(home.res.status, 200);
    // The demo learner's assignment (Lockout/Tagout, due in three weeks) with the scan's sessions.
    assert.match(
      home.text,
      /Required for you by \d{1,2} [A-Z][a-z]{2}: (\d sessions? (near you|open)|no open session)/,
    );
    assert.match(home.text, /Lockout\/Tagout Procedures/);
    const schedule = await getPage(t, "/me/schedule", cookie);
    assert.match(schedule.text, /Your required training/);
    const anonymous = await getPage(t, "/");
    assert.doesNotMatch(anonymous.text, /Your required training/);
  } finally {
    await t.close();
  }
});

Deno.test("[compliance] /team: a refused assignment keeps the input and says why next to the field", async () => {
  const t = await startTestApp();
  try {
    const manager = await devCookie(t, "manager@example.com");
    const page = await getPage(t, "/team", manager);
    assert.equal(page.res.status, 200);
    const learnerId = (await t.services.kv.get<string>(["users_by_email", "learner@example.com"])).value!;
    const courseId = /<option value="([0-9A-Z]{26})"[^>]*>SAF-110/.exec(page.text)![1];
    const past = await postForm(t, "/team", manager, {
      intent: "assign",
      learnerId,
      courseId,
      dueOn: "2020-01-01",
      note: "keep me",
    });
    assert.equal(past.res.status, 400);
    assert.match(past.text, /id="dueOn-error"[^>]*>The due date must be today or later\./);
    assert.match(past.text, /value="2020-01-01"/);
    assert.match(past.text, />keep me<\/textarea>/);
    const missing = await postForm(t, "/team", manager, { intent: "assign", learnerId, courseId: "", dueOn: "" });
    assert.equal(missing.res.status, 400);
    assert.match(missing.text, /Choose the course\./);
    assert.match(missing.text, /Enter the date it is due by\./);
    const stranger = (await t.services.kv.get<string>(["users_by_email", "dealer.admin@example.com"])).value!;
    const outside = await postForm(t, "/team", manager, {
      intent: "assign",
      learnerId: stranger,
      courseId,
      dueOn: "2099-01-01",
    });
    assert.equal(outside.res.status, 403);
    assert.match(outside.text, /That person is not on your team\./);
    const learner = await devCookie(t, "learner@example.com");
    assert.equal((await getPage(t, "/team", learner)).res.status, 403);
    assert.equal((await getPage(t, "/dealer/compliance", manager)).res.status, 403);
  } finally {
    await t.close();
  }
});
