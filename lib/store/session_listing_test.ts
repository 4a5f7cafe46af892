import assert from "node:assert/strict";
import type { Session } from "../domain/session.ts";
import { ValidationError } from "../domain/validation.ts";
import { importSessions, updateSession } from "./sessions.ts";
import { encodeSessionCursor } from "./session_cursor.ts";
import { listSessions, type ListSessionsOptions } from "./session_listing.ts";
import { online, seedTinyCatalog, sessionAt, spyOnList, type TinyCatalog, withKv } from "./test_helpers.ts";

/** 60 sessions over ~5 weeks: mixed course, location, mode, instructor; ties on start. */
async function seedSessions(kv: Deno.Kv, cat: TinyCatalog): Promise<Session[]> {
  const courses = [cat.safety, cat.safety2, cat.sales];
  const inputs = Array.from({ length: 60 }, (_, i) => {
    const hours = Math.floor(i / 2) * 20; // pairs share a start time
    const course = courses[i % 3];
    const kind = i % 5;
    const base = {
      courseId: course.id,
      instructorId: i % 4 === 0 ? cat.instructorB : cat.instructorA,
    };
    if (kind === 0) return sessionAt(cat, hours, { ...base, ...online() });
    if (kind === 1) {
      return sessionAt(cat, hours, {
        ...base,
        mode: "hybrid",
        locationId: cat.denver.id,
        joinUrl: "https://meet.example.com/h",
      });
    }
    return sessionAt(cat, hours, { ...base, locationId: kind === 2 ? cat.denver.id : cat.atlanta.id });
  });
  const sessions = await importSessions(kv, inputs);
  // Cancel a few.
  for (const s of [sessions[4], sessions[11], sessions[30]]) {
    Object.assign(s, await updateSession(kv, s.id, { status: "cancelled" }));
  }
  return sessions;
}

function byPosition(a: Session, b: Session): number {
  return a.startsAt < b.startsAt ? -1 : a.startsAt > b.startsAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

async function collectAll(kv: Deno.Kv, opts: ListSessionsOptions, limit: number): Promise<Session[]> {
  const out: Session[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await listSessions(kv, { ...opts, cursor, limit });
    assert.ok(page.sessions.length <= limit);
    out.push(...page.sessions);
    if (!page.nextCursor) return out;
    assert.equal(page.sessions.length, limit, "only the last page may be short");
    cursor = page.nextCursor;
  }
  throw new Error("paging did not end");
}

Deno.test("[store] listSessions filters and pages each item exactly once, in order", async () => {
  await withKv(async (kv) => {
    const cat = await seedTinyCatalog(kv);
    const all = (await seedSessions(kv, cat)).sort(byPosition);
    const from = all[10].startsAt;
    const to = all[50].startsAt;
    const cases: Array<[ListSessionsOptions, (s: Session) => boolean]> = [
      [{}, (s) => s.status === "scheduled"],
      [{ includeCancelled: true }, () => true],
      [{ from, to }, (s) => s.status === "scheduled" && s.startsAt >= from && s.startsAt < to],
      [{ locationId: cat.denver.id }, (s) => s.status === "scheduled" && s.locationId === cat.denver.id],
      [{ online: true }, (s) => s.status === "scheduled" && s.locationId === null],
      [{ online: false, from }, (s) => s.status === "scheduled" && s.locationId !== null && s.startsAt >= from],
      [{ mode: "hybrid" }, (s) => s.status === "scheduled" && s.mode === "hybrid"],
      [{ courseId: cat.sales.id, includeCancelled: true }, (s) => s.courseId === cat.sales.id],
      [{ instructorId: cat.instructorB }, (s) => s.status === "scheduled" && s.instructorId === cat.instructorB],
      [{ topic: "safety" }, (s) => s.status === "scheduled" && s.courseId !== cat.sales.id],
      [
        { programType: "compliance", locationId: cat.denver.id },
        (s) => s.status === "scheduled" && s.courseId === cat.safety2.id && s.locationId === cat.denver.id,
      ],
      [{ q: "hazardous" }, (s) => s.status === "scheduled" && s.courseId === cat.safety2.id],
      [{ q: "sal-101" }, (s) => s.status === "scheduled" && s.courseId === cat.sales.id],
      [{ q: "SAFETY fundamentals" }, (s) => s.status === "scheduled" && s.courseId === cat.safety.id],
      [{ q: "nothing matches this" }, () => false],
      [
        { topic: "sales", instructorId: cat.instructorA, from, to },
        (s) =>
          s.status === "scheduled" && s.courseId === cat.sales.id && s.instructorId === cat.instructorA &&
          s.startsAt >= from && s.startsAt < to,
      ],
      [{ locationId: cat.atlanta.id, online: true }, () => false],
    ];
    for (const [opts, keep] of cases) {
      const expected = all.filter(keep).map((s) => s.id);
      for (const limit of [1, 3, 7, 100]) {
        const got = (await collectAll(kv, opts, limit)).map((s) => s.id);
        assert.deepEqual(got, expected, `${JSON.stringify(opts)} limit ${limit}`);
      }
    }
  });
});

Deno.test("[store] listSessions returns full sessions and a null cursor at the end", async () => {
  await withKv(async (kv) => {
    const cat = await seedTinyCatalog(kv);
    const all = (await seedSessions(kv, cat)).sort(byPosition);
    const page = await listSessions(kv, { includeCancelled: true, limit: 60 });
    assert.deepEqual(page.sessions, all);
    assert.equal(page.nextCursor, null);
    const first = await listSessions(kv, { includeCancelled: true, limit: 59 });
    assert.ok(first.nextCursor);
    const rest = await listSessions(kv, { includeCancelled: true, limit: 59, cursor: first.nextCursor });
    assert.deepEqual(rest.sessions, [all[59]]);
    assert.equal(rest.nextCursor, null);
  });
});

Deno.test('[store] listSessions reads indexes, never scans ["sessions"]', async () => {
  await withKv(async (raw) => {
    const cat = await seedTinyCatalog(raw);
    await seedSessions(raw, cat);
    const expectIndex = async (opts: ListSessionsOptions, prefix: string, count = 1) => {
      const { kv, selectors } = spyOnList(raw);
      await listSessions(kv, opts);
      const sessionScans = selectors.filter((s) => {
        const first = "prefix" in s && s.prefix ? s.prefix[0] : "start" in s && s.start ? s.start[0] : undefined;
        return typeof first === "string" && first.startsWith("sessions");
      });
      for (const s of sessionScans) {
        const key = ("prefix" in s && s.prefix) || ("start" in s && s.start) || [];
        assert.notDeepEqual(key, ["sessions"], "no scan of the primary records");
        assert.equal(key[0], prefix, `${JSON.stringify(opts)} should use ${prefix}`);
      }
      assert.equal(sessionScans.length, count, `${JSON.stringify(opts)}: ${JSON.stringify(sessionScans)}`);
    };
    await expectIndex({}, "sessions_by_start");
    await expectIndex({ from: "2027-01-10T00:00:00Z", to: "2027-01-20T00:00:00Z" }, "sessions_by_start");
    await expectIndex({ locationId: cat.denver.id }, "sessions_by_location");
    await expectIndex({ online: true }, "sessions_by_location");
    await expectIndex({ courseId: cat.safety.id, locationId: cat.denver.id }, "sessions_by_course");
    await expectIndex({ instructorId: cat.instructorB }, "sessions_by_instructor");
    await expectIndex({ q: "hazardous" }, "sessions_by_course");
    // Two of three courses: the location index (1 of 3 buckets) is cheaper.
    await expectIndex({ topic: "safety", locationId: cat.denver.id }, "sessions_by_location");
    await expectIndex({ topic: "safety", instructorId: cat.instructorA }, "sessions_by_instructor");
  });
});

Deno.test("[store] listSessions rejects bad options and cursors", async () => {
  await withKv(async (kv) => {
    await assert.rejects(listSessions(kv, { limit: 0 }), ValidationError);
    await assert.rejects(listSessions(kv, { from: "yesterday-ish" }), ValidationError);
    await assert.rejects(
      listSessions(kv, { cursor: "%%%" }),
      (e) => e instanceof ValidationError && e.issues[0].path === "cursor",
    );
  });
});

Deno.test("[store] listSessions answers an empty range (to before from, or a cursor past to) with an empty page", async () => {
  await withKv(async (kv) => {
    const cat = await seedTinyCatalog(kv);
    await seedSessions(kv, cat);
    const early = "2027-01-05T00:00:00.000Z";
    const late = "2027-01-20T00:00:00.000Z";
    const empty = { sessions: [], nextCursor: null };
    assert.deepEqual(await listSessions(kv, { from: late, to: early }), empty);
    assert.deepEqual(await listSessions(kv, { from: early, to: early }), empty);
    const cursor = encodeSessionCursor({ startsAt: late, id: cat.instructorA });
    assert.deepEqual(await listSessions(kv, { to: early, cursor }), empty);
    assert.deepEqual(await listSessions(kv, { locationId: cat.denver.id, to: early, cursor }), empty);
    // The same cursor without `to` still pages on after it.
    const after = await listSessions(kv, { cursor, limit: 100 });
    assert.ok(after.sessions.length > 0 && after.sessions.every((s) => s.startsAt > late));
  });
});
