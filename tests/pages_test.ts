import assert from "node:assert/strict";
import { createUser, getUser, listCourses, listLocations, listSessions } from "../lib/store/mod.ts";
import { startTestApp } from "./app_fixture.ts";
import { devSignInCookie } from "./page_client.ts";

async function get(app: { fetch: (r: Request) => Response | Promise<Response> }, path: string) {
  const res = await app.fetch(new Request(`http://localhost${path}`));
  return { res, html: await res.text() };
}

Deno.test("[pages] home lists upcoming seeded sessions with seats left and filters", async () => {
  const t = await startTestApp();
  try {
    const { res, html } = await get(t.app, "/");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    const cards = html.match(/href="\/sessions\/[0-9A-Z]{26}"/g) ?? [];
    assert.ok(cards.length >= 10, `expected a page of sessions, got ${cards.length}`);
    assert.match(html, /seats? left|Full/);
    for (const name of ["from", "to", "location", "topic", "program"]) assert.match(html, new RegExp(`name="${name}"`));
    // The first card is the soonest upcoming session.
    const { sessions } = await listSessions(t.services.kv, { from: new Date().toISOString(), limit: 1 });
    assert.equal(cards[0], `href="/sessions/${sessions[0].id}"`);
    // No islands on the home page: no JavaScript at all.
    assert.doesNotMatch(html, /<script[^>]*type="module"/);
    assert.doesNotMatch(html, /modulepreload/);
  } finally {
    await t.close();
  }
});

Deno.test("[pages] home filters by location, online, program type and date range", async () => {
  const t = await startTestApp();
  try {
    const [loc] = await listLocations(t.services.kv);
    const { html } = await get(t.app, `/?location=${loc.id}`);
    const ids = [...html.matchAll(/href="\/sessions\/([0-9A-Z]{26})"/g)].map((m) => m[1]);
    assert.ok(ids.length > 0, "the location has sessions");
    for (const id of ids) {
      const s = (await t.services.kv.get<{ locationId: string }>(["sessions", id])).value!;
      assert.equal(s.locationId, loc.id);
    }
    const online = await get(t.app, "/?location=online");
    const onlineIds = [...online.html.matchAll(/href="\/sessions\/([0-9A-Z]{26})"/g)].map((m) => m[1]);
    assert.ok(onlineIds.length > 0);
    for (const id of onlineIds) {
      const s = (await t.services.kv.get<{ mode: string }>(["sessions", id])).value!;
      assert.equal(s.mode, "online");
    }
    const compliance = await get(t.app, "/?program=compliance");
    const cIds = [...compliance.html.matchAll(/href="\/sessions\/([0-9A-Z]{26})"/g)].map((m) => m[1]);
    assert.ok(cIds.length > 0);
    for (const id of cIds) {
      const s = (await t.services.kv.get<{ courseId: string }>(["sessions", id])).value!;
      const c = (await t.services.kv.get<{ programType: string }>(["courses", s.courseId])).value!;
      assert.equal(c.programType, "compliance");
    }
    const day = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    const ranged = await get(t.app, `/?from=${day}&to=${day}`);
    assert.match(ranged.html, new RegExp(`value="${day}"`));
    const bad = await get(t.app, "/?from=yesterday");
    assert.equal(bad.res.status, 200);
    assert.match(bad.html, /role="alert"/);
    assert.match(bad.html, /From date &quot;yesterday&quot;/);
  } finally {
    await t.close();
  }
});

Deno.test("[pages] session detail renders the session; unknown session is a 404 page", async () => {
  const t = await startTestApp();
  try {
    const { sessions } = await listSessions(t.services.kv, { from: new Date().toISOString(), limit: 5 });
    const s = sessions[0];
    const course = (await t.services.kv.get<{ title: string }>(["courses", s.courseId])).value!;
    const { res, html } = await get(t.app, `/sessions/${s.id}`);
    assert.equal(res.status, 200);
    assert.ok(html.includes(course.title.replaceAll("&", "&amp;")), "shows the course title");
    assert.match(html, /When/);
    assert.match(html, /Where/);
    // The LocalTime island ships with its props and the runtime.
    assert.match(html, /<script[^>]*type="module"/);
    const missing = await get(t.app, "/sessions/01ARZ3NDEKTSV4RRFFQ69G5FAV");
    assert.equal(missing.res.status, 404);
    assert.match(missing.html, /couldn't find that page/);
    const nowhere = await get(t.app, "/no/such/page");
    assert.equal(nowhere.res.status, 404);
  } finally {
    await t.close();
  }
});

Deno.test("[pages] /health reports KV and version; 503 when KV is gone", async () => {
  const t = await startTestApp({ seed: false });
  try {
    const res = await t.app.fetch(new Request("http://localhost/health"));
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(body, {
      status: "ok",
      kv: "ok",
      version: t.services.config.version,
      relay: { state: "off", lastDeliveredAt: null, lastError: null },
    });
  } finally {
    await t.close();
  }
  const down = await t.app.fetch(new Request("http://localhost/health"));
  assert.equal(down.status, 503);
  assert.equal((await down.json()).kv, "unavailable");
});

Deno.test("[pages] session detail names the instructor and marks each prerequisite completed or not for the learner", async () => {
  const t = await startTestApp();
  try {
    const kv = t.services.kv;
    const courses = await listCourses(kv);
    const advanced = courses.find((c) => c.prerequisiteCourseIds.length >= 1)!;
    const page = await listSessions(kv, { courseId: advanced.id, limit: 1 });
    const session = page.sessions[0];
    const [doneId, ...rest] = advanced.prerequisiteCourseIds;
    const learner = await createUser(kv, {
      email: "prereq.check@example.com",
      name: "Prereq Check",
      roles: ["learner"],
      completedCourses: [{ courseId: doneId, completedAt: "2026-01-01T00:00:00.000Z" }],
    });
    const html = await (await t.app.fetch(
      new Request(`http://localhost/sessions/${session.id}`, {
        headers: { cookie: await devSignInCookie(t.services.kv, learner.id) },
      }),
    )).text();
    const instructor = (await getUser(kv, session.instructorId))!;
    assert.ok(html.includes(`Instructor: ${instructor.name}`));
    const done = courses.find((c) => c.id === doneId)!;
    assert.match(html, new RegExp(`${done.code} · [^<]*</a><span[^>]*>: completed`));
    for (const id of rest) {
      const c = courses.find((x) => x.id === id)!;
      assert.match(html, new RegExp(`${c.code} · [^<]*</a><span[^>]*>: not completed yet`));
    }
    assert.ok(html.includes(`href="/?q=${encodeURIComponent(done.code)}"`));
    const signedOut = await (await t.app.fetch(new Request(`http://localhost/sessions/${session.id}`))).text();
    assert.ok(!signedOut.includes(": completed") && !signedOut.includes("not completed yet"));
  } finally {
    await t.close();
  }
});
