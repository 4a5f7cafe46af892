/**
 * "My schedule" in-process: what it lists, cancel (with the late warning first), change date,
 * leave a waitlist, release a hold; strangers' bookings are refused. Places are made via the engine.
 */
import assert from "node:assert/strict";
import type { Actor } from "../lib/booking/events.ts";
import { BookingEngine } from "../lib/booking/engine.ts";
import { getAvailability } from "../lib/booking/availability.ts";
import type { Booking, Session } from "../lib/domain/mod.ts";
import { services, setServices } from "../lib/services.ts";
import { listSessions } from "../lib/store/mod.ts";
import { startTestApp, type TestApp } from "./app_fixture.ts";
import { devSignInCookie } from "./page_client.ts";

const BASE = "http://test";

async function userId(t: TestApp, email: string): Promise<string> {
  return (await t.services.kv.get<string>(["users_by_email", email])).value!;
}

function actor(id: string): Actor {
  return { userId: id, roles: ["learner"], origin: "web", correlationId: crypto.randomUUID(), reason: "test" };
}

async function get(t: TestApp, path: string, cookie?: string) {
  const res = await t.app.fetch(new Request(`${BASE}${path}`, { headers: cookie ? { cookie } : {} }));
  return { res, text: (await res.text()).replaceAll("&#39;", "'") };
}

async function post(t: TestApp, cookie: string, fields: Record<string, string>) {
  const res = await t.app.fetch(
    new Request(`${BASE}/me/schedule`, {
      method: "POST",
      headers: { cookie, origin: BASE, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    }),
  );
  return { res, text: (await res.text()).replaceAll("&#39;", "'") };
}

/** Upcoming sessions (from tomorrow) of courses without prerequisites, with seats left. */
async function sessionsWithSeats(t: TestApp) {
  const { sessions } = await listSessions(t.services.kv, {
    from: new Date(Date.now() + 86_400_000).toISOString(),
    limit: 500,
  });
  const avail = await getAvailability(t.services.kv, sessions);
  const open: Session[] = [];
  const full: Session[] = [];
  for (const s of sessions) {
    const c = (await t.services.kv.get<{ prerequisiteCourseIds: string[] }>(["courses", s.courseId])).value!;
    if (c.prerequisiteCourseIds.length || s.status !== "scheduled") continue;
    (avail.get(s.id)!.seatsLeft >= 2 ? open : avail.get(s.id)!.seatsLeft === 0 ? full : []).push(s);
  }
  return { open, full };
}

async function book(t: TestApp, learnerId: string, sessionId: string): Promise<Booking> {
  const { engine } = t.services;
  const { hold } = await engine.placeHold(sessionId, learnerId, actor(learnerId));
  return (await engine.confirmHold(hold.id, actor(learnerId))).booking;
}

/** Runs the pages' engine on a fixed clock from now on. */
function setClock(t: TestApp, at: Date): void {
  setServices({ ...services(), engine: new BookingEngine(t.services.kv, { holdMinutes: 15, now: () => at }) });
}

/** A seeded user with no bookings, holds or waitlist places. */
async function userWithoutPlaces(t: TestApp): Promise<string> {
  for await (const e of t.services.kv.list<{ id: string }>({ prefix: ["users"] })) {
    const p = await t.services.engine.listLearnerPlaces(e.value.id);
    if (!p.bookings.length && !p.holds.length && !p.waitlist.length) return e.value.id;
  }
  throw new Error("every user has places");
}

async function bookingOf(t: TestApp, id: string): Promise<Booking> {
  return (await t.services.kv.get<Booking>(["bookings", id])).value!;
}

async function courseTitle(t: TestApp, s: Session): Promise<string> {
  const title = (await t.services.kv.get<{ title: string }>(["courses", s.courseId])).value!.title;
  return title.replaceAll("&", "&amp;");
}

Deno.test("[schedule] lists upcoming and past bookings, holds with time left, waitlist positions; signed out and empty", async () => {
  const t = await startTestApp();
  try {
    const anon = await get(t, "/me/schedule");
    assert.equal(anon.res.status, 200);
    assert.ok(anon.text.includes(`/dev/sign-in?next=${encodeURIComponent("/me/schedule")}`));
    assert.ok(anon.text.includes("postMessage({clear:true})"), "signed out, saved pages are dropped");
    assert.ok(!anon.text.includes("/_frsh/js/"), "no island JavaScript on the schedule");

    const empty = await get(t, "/me/schedule", await devSignInCookie(t.services.kv, await userWithoutPlaces(t)));
    assert.match(empty.text, /Nothing booked yet/);
    assert.match(empty.text, /href="\/"/);

    const id = await userId(t, "learner@example.com");
    const cookie = await devSignInCookie(t.services.kv, id);
    const { open, full } = await sessionsWithSeats(t);
    const booked = await book(t, id, open[0].id);
    const { hold } = await t.services.engine.placeHold(open[1].id, id, actor(id));
    let waitlisted: Session | null = null;
    for (const s of full) {
      try {
        await t.services.engine.joinWaitlist(s.id, id, actor(id));
        waitlisted = s;
        break;
      } catch { /* waitlist closed: try the next */ }
    }
    assert.ok(waitlisted, "a full session with an open waitlist");

    const page = await get(t, "/me/schedule", cookie);
    assert.equal(page.res.status, 200);
    assert.match(page.text, /<h1[^>]*>My schedule<\/h1>/);
    assert.ok(page.text.includes("My schedule</a>"), "the header links to My schedule");
    // The learner has seeded bookings too; which comes first depends on today's date.
    const upcoming = page.text.split('data-testid="upcoming-booking"').slice(1)
      .find((card) => card.includes(`/bookings/${booked.id}`));
    assert.ok(upcoming, "the new booking is listed as upcoming");
    assert.ok(upcoming.includes(await courseTitle(t, open[0])));
    assert.ok(page.text.includes(`/holds/${hold.id}`));
    assert.match(page.text.split('data-testid="hold"')[1], /\((1[45]|1[0-5]) min left\)/);
    assert.match(page.text.split('data-testid="waitlist"')[1], /You are number \d+ on the waitlist/);
    assert.ok(page.text.includes('src="/sw.js"') || page.text.includes('"/sw.js"'), "registers the service worker");

    // A day after every session has ended, the booking is in the past and has no actions.
    const later = new Date(Date.parse(open[0].endsAt) + 86_400_000);
    setClock(t, later);
    const past = await get(t, "/me/schedule", cookie);
    assert.ok(past.text.includes(`href="/sessions/${open[0].id}"`));
    assert.ok(past.text.includes('data-testid="past-booking"'));
    assert.ok(!past.text.includes(`booking=${booked.id}`), "a past booking cannot be cancelled");
  } finally {
    await t.close();
  }
});

Deno.test("[schedule] cancel early: a confirmation step without a late warning, then cancelled on time", async () => {
  const t = await startTestApp();
  try {
    const id = await userId(t, "learner@example.com");
    const cookie = await devSignInCookie(t.services.kv, id);
    const { open } = await sessionsWithSeats(t);
    const target = open.find((s) => Date.parse(s.startsAt) > Date.now() + 30 * 86_400_000) ?? open.at(-1)!;
    const booked = await book(t, id, target.id);

    const confirm = await get(t, `/me/schedule?confirm=cancel&booking=${booked.id}`, cookie);
    assert.match(confirm.text, /Yes, cancel my booking/);
    assert.ok(!confirm.text.includes('data-testid="late-warning"'));
    assert.equal((await bookingOf(t, booked.id)).status, "confirmed", "the first tap changes nothing");

    const done = await post(t, cookie, { intent: "cancel", booking: booked.id });
    assert.equal(done.res.status, 303);
    assert.equal(done.res.headers.get("location"), "/me/schedule?done=cancelled");
    const after = await bookingOf(t, booked.id);
    assert.equal(after.status, "cancelled");
    assert.equal(after.lateCancel, false);
    const page = await get(t, "/me/schedule?done=cancelled", cookie);
    assert.match(page.text, /Cancelled\. Your seat is free/);
    assert.ok(!page.text.includes(`booking=${booked.id}`), "no longer upcoming");
    assert.ok(page.text.includes('data-testid="cancelled-booking"'), "listed under Cancelled");
  } finally {
    await t.close();
  }
});

Deno.test("[schedule] cancel inside the cut-off shows the late warning first and ends lateCancel", async () => {
  const t = await startTestApp();
  try {
    const id = await userId(t, "learner@example.com");
    const cookie = await devSignInCookie(t.services.kv, id);
    const { open } = await sessionsWithSeats(t);
    const booked = await book(t, id, open[0].id);
    // Two hours before the start: inside any cut-off of at least 2 h (the demo default is 24 h).
    const soon = new Date(Date.parse(open[0].startsAt) - 2 * 3_600_000);
    setClock(t, soon);

    const confirm = await get(t, `/me/schedule?confirm=cancel&booking=${booked.id}`, cookie);
    assert.match(confirm.text, /data-testid="late-warning"[^>]*>\s*This session starts within \d+ hours/);
    assert.equal((await bookingOf(t, booked.id)).status, "confirmed");

    const done = await post(t, cookie, { intent: "cancel", booking: booked.id });
    assert.equal(done.res.headers.get("location"), "/me/schedule?done=cancelled_late");
    const after = await bookingOf(t, booked.id);
    assert.equal(after.status, "cancelled");
    assert.equal(after.lateCancel, true);
    const page = await get(t, "/me/schedule?done=cancelled_late", cookie);
    assert.match(page.text, /late cancellation/);
  } finally {
    await t.close();
  }
});

Deno.test("[schedule] change date moves the booking to another session of the course; a full target changes nothing", async () => {
  const t = await startTestApp();
  try {
    const id = await userId(t, "learner@example.com");
    const cookie = await devSignInCookie(t.services.kv, id);
    const { open, full } = await sessionsWithSeats(t);
    const from = open.find((s) =>
      open.some((o) => o.id !== s.id && o.courseId === s.courseId) &&
      full.some((f) => f.courseId === s.courseId)
    )!;
    assert.ok(from, "a course with an open session, another open one and a full one");
    const to = open.find((o) => o.id !== from.id && o.courseId === from.courseId)!;
    const fullTarget = full.find((f) => f.courseId === from.courseId)!;
    const booked = await book(t, id, from.id);

    const list = await get(t, `/me/schedule?change=${booked.id}`, cookie);
    assert.ok(list.text.includes('data-testid="reschedule-target"'));
    assert.ok(list.text.includes(`name="session" value="${to.id}"`), "the other date is offered");
    assert.ok(!list.text.includes(`name="session" value="${from.id}"`), "not the current one");
    assert.match(list.text, /\d+ seats? left/);
    const key = list.text.match(/name="key" value="([^"]+)"/)![1];

    // Full target (posted directly, as if it filled up after the list was shown): nothing changes.
    const refused = await post(t, cookie, { intent: "reschedule", booking: booked.id, session: fullTarget.id, key });
    assert.equal(refused.res.status, 409);
    assert.match(refused.text, /filled up just now, so your booking stays where it was/);
    assert.ok(!/session_full/.test(refused.text), "a sentence, never a code");
    assert.equal((await bookingOf(t, booked.id)).status, "confirmed");
    assert.equal((await bookingOf(t, booked.id)).sessionId, from.id);

    const moved = await post(t, cookie, { intent: "reschedule", booking: booked.id, session: to.id, key });
    assert.equal(moved.res.status, 303);
    assert.equal(moved.res.headers.get("location"), "/me/schedule?done=rescheduled");
    const old = await bookingOf(t, booked.id);
    assert.equal(old.status, "cancelled");
    const places = await t.services.engine.listLearnerPlaces(id);
    const now = places.bookings.find((b) => b.rescheduledFromBookingId === booked.id)!;
    assert.equal(now.sessionId, to.id);
    assert.equal(now.registration, booked.registration);
    const page = await get(t, "/me/schedule?done=rescheduled", cookie);
    assert.match(page.text, /Moved\. Your booking is now on the new date/);
  } finally {
    await t.close();
  }
});

Deno.test("[schedule] change date never lists a session where the learner already has a place", async () => {
  const t = await startTestApp();
  try {
    const id = await userWithoutPlaces(t);
    const cookie = await devSignInCookie(t.services.kv, id);
    const { open } = await sessionsWithSeats(t);
    const a = open.find((s) => open.filter((o) => o.courseId === s.courseId).length >= 3)!;
    assert.ok(a, "a course with three open sessions");
    const [b, c] = open.filter((o) => o.id !== a.id && o.courseId === a.courseId);
    const booked = await book(t, id, a.id);
    await book(t, id, b.id); // a second date of the same course ("book anyway")
    const list = await get(t, `/me/schedule?change=${booked.id}`, cookie);
    assert.ok(list.text.includes(`name="session" value="${c.id}"`), "a free date is offered");
    assert.ok(!list.text.includes(`name="session" value="${b.id}"`), "not the date already booked");
  } finally {
    await t.close();
  }
});

Deno.test("[schedule] another learner's booking id is refused and stays booked", async () => {
  const t = await startTestApp();
  try {
    const id = await userId(t, "learner@example.com");
    const other = await devSignInCookie(t.services.kv, await userId(t, "manager@example.com"));
    const { open } = await sessionsWithSeats(t);
    const booked = await book(t, id, open[0].id);
    const cancel = await post(t, other, { intent: "cancel", booking: booked.id });
    assert.equal(cancel.res.status, 404);
    assert.match(cancel.text, /not on your schedule/);
    const move = await post(t, other, {
      intent: "reschedule",
      booking: booked.id,
      session: open[1].id,
      key: crypto.randomUUID(),
    });
    assert.equal(move.res.status, 404);
    const peek = await get(t, `/me/schedule?confirm=cancel&booking=${booked.id}`, other);
    assert.ok(!peek.text.includes("Yes, cancel my booking"));
    assert.equal((await bookingOf(t, booked.id)).status, "confirmed");
  } finally {
    await t.close();
  }
});

Deno.test("[schedule] leave a waitlist and release a hold; the service worker is served for scope /", async () => {
  const t = await startTestApp();
  try {
    const id = await userId(t, "learner@example.com");
    const cookie = await devSignInCookie(t.services.kv, id);
    const { open, full } = await sessionsWithSeats(t);
    const { hold } = await t.services.engine.placeHold(open[0].id, id, actor(id));
    const released = await post(t, cookie, { intent: "release", hold: hold.id });
    assert.equal(released.res.headers.get("location"), "/me/schedule?done=released");
    assert.equal((await t.services.engine.listLearnerPlaces(id)).holds.length, 0);

    let sessionId = "";
    for (const s of full) {
      try {
        await t.services.engine.joinWaitlist(s.id, id, actor(id));
        sessionId = s.id;
        break;
      } catch { /* closed */ }
    }
    const left = await post(t, cookie, { intent: "leave", session: sessionId });
    assert.equal(left.res.headers.get("location"), "/me/schedule?done=left");
    assert.equal((await t.services.engine.listLearnerPlaces(id)).waitlist.length, 0);
    const again = await post(t, cookie, { intent: "leave", session: sessionId });
    assert.equal(again.res.status, 404);
    assert.match(again.text, /not on that waitlist any more/);

    const sw = await t.app.fetch(new Request(`${BASE}/sw.js`));
    assert.equal(sw.status, 200);
    assert.match(sw.headers.get("content-type")!, /^text\/javascript/);
    assert.equal(sw.headers.get("service-worker-allowed"), "/");
    assert.match(await sw.text(), /caches\.open/);
  } finally {
    await t.close();
  }
});
