/**
 * The audit trail: booking changes as the event history records them (`["events", key]`), searched
 * by learner, session, course, booking, origin, actor and date. Who (`actor.userId`), when
 * (`occurredAt`), from where (`origin`, `correlationId`) and why (`reason`) come with every event.
 *
 * The narrowest index answers first: a learner's events (`events_by_learner`), a session's
 * (`events_by_session`), a course's sessions' (`sessions_by_course` → `events_by_session`), and
 * otherwise the history itself between the dates. Event keys are ULIDs of their commit time, so a
 * date range is a key range. A search reads at most {@link MAX_SCAN} events and says when it
 * stopped there (`truncated`).
 */
import { type DomainEvent, ulidFloor } from "../booking/events.ts";
import type { Booking } from "../domain/booking.ts";
import type { Origin } from "../domain/common.ts";
import { getManyChunked } from "../store/batch.ts";
import { keys } from "../store/keys.ts";

/** Events a search looks at before it stops (the answer is then marked `truncated`). */
export const MAX_SCAN = 5_000;
/** Sessions of one course a course search follows. */
const MAX_COURSE_SESSIONS = 500;

/** What to search for; every given field must match. Dates are UTC instants (inclusive `from`, exclusive `to`). */
export interface AuditFilter {
  learnerId?: string;
  sessionId?: string;
  courseId?: string;
  bookingId?: string;
  origin?: Origin;
  actorId?: string;
  from?: string;
  to?: string;
  limit?: number;
}

/** One audit line: the stored event (without the pseudonymisation marker). */
export type AuditEntry = Omit<DomainEvent, "commitVersionstamp">;

/** A page of the trail, newest first. */
export interface AuditPage {
  entries: AuditEntry[];
  /** True when the search stopped at {@link MAX_SCAN} events: narrow the dates or add a learner or session. */
  truncated: boolean;
}

/** Whether an event is about this booking (its own events, or the move that created or ended it). */
function aboutBooking(e: DomainEvent, bookingId: string): boolean {
  return e.data.bookingId === bookingId || e.data.fromBookingId === bookingId;
}

function matches(e: DomainEvent, f: AuditFilter, sessionIds: Set<string> | null): boolean {
  if (f.learnerId && e.learnerId !== f.learnerId) return false;
  if (f.sessionId && e.sessionId !== f.sessionId) return false;
  if (sessionIds && !sessionIds.has(e.sessionId)) return false;
  if (f.bookingId && !aboutBooking(e, f.bookingId)) return false;
  if (f.origin && e.origin !== f.origin) return false;
  if (f.actorId && e.actor.userId !== f.actorId) return false;
  return true;
}

/** Key bounds of a date range within a key family whose last part is the event key. */
function range(prefix: readonly Deno.KvKeyPart[], f: AuditFilter): { start: Deno.KvKey; end: Deno.KvKey } {
  const from = f.from ? Date.parse(f.from) : null;
  const to = f.to ? Date.parse(f.to) : null;
  return {
    start: from === null ? [...prefix] : [...prefix, ulidFloor(from)],
    end: to === null ? [...prefix, "\uffff"] : [...prefix, ulidFloor(to)],
  };
}

/** Event keys of an index (`[..., eventKey]`), newest first, at most `max`. */
async function indexKeys(kv: Deno.Kv, prefix: readonly Deno.KvKeyPart[], f: AuditFilter, max: number) {
  const out: string[] = [];
  const { start, end } = range(prefix, f);
  for await (const e of kv.list({ start, end }, { reverse: true, limit: max })) out.push(String(e.key.at(-1)));
  return out;
}

/** The sessions of a course (any status), from the course index. */
async function courseSessionIds(kv: Deno.Kv, courseId: string): Promise<string[]> {
  const out: string[] = [];
  const it = kv.list({ prefix: keys.sessionsByCoursePrefix(courseId) }, { limit: MAX_COURSE_SESSIONS });
  for await (const e of it) out.push(String(e.key.at(-1)));
  return out;
}

/** Loads events by key (in the given order), skipping any that are gone. */
async function loadEvents(kv: Deno.Kv, eventKeys: string[]): Promise<DomainEvent[]> {
  const entries = await getManyChunked<DomainEvent>(kv, eventKeys.map(keys.event));
  return entries.flatMap((e) => e.value ? [e.value] : []);
}

/** Searches the audit trail, newest first. */
export async function searchAuditTrail(kv: Deno.Kv, filter: AuditFilter): Promise<AuditPage> {
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 500);
  let candidates: string[] | null = null;
  let sessionIds: Set<string> | null = null;
  if (filter.learnerId) {
    candidates = await indexKeys(kv, keys.eventsByLearnerPrefix(filter.learnerId), filter, MAX_SCAN + 1);
  } else if (filter.sessionId) {
    candidates = await indexKeys(kv, keys.eventsBySessionPrefix(filter.sessionId), filter, MAX_SCAN + 1);
  } else if (filter.courseId) {
    const ids = await courseSessionIds(kv, filter.courseId);
    sessionIds = new Set(ids);
    const all = await Promise.all(ids.map((id) => indexKeys(kv, keys.eventsBySessionPrefix(id), filter, MAX_SCAN + 1)));
    candidates = all.flat().sort().reverse().slice(0, MAX_SCAN + 1);
  }
  if (filter.courseId && !sessionIds) sessionIds = new Set(await courseSessionIds(kv, filter.courseId));
  const entries: AuditEntry[] = [];
  let scanned = 0;
  const take = (e: DomainEvent) => {
    scanned++;
    if (!matches(e, filter, sessionIds)) return;
    const { commitVersionstamp: _, ...entry } = e;
    entries.push(entry);
  };
  if (candidates) {
    const wanted = candidates.slice(0, MAX_SCAN);
    for (let i = 0; i < wanted.length && entries.length < limit; i += 100) {
      for (const e of await loadEvents(kv, wanted.slice(i, i + 100))) {
        if (entries.length < limit) take(e);
      }
    }
    return { entries, truncated: candidates.length > MAX_SCAN && entries.length < limit };
  }
  const { start, end } = range(keys.eventsPrefix(), filter);
  for await (const e of kv.list<DomainEvent>({ start, end }, { reverse: true, batchSize: 200 })) {
    if (scanned >= MAX_SCAN) return { entries, truncated: true };
    take(e.value);
    if (entries.length >= limit) break;
  }
  return { entries, truncated: false };
}

/**
 * A booking's full history, oldest first: the learner's events in the booking's session (hold
 * placed, booked, cancelled, attendance) and the events naming the booking (a reschedule into or
 * out of it). A booking without events of its own (imported, or demo data) shows the audit lines
 * of its record instead (`data.fromRecord`).
 */
export async function bookingHistory(kv: Deno.Kv, booking: Booking): Promise<AuditEntry[]> {
  const eventKeys: string[] = [];
  for await (const e of kv.list({ prefix: keys.eventsByLearnerPrefix(booking.learnerId) })) {
    eventKeys.push(String(e.key.at(-1)));
  }
  const out: AuditEntry[] = [];
  for (const e of await loadEvents(kv, eventKeys)) {
    if (e.sessionId !== booking.sessionId && !aboutBooking(e, booking.id)) continue;
    const { commitVersionstamp: _, ...entry } = e;
    out.push(entry);
  }
  if (out.some((e) => aboutBooking(e, booking.id))) return out;
  // A booking brought in from an earlier system (or the demo data) has no events of its own: the
  // audit lines on its record stand for them.
  const fromRecord = booking.audit.map((a, i): AuditEntry => ({
    id: `${booking.id}-record-${i}`,
    key: `record-${booking.id}-${i}`,
    type: `booking.${a.action}` as AuditEntry["type"],
    schemaVersion: 1,
    occurredAt: a.at,
    origin: a.origin,
    correlationId: "booking-record",
    actor: { userId: a.actorId },
    sessionId: booking.sessionId,
    learnerId: booking.learnerId,
    reason: a.reason,
    data: { bookingId: booking.id, fromRecord: true },
  }));
  return [...fromRecord, ...out].sort((a, b) => a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0);
}
