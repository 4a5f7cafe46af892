/**
 * Pages never answer bad input with a 5xx: a bad home filter is ignored with a visible note, a
 * malformed dev cookie counts as no sign-in, and an id of thousands of characters (too long for a
 * Deno KV key) is a 404 on every page and form post that takes one.
 */
import assert from "node:assert/strict";
import type { Actor } from "../lib/booking/events.ts";
import { getAvailability } from "../lib/booking/availability.ts";
import { encodeSessionCursor, listSessions } from "../lib/store/mod.ts";
import { startTestApp, type TestApp } from "./app_fixture.ts";
import { devCookie, devSignInCookie, getPage, postForm } from "./page_client.ts";

const HUGE_ID = "A".repeat(3000);

async function get(t: TestApp, path: string, cookie?: string) {
  const { res, text } = await getPage(t, path, cookie);
  return { res, html: text.replaceAll("&quot;", '"') };
}

function actor(id: string): Actor {
  return { userId: id, roles: ["learner"], origin: "web", correlationId: crypto.randomUUID(), reason: "test" };
}

/** Upcoming sessions (from tomorrow) of courses without prerequisites with at least two seats left. */
async function openSessions(t: TestApp) {
  const { sessions } = await listSessions(t.services.kv, {
    from: new Date(Date.now() + 86_400_000).toISOString(),
    limit: 200,
  });
  const avail = await getAvailability(t.services.kv, sessions);
  const out = [];
  for (const s of sessions) {
    const c = (await t.services.kv.get<{ prerequisiteCourseIds: string[] }>(["courses", s.courseId])).value!;
    if (!c.prerequisiteCourseIds.length && s.status === "scheduled" && avail.get(s.id)!.seatsLeft >= 2) out.push(s);
  }
  return out;
}

/** The page's alert box text (the notes about ignored filters). */
function alertText(html: string): string {
  const m = /<div role="alert"[^>]*>([\s\S]*?)<\/div>/.exec(html);
  return m ? m[1].replace(/<[^>]+>/g, " ") : "";
}

Deno.test("[pages] home ignores a cursor it did not make, with a note, and still lists sessions", async () => {
  const t = await startTestApp();
  try {
    const { res, html } = await get(t, "/?cursor=garbage");
    assert.equal(res.status, 200);
    assert.match(alertText(html), /Page "garbage" is not a page of this list; it was ignored\./);
    assert.match(html, /aria-label="Sessions"/);
  } finally {
    await t.close();
  }
});

Deno.test("[pages] home ignores a location that is not an id nor online, with a note", async () => {
  const t = await startTestApp();
  try {
    const { res, html } = await get(t, "/?location=bogus");
    assert.equal(res.status, 200);
    assert.match(alertText(html), /Location "bogus" is not a location of the list; it was ignored\./);
    assert.match(html, /aria-label="Sessions"/);
  } finally {
    await t.close();
  }
});

Deno.test("[pages] home ignores an end date before the default start (today), with a note", async () => {
  const t = await startTestApp();
  try {
    const { res, html } = await get(t, "/?to=2020-01-01");
    assert.equal(res.status, 200);
    assert.match(alertText(html), /The end date is in the past, and only upcoming sessions are listed/);
    assert.match(html, /aria-label="Sessions"/);
  } finally {
    await t.close();
  }
});

Deno.test("[pages] home with a well-formed cursor past the end date shows an empty page, not an error", async () => {
  const t = await startTestApp();
  try {
    const to = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    const cursor = encodeSessionCursor({ startsAt: "9999-01-01T00:00:00.000Z", id: "01ARZ3NDEKTSV4RRFFQ69G5FAV" });
    const { res, html } = await get(t, `/?to=${to}&cursor=${cursor}`);
    assert.equal(res.status, 200);
    assert.match(html, /No sessions match these filters/);
  } finally {
    await t.close();
  }
});

Deno.test("[pages] a malformed or unknown session cookie counts as signed out on every page", async () => {
  const t = await startTestApp();
  try {
    for (
      const cookie of [
        "tb_session=%",
        "tb_session=%E0%A4%A",
        "other=1; tb_session=%zz",
        "tb_session=01ARZ3NDEKTSV4RRFFQ69G5FAV",
      ]
    ) {
      const home = await get(t, "/", cookie);
      assert.equal(home.res.status, 200, cookie);
      assert.match(home.html, />\s*Sign in\s*</, cookie);
      const schedule = await get(t, "/me/schedule", cookie);
      assert.equal(schedule.res.status, 200, cookie);
      assert.match(schedule.html, />\s*Sign in\s*</, cookie);
    }
  } finally {
    await t.close();
  }
});

Deno.test("[pages] a 3,000-character id is a 404 on every page that takes an id", async () => {
  const t = await startTestApp();
  try {
    const cookie = await devCookie(t, "learner@example.com");
    for (
      const path of [
        `/sessions/${HUGE_ID}`,
        `/sessions/${HUGE_ID}/seats`,
        `/holds/${HUGE_ID}`,
        `/bookings/${HUGE_ID}`,
        `/bookings/${HUGE_ID}/calendar.ics`,
      ]
    ) {
      const { res, html } = await get(t, path, cookie);
      assert.equal(res.status, 404, path.slice(0, 20));
      assert.match(html, /couldn't find that page/, path.slice(0, 20));
    }
  } finally {
    await t.close();
  }
});

Deno.test("[pages] a 3,000-character id in a form post is a 404, and nothing changes", async () => {
  const t = await startTestApp();
  try {
    const learner = (await t.services.kv.get<string>(["users_by_email", "learner@example.com"])).value!;
    const cookie = await devSignInCookie(t.services.kv, learner);
    const [a, b] = await openSessions(t);
    const { engine } = t.services;
    const { hold } = await engine.placeHold(a.id, learner, actor(learner));
    const { booking } = await engine.confirmHold(hold.id, actor(learner));
    const { hold: other } = await engine.placeHold(b.id, learner, actor(learner));
    const before = await engine.listLearnerPlaces(learner);

    const cases: [string, Record<string, string>][] = [
      [`/sessions/${HUGE_ID}`, { intent: "hold", key: crypto.randomUUID() }],
      [`/sessions/${HUGE_ID}`, { intent: "waitlist" }],
      [`/holds/${HUGE_ID}`, { intent: "book", key: crypto.randomUUID() }],
      [`/holds/${HUGE_ID}`, { intent: "release" }],
      ["/me/schedule", { intent: "cancel", booking: HUGE_ID }],
      ["/me/schedule", { intent: "reschedule", booking: HUGE_ID, session: b.id, key: crypto.randomUUID() }],
      ["/me/schedule", { intent: "reschedule", booking: booking.id, session: HUGE_ID, key: crypto.randomUUID() }],
      ["/me/schedule", { intent: "release", hold: HUGE_ID }],
      ["/me/schedule", { intent: "leave", session: HUGE_ID }],
    ];
    for (const [path, fields] of cases) {
      const { res } = await postForm(t, path, cookie, fields);
      assert.equal(res.status, 404, `${path.slice(0, 20)} ${fields.intent}`);
    }
    const after = await engine.listLearnerPlaces(learner);
    assert.deepEqual(after.bookings.map((x) => [x.id, x.status]), before.bookings.map((x) => [x.id, x.status]));
    assert.deepEqual(after.holds.map((x) => x.id), before.holds.map((x) => x.id));
    assert.ok(after.holds.some((x) => x.id === other.id));
  } finally {
    await t.close();
  }
});

Deno.test("[pages] an admin form post with a 3,000-character review item id is a 404", async () => {
  const t = await startTestApp();
  try {
    const cookie = await devCookie(t, "admin@example.com");
    for (const intent of ["retry", "resolve"]) {
      const { res, text: html } = await postForm(t, "/admin/calcom", cookie, { intent, id: HUGE_ID, comment: "done" });
      assert.equal(res.status, 404, intent);
      assert.match(html, /role="alert"|<h1/, intent);
    }
  } finally {
    await t.close();
  }
});

Deno.test("[pages] an island asset path with malformed percent-encoding is a 404", async () => {
  const t = await startTestApp();
  try {
    const [session] = await openSessions(t);
    const { html } = await get(t, `/sessions/${session.id}`);
    const prefix = /\/_frsh\/js\/[0-9a-z]+\//.exec(html)?.[0];
    assert.ok(prefix, "the session page loads its islands");
    for (const name of ["%E0%A4%A", "%25", "%C0%AF"]) {
      const { res } = await get(t, `${prefix}${name}`);
      assert.equal(res.status, 404, name);
    }
  } finally {
    await t.close();
  }
});
