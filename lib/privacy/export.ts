/**
 * A person's data as one JSON document (GDPR access and portability): profile, bookings with
 * their audit and Cal.com sync state, attendance, holds, waitlist entries, the events about them
 * (through the `events_by_learner` index) and their API tokens' metadata.
 */
import type { DomainEvent } from "../booking/events.ts";
import type { AttendanceRecord } from "../domain/attendance.ts";
import type { Booking } from "../domain/booking.ts";
import type { Hold } from "../domain/hold.ts";
import type { User } from "../domain/user.ts";
import type { WaitlistEntry } from "../domain/waitlist.ts";
import { getSeatLink, getSyncState, type SeatLink, type SyncState } from "../calcom/sync_store.ts";
import { getManyChunked, listValues } from "../store/batch.ts";
import { keys } from "../store/keys.ts";
import { getUser } from "../store/users.ts";

/** Version of the export's shape. */
export const EXPORT_FORMAT = "training-booking.personal-data.v1";

/** One booking with what we hold about its mirroring to Cal.com. */
export interface ExportedBooking extends Booking {
  calcom: { sync: SyncState | null; seat: SeatLink | null };
}

/** The export document. */
export interface PersonalDataExport {
  format: typeof EXPORT_FORMAT;
  exportedAt: string;
  profile: User;
  /** Every booking, confirmed or cancelled, with its audit trail; oldest first. */
  bookings: ExportedBooking[];
  attendance: AttendanceRecord[];
  /** Holds and waitlist offers, live or ended, that the history mentions; oldest first. */
  holds: Hold[];
  waitlist: WaitlistEntry[];
  /** Events whose learner is this person, in key order. */
  events: DomainEvent[];
  apiTokens: { tokenId: string; label: string | null; createdAt: string }[];
}

async function values<T>(kv: Deno.Kv, keyList: Deno.KvKey[]): Promise<T[]> {
  const entries = await getManyChunked<T>(kv, keyList);
  return entries.flatMap((e) => e.value === null ? [] : [e.value]);
}

/** Keys of the events about a learner (the `events_by_learner` index), in key order. */
export async function listLearnerEventKeys(kv: Deno.Kv, learnerId: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: keys.eventsByLearnerPrefix(learnerId) })) out.push(String(e.key[2]));
  return out;
}

/** The events about a learner, through the `events_by_learner` index. */
export async function listLearnerEvents(kv: Deno.Kv, learnerId: string): Promise<DomainEvent[]> {
  const eventKeys = await listLearnerEventKeys(kv, learnerId);
  const events = await values<DomainEvent>(kv, eventKeys.map(keys.event));
  return events.map(({ commitVersionstamp: _, ...e }) => e);
}

/** Everything we hold about the user, or null when there is no such user. */
export async function exportUserData(
  kv: Deno.Kv,
  userId: string,
  now: Date = new Date(),
): Promise<PersonalDataExport | null> {
  const profile = await getUser(kv, userId);
  if (!profile) return null;
  const [bookingIds, waitlist, events, learnerHolds] = await Promise.all([
    listValues<string>(kv, { prefix: keys.bookingsByLearnerPrefix(userId) }),
    listValues<WaitlistEntry>(kv, { prefix: keys.waitlistByLearnerPrefix(userId) }),
    listLearnerEvents(kv, userId),
    kv.get<{ items: { holdId: string }[] }>(keys.learnerHolds(userId)),
  ]);
  const apiTokens: PersonalDataExport["apiTokens"] = [];
  const tokenList = kv.list<{ label: string | null; createdAt: string }>({
    prefix: keys.apiTokensByUserPrefix(userId),
  });
  for await (const e of tokenList) {
    apiTokens.push({ tokenId: String(e.key[2]), label: e.value.label, createdAt: e.value.createdAt });
  }
  const bookings = (await values<Booking>(kv, bookingIds.map(keys.booking)))
    .filter((b) => b.learnerId === userId)
    .sort((a, b) => a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0);
  const holdIds = new Set<string>((learnerHolds.value?.items ?? []).map((i) => i.holdId));
  for (const e of events) if (typeof e.data.holdId === "string") holdIds.add(e.data.holdId);
  const holds = (await values<Hold>(kv, [...holdIds].map(keys.hold)))
    .filter((h) => h.learnerId === userId)
    .sort((a, b) => a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0);
  const sessionIds = [...new Set(bookings.map((b) => b.sessionId))];
  const attendance = await values<AttendanceRecord>(kv, sessionIds.map((s) => keys.attendance(s, userId)));
  const exported = await Promise.all(bookings.map(async (b): Promise<ExportedBooking> => {
    const [sync, seat] = await Promise.all([getSyncState(kv, b.id), getSeatLink(kv, b.id)]);
    return { ...b, calcom: { sync, seat } };
  }));
  return {
    format: EXPORT_FORMAT,
    exportedAt: now.toISOString(),
    profile,
    bookings: exported,
    attendance,
    holds,
    waitlist,
    events,
    apiTokens,
  };
}

/** The download's file name. */
export function exportFileName(userId: string, now: Date): string {
  return `personal-data-${userId}-${now.toISOString().slice(0, 10)}.json`;
}
