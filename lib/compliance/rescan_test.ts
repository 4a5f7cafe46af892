import assert from "node:assert/strict";
import { BookingEngine } from "../booking/engine.ts";
import { newId } from "../domain/ids.ts";
import { saveRequirement } from "../store/compliance.ts";
import { createCourse } from "../store/courses.ts";
import { keys } from "../store/keys.ts";
import { createSession } from "../store/sessions.ts";
import { createUser } from "../store/users.ts";
import { requestRescan, runPendingRescans, SeatWatcher } from "./rescan.ts";
import { getRecommendations } from "./scan.ts";
import { DEFAULT_COMPLIANCE_SETTINGS as S } from "./state.ts";

const T0 = new Date("2026-03-02T15:00:00.000Z");
const HOUR = 3_600_000;

Deno.test("[compliance] a freed seat rescans the people who need the course, and they see the session", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const engine = new BookingEngine(kv, { holdMinutes: 15, now: () => T0 });
    const course = await createCourse(kv, {
      code: "SAF-101",
      title: "Safety",
      summary: "s",
      topic: "safety",
      programType: "compliance",
      durationMinutes: 60,
    });
    const needy = await createUser(kv, { email: "n@example.com", name: "N", roles: ["learner"] });
    const holder = await createUser(kv, { email: "h@example.com", name: "H", roles: ["instructor"] });
    await saveRequirement(kv, {
      id: newId(),
      courseId: course.id,
      roles: ["learner"],
      jobFunctions: [],
      dealerIds: [],
      periodMonths: null,
      dueOn: null,
      createdAt: T0.toISOString(),
      createdBy: null,
    });
    const session = await createSession(kv, {
      courseId: course.id,
      startsAt: new Date(T0.getTime() + 48 * HOUR).toISOString(),
      endsAt: new Date(T0.getTime() + 50 * HOUR).toISOString(),
      timeZone: "America/Chicago",
      mode: "online",
      joinUrl: "https://meet.example.com/x",
      capacity: 1,
      instructorId: newId(),
    });
    const system = { userId: null, origin: "system" as const, correlationId: "t" };
    const { hold } = await engine.placeHold(session.id, holder.id, system);
    const { booking } = await engine.confirmHold(hold.id, system);

    await requestRescan(kv, "all");
    const full = await runPendingRescans(kv, T0, S);
    assert.equal(full?.people, 2);
    assert.equal((await kv.get(keys.complianceMeta("rescan_all"))).versionstamp, null, "the request is done");
    assert.deepEqual((await getRecommendations(kv, needy.id))!.gaps[0].sessions, [], "the only session is full");

    const watcher = new SeatWatcher();
    assert.equal(await watcher.look(kv, T0), 0, "the first look only learns");
    await engine.cancelBooking(booking.id, system);
    assert.equal(await watcher.look(kv, T0), 1, "the seat freed: the one person with a gap in the course");
    const targeted = await runPendingRescans(kv, T0, S);
    assert.equal(targeted?.people, 1);
    assert.deepEqual((await getRecommendations(kv, needy.id))!.gaps[0].sessions.map((s) => s.sessionId), [session.id]);
    assert.equal(await runPendingRescans(kv, T0, S), null, "nothing left to do");
    assert.equal(await watcher.look(kv, T0), 0, "no change since");
  } finally {
    kv.close();
  }
});
