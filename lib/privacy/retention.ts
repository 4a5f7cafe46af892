/**
 * Retention: events and booking audit older than the retention period are pseudonymised (their
 * free text goes; ids, types, times, statuses and counters stay, so history, seat counts and
 * reports do not change). The worker runs {@link applyRetention} daily under a lease.
 *
 * - Events: `["events", key]` is keyed by a ULID of the commit time, so the job walks keys from
 *   where it stopped last time (`["privacy_meta", "retention"]`) up to the cut-off: each event is
 *   read once in its life, not every day.
 * - Audit: bookings of sessions that started before the cut-off (walking `sessions_by_start` from
 *   its own cursor): cancel reason and audit reasons go.
 *
 * Writes are batched within KV Connect's limits: events in blind sets of at most
 * {@link EVENT_BATCH} per op (an event is only ever rewritten to the same pseudonymised value),
 * bookings checked, at most 10 per op.
 */
import { type DomainEvent, ulidFloor } from "../booking/events.ts";
import type { Booking } from "../domain/booking.ts";
import { getManyChunked } from "../store/batch.ts";
import { keys } from "../store/keys.ts";
import { pseudonymiseBooking, pseudonymiseEvent } from "./pseudonymise.ts";

/** Default retention period: two years (730 days); `RETENTION_DAYS` (lib/config.ts) changes it. */
export const DEFAULT_RETENTION_DAYS = 730;

/** Events rewritten per atomic op: ~300 mutations of ~1 KB, inside 1000 mutations and 800 KiB. */
const EVENT_BATCH = 300;
/** Bookings rewritten per atomic op (each one checked; KV Connect allows 10 checks). */
const BOOKING_BATCH = 10;

/** Where the job stopped. */
export interface RetentionState {
  /** Last event key looked at. */
  eventKey: string | null;
  /** Last `sessions_by_start` position looked at: `[startsAt, sessionId]`. */
  session: [string, string] | null;
  lastRunAt: string | null;
  cutoff: string | null;
}

/** What one run did. */
export interface RetentionResult {
  cutoff: string;
  eventsScanned: number;
  eventsPseudonymised: number;
  bookingsPseudonymised: number;
}

/**
 * Pseudonymises events and audit older than `retentionDays` before `now`. Resumable: progress is
 * saved after every batch.
 */
export async function applyRetention(
  kv: Deno.Kv,
  options: { now: Date; retentionDays?: number },
): Promise<RetentionResult> {
  const days = options.retentionDays ?? DEFAULT_RETENTION_DAYS;
  const cutoffMs = options.now.getTime() - days * 86_400_000;
  const cutoff = new Date(cutoffMs).toISOString();
  const stateKey = keys.privacyMeta("retention");
  const state: RetentionState = (await kv.get<RetentionState>(stateKey)).value ??
    { eventKey: null, session: null, lastRunAt: null, cutoff: null };
  const out: RetentionResult = { cutoff, eventsScanned: 0, eventsPseudonymised: 0, bookingsPseudonymised: 0 };

  // Events: keys below the cut-off's ULID floor were committed before it (the key's time is the
  // commit's wall-clock time, which is what ages an event here).
  const end = keys.event(ulidFloor(cutoffMs));
  const start = state.eventKey ? [...keys.event(state.eventKey), ""] : keys.eventsPrefix();
  let batch: Deno.KvEntry<DomainEvent>[] = [];
  const flushEvents = async (lastKey: string) => {
    const op = kv.atomic();
    for (const e of batch) {
      const next = pseudonymiseEvent(e.value, e.versionstamp);
      if (next) {
        op.set(e.key, next);
        out.eventsPseudonymised++;
      }
    }
    state.eventKey = lastKey;
    op.set(stateKey, state);
    await op.commit();
    batch = [];
  };
  for await (const e of kv.list<DomainEvent>({ start, end }, { batchSize: 500 })) {
    out.eventsScanned++;
    batch.push(e);
    if (batch.length === EVENT_BATCH) await flushEvents(e.value.key);
  }
  if (batch.length) await flushEvents(batch.at(-1)!.value.key);

  // Audit: bookings of sessions that started before the cut-off.
  const sStart = state.session ? [...keys.sessionsByStart(...state.session), ""] : keys.sessionsByStartPrefix();
  const sEnd = [...keys.sessionsByStartPrefix(), cutoff];
  for await (const s of kv.list({ start: sStart, end: sEnd })) {
    const sessionId = String(s.key[2]);
    const bookingIds: string[] = [];
    for await (const b of kv.list<string>({ prefix: keys.bookingsBySessionPrefix(sessionId) })) {
      bookingIds.push(b.value);
    }
    for (let i = 0; i < bookingIds.length; i += BOOKING_BATCH) {
      out.bookingsPseudonymised += await pseudonymiseBookings(kv, bookingIds.slice(i, i + BOOKING_BATCH));
    }
    state.session = [String(s.key[1]), sessionId];
    await kv.set(stateKey, state);
  }
  state.lastRunAt = options.now.toISOString();
  state.cutoff = cutoff;
  await kv.set(stateKey, state);
  return out;
}

/** Pseudonymises up to 10 bookings, checked; one retry per booking when a writer got there first. */
async function pseudonymiseBookings(kv: Deno.Kv, ids: string[]): Promise<number> {
  const entries = await getManyChunked<Booking>(kv, ids.map(keys.booking));
  const todo = entries.flatMap((e) => {
    const next = e.value ? pseudonymiseBooking(e.value) : null;
    return next ? [{ e, next }] : [];
  });
  if (!todo.length) return 0;
  const op = kv.atomic();
  for (const { e, next } of todo) op.check(e).set(e.key, next);
  if ((await op.commit()).ok) return todo.length;
  let n = 0;
  for (const { e } of todo) {
    const fresh = await kv.get<Booking>(e.key);
    const next = fresh.value ? pseudonymiseBooking(fresh.value) : null;
    if (next && (await kv.atomic().check(fresh).set(fresh.key, next).commit()).ok) n++;
  }
  return n;
}
