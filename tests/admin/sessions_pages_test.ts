/**
 * Staff session pages (/admin/sessions): schedule, change and cancel through forms that work
 * without JavaScript; the booking engine's rules hold (capacity never below seats taken, stale
 * edits refused, a cancel cancels and notifies everyone), and every step is in the audit trail.
 */
import assert from "node:assert/strict";
import { listUsersWithRole } from "../../lib/admin/sessions.ts";
import type { DomainError } from "../../lib/booking/errors.ts";
import { type Session, zonedParts, zonedWallTimeToUtc } from "../../lib/domain/mod.ts";
import { keys, listBookingsBySession } from "../../lib/store/mod.ts";
import { type Body } from "../api/client.ts";
import { type ApiFixture, startApiFixture } from "../api/fixture.ts";
import { devSignInCookie, getPage, postForm } from "../page_client.ts";

const DAY = 86_400_000;
const two = (n: number) => String(n).padStart(2, "0");

/** The local calendar date `days` from now in `timeZone`. */
function localDateIn(days: number, timeZone: string): string {
  const p = zonedParts(new Date(Date.now() + days * DAY), timeZone);
  return `${p.year}-${two(p.month)}-${two(p.day)}`;
}

async function staffCookie(f: ApiFixture) {
  const [admin] = await f.learners(1, ["admin"]);
  return { admin, cookie: await devSignInCookie(f.services.kv, admin.user.id) };
}

async function countSessions(kv: Deno.Kv): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix: ["sessions"] })) n++;
  return n;
}

async function sessionFields(f: ApiFixture) {
  const course = await f.courseWithoutPrerequisites();
  const location = await f.location();
  const [instructor] = await listUsersWithRole(f.services.kv, "instructor");
  const date = localDateIn(10, location.timeZone);
  return {
    course,
    location,
    instructor,
    date,
    fields: {
      course: course.id,
      mode: "in_person",
      location: location.id,
      timeZone: "",
      date,
      start: "09:30",
      end: "12:00",
      capacity: "5",
      instructor: instructor.id,
      waitlist: "on",
      joinUrl: "",
      reason: "new spring date",
    },
  };
}

Deno.test("[admin sessions] scheduling from the form: times typed in the center's zone, audited as the admin", async () => {
  const f = await startApiFixture();
  try {
    const { admin, cookie } = await staffCookie(f);
    assert.equal((await getPage(f, "/admin/sessions/new", cookie)).res.status, 200);
    const { fields, location, date, course } = await sessionFields(f);
    const res = await postForm(f, "/admin/sessions/new", cookie, fields);
    assert.equal(res.res.status, 303, res.text.slice(0, 500));
    const where = res.res.headers.get("location")!;
    assert.match(where, /^\/admin\/sessions\/[0-9A-Z]{26}\?done=created$/);
    const id = where.split("/")[3].split("?")[0];
    const session = (await f.services.kv.get<Session>(keys.session(id))).value!;
    const [y, m, d] = date.split("-").map(Number);
    const start = zonedWallTimeToUtc({ year: y, month: m, day: d, hour: 9, minute: 30 }, location.timeZone);
    assert.equal(session.startsAt, start.toISOString());
    assert.equal(Date.parse(session.endsAt) - Date.parse(session.startsAt), 150 * 60_000);
    assert.equal(session.timeZone, location.timeZone);
    assert.equal(session.capacity, 5);
    assert.equal(session.waitlistEnabled, true);
    const page = await getPage(f, where, cookie);
    assert.equal(page.res.status, 200);
    assert.match(page.text, /Session scheduled\./);
    assert.match(page.text, /data-type="session.scheduled"/);
    const trail = await f.admin.get<Body>(`/api/v1/admin/audit?session=${id}`);
    assert.equal(trail.body.entries[0].type, "session.scheduled");
    assert.equal(trail.body.entries[0].actor.userId, admin.user.id);
    assert.equal(trail.body.entries[0].origin, "admin");
    assert.equal(trail.body.entries[0].reason, "new spring date");
    const list = await getPage(f, `/admin/sessions?q=${encodeURIComponent(course.code)}`, cookie);
    assert.ok(list.text.includes(`/admin/sessions/${id}`), "the list finds it by course code");
  } finally {
    await f.close();
  }
});

Deno.test("[admin sessions] bad input: a sentence next to each wrong field, what was typed kept, nothing written", async () => {
  const f = await startApiFixture();
  try {
    const { cookie } = await staffCookie(f);
    const { fields } = await sessionFields(f);
    const before = await countSessions(f.services.kv);
    const bad = { ...fields, capacity: "0", start: "13:00", end: "12:00", mode: "online", joinUrl: "ftp://x" };
    const res = await postForm(f, "/admin/sessions/new", cookie, { ...bad, timeZone: "Mars/Olympus" });
    assert.equal(res.res.status, 400);
    assert.match(res.text, /data-testid="error-capacity"[^>]*>Give a whole number of seats from 1 to 10000\./);
    assert.match(res.text, /data-testid="error-timeZone"[^>]*>&quot;Mars\/Olympus&quot; is not a time zone/);
    assert.match(res.text, /data-testid="error-joinUrl"/);
    assert.match(res.text, /value="Mars\/Olympus"/, "typed values are kept");
    assert.match(res.text, /aria-invalid="true"/);
    const past = await postForm(f, "/admin/sessions/new", cookie, { ...fields, date: localDateIn(-2, "UTC") });
    assert.equal(past.res.status, 400);
    assert.match(past.text, /data-testid="error-start"[^>]*>The start must be in the future\./);
    const backwards = await postForm(f, "/admin/sessions/new", cookie, { ...fields, start: "13:00", end: "12:00" });
    assert.match(backwards.text, /data-testid="error-end"[^>]*>The end must be after the start/);
    assert.equal(await countSessions(f.services.kv), before, "nothing was written");
  } finally {
    await f.close();
  }
});

Deno.test("[admin sessions] an edit: capacity never below the seats taken; a stale edit is refused with the current values", async () => {
  const f = await startApiFixture();
  try {
    const { cookie } = await staffCookie(f);
    const session = await f.session({ capacity: 3 });
    for (const l of await f.learners(2)) {
      const hold = await l.api.post<Body>("/api/v1/holds", { sessionId: session.id });
      assert.equal((await l.api.post("/api/v1/bookings", { holdId: hold.body.hold.id })).status, 201);
    }
    const here = `/admin/sessions/${session.id}`;
    const page = await getPage(f, here, cookie);
    assert.equal(page.res.status, 200);
    const version = /name="version" value="([^"]+)"/.exec(page.text)![1];
    const fieldsOf = (text: string) => {
      const v = (name: string) => new RegExp(`name="${name}"[^>]*value="([^"]*)"`).exec(text)?.[1] ?? "";
      return {
        intent: "save",
        version,
        mode: "in_person",
        location: session.locationId!,
        timeZone: v("timeZone"),
        date: v("date"),
        start: v("start"),
        end: v("end"),
        capacity: v("capacity"),
        instructor: session.instructorId,
        waitlist: "on",
        joinUrl: "",
        reason: "",
      };
    };
    const base = fieldsOf(page.text);
    assert.equal(base.capacity, "3");
    const below = await postForm(f, here, cookie, { ...base, capacity: "1" });
    assert.equal(below.res.status, 409);
    assert.match(
      below.text,
      /data-testid="error-capacity"[^>]*>2 seats are taken right now: the capacity cannot be below 2\./,
    );
    assert.match(below.text, /name="capacity"[^>]*value="1"/, "the typed value is kept");
    assert.equal((await f.services.kv.get<Session>(keys.session(session.id))).value!.capacity, 3);

    // Someone else changes the session meanwhile: the old form is refused and the page shows the new values.
    const other = await f.admin.patch<Body>(`/api/v1/sessions/${session.id}`, { capacity: 4 });
    assert.equal(other.status, 200);
    const stale = await postForm(f, here, cookie, { ...base, capacity: "6", reason: "more room" });
    assert.equal(stale.res.status, 409);
    assert.match(stale.text, /Someone changed this session after you opened it/);
    assert.match(stale.text, /name="capacity"[^>]*value="4"/, "the current value is shown");
    assert.equal((await f.services.kv.get<Session>(keys.session(session.id))).value!.capacity, 4);

    const fresh = fieldsOf((await getPage(f, here, cookie)).text);
    const ok = await postForm(f, here, cookie, {
      ...fresh,
      version: /name="version" value="([^"]+)"/.exec((await getPage(f, here, cookie)).text)![1],
      capacity: "6",
      reason: "more room",
    });
    assert.equal(ok.res.status, 303, ok.text.slice(0, 300));
    assert.equal((await f.services.kv.get<Session>(keys.session(session.id))).value!.capacity, 6);
    const after = await getPage(f, here, cookie);
    assert.match(after.text, /capacity 4 → 6/);
  } finally {
    await f.close();
  }
});

Deno.test("[admin sessions] two edits of the same version at once: exactly one is saved", async () => {
  const f = await startApiFixture();
  try {
    const session = await f.session({ capacity: 5 });
    const actor = { userId: null, origin: "admin" as const, correlationId: "t", roles: ["admin"] };
    const results = await Promise.allSettled(
      [7, 8, 9, 10].map((capacity) =>
        f.services.engine.updateSession(session.id, { capacity }, actor, { ifUpdatedAt: session.updatedAt })
      ),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    assert.equal(won.length, 1);
    assert.equal(lost.length, 3);
    for (const r of lost) assert.equal((r.reason as DomainError).code, "stale_edit");
    const saved = (await f.services.kv.get<Session>(keys.session(session.id))).value!;
    assert.equal(saved.capacity, (won[0] as PromiseFulfilledResult<Session>).value.capacity);
    const api = await f.admin.patch<Body>(`/api/v1/sessions/${session.id}`, {
      capacity: 11,
      ifUpdatedAt: session.updatedAt,
    });
    assert.equal(api.status, 409);
    assert.equal(api.body.error, "stale_edit");
    assert.equal(api.body.details.current.capacity, saved.capacity);
  } finally {
    await f.close();
  }
});

Deno.test("[admin sessions] cancel: a reason is required; everyone in it is cancelled, each step audited", async () => {
  const f = await startApiFixture();
  try {
    const { cookie } = await staffCookie(f);
    const session = await f.session({ capacity: 5 });
    const learners = await f.learners(2);
    for (const l of learners) {
      const hold = await l.api.post<Body>("/api/v1/holds", { sessionId: session.id });
      await l.api.post("/api/v1/bookings", { holdId: hold.body.hold.id });
    }
    const here = `/admin/sessions/${session.id}`;
    const noReason = await postForm(f, here, cookie, { intent: "cancel", cancelReason: "" });
    assert.equal(noReason.res.status, 400);
    assert.match(noReason.text, /data-testid="error-cancelReason"[^>]*>Give the reason for cancelling/);
    const done = await postForm(f, here, cookie, { intent: "cancel", cancelReason: "instructor ill" });
    assert.equal(done.res.status, 303);
    const bookings = await listBookingsBySession(f.services.kv, session.id);
    assert.deepEqual(bookings.map((b) => b.status), ["cancelled", "cancelled"]);
    const trail = await f.admin.get<Body>(`/api/v1/admin/audit?session=${session.id}&origin=admin`);
    const types = trail.body.entries.map((e: Body) => e.type);
    assert.equal(types[0], "session.cancelled");
    assert.equal(types.filter((t: string) => t === "booking.cancelled").length, 2);
    for (const e of trail.body.entries) assert.equal(e.reason, "instructor ill");
    const page = await getPage(f, `${here}?done=cancelled`, cookie);
    assert.match(page.text, /data-testid="seats"[^>]*><strong>Cancelled/);
    assert.doesNotMatch(page.text, /name="intent" value="cancel"/, "no second cancel form");
    const list = await getPage(f, "/admin/sessions", cookie);
    assert.ok(!list.text.includes(here), "cancelled sessions are left out by default");
    const withCancelled = await getPage(f, "/admin/sessions?cancelled=on", cookie);
    assert.ok(withCancelled.text.includes(here));
  } finally {
    await f.close();
  }
});

Deno.test("[admin sessions] unknown id → 404; learners and dealer admins → 403; bad search → 400 with the field named", async () => {
  const f = await startApiFixture();
  try {
    const { cookie } = await staffCookie(f);
    assert.equal((await getPage(f, "/admin/sessions/01JZZZZZZZZZZZZZZZZZZZZZZZ", cookie)).res.status, 404);
    assert.equal((await getPage(f, "/admin/sessions/not-an-id", cookie)).res.status, 404);
    const missing = await postForm(f, "/admin/sessions/01JZZZZZZZZZZZZZZZZZZZZZZZ", cookie, { intent: "cancel" });
    assert.equal(missing.res.status, 404);
    const [learner] = await f.learners(1);
    const [dealerAdmin] = await f.learners(1, ["dealer_admin"]);
    for (const who of [learner, dealerAdmin]) {
      const c = await devSignInCookie(f.services.kv, who.user.id);
      assert.equal((await getPage(f, "/admin/sessions", c)).res.status, 403);
      assert.equal((await getPage(f, "/admin/sessions/new", c)).res.status, 403);
    }
    const bad = await getPage(f, "/admin/sessions?from=2026-02-30", cookie);
    assert.equal(bad.res.status, 400);
    assert.match(bad.text, /data-testid="error-from"/);
    assert.match(bad.text, /value="2026-02-30"/);
  } finally {
    await f.close();
  }
});

Deno.test("[admin sessions] per-session overrides: its own hold length and late-cancel cut-off win", async () => {
  const f = await startApiFixture();
  try {
    const { cookie } = await staffCookie(f);
    const { fields } = await sessionFields(f);
    const bad = await postForm(f, "/admin/sessions/new", cookie, { ...fields, holdMinutes: "soon", cutoffHours: "-1" });
    assert.equal(bad.res.status, 400);
    assert.match(bad.text, /data-testid="error-holdMinutes"[^>]*>Give whole minutes from 1 to 1440/);
    assert.match(bad.text, /data-testid="error-cutoffHours"/);
    const made = await postForm(f, "/admin/sessions/new", cookie, { ...fields, holdMinutes: "7", cutoffHours: "2" });
    assert.equal(made.res.status, 303);
    const id = made.res.headers.get("location")!.split("/")[3].split("?")[0];
    const stored = (await f.services.kv.get<Session>(keys.session(id))).value!;
    assert.equal(stored.holdMinutes, 7);
    assert.equal(stored.lateCancelCutoffHours, 2);

    // Starting in 5 h: inside the course's 24 h cut-off, outside this session's 1 h one.
    const soon = await f.session({ startsInHours: 5 });
    const patched = await f.admin.patch<Body>(`/api/v1/sessions/${soon.id}`, {
      holdMinutes: 7,
      lateCancelCutoffHours: 1,
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    const [learner] = await f.learners(1);
    const hold = await learner.api.post<Body>("/api/v1/holds", { sessionId: soon.id });
    assert.equal((Date.parse(hold.body.hold.expiresAt) - Date.parse(hold.body.hold.createdAt)) / 60_000, 7);
    const booked = await learner.api.post<Body>("/api/v1/bookings", { holdId: hold.body.hold.id });
    const cancelled = await learner.api.post<Body>(`/api/v1/bookings/${booked.body.booking.id}/cancel`, {});
    assert.equal(cancelled.body.booking.lateCancel, false, "the session's 1 h cut-off applies");
  } finally {
    await f.close();
  }
});
