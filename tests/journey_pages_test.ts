/**
 * The learner's journey in-process: hold from the session page (no JavaScript needed), the hold
 * page, booking, the confirmation with its calendar file and links; full sessions and strangers.
 */
import assert from "node:assert/strict";
import type { Availability } from "../lib/booking/availability.ts";
import { getAvailability } from "../lib/booking/availability.ts";
import type { Session } from "../lib/domain/mod.ts";
import { listSessions } from "../lib/store/mod.ts";
import { startTestApp, type TestApp } from "./app_fixture.ts";
import { devSignInCookie } from "./page_client.ts";
import { repeatsCourse } from "./repeat_free.ts";

const BASE = "http://test";

async function userId(t: TestApp, email: string): Promise<string> {
  return (await t.services.kv.get<string>(["users_by_email", email])).value!;
}

let current: TestApp | null = null;
function cookieFor(id: string): Promise<string> {
  return devSignInCookie(current!.services.kv, id);
}

async function get(t: TestApp, path: string, cookie?: string) {
  const res = await t.app.fetch(new Request(`${BASE}${path}`, { headers: cookie ? { cookie } : {} }));
  return { res, text: await res.text() };
}

async function post(t: TestApp, path: string, cookie: string, fields: Record<string, string>) {
  const res = await t.app.fetch(
    new Request(`${BASE}${path}`, {
      method: "POST",
      headers: { cookie, origin: BASE, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    }),
  );
  return { res, text: await res.text() };
}

/** Upcoming sessions (no prerequisites) with their availability, soonest first. */
async function candidates(t: TestApp, want: (s: Session, a: Availability) => boolean, max = 20) {
  const found: Session[] = [];
  let cursor: string | undefined;
  const courses = new Map<string, { prerequisiteCourseIds: string[] }>();
  do {
    const page = await listSessions(t.services.kv, {
      from: new Date(Date.now() + 86_400_000).toISOString(),
      limit: 100,
      cursor,
    });
    const avail = await getAvailability(t.services.kv, page.sessions);
    for (const s of page.sessions) {
      if (!courses.has(s.courseId)) {
        courses.set(
          s.courseId,
          (await t.services.kv.get<{ prerequisiteCourseIds: string[] }>(["courses", s.courseId])).value!,
        );
      }
      if (courses.get(s.courseId)!.prerequisiteCourseIds.length) continue;
      // A course the demo learner is booked on or completed asks "book anyway?" first (tested on its own).
      if (await repeatsCourse(t, s)) continue;
      if (want(s, avail.get(s.id)!)) found.push(s);
      if (found.length >= max) return found;
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return found;
}

function hiddenKey(html: string, intent: string): string {
  const form = html.split("<form").find((f) => f.includes(`value="${intent}"`));
  assert.ok(form, `a ${intent} form`);
  return form.match(/name="key" value="([^"]+)"/)![1];
}

Deno.test("[journey] hold form → 303 → hold page with countdown; a double submit makes one hold; book; calendar", async () => {
  const t = current = await startTestApp();
  try {
    const learner = await cookieFor(await userId(t, "learner@example.com"));
    const [session] = await candidates(t, (_s, a) => a.seatsLeft >= 2, 1);
    const course = (await t.services.kv.get<{ title: string; code: string }>(["courses", session.courseId])).value!;

    // Signed out: the action is a sign-in link that comes back here.
    const anon = await get(t, `/sessions/${session.id}`);
    assert.ok(anon.text.includes(`/dev/sign-in?next=${encodeURIComponent(`/sessions/${session.id}`)}`));

    const page = await get(t, `/sessions/${session.id}`, learner);
    assert.equal(page.res.status, 200);
    assert.match(page.text, /Hold my seat/);
    const key = hiddenKey(page.text, "hold");
    const first = await post(t, `/sessions/${session.id}`, learner, { intent: "hold", key });
    assert.equal(first.res.status, 303);
    const location = first.res.headers.get("location")!;
    assert.match(location, /^\/holds\/[0-9A-Z]{26}$/);
    const again = await post(t, `/sessions/${session.id}`, learner, { intent: "hold", key });
    assert.equal(again.res.status, 303);
    assert.equal(again.res.headers.get("location"), location, "the same key replays the same hold");

    const holdId = location.split("/").pop()!;
    const hold = (await t.services.kv.get<{ expiresAt: string }>(["holds", holdId])).value!;
    const holdPage = await get(t, location, learner);
    assert.equal(holdPage.res.status, 200);
    assert.ok(holdPage.text.includes("HoldCountdown"), "the countdown island is on the page");
    assert.ok(holdPage.text.includes(hold.expiresAt), "countdown gets expiresAt");
    assert.match(holdPage.text, /serverTime/);
    assert.match(holdPage.text, /data-testid="hold-until"/, "the expiry time is text too (no JS needed)");
    assert.match(holdPage.text, /Book this seat/);

    // Another learner gets a not-found page for this hold, and cannot book it.
    const other = await cookieFor(await userId(t, "manager@example.com"));
    assert.equal((await get(t, location, other)).res.status, 404);
    assert.equal((await post(t, location, other, { intent: "book", key: crypto.randomUUID() })).res.status, 404);

    const bookKey = hiddenKey(holdPage.text, "book");
    const booked = await post(t, location, learner, { intent: "book", key: bookKey });
    assert.equal(booked.res.status, 303);
    const bookingPath = booked.res.headers.get("location")!;
    assert.match(bookingPath, /^\/bookings\/[0-9A-Z]{26}$/);
    const twice = await post(t, location, learner, { intent: "book", key: bookKey });
    assert.equal(twice.res.headers.get("location"), bookingPath, "a double tap on Book lands on the same booking");

    const confirmation = await get(t, bookingPath, learner);
    assert.equal(confirmation.res.status, 200);
    assert.match(confirmation.text, /You&#39;re booked|You're booked/);
    assert.match(confirmation.text, /What happens next/);
    assert.doesNotMatch(confirmation.text, /modulepreload/, "the confirmation ships no JavaScript");
    const compact = (iso: string) => new Date(iso).toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
    const google = confirmation.text.match(/href="(https:\/\/calendar\.google\.com[^"]+)"/)![1].replaceAll(
      "&amp;",
      "&",
    );
    assert.equal(new URL(google).searchParams.get("dates"), `${compact(session.startsAt)}/${compact(session.endsAt)}`);
    const outlook = confirmation.text.match(/href="(https:\/\/outlook\.live\.com[^"]+)"/)![1].replaceAll("&amp;", "&");
    assert.equal(
      new URL(outlook).searchParams.get("startdt"),
      new Date(session.startsAt).toISOString().replace(".000", ""),
    );
    assert.equal(
      new URL(outlook).searchParams.get("enddt"),
      new Date(session.endsAt).toISOString().replace(".000", ""),
    );

    const ics = await get(t, `${bookingPath}/calendar.ics`, learner);
    assert.equal(ics.res.status, 200);
    assert.match(ics.res.headers.get("content-type") ?? "", /^text\/calendar/);
    assert.match(ics.res.headers.get("content-disposition") ?? "", /attachment; filename=".+\.ics"/);
    const props = parseIcs(ics.text);
    assert.equal(props.get("DTSTART"), compact(session.startsAt));
    assert.equal(props.get("DTEND"), compact(session.endsAt));
    assert.equal(props.get("SUMMARY"), course.title.replace(/([,;\\])/g, "\\$1"));
    const again2 = parseIcs((await get(t, `${bookingPath}/calendar.ics`, learner)).text);
    assert.equal(again2.get("UID"), props.get("UID"), "UID is stable");
    assert.equal((await get(t, `${bookingPath}/calendar.ics`, other)).res.status, 404);
    assert.equal((await get(t, bookingPath, other)).res.status, 404);

    // Back on the session page the learner sees their booking instead of the action.
    const after = await get(t, `/sessions/${session.id}`, learner);
    assert.match(after.text, /You are booked in this session/);
  } finally {
    await t.close();
  }
});

/** The VEVENT's properties, unfolded (parameters dropped). */
function parseIcs(text: string): Map<string, string> {
  const lines = text.replace(/\r\n[ \t]/g, "").split(/\r\n/);
  const start = lines.indexOf("BEGIN:VEVENT");
  assert.ok(start >= 0, "has a VEVENT");
  const out = new Map<string, string>();
  for (const line of lines.slice(start + 1, lines.indexOf("END:VEVENT"))) {
    const m = line.match(/^([A-Z-]+)(?:;[^:]*)?:(.*)$/);
    if (m && !out.has(m[1])) out.set(m[1], m[2]);
  }
  return out;
}

Deno.test("[journey] full session → 409 page with alternatives and the waitlist; release goes back", async () => {
  const t = current = await startTestApp();
  try {
    const learner = await cookieFor(await userId(t, "learner@example.com"));
    const full = await candidates(t, (s, a) => a.seatsLeft === 0 && s.waitlistEnabled && a.state !== "cancelled");
    assert.ok(full.length > 0, "the demo catalog has full sessions with a waitlist");
    const page = await get(t, `/sessions/${full[0].id}`, learner);
    assert.match(page.text, /Join waitlist/);
    assert.doesNotMatch(page.text, /Hold my seat/);

    let shown = false;
    for (const s of full) {
      // A stale page (or a race) posts a hold to a full session: the engine says full.
      const res = await post(t, `/sessions/${s.id}`, learner, { intent: "hold", key: crypto.randomUUID() });
      assert.equal(res.res.status, 409);
      assert.match(res.text, /the last seat was just taken/);
      assert.match(res.text, /Join waitlist/);
      assert.doesNotMatch(res.text, /session_full/);
      const alts = res.text.match(/data-testid="alternative"/g) ?? [];
      assert.ok(alts.length <= 3);
      if (!alts.length) continue;
      shown = true;
      // Each alternative holds with one tap.
      const altId = res.text.match(/<form method="post" action="\/sessions\/([0-9A-Z]{26})"/)![1];
      assert.notEqual(altId, s.id);
      const key = res.text.split(`action="/sessions/${altId}"`)[1].match(/name="key" value="([^"]+)"/)![1];
      const held = await post(t, `/sessions/${altId}`, learner, { intent: "hold", key });
      assert.equal(held.res.status, 303);
      const holdPath = held.res.headers.get("location")!;
      const released = await post(t, holdPath, learner, { intent: "release" });
      assert.equal(released.res.status, 303);
      assert.equal(released.res.headers.get("location"), `/sessions/${altId}`);
      // Joining the waitlist of the full session.
      const join = await post(t, `/sessions/${s.id}`, learner, { intent: "waitlist", key: crypto.randomUUID() });
      assert.equal(join.res.status, 303);
      assert.match(
        (await get(t, `/sessions/${s.id}`, learner)).text,
        /You are number \d+ on this session&#39;s waitlist|You are number \d+ on this session's waitlist/,
      );
      break;
    }
    assert.ok(shown, "some full session offers alternatives");
  } finally {
    await t.close();
  }
});

Deno.test("[journey] missing prerequisites: a sentence with links to those courses' sessions", async () => {
  const t = current = await startTestApp();
  try {
    const learnerId = await userId(t, "learner@example.com");
    const learner = (await t.services.kv.get<{ completedCourses: { courseId: string }[] }>(["users", learnerId]))
      .value!;
    const done = new Set(learner.completedCourses.map((c) => c.courseId));
    const { sessions } = await listSessions(t.services.kv, {
      from: new Date(Date.now() + 86_400_000).toISOString(),
      limit: 100,
    });
    let target: Session | null = null;
    for (const s of sessions) {
      const c = (await t.services.kv.get<{ prerequisiteCourseIds: string[] }>(["courses", s.courseId])).value!;
      if (c.prerequisiteCourseIds.some((id) => !done.has(id))) {
        target = s;
        break;
      }
    }
    assert.ok(target, "a session whose course needs something the learner has not done");
    const res = await post(t, `/sessions/${target.id}`, await cookieFor(learnerId), {
      intent: "hold",
      key: crypto.randomUUID(),
    });
    assert.equal(res.res.status, 422);
    assert.match(res.text, /Complete these first/);
    assert.match(res.text, /href="\/\?q=[^"]+"/);
    assert.doesNotMatch(res.text, /prerequisites_missing/);
  } finally {
    await t.close();
  }
});

Deno.test("[journey] signed out: a hold post goes to sign-in; cross-site posts are refused", async () => {
  const t = current = await startTestApp();
  try {
    const [session] = await candidates(t, (_s, a) => a.seatsLeft > 0, 1);
    const res = await t.app.fetch(
      new Request(`${BASE}/sessions/${session.id}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "intent=hold&key=abcdefgh12",
      }),
    );
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), `/dev/sign-in?next=${encodeURIComponent(`/sessions/${session.id}`)}`);
    const learner = await cookieFor(await userId(t, "learner@example.com"));
    const cross = await t.app.fetch(
      new Request(`${BASE}/sessions/${session.id}`, {
        method: "POST",
        headers: {
          cookie: learner,
          origin: "https://evil.example",
          "content-type": "application/x-www-form-urlencoded",
        },
        body: "intent=hold&key=abcdefgh12",
      }),
    );
    assert.equal(cross.status, 403);
    await cross.body?.cancel();
    const hold = await get(t, "/holds/01ARZ3NDEKTSV4RRFFQ69G5FAV");
    assert.equal(hold.res.status, 303, "signed out: the hold page asks to sign in");
  } finally {
    await t.close();
  }
});

async function gzipSize(text: string): Promise<number> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

Deno.test("[journey] JS weight: the hold page ships at most 15 KB gzip of JavaScript", async () => {
  const t = current = await startTestApp();
  try {
    const learner = await cookieFor(await userId(t, "learner@example.com"));
    const [session] = await candidates(t, (_s, a) => a.seatsLeft >= 2, 1);
    const held = await post(t, `/sessions/${session.id}`, learner, { intent: "hold", key: crypto.randomUUID() });
    const holdPage = await get(t, held.res.headers.get("location")!, learner);
    const urls = new Set(
      [...holdPage.text.matchAll(/(?:src|href)="(\/_frsh\/js\/[^"]+\.js)"/g)].map((m) => m[1]),
    );
    const inline = [...holdPage.text.matchAll(/<script[^>]*type="module"[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1])
      .join("");
    assert.ok(urls.size > 0, "the hold page loads its island");
    let total = await gzipSize(inline);
    for (const url of urls) total += await gzipSize((await get(t, url)).text);
    console.log(`hold page JS: ${urls.size} files, ${total} bytes gzip`);
    assert.ok(total <= 15 * 1024, `hold page JS ${total} bytes gzip`);
  } finally {
    await t.close();
  }
});
