/** Business rules (API and page): new actions follow them, older ones keep theirs; per-course overrides; audited. */
import assert from "node:assert/strict";
import { type Body } from "../api/client.ts";
import { startApiFixture } from "../api/fixture.ts";
import { devSignInCookie, getPage, postForm } from "../page_client.ts";
import { defaultRules } from "../../lib/booking/rules.ts";

const MIN = 60_000;
const lengthOf = (hold: Body) => (Date.parse(hold.expiresAt) - Date.parse(hold.createdAt)) / MIN;

Deno.test("[rules] a new hold length applies to new holds only; a course override wins; each change audited", async () => {
  const f = await startApiFixture();
  try {
    const [learner] = await f.learners(1);
    const [staff] = await f.learners(1, ["admin"]);
    const [s1, s2] = [await f.session(), await f.session()];
    const first = await learner.api.post<Body>("/api/v1/holds", { sessionId: s1.id });
    assert.equal(lengthOf(first.body.hold), 15);
    const read = await staff.api.get<Body>("/api/v1/admin/rules");
    assert.equal(read.body.version, null, "defaults, never saved");
    const saved = await staff.api.request<Body>("PUT", "/api/v1/admin/rules", {
      ...read.body.rules,
      holdMinutes: 30,
      reason: "busy season",
      ifVersion: null,
    });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    const again = await learner.api.get<Body>(`/api/v1/holds/${first.body.hold.id}`);
    assert.equal(again.body.hold.expiresAt, first.body.hold.expiresAt, "the earlier hold keeps its time");
    const second = await learner.api.post<Body>("/api/v1/holds", { sessionId: s2.id });
    assert.equal(lengthOf(second.body.hold), 30);
    const override = await staff.api.request<Body>("PUT", `/api/v1/admin/rules/courses/${s1.courseId}`, {
      holdMinutes: 5,
      reason: "short course",
    });
    assert.equal(override.status, 200);
    await learner.api.delete(`/api/v1/holds/${first.body.hold.id}`);
    const third = await learner.api.post<Body>("/api/v1/holds", { sessionId: s1.id });
    assert.equal(third.status, 201, JSON.stringify(third.body));
    assert.equal(lengthOf(third.body.hold), 5);
    const audit = (await staff.api.get<Body>("/api/v1/admin/rules")).body.audit;
    assert.equal(audit.length, 2);
    assert.equal(audit[0].scope, `course:${s1.courseId}`);
    assert.deepEqual(audit[0].changes, { holdMinutes: { from: null, to: 5 } });
    assert.equal(audit[1].scope, "global");
    assert.deepEqual(audit[1].changes, { holdMinutes: { from: 15, to: 30 } });
    assert.equal(audit[1].actorId, staff.user.id);
    assert.equal(audit[1].reason, "busy season");
  } finally {
    await f.close();
  }
});

Deno.test("[rules] raising the live-hold limit lets a learner hold one more seat", async () => {
  const f = await startApiFixture();
  try {
    const [learner] = await f.learners(1);
    const sessions = [await f.session(), await f.session(), await f.session(), await f.session()];
    for (const s of sessions.slice(0, 3)) {
      assert.equal((await learner.api.post("/api/v1/holds", { sessionId: s.id })).status, 201);
    }
    const refused = await learner.api.post<Body>("/api/v1/holds", { sessionId: sessions[3].id });
    assert.equal(refused.status, 429);
    const put = await f.admin.request("PUT", "/api/v1/admin/rules", { ...defaultRules(15), maxLiveHolds: 4 });
    assert.equal(put.status, 200);
    assert.equal((await learner.api.post("/api/v1/holds", { sessionId: sessions[3].id })).status, 201);
    const doctor = await f.admin.get<Body>("/api/v1/admin/consistency");
    assert.equal(doctor.body.ok, true, JSON.stringify(doctor.body.problems));
  } finally {
    await f.close();
  }
});

Deno.test("[rules] stale, out-of-range and unknown-course changes are refused and change nothing", async () => {
  const f = await startApiFixture();
  try {
    const rules = defaultRules(15);
    assert.equal((await f.admin.request("PUT", "/api/v1/admin/rules", { ...rules, holdMinutes: 20 })).status, 200);
    const stale = await f.admin.request<Body>("PUT", "/api/v1/admin/rules", {
      ...rules,
      holdMinutes: 25,
      ifVersion: null,
    });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.error, "stale_edit");
    assert.equal((await f.admin.request("PUT", "/api/v1/admin/rules", { ...rules, holdMinutes: 0 })).status, 400);
    const unknown = await f.admin.request("PUT", "/api/v1/admin/rules/courses/01JZZZZZZZZZZZZZZZZZZZZZZZ", {});
    assert.equal(unknown.status, 404);
    assert.equal((await f.admin.get<Body>("/api/v1/admin/rules")).body.rules.holdMinutes, 20);
    const [learner] = await f.learners(1);
    assert.equal((await learner.api.get("/api/v1/admin/rules")).status, 403);
  } finally {
    await f.close();
  }
});

Deno.test("[rules] page: bad values kept with their errors; a valid change saved and listed with its reason", async () => {
  const f = await startApiFixture();
  try {
    const [admin] = await f.learners(1, ["admin"]);
    const cookie = await devSignInCookie(f.services.kv, admin.user.id);
    const page = await getPage(f, "/admin/rules", cookie);
    assert.equal(page.res.status, 200);
    const form = {
      intent: "global",
      version: "",
      holdMinutes: "20",
      maxLiveHolds: "3",
      offerHours: "24",
      offerHoursNearStart: "2",
      cancelCutoffHours: "24",
      checkInWindowMinutes: "30",
      reminderHours: "48, 2",
      reason: "longer holds",
    };
    const bad = await postForm(f, "/admin/rules", cookie, { ...form, holdMinutes: "soon", reminderHours: "x" });
    assert.equal(bad.res.status, 400);
    assert.match(bad.text, /data-testid="error-holdMinutes"[^>]*>Give a whole number\./);
    assert.match(bad.text, /data-testid="error-reminderHours"/);
    assert.match(bad.text, /value="soon"/);
    const range = await postForm(f, "/admin/rules", cookie, { ...form, maxLiveHolds: "99" });
    assert.match(range.text, /data-testid="error-maxLiveHolds"[^>]*>This must be at most 20\./);
    assert.equal((await f.admin.get<Body>("/api/v1/admin/rules")).body.version, null, "nothing saved");
    const ok = await postForm(f, "/admin/rules", cookie, form);
    assert.equal(ok.res.status, 303);
    const after = await getPage(f, "/admin/rules?done=saved", cookie);
    assert.match(after.text, /holdMinutes 15 → 20/);
    assert.match(after.text, /Why: longer holds/);
    assert.ok(after.text.includes(`by ${admin.user.name}`), "who changed it");
    const noCourse = await postForm(f, "/admin/rules", cookie, { intent: "course", course: "", holdMinutes: "5" });
    assert.equal(noCourse.res.status, 400);
    assert.match(noCourse.text, /data-testid="error-course"/);
  } finally {
    await f.close();
  }
});

Deno.test("[rules] a course's own reminder schedule: set by API and page ('none': no reminders), refused out of range, audited", async () => {
  const f = await startApiFixture();
  try {
    const [admin] = await f.learners(1, ["admin"]);
    const cookie = await devSignInCookie(f.services.kv, admin.user.id);
    const s = await f.session();
    const put = await admin.api.request<Body>("PUT", `/api/v1/admin/rules/courses/${s.courseId}`, {
      reminderHours: [24, 1],
      reason: "short course",
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(put.body.overrides.overrides, { reminderHours: [24, 1] });
    const bad = await admin.api.request<Body>("PUT", `/api/v1/admin/rules/courses/${s.courseId}`, {
      reminderHours: [2, 2],
    });
    assert.equal(bad.status, 400);
    const form = { intent: "course", course: s.courseId, holdMinutes: "", offerHours: "", offerHoursNearStart: "" };
    const wrong = await postForm(f, "/admin/rules", cookie, { ...form, reminderHours: "soon" });
    assert.equal(wrong.res.status, 400);
    assert.match(wrong.text, /data-testid="error-o-reminderHours"[^>]*>Give whole hours separated by commas/);
    assert.match(wrong.text, /value="soon"/);
    const none = await postForm(f, "/admin/rules", cookie, { ...form, reminderHours: "none" });
    assert.equal(none.res.status, 303);
    const read = await admin.api.get<Body>("/api/v1/admin/rules");
    assert.deepEqual(read.body.courses[0].overrides, { reminderHours: [] });
    assert.deepEqual(read.body.audit[0].changes, { reminderHours: { from: [24, 1], to: [] } });
    const page = await getPage(f, "/admin/rules", cookie);
    assert.match(page.text, /Reminders \(hours before\) none/);
    assert.doesNotMatch(page.text, /not read|stored for/i);
  } finally {
    await f.close();
  }
});
