/**
 * The instructor pages in process: /teach, the roster with its forms (no JavaScript needed), the
 * live roster stream, learner self check-in, and closing.
 */
import assert from "node:assert/strict";
import type { Actor } from "../lib/booking/events.ts";
import { mintToken } from "../lib/auth/tokens.ts";
import type { Session, User } from "../lib/domain/mod.ts";
import { createSession, createUser, listCourses, listLocations, updateSession } from "../lib/store/mod.ts";
import { startTestApp, type TestApp } from "./app_fixture.ts";
import { devSignInCookie, getPage, postForm } from "./page_client.ts";

let n = 0;
const self = (u: User): Actor => ({ userId: u.id, roles: u.roles, origin: "web", correlationId: crypto.randomUUID() });

/** An in-person session starting in 10 minutes, its instructor, and `count` booked learners. */
async function world(t: TestApp, count: number) {
  const kv = t.services.kv;
  const course = (await listCourses(kv)).find((c) => c.prerequisiteCourseIds.length === 0)!;
  const location = (await listLocations(kv))[0];
  const instructor = await createUser(kv, {
    email: `teach-${++n}@example.com`,
    name: "Ida Teach",
    roles: ["instructor"],
  });
  const start = Date.now() + 10 * 60_000;
  const session = await createSession(kv, {
    courseId: course.id,
    startsAt: new Date(start).toISOString(),
    endsAt: new Date(start + 2 * 3_600_000).toISOString(),
    timeZone: location.timeZone,
    mode: "in_person",
    locationId: location.id,
    capacity: 10,
    instructorId: instructor.id,
  });
  const learners: User[] = [];
  for (let i = 0; i < count; i++) learners.push(await book(t, session, `Lena Learner${++n}`));
  return { course, session, instructor, learners, cookie: await devSignInCookie(kv, instructor.id) };
}

async function book(t: TestApp, session: Session, name: string): Promise<User> {
  const kv = t.services.kv;
  const learner = await createUser(kv, { email: `learner-${++n}@example.com`, name, roles: ["learner"] });
  const { hold } = await t.services.engine.placeHold(session.id, learner.id, self(learner));
  await t.services.engine.confirmHold(hold.id, self(learner));
  return learner;
}

Deno.test("[teach] /teach lists the instructor's sessions with seats and states; learners are refused", async () => {
  const t = await startTestApp();
  try {
    const w = await world(t, 2);
    const { res, text } = await getPage(t, "/teach", w.cookie);
    assert.equal(res.status, 200);
    assert.ok(text.includes(`/teach/sessions/${w.session.id}`));
    assert.ok(text.includes("2 of 10 seats taken"), text);
    assert.ok(text.includes("Attendance open"));
    const learner = await devSignInCookie(t.services.kv, w.learners[0].id);
    assert.equal((await getPage(t, "/teach", learner)).res.status, 403);
  } finally {
    await t.close();
  }
});

Deno.test("[teach] roster page: code and QR, marks by form, a stale mark is refused with a sentence, other instructors get 404", async () => {
  const t = await startTestApp();
  try {
    const w = await world(t, 2);
    const path = `/teach/sessions/${w.session.id}`;
    const page = await getPage(t, path, w.cookie);
    assert.equal(page.res.status, 200);
    const code = /data-testid="checkin-code"[^>]*>([A-Z0-9]{6})</.exec(page.text)?.[1];
    assert.ok(code, "the check-in code is shown");
    assert.match(page.text, /<svg[^>]*role="img"[^>]*aria-label="QR code to check in, code [A-Z0-9]{6}"/);
    assert.ok(page.text.includes(w.learners[0].name) && page.text.includes(w.learners[1].name));
    assert.ok(!page.text.includes(w.learners[0].email), "no e-mail addresses on the page");

    const other = await createUser(t.services.kv, {
      email: `other-${++n}@example.com`,
      name: "O",
      roles: ["instructor"],
    });
    assert.equal((await getPage(t, path, await devSignInCookie(t.services.kv, other.id))).res.status, 404);

    const mark = { intent: "mark", learner: w.learners[0].id, revision: "0", mark: "present" };
    const first = await postForm(t, path, w.cookie, mark);
    assert.equal(first.res.status, 303);
    assert.equal(first.res.headers.get("location"), `${path}?done=marked`);
    const stale = await postForm(t, path, w.cookie, { ...mark, mark: "absent" });
    assert.equal(stale.res.status, 409);
    assert.match(stale.text, /Someone else changed this learner(&#x27;|'|&#39;)s attendance/);
    assert.ok(stale.text.includes("Marked present"), "the roster shows what is recorded now");
    const notOnRoster = await postForm(t, path, w.cookie, { ...mark, learner: other.id });
    assert.equal(notOnRoster.res.status, 404);
    const nonsense = await postForm(t, path, w.cookie, { ...mark, mark: "asleep" });
    assert.equal(nonsense.res.status, 400);
    const all = await postForm(t, path, w.cookie, { intent: "all_present" });
    assert.equal(all.res.status, 303);
    const after = await getPage(t, `${path}?done=all_present`, w.cookie);
    assert.equal((after.text.match(/Marked present/g) ?? []).length, 2);
  } finally {
    await t.close();
  }
});

Deno.test("[teach] the roster stream sends the roster, then a learner who books appears", async () => {
  const t = await startTestApp();
  try {
    const w = await world(t, 1);
    const res = await t.app.fetch(
      new Request(`http://test/teach/sessions/${w.session.id}/roster`, { headers: { cookie: w.cookie } }),
    );
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    const nextRoster = async () => {
      while (true) {
        const at = buffer.indexOf("event: roster\n");
        const end = at >= 0 ? buffer.indexOf("\n\n", at) : -1;
        if (end >= 0) {
          const block = buffer.slice(at, end);
          buffer = buffer.slice(end + 2);
          return JSON.parse(block.split("\ndata: ")[1]);
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("stream ended");
        buffer += decoder.decode(value);
      }
    };
    const first = await nextRoster();
    assert.deepEqual(first.rows.map((r: { name: string }) => r.name), [w.learners[0].name]);
    assert.equal("email" in first.rows[0], false);
    const late = await book(t, w.session, "Zed Latecomer");
    const second = await nextRoster();
    assert.ok(second.rows.some((r: { learnerId: string }) => r.learnerId === late.id));
    assert.equal(second.counts.booked, 2);
    await reader.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("[teach] self check-in page: code prefilled from the QR link, wrong code keeps the input with a sentence, then checked in once", async () => {
  const t = await startTestApp();
  try {
    const w = await world(t, 1);
    const code = (await getPage(t, `/teach/sessions/${w.session.id}`, w.cookie)).text
      .match(/data-testid="checkin-code"[^>]*>([A-Z0-9]{6})</)![1];
    const learner = await devSignInCookie(t.services.kv, w.learners[0].id);
    const path = `/sessions/${w.session.id}/check-in`;
    const anonymous = await getPage(t, `${path}?code=${code}`);
    assert.equal(anonymous.res.status, 200);
    assert.ok(anonymous.text.includes("Sign in to check in"));
    const form = await getPage(t, `${path}?code=${code}`, learner);
    assert.ok(form.text.includes(`value="${code}"`), "the code from the QR link is filled in");
    const wrong = await postForm(t, path, learner, { code: "ZZZZZ9" });
    assert.equal(wrong.res.status, 403);
    assert.ok(wrong.text.includes('value="ZZZZZ9"'), "input kept");
    assert.ok(wrong.text.includes('aria-invalid="true"'));
    const ok = await postForm(t, path, learner, { code });
    assert.equal(ok.res.status, 200);
    assert.ok(ok.text.includes("You are checked in (present)"), ok.text);
    const again = await postForm(t, path, learner, { code });
    assert.equal(again.res.status, 409);
    const stranger = await createUser(t.services.kv, { email: `s-${++n}@example.com`, name: "S", roles: ["learner"] });
    const notBooked = await postForm(t, path, await devSignInCookie(t.services.kv, stranger.id), { code });
    assert.equal(notBooked.res.status, 403);
    assert.ok(notBooked.text.includes("You are not booked in this session"));
  } finally {
    await t.close();
  }
});

Deno.test("[teach] closing from the roster page records completions and no-shows", async () => {
  const t = await startTestApp();
  try {
    const w = await world(t, 2);
    const path = `/teach/sessions/${w.session.id}`;
    const early = await postForm(t, path, w.cookie, { intent: "close" });
    assert.equal(early.res.status, 409);
    const end = Date.now() - 60_000;
    await updateSession(t.services.kv, w.session.id, {
      startsAt: new Date(end - 2 * 3_600_000).toISOString(),
      endsAt: new Date(end).toISOString(),
    });
    // Marked after the end (a correction): counted from the start.
    await postForm(t, path, w.cookie, { intent: "mark", learner: w.learners[0].id, revision: "0", mark: "present" });
    const closed = await postForm(t, path, w.cookie, { intent: "close" });
    assert.equal(closed.res.status, 303);
    const page = await getPage(t, `${path}?done=closed`, w.cookie);
    assert.match(page.text, /Closed\. 1 completed, 0 attended without completing, 1 no-shows/);
    assert.ok(page.text.includes("Attendance closed"));
  } finally {
    await t.close();
  }
});

Deno.test("[teach] session page of an online session: join button, completion rule, RSVP; declined offers to release the seat", async () => {
  const t = await startTestApp();
  try {
    const kv = t.services.kv;
    const course = (await listCourses(kv)).find((c) => c.prerequisiteCourseIds.length === 0)!;
    const instructor = await createUser(kv, { email: `o-${++n}@example.com`, name: "On", roles: ["instructor"] });
    const start = Date.now() + 5 * 60_000;
    const session = await createSession(kv, {
      courseId: course.id,
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + 3_600_000).toISOString(),
      timeZone: "America/Chicago",
      mode: "online",
      joinUrl: "https://meet.example.com/page-test",
      capacity: 4,
      instructorId: instructor.id,
    });
    const learner = await book(t, session, "Ona Online");
    const cookie = await devSignInCookie(kv, learner.id);
    const path = `/sessions/${session.id}`;
    const page = await getPage(t, path, cookie);
    assert.ok(page.text.includes(`href="/sessions/${session.id}/join"`), "joins go through our redirect");
    assert.match(page.text, /You complete this course by attending at least 30 minutes or 50 %/);
    assert.ok(page.text.includes("Will you attend?"));
    assert.equal((await postForm(t, path, cookie, { intent: "rsvp", rsvp: "soon" })).res.status, 400);
    const declined = await postForm(t, path, cookie, { intent: "rsvp", rsvp: "declined" });
    assert.equal(declined.res.headers.get("location"), `${path}?rsvp=declined`);
    const ask = await getPage(t, `${path}?rsvp=declined`, cookie);
    assert.ok(ask.text.includes("Release my seat"));
    const released = await postForm(t, path, cookie, { intent: "release" });
    assert.equal(released.res.headers.get("location"), `${path}?rsvp=released`);
    const after = await getPage(t, `${path}?rsvp=released`, cookie);
    assert.ok(after.text.includes("Your seat is released"));
    const places = await t.services.engine.listLearnerPlaces(learner.id);
    assert.equal(places.bookings.find((b) => b.sessionId === session.id)?.status, "cancelled");
  } finally {
    await t.close();
  }
});

Deno.test("[teach] recordings: the instructor adds one after the end; booked learners see it on the session, booking and schedule pages and watch it on the player", async () => {
  let offset = 0;
  const t = await startTestApp({ now: () => new Date(Date.now() + offset) });
  try {
    const w = await world(t, 1);
    const kv = t.services.kv;
    const token = (await mintToken(kv, w.instructor.id)).token;
    const put = (body: unknown) =>
      t.app.fetch(
        new Request(`http://test/api/v1/sessions/${w.session.id}/recording`, {
          method: "PUT",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
      );
    const early = await put({ url: "https://video.example.com/rec.mp4", durationSeconds: 600 });
    assert.equal(early.status, 409);
    offset = 3 * 3_600_000;
    const bad = await put({ url: "javascript:alert(1)" });
    assert.equal(bad.status, 400);
    const roster = `/teach/sessions/${w.session.id}`;
    const typo = await postForm(t, roster, w.cookie, { intent: "recording", url: "video.example.com/rec" });
    assert.equal(typo.res.status, 400);
    assert.ok(typo.text.includes("starting with https://") && typo.text.includes('value="video.example.com/rec"'));
    const byForm = await postForm(t, roster, w.cookie, {
      intent: "recording",
      url: "https://video.example.com/first.mp4",
    });
    assert.equal(byForm.res.headers.get("location"), `${roster}?done=recording`);
    const added = await put({ url: "https://video.example.com/rec.mp4", durationSeconds: 600 });
    assert.equal(added.status, 200);
    const learner = w.learners[0];
    const cookie = await devSignInCookie(kv, learner.id);
    const href = `/sessions/${w.session.id}/recording`;
    assert.ok((await getPage(t, `/sessions/${w.session.id}`, cookie)).text.includes(href));
    const bookingId = (await t.services.engine.listLearnerPlaces(learner.id)).bookings[0].id;
    assert.ok((await getPage(t, `/bookings/${bookingId}`, cookie)).text.includes(href));
    assert.ok((await getPage(t, "/me/schedule", cookie)).text.includes(href));
    const player = await getPage(t, href, cookie);
    assert.equal(player.res.status, 200);
    assert.match(player.text, /<video[^>]*src="https:\/\/video\.example\.com\/rec\.mp4"/);
    assert.ok(player.text.includes("Watched 0 %"));
    const stranger = await createUser(kv, { email: `x-${++n}@example.com`, name: "X", roles: ["learner"] });
    assert.equal((await getPage(t, href, await devSignInCookie(kv, stranger.id))).res.status, 404);
  } finally {
    await t.close();
  }
});
