/**
 * Join links, each place both ways: shown to a learner with a confirmed booking and to the
 * session's instructor; not to visitors, learners who only hold a seat, or after a cancellation.
 */
import assert from "node:assert/strict";
import { mintToken } from "../../lib/auth/tokens.ts";
import type { Role } from "../../lib/domain/mod.ts";
import { createSession, createUser } from "../../lib/store/mod.ts";
import { startApiFixture } from "../api/fixture.ts";
import { signInCookie } from "./sign_in.ts";

Deno.test("[join-links] the booked learner and the instructor see the link (API, session, booking, schedule, .ics); others and the cancelled do not", async () => {
  const f = await startApiFixture();
  try {
    const kv = f.services.kv;
    const join = `https://meet.example.com/join-${crypto.randomUUID().slice(0, 8)}`;
    const person = async (name: string, roles: Role[]) => {
      const user = await createUser(kv, {
        email: `${name.replace(/\W/g, "-").toLowerCase()}-${crypto.randomUUID()}@example.com`,
        name,
        roles,
      });
      return { user, token: (await mintToken(kv, user.id)).token, cookie: await signInCookie(f.services, user.id) };
    };
    const [booked, holding, teacher, otherTeacher] = [
      await person("Booked", ["learner"]),
      await person("Holding", ["learner"]),
      await person("Teacher", ["instructor"]),
      await person("Other teacher", ["instructor"]),
    ];
    const course = await f.courseWithoutPrerequisites();
    const start = Date.now() + 5 * 86_400_000;
    const session = await createSession(kv, {
      courseId: course.id,
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + 3_600_000).toISOString(),
      timeZone: "America/Chicago",
      mode: "online",
      locationId: null,
      joinUrl: join,
      capacity: 5,
      instructorId: teacher.user.id,
      waitlistEnabled: true,
    });
    const api = async (token: string | null, method: string, path: string, body?: unknown) => {
      const r = await f.app.request(`http://localhost/api/v1${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body ? { "content-type": "application/json" } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: r.status, body: await r.json() };
    };
    const page = async (cookie: string | null, path: string) =>
      await (await f.app.request(`http://localhost${path}`, { headers: cookie ? { cookie } : {} })).text();

    const hold = await api(booked.token, "POST", "/holds", { sessionId: session.id });
    const booking = (await api(booked.token, "POST", "/bookings", { holdId: hold.body.hold.id })).body.booking;
    assert.equal((await api(holding.token, "POST", "/holds", { sessionId: session.id })).status, 201);

    // API: one session.
    const seen = async (token: string | null) =>
      (await api(token, "GET", `/sessions/${session.id}`)).body.session.joinUrl;
    assert.equal(await seen(booked.token), join);
    assert.equal(await seen(teacher.token), join);
    assert.equal(await seen(f.admin.token), join);
    assert.equal(await seen(null), null);
    assert.equal(await seen(holding.token), null, "a hold is not a booking");
    assert.equal(await seen(otherTeacher.token), null);
    // API: lists never carry it, even for the booked.
    const list = await api(booked.token, "GET", "/sessions?mode=online&limit=100");
    assert.ok(list.body.sessions.some((s: { session: { id: string } }) => s.session.id === session.id));
    assert.ok(!JSON.stringify(list.body).includes(join));

    // Session page.
    const bookedPage = await page(booked.cookie, `/sessions/${session.id}`);
    assert.ok(bookedPage.includes(`href="${join}"`) && bookedPage.includes('data-testid="join-link"'));
    assert.ok(!bookedPage.includes("You get the join link after booking"));
    assert.ok((await page(teacher.cookie, `/sessions/${session.id}`)).includes(join));
    for (const who of [null, holding.cookie, otherTeacher.cookie]) {
      const html = await page(who, `/sessions/${session.id}`);
      assert.ok(!html.includes(join));
      assert.ok(html.includes("You get the join link after booking"));
    }
    assert.ok(!(await page(null, "/?mode=online")).includes(join), "not on the home page");

    // Booking page, schedule, calendar file.
    assert.ok((await page(booked.cookie, `/bookings/${booking.id}`)).includes(`href="${join}"`));
    assert.ok((await page(booked.cookie, "/me/schedule")).includes(`href="${join}"`));
    assert.ok(!(await page(holding.cookie, "/me/schedule")).includes(join), "the holder's schedule has no link");
    const ics = await page(booked.cookie, `/bookings/${booking.id}/calendar.ics`);
    const unfolded = ics.replace(/\r\n[ \t]/g, "");
    assert.ok(unfolded.includes(`\r\nURL:${join}\r\n`), "URL is the join link");
    assert.ok(unfolded.includes(`\r\nLOCATION:${join}\r\n`), "LOCATION is the join link");

    // Cancelled: the link is gone everywhere.
    assert.equal((await api(booked.token, "POST", `/bookings/${booking.id}/cancel`, {})).status, 200);
    assert.equal(await seen(booked.token), null);
    assert.ok(!(await page(booked.cookie, `/sessions/${session.id}`)).includes(join));
    assert.ok(!(await page(booked.cookie, `/bookings/${booking.id}`)).includes(join));
    assert.ok(!(await page(booked.cookie, "/me/schedule")).includes(join));
  } finally {
    await f.close();
  }
});
