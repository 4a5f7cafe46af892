/**
 * A KV file with a million historical records for the concurrent-users bench, written once and
 * cached (`~/.cache/training-booking/bench-history-v1.sqlite3`, or BENCH_HISTORY_FILE); each run
 * copies it. The records are shaped like the real ones: one real hold is placed and confirmed
 * through the engine in a scratch store, and its booking and events are cloned with new ids into
 * past sessions (direct writes, 1,000 mutations per atomic op):
 *
 * - `HISTORY_SESSIONS` past sessions (`["sessions", id]` and `["sessions_by_start", …]`);
 * - `HISTORY_BOOKINGS` past bookings (`["bookings", id]` with both indexes);
 * - `HISTORY_EVENTS` events in the history (`["events", key]`), already delivered (no outbox).
 * @module
 */
import { ulid } from "ulid";
import { BookingEngine } from "../lib/booking/engine.ts";
import type { Actor } from "../lib/booking/events.ts";
import { keys } from "../lib/store/keys.ts";
import { createCatalog, createLearnerTokens, createSessions } from "./fixtures.ts";

export const HISTORY_SESSIONS = 20_000;
export const HISTORY_BOOKINGS = 400_000;
export const HISTORY_EVENTS = 600_000;
/** Records in the history (sessions are not counted). */
export const HISTORY_RECORDS = HISTORY_BOOKINGS + HISTORY_EVENTS;

/** Where the cached history lives. */
export function historyCachePath(): string {
  const explicit = Deno.env.get("BENCH_HISTORY_FILE");
  if (explicit) return explicit;
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  return `${base}/training-booking/bench-history-v1.sqlite3`;
}

/** Real records to clone: one session, booking and its events, made through the engine. */
async function templates(dir: string) {
  const kv = await Deno.openKv(`${dir}/template.kv`);
  try {
    const catalog = await createCatalog(kv);
    const [session] = await createSessions(kv, catalog, catalog.hotCourse, 1, 10);
    await createLearnerTokens(kv, 1);
    let learnerId = "";
    for await (const e of kv.list<{ id: string; roles: string[] }>({ prefix: ["users"] })) {
      if (e.value.roles.includes("learner")) learnerId = e.value.id;
    }
    const engine = new BookingEngine(kv, { holdMinutes: 15 });
    const actor: Actor = { userId: learnerId, origin: "api", roles: ["learner"], correlationId: "bench-history" };
    const { hold } = await engine.placeHold(session.id, learnerId, actor);
    const { booking } = await engine.confirmHold(hold.id, actor);
    const events: Record<string, unknown>[] = [];
    for await (const e of kv.list<Record<string, unknown>>({ prefix: keys.eventsPrefix() })) events.push(e.value);
    return { session, booking, events };
  } finally {
    kv.close();
  }
}

/** Writes the history into a new file at `path` (via a temp name, so a cut-short run leaves nothing). */
async function writeHistory(path: string, log: (m: string) => void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bench-history-" });
  try {
    const t = await templates(dir);
    const tmp = `${path}.part`;
    await Deno.remove(tmp).catch(() => {});
    const kv = await Deno.openKv(tmp);
    const t0 = performance.now();
    let op = kv.atomic();
    let n = 0;
    const put = async (key: Deno.KvKey, value: unknown) => {
      op.set(key, value);
      if (++n % 1000 === 0) {
        await op.commit();
        op = kv.atomic();
      }
    };
    const day = 86_400_000;
    const start = Date.now() - 3 * 365 * day;
    const sessionIds: string[] = [];
    for (let i = 0; i < HISTORY_SESSIONS; i++) {
      const id = ulid(start + i * 3_600_000);
      const startsAt = new Date(start + i * 3_600_000).toISOString();
      sessionIds.push(id);
      await put(keys.session(id), {
        ...t.session,
        id,
        startsAt,
        endsAt: new Date(Date.parse(startsAt) + 7_200_000).toISOString(),
      });
      await put(keys.sessionsByStart(startsAt, id), id);
    }
    for (let i = 0; i < HISTORY_BOOKINGS; i++) {
      const sessionId = sessionIds[i % HISTORY_SESSIONS];
      const learnerId = `hist-learner-${i % 50_000}`;
      const id = ulid(start + (i % HISTORY_SESSIONS) * 3_600_000);
      await put(keys.booking(id), { ...t.booking, id, sessionId, learnerId });
      await put(keys.bookingBySession(sessionId, id), id);
      await put(keys.bookingByLearner(learnerId, id), id);
    }
    for (let i = 0; i < HISTORY_EVENTS; i++) {
      const tpl = t.events[i % t.events.length];
      const at = start + Math.floor((i / HISTORY_EVENTS) * 3 * 365 * day);
      const key = ulid(at);
      await put(keys.event(key), {
        ...tpl,
        key,
        id: crypto.randomUUID(),
        sessionId: sessionIds[i % HISTORY_SESSIONS],
        occurredAt: new Date(at).toISOString(),
      });
      if (i % 100_000 === 0) log(`history: ${i} events (${Math.round(performance.now() - t0)} ms)`);
    }
    await op.commit();
    kv.close();
    log(`history: ${n} keys written in ${Math.round(performance.now() - t0)} ms`);
    for (const suffix of ["-wal", "-shm"]) await Deno.remove(tmp + suffix).catch(() => {});
    await Deno.rename(tmp, path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Copies the cached history to `target` (writing the cache first when missing). Returns whether
 * it was written in this run and how long that took.
 */
export async function copyHistoryStore(
  target: string,
  log: (m: string) => void,
): Promise<{ cached: boolean; writeMs: number | null; copyMs: number; bytes: number }> {
  const path = historyCachePath();
  let cached = true;
  let writeMs: number | null = null;
  try {
    await Deno.stat(path);
  } catch {
    cached = false;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    const t0 = performance.now();
    log(`history: writing ${HISTORY_RECORDS} records to ${path} (once; cached for later runs)`);
    await writeHistory(path, log);
    writeMs = Math.round(performance.now() - t0);
  }
  const t0 = performance.now();
  await Deno.copyFile(path, target);
  return { cached, writeMs, copyMs: Math.round(performance.now() - t0), bytes: (await Deno.stat(target)).size };
}
