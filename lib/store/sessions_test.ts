import assert from "node:assert/strict";
import { newId } from "../domain/ids.ts";
import { ValidationError } from "../domain/validation.ts";
import { ConflictError, NotFoundError } from "./errors.ts";
import { createSession, getSeatCounts, getSession, getSessions, importSessions, updateSession } from "./sessions.ts";
import { keys } from "./keys.ts";
import { allKeys, online, seedTinyCatalog, sessionAt, withKv } from "./test_helpers.ts";

const INDEX_PREFIXES = ["sessions_by_start", "sessions_by_location", "sessions_by_course", "sessions_by_instructor"];

async function indexKeys(kv: Deno.Kv): Promise<string[]> {
  const out: string[] = [];
  for (const p of INDEX_PREFIXES) out.push(...await allKeys(kv, p));
  return out.sort();
}

Deno.test("[store] createSession writes session, four indexes and zero seats", async () => {
  await withKv(async (kv) => {
    const cat = await seedTinyCatalog(kv);
    const s = await createSession(kv, sessionAt(cat, 0));
    assert.deepEqual(await getSession(kv, s.id), s);
    assert.deepEqual(
      await indexKeys(kv),
      [
        keys.sessionsByStart(s.startsAt, s.id),
        keys.sessionsByLocation(cat.atlanta.id, s.startsAt, s.id),
        keys.sessionsByCourse(cat.safety.id, s.startsAt, s.id),
        keys.sessionsByInstructor(cat.instructorA, s.startsAt, s.id),
      ].map((k) => JSON.stringify(k)).sort(),
    );
    const entry = (await kv.get(keys.sessionsByStart(s.startsAt, s.id))).value;
    assert.deepEqual(entry, {
      id: s.id,
      courseId: cat.safety.id,
      locationId: cat.atlanta.id,
      instructorId: cat.instructorA,
      mode: "in_person",
      status: "scheduled",
    });
    assert.deepEqual((await getSeatCounts(kv, [s.id])).get(s.id), { confirmed: 0, holds: 0 });

    const o = await createSession(kv, sessionAt(cat, 1, online()));
    assert.ok((await kv.get(keys.sessionsByLocation(null, o.startsAt, o.id))).versionstamp);
    assert.deepEqual(keys.sessionsByLocation(null, o.startsAt, o.id).slice(0, 2), ["sessions_by_location", "online"]);
  });
});

Deno.test("[store] createSession refuses a taken id and unknown references", async () => {
  await withKv(async (kv) => {
    const cat = await seedTinyCatalog(kv);
    const s = await createSession(kv, sessionAt(cat, 0));
    await assert.rejects(
      createSession(kv, { ...sessionAt(cat, 5), id: s.id }),
      (e) => e instanceof ConflictError && e.code === "exists",
    );
    await assert.rejects(
      createSession(kv, sessionAt(cat, 5, { courseId: newId() })),
      (e) => e instanceof ValidationError && e.issues[0].path === "courseId",
    );
    await assert.rejects(
      createSession(kv, sessionAt(cat, 5, { locationId: newId() })),
      (e) => e instanceof ValidationError && e.issues[0].path === "locationId",
    );
    await assert.rejects(
      createSession(kv, sessionAt(cat, 5, { capacity: 0 })),
      (e) => e instanceof ValidationError && e.message.includes("capacity: must be at least 1"),
    );
  });
});

Deno.test("[store] updateSession moves index entries: old keys gone, new present", async () => {
  await withKv(async (kv) => {
    const cat = await seedTinyCatalog(kv);
    const s = await createSession(kv, sessionAt(cat, 0));
    const other = await createSession(kv, sessionAt(cat, 3));
    const before = await indexKeys(kv);

    const moved = await updateSession(kv, s.id, {
      startsAt: "2027-02-01T15:00:00Z",
      endsAt: "2027-02-01T17:00:00Z",
      timeZone: "America/Denver",
      locationId: cat.denver.id,
      courseId: cat.sales.id,
      instructorId: cat.instructorB,
    });
    assert.equal(moved.startsAt, "2027-02-01T15:00:00.000Z");
    assert.equal(moved.createdAt, s.createdAt);
    assert.ok(moved.updatedAt >= s.updatedAt);
    assert.deepEqual(await getSession(kv, s.id), moved);

    const after = await indexKeys(kv);
    const expectedNew = [
      keys.sessionsByStart(moved.startsAt, s.id),
      keys.sessionsByLocation(cat.denver.id, moved.startsAt, s.id),
      keys.sessionsByCourse(cat.sales.id, moved.startsAt, s.id),
      keys.sessionsByInstructor(cat.instructorB, moved.startsAt, s.id),
    ].map((k) => JSON.stringify(k));
    const expectedOld = before.filter((k) => k.includes(s.id));
    assert.equal(expectedOld.length, 4);
    for (const k of expectedOld) assert.ok(!after.includes(k), `stale index ${k}`);
    for (const k of expectedNew) assert.ok(after.includes(k), `missing index ${k}`);
    assert.equal(after.filter((k) => k.includes(other.id)).length, 4, "other session untouched");
    assert.equal(after.length, 8);

    // Going online moves it into the "online" bucket.
    const o = await updateSession(kv, s.id, online());
    assert.ok((await kv.get(keys.sessionsByLocation(null, o.startsAt, s.id))).versionstamp);
    assert.equal((await kv.get(keys.sessionsByLocation(cat.denver.id, o.startsAt, s.id))).versionstamp, null);

    // Status change rewrites the index summaries.
    await updateSession(kv, s.id, { status: "cancelled" });
    const entry = await kv.get<{ status: string }>(keys.sessionsByStart(o.startsAt, s.id));
    assert.equal(entry.value?.status, "cancelled");
  });
});

Deno.test("[store] updateSession validates, refuses shrinking below confirmed, 404s", async () => {
  await withKv(async (kv) => {
    const cat = await seedTinyCatalog(kv);
    const s = await createSession(kv, sessionAt(cat, 0));
    await assert.rejects(
      updateSession(kv, s.id, { endsAt: "2020-01-01T00:00:00Z" }),
      (e) => e instanceof ValidationError && e.issues[0].path === "endsAt",
    );
    await kv.set(keys.seats(s.id), { confirmed: 6, holds: 1 });
    await assert.rejects(
      updateSession(kv, s.id, { capacity: 5 }),
      (e) => e instanceof ConflictError && e.code === "over_capacity",
    );
    assert.equal((await updateSession(kv, s.id, { capacity: 6 })).capacity, 6);
    await assert.rejects(updateSession(kv, newId(), { capacity: 3 }), NotFoundError);
  });
});

Deno.test("[store] concurrent updateSession calls all apply", async () => {
  await withKv(async (kv) => {
    const cat = await seedTinyCatalog(kv);
    const s = await createSession(kv, sessionAt(cat, 0));
    await Promise.all([
      updateSession(kv, s.id, { capacity: 20 }),
      updateSession(kv, s.id, { waitlistEnabled: false }),
      updateSession(kv, s.id, { calcom: { eventTypeId: 42 } }),
    ]);
    const final = await getSession(kv, s.id);
    assert.equal(final?.capacity, 20);
    assert.equal(final?.waitlistEnabled, false);
    assert.deepEqual(final?.calcom, { eventTypeId: 42 });
  });
});

Deno.test("[store] getSessions batches more than 10 ids", async () => {
  await withKv(async (kv) => {
    const cat = await seedTinyCatalog(kv);
    const created = await importSessions(kv, Array.from({ length: 25 }, (_, i) => sessionAt(cat, i * 3)));
    const ids = [...created.map((s) => s.id), newId()];
    const found = await getSessions(kv, ids);
    assert.equal(found.size, 25);
    assert.deepEqual(found.get(created[17].id), created[17]);
    const seats = await getSeatCounts(kv, ids);
    assert.equal(seats.size, 25);
  });
});
