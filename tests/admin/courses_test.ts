/** The course catalog for admins (API and pages): prerequisites without cycles, stale edits refused, retiring. */
import assert from "node:assert/strict";
import { findPrerequisiteCycle } from "../../lib/domain/mod.ts";
import { getCourse, listCourses } from "../../lib/store/mod.ts";
import { type Body } from "../api/client.ts";
import { type ApiFixture, startApiFixture } from "../api/fixture.ts";
import { devSignInCookie, getPage, postForm } from "../page_client.ts";

let n = 0;
function body(over: Body = {}): Body {
  n++;
  return {
    code: `TST-${String(100 + n)}`,
    title: `Test course ${n}`,
    summary: "A course made by a test.",
    topic: "safety",
    programType: "development",
    durationMinutes: 90,
    prerequisiteCourseIds: [],
    ...over,
  };
}

async function add(f: ApiFixture, over: Body = {}) {
  const r = await f.admin.post<Body>("/api/v1/courses", body(over));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body as { course: Body; version: string };
}

Deno.test("[courses] API: add with a prerequisite; unknown prerequisite 400, taken code 409, admins only", async () => {
  const f = await startApiFixture();
  try {
    const base = await add(f);
    const next = await add(f, {
      prerequisiteCourseIds: [base.course.id],
      completionRule: { minMinutes: 45, minPercent: 60 },
      certificationValidMonths: 24,
    });
    assert.deepEqual(next.course.prerequisiteCourseIds, [base.course.id]);
    assert.deepEqual(next.course.completionRule, { minMinutes: 45, minPercent: 60 });
    assert.equal(next.course.certificationValidMonths, 24);
    const unknown = await f.admin.post<Body>(
      "/api/v1/courses",
      body({ prerequisiteCourseIds: ["01JZZZZZZZZZZZZZZZZZZZZZZZ"] }),
    );
    assert.equal(unknown.status, 400);
    const badCode = await f.admin.post<Body>("/api/v1/courses", body({ code: "bad" }));
    assert.equal(badCode.status, 400);
    assert.equal(badCode.body.details.issues[0].path, "code");
    const taken = await f.admin.post<Body>("/api/v1/courses", body({ code: base.course.code }));
    assert.equal(taken.status, 409);
    assert.equal(taken.body.error, "code_taken");
    const [learner] = await f.learners(1);
    assert.equal((await learner.api.post("/api/v1/courses", body())).status, 403);
    assert.equal((await learner.api.get("/api/v1/admin/courses")).status, 403);
  } finally {
    await f.close();
  }
});

Deno.test("[courses] API: a prerequisite cycle is refused with the cycle named; concurrent edits cannot close one together", async () => {
  const f = await startApiFixture();
  try {
    const a = await add(f);
    const b = await add(f, { prerequisiteCourseIds: [a.course.id] });
    const c = await add(f, { prerequisiteCourseIds: [b.course.id] });
    const { id: _, active: __, required: ___, ...fieldsA } = a.course;
    const cycle = await f.admin.request<Body>("PUT", `/api/v1/courses/${a.course.id}`, {
      ...fieldsA,
      prerequisiteCourseIds: [c.course.id],
    });
    assert.equal(cycle.status, 400);
    const names = [a, c, b, a].map((x) => x.course.code).join(" → ");
    assert.ok(
      cycle.body.message.includes(names) ||
        cycle.body.message.includes([c, b, a, c].map((x) => x.course.code).join(" → ")) ||
        cycle.body.message.includes([b, a, c, b].map((x) => x.course.code).join(" → ")),
      cycle.body.message,
    );
    assert.deepEqual((await getCourse(f.services.kv, a.course.id))!.prerequisiteCourseIds, []);

    // Two courses each made the other's prerequisite at the same moment: at most one change lands.
    const x = await add(f);
    const y = await add(f);
    const put = (me: Body, other: Body) => {
      const { id: _id, ...fields } = me.course;
      return f.admin.request<Body>("PUT", `/api/v1/courses/${me.course.id}`, {
        ...fields,
        prerequisiteCourseIds: [other.course.id],
      });
    };
    const results = await Promise.all([put(x, y), put(y, x)]);
    assert.ok(results.filter((r) => r.status === 200).length <= 1, results.map((r) => r.status).join(","));
    assert.ok(results.some((r) => r.status === 200), "one of them lands");
    const all = await listCourses(f.services.kv, { includeInactive: true });
    assert.deepEqual(findPrerequisiteCycle(all), []);
  } finally {
    await f.close();
  }
});

Deno.test("[courses] API: a stale change is refused with the current course; a retired course leaves the catalog", async () => {
  const f = await startApiFixture();
  try {
    const a = await add(f);
    const { id: _, ...fields } = a.course;
    const first = await f.admin.request<Body>("PUT", `/api/v1/courses/${a.course.id}`, {
      ...fields,
      title: "Renamed once",
      ifVersion: a.version,
    });
    assert.equal(first.status, 200);
    const stale = await f.admin.request<Body>("PUT", `/api/v1/courses/${a.course.id}`, {
      ...fields,
      title: "Renamed from an old copy",
      ifVersion: a.version,
    });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.error, "stale_edit");
    assert.equal(stale.body.details.current.title, "Renamed once");
    const retired = await f.admin.request<Body>("PUT", `/api/v1/courses/${a.course.id}`, {
      ...fields,
      title: "Renamed once",
      active: false,
      ifVersion: first.body.version,
    });
    assert.equal(retired.status, 200);
    assert.ok(!(await listCourses(f.services.kv)).some((c) => c.id === a.course.id), "not in the catalog");
    const admin = await f.admin.get<Body>("/api/v1/admin/courses");
    assert.ok(admin.body.courses.some((c: Body) => c.course.id === a.course.id && c.course.active === false));
    const missing = await f.admin.request("PUT", "/api/v1/courses/01JZZZZZZZZZZZZZZZZZZZZZZZ", body());
    assert.equal(missing.status, 404);
  } finally {
    await f.close();
  }
});

Deno.test("[courses] pages: add with a prerequisite; bad input kept with errors; a cycle and a stale edit refused", async () => {
  const f = await startApiFixture();
  try {
    const [admin] = await f.learners(1, ["admin"]);
    const cookie = await devSignInCookie(f.services.kv, admin.user.id);
    const base = await add(f);
    const form = {
      code: "PGE-201",
      title: "Page course",
      summary: "Made on the page.",
      topic: "sales",
      programType: "onboarding",
      durationMinutes: "60",
      lateCancelCutoffHours: "48",
      certificationTrack: "Sales track",
      completionMinutes: "",
      completionPercent: "",
      certificationValidMonths: "",
      active: "on",
      prerequisites: base.course.id,
    };
    const bad = await postForm(f, "/admin/courses", cookie, { ...form, code: "page", durationMinutes: "an hour" });
    assert.equal(bad.res.status, 400);
    assert.match(bad.text, /data-testid="error-durationMinutes"[^>]*>Give the length in whole minutes\./);
    assert.match(bad.text, /value="an hour"/);
    const badCode = await postForm(f, "/admin/courses", cookie, { ...form, code: "page" });
    assert.match(badCode.text, /data-testid="error-code"[^>]*>This must look like SAF-101/);
    assert.equal(
      (await listCourses(f.services.kv, { includeInactive: true })).some((c) => c.title === "Page course"),
      false,
    );
    const ok = await postForm(f, "/admin/courses", cookie, form);
    assert.equal(ok.res.status, 303);
    const made = (await listCourses(f.services.kv)).find((c) => c.code === "PGE-201")!;
    assert.deepEqual(made.prerequisiteCourseIds, [base.course.id]);
    assert.equal(made.lateCancelCutoffHours, 48);
    assert.equal(made.certificationTrack, "Sales track");

    const here = `/admin/courses/${base.course.id}`;
    const page = await getPage(f, here, cookie);
    assert.equal(page.res.status, 200);
    const version = /name="version" value="([^"]+)"/.exec(page.text)![1];
    const baseForm = {
      code: base.course.code,
      title: base.course.title,
      summary: base.course.summary,
      topic: base.course.topic,
      programType: base.course.programType,
      durationMinutes: "90",
      lateCancelCutoffHours: "24",
      certificationTrack: "",
      completionMinutes: "",
      completionPercent: "",
      certificationValidMonths: "",
      active: "on",
      version,
    };
    const cycle = await postForm(f, here, cookie, { ...baseForm, prerequisites: made.id });
    assert.equal(cycle.res.status, 400);
    assert.match(
      cycle.text,
      /data-testid="error-prerequisites"[^>]*>This would make a prerequisite cycle: [^<]*PGE-201/,
    );
    await f.admin.request("PUT", `/api/v1/courses/${base.course.id}`, {
      ...body(),
      code: base.course.code,
      title: "Changed elsewhere",
    });
    const stale = await postForm(f, here, cookie, { ...baseForm, title: "Mine" });
    assert.equal(stale.res.status, 409);
    assert.match(stale.text, /Someone changed this course/);
    assert.match(stale.text, /name="title"[^>]*value="Changed elsewhere"/);
    assert.equal((await getCourse(f.services.kv, base.course.id))!.title, "Changed elsewhere");
    assert.equal((await getPage(f, "/admin/courses/01JZZZZZZZZZZZZZZZZZZZZZZZ", cookie)).res.status, 404);
  } finally {
    await f.close();
  }
});
