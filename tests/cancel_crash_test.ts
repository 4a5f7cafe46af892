/**
 * The app killed (SIGKILL) in the middle of a session cancel, on its KV file: the check names the
 * half-done cancel, and the restarted app finishes it by itself, each place ended once.
 */
import assert from "node:assert/strict";
import { checkConsistency } from "../lib/booking/consistency.ts";
import { BookingEngine } from "../lib/booking/engine.ts";
import type { Actor } from "../lib/booking/events.ts";
import { rawEvents } from "./booking/storm.ts";
import type { Booking, Hold, SeatDoc, Session } from "../lib/booking/model.ts";
import { keys } from "../lib/store/keys.ts";
import { createUser } from "../lib/store/mod.ts";
import { ADMIN_TOKEN, type AppProcess, createTinyCatalog, httpJson, spawnApp, waitFor } from "./kafka/relay_fixture.ts";

const BOOKINGS = 150;
const HOLDS = 50;

/** A session with 150 confirmed bookings and 50 live holds, written through the engine. */
async function crowdedSession(kv: Deno.Kv): Promise<{ session: Session; bookings: Booking[]; holds: Hold[] }> {
  const { course, location, instructor } = await createTinyCatalog(kv);
  const engine = new BookingEngine(kv, { holdMinutes: 60 });
  const admin: Actor = { userId: null, roles: ["admin"], origin: "admin", correlationId: crypto.randomUUID() };
  const startsAt = Date.now() + 7 * 24 * 3_600_000;
  const session = await engine.scheduleSession({
    courseId: course.id,
    startsAt: new Date(startsAt).toISOString(),
    endsAt: new Date(startsAt + 2 * 3_600_000).toISOString(),
    timeZone: "America/New_York",
    mode: "in_person",
    locationId: location.id,
    capacity: BOOKINGS + HOLDS,
    instructorId: instructor.id,
  }, admin);
  const learners = [];
  for (let i = 0; i < BOOKINGS + HOLDS; i++) {
    learners.push(await createUser(kv, { email: `crash-${i}@example.com`, name: `Learner ${i}`, roles: ["learner"] }));
  }
  const self = (userId: string): Actor => ({ userId, roles: ["learner"], origin: "api", correlationId: "setup" });
  const placed = await Promise.all(learners.map((l) => engine.placeHold(session.id, l.id, self(l.id))));
  const bookings = await Promise.all(
    placed.slice(0, BOOKINGS).map(async ({ hold }) =>
      (await engine.confirmHold(hold.id, self(hold.learnerId))).booking
    ),
  );
  return { session, bookings, holds: placed.slice(BOOKINGS).map((p) => p.hold) };
}

async function confirmedCount(kv: Deno.Kv, bookings: Booking[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < bookings.length; i += 10) {
    const page = await kv.getMany<Booking[]>(bookings.slice(i, i + 10).map((b) => keys.booking(b.id)));
    n += page.filter((e) => e.value?.status === "confirmed").length;
  }
  return n;
}

/** `deno task doctor --json` on the KV file. */
async function doctor(
  kvPath: string,
): Promise<{ code: number; report: { ok: boolean; problems: { code: string }[] } }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "doctor", "--json"],
    cwd: new URL("../", import.meta.url).pathname,
    env: { DENO_KV_PATH: kvPath, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, report: JSON.parse(new TextDecoder().decode(out.stdout)) };
}

Deno.test("[session] the app killed mid-cancel finishes the cancel by itself after a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cancel-crash-" });
  const kvPath = `${dir}/app.kv`;
  const env = { DENO_KV_PATH: kvPath, SEED_DEMO: "0", DEV_LOGIN: "0", ADMIN_TOKEN };
  const kv = await Deno.openKv(kvPath);
  let app: AppProcess | null = null;
  try {
    const { session, bookings, holds } = await crowdedSession(kv);
    assert.deepEqual((await kv.get<SeatDoc>(keys.seats(session.id))).value, { confirmed: 150, holds: 50, waiting: 0 });
    const nBefore = (await rawEvents(kv)).length;

    // A pause before each cancel step widens the window for the kill: it lands after the status
    // change, while the holds (at most six a step) are still being released, before any booking.
    app = await spawnApp({ ...env, CANCEL_STEP_PAUSE_MS: "400" });
    const request = httpJson(app.baseUrl, "POST", `/api/v1/sessions/${session.id}/cancel`, ADMIN_TOKEN, {
      reason: "venue flooded",
    }).catch((err) => err);
    await waitFor(
      () => "the session marked cancelled",
      async () => (await kv.get<Session>(keys.session(session.id))).value?.status === "cancelled",
      30_000,
      5,
    );
    assert.equal((await app.kill("SIGKILL")).signal, "SIGKILL");
    app = null;
    assert.ok((await request) instanceof Error, "the cancel request died with the process");

    // Half done: cancelled, places still taken, the cancel recorded as pending.
    assert.ok((await kv.get(keys.sessionCancelPending(session.id))).value, "the cancel is pending");
    const left = await confirmedCount(kv, bookings);
    assert.ok(left > 0, `${left} bookings still confirmed`);
    const seatsAtKill = (await kv.get<SeatDoc>(keys.seats(session.id))).value!;
    assert.equal(seatsAtKill.confirmed, left);
    // The doctor no longer calls it healthy.
    const sick = await doctor(kvPath);
    assert.equal(sick.code, 1);
    assert.equal(sick.report.ok, false);
    assert.deepEqual(sick.report.problems.map((p) => p.code), ["cancelled_session_live"]);

    // The restarted app finishes it with nobody asking.
    app = await spawnApp(env);
    await waitFor(
      () => `the cancel to finish (${app?.output().slice(-800)})`,
      async () => (await kv.get(keys.sessionCancelPending(session.id))).value === null,
      30_000,
    );
    assert.equal(await confirmedCount(kv, bookings), 0);
    assert.deepEqual((await kv.get<SeatDoc>(keys.seats(session.id))).value, { confirmed: 0, holds: 0, waiting: 0 });
    const events = (await rawEvents(kv)).slice(nBefore);
    const cancelled = events.filter((e) => e.type === "booking.cancelled").map((e) => e.data.bookingId);
    assert.equal(cancelled.length, BOOKINGS);
    assert.deepEqual(new Set(cancelled), new Set(bookings.map((b) => b.id)));
    const released = events.filter((e) => e.type === "hold.released").map((e) => e.data.holdId);
    assert.equal(released.length, HOLDS);
    assert.deepEqual(new Set(released), new Set(holds.map((h) => h.id)));
    assert.equal(events.filter((e) => e.type === "session.cancelled").length, 1);
    assert.equal(events.at(-1)!.type, "session.cancelled");
    assert.ok(events.every((e) => e.reason === "venue flooded"), "every step in the requester's name");
    assert.deepEqual((await checkConsistency(kv)).problems, []);
    const report = await httpJson(app.baseUrl, "GET", "/api/v1/admin/consistency", ADMIN_TOKEN);
    assert.equal(report.status, 200);
    assert.equal(report.body.ok, true);
    const running = app;
    await waitFor(
      () => `the resume logged (${running.output()})`,
      () => /finished 1 pending session cancel/.test(running.output()),
      10_000,
    );
  } finally {
    await app?.kill("SIGKILL");
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});
