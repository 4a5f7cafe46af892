/**
 * A person's data as one JSON document (GDPR access and portability): profile and preferences,
 * bookings with their audit and Cal.com sync state, attendance with its audit, online presence,
 * RSVPs, recording views, holds, waitlist and course-wide waitlist entries, alternatives shown to
 * them, the notifications sent to them, their compliance (assignments, certifications,
 * recommendations, alerts), the events about them (through the `events_by_learner` index) and
 * their API tokens' metadata.
 *
 * Records kept per session (`["attendance", s, id]`, `attendance_audit`, `online_presence`,
 * `rsvps`, `recording_views`) have no index by person: they are read for every session the
 * person has a booking, hold, waitlist place or event in (each needs a booking to exist).
 */
import type { AttendanceAuditEntry } from "../attendance/marks.ts";
import type { OnlinePresence } from "../attendance/online.ts";
import type { RecordingView } from "../attendance/recording.ts";
import type { Rsvp } from "../attendance/rsvp.ts";
import type { AlternativesOffer } from "../booking/alternatives.ts";
import type { CourseWaitlistEntry } from "../booking/course_waitlist.ts";
import type { DomainEvent } from "../booking/events.ts";
import type { LearnerRecommendations } from "../compliance/recommend.ts";
import {
  certificationsOf,
  type ComplianceSettings,
  DEFAULT_COMPLIANCE_SETTINGS,
  type HeldCertification,
} from "../compliance/state.ts";
import type { Assignment } from "../domain/compliance.ts";
import type { Course } from "../domain/course.ts";
import type { Notification, NotificationPrefs } from "../notify/notifier.ts";
import type { RateState } from "../notify/policy.ts";
import type { CalendarState } from "../notify/produce.ts";
import { type Profile, profileOf } from "../store/profile.ts";
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
  /** What they set on /me/profile and /me/notifications (null: never set). */
  preferences: { profile: Profile; notifications: NotificationPrefs | null };
  /** Every mark, check-in, correction and refused stale mark about them; by session, then time. */
  attendanceAudit: AttendanceAuditEntry[];
  /** Online sessions joined: join and leave times, time present. */
  onlinePresence: OnlinePresence[];
  rsvps: Rsvp[];
  /** Recordings watched: time credited, completion. */
  recordingViews: (RecordingView & { sessionId: string })[];
  /** Course-wide waitlist entries ("any date that suits me"); their per-session places are in `waitlist`. */
  courseWaitlist: CourseWaitlistEntry[];
  /** Alternatives to a full session last shown to them (kept 24 h). */
  alternativesOffered: (AlternativesOffer & { sessionId: string })[];
  /** Messages to them (newest last), the calendar invitations' state per booking, and the pacing state. */
  notifications: {
    messages: ExportedNotification[];
    calendar: (CalendarState & { bookingId: string })[];
    pacing: RateState | null;
  };
  compliance: {
    assignments: Assignment[];
    /** Held certifications, computed from their completions (soonest expiry first). */
    certifications: HeldCertification[];
    recommendations: LearnerRecommendations | null;
    /** Alerts already sent (expiring, due soon, overdue, escalations): their identity and when. */
    alerts: { alertId: string; at: string }[];
  };
}

/** A message as the person sees it: what was (or will be) sent, without the notifier's internals. */
export type ExportedNotification = Omit<Notification, "identity" | "guard" | "dueAtMs" | "createdAtMs"> & {
  dueAt: string;
  createdAt: string;
};

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
  settings: Pick<ComplianceSettings, "timeZone" | "expiringWindowDays"> = DEFAULT_COMPLIANCE_SETTINGS,
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
  const sessionIds = [
    ...new Set([
      ...bookings.map((b) => b.sessionId),
      ...waitlist.map((w) => w.sessionId),
      ...holds.map((h) => h.sessionId),
      ...events.map((e) => e.sessionId),
    ]),
  ].sort();
  const attendance = await values<AttendanceRecord>(kv, sessionIds.map((s) => keys.attendance(s, userId)));
  const exported = await Promise.all(bookings.map(async (b): Promise<ExportedBooking> => {
    const [sync, seat] = await Promise.all([getSyncState(kv, b.id), getSeatLink(kv, b.id)]);
    return { ...b, calcom: { sync, seat } };
  }));
  const [attendanceAudit, onlinePresence, rsvps, views] = await Promise.all([
    Promise.all(
      sessionIds.map((s) =>
        listValues<AttendanceAuditEntry>(kv, { prefix: keys.attendanceAuditLearnerPrefix(s, userId) })
      ),
    )
      .then((lists) => lists.flat()),
    values<OnlinePresence>(kv, sessionIds.map((s) => keys.onlinePresence(s, userId))),
    values<Rsvp>(kv, sessionIds.map((s) => keys.rsvp(s, userId))),
    getManyChunked<RecordingView>(kv, sessionIds.map((s) => keys.recordingView(s, userId))),
  ]);
  const recordingViews = views.flatMap((e, i) => e.value ? [{ sessionId: sessionIds[i], ...e.value }] : []);
  const [courseWaitlist, alternativesOffered, notifications, compliance] = await Promise.all([
    listValues<CourseWaitlistEntry>(kv, { prefix: keys.courseWaitlistPrefix(userId) }),
    listEntries<AlternativesOffer>(kv, keys.alternativesOfferedPrefix(userId))
      .then((list) => list.map((e) => ({ sessionId: String(e.key[2]), ...e.value }))),
    exportNotifications(kv, userId, bookings.map((b) => b.id)),
    exportCompliance(kv, profile, now, settings),
  ]);
  const notifyPrefs = (await kv.get<NotificationPrefs>(keys.notifyPrefs(userId))).value;
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
    preferences: { profile: profileOf(profile), notifications: notifyPrefs },
    attendanceAudit,
    onlinePresence,
    rsvps,
    recordingViews,
    courseWaitlist,
    alternativesOffered,
    notifications,
    compliance,
  };
}

async function listEntries<T>(kv: Deno.Kv, prefix: Deno.KvKey): Promise<Deno.KvEntry<T>[]> {
  return await Array.fromAsync(kv.list<T>({ prefix }));
}

/** The messages to the person (through `notify_by_user`), their invitations' state and pacing. */
async function exportNotifications(
  kv: Deno.Kv,
  userId: string,
  bookingIds: string[],
): Promise<PersonalDataExport["notifications"]> {
  const ids = (await listEntries<null>(kv, keys.notifyByUserPrefix(userId))).map((e) => String(e.key[3]));
  const messages = (await values<Notification>(kv, ids.map(keys.notifyMessage)))
    .filter((m) => m.userId === userId)
    .map(({ identity: _i, guard: _g, dueAtMs, createdAtMs, ...m }): ExportedNotification => ({
      ...m,
      dueAt: new Date(dueAtMs).toISOString(),
      createdAt: new Date(createdAtMs).toISOString(),
    }));
  const calendars = await getManyChunked<CalendarState>(kv, bookingIds.map(keys.notifyCalendar));
  const calendar = calendars.flatMap((e, i) => e.value ? [{ bookingId: bookingIds[i], ...e.value }] : []);
  const pacing = (await kv.get<RateState>(keys.notifyRate(userId))).value;
  return { messages, calendar, pacing };
}

/** Assignments, held certifications (from completions), stored recommendations and alerts sent. */
async function exportCompliance(
  kv: Deno.Kv,
  user: User,
  now: Date,
  settings: Pick<ComplianceSettings, "timeZone" | "expiringWindowDays">,
): Promise<PersonalDataExport["compliance"]> {
  const completions = user.completedCourses ?? [];
  const [assignments, recommendations, alerts, courses] = await Promise.all([
    listValues<Assignment>(kv, { prefix: keys.assignmentsByLearnerPrefix(user.id) }),
    kv.get<LearnerRecommendations>(keys.recommendations(user.id)).then((e) => e.value),
    listEntries<{ at: string }>(kv, keys.complianceAlertsPrefix(user.id)),
    values<Course>(kv, [...new Set(completions.map((c) => c.courseId))].map(keys.course)),
  ]);
  const months = new Map(courses.map((c) => [c.id, c.certificationValidMonths ?? null]));
  return {
    assignments: assignments.filter((a) => a.learnerId === user.id),
    certifications: certificationsOf(completions, (id) => months.get(id) ?? null, now, settings),
    recommendations,
    alerts: alerts.map((e) => ({ alertId: String(e.key[2]), at: e.value.at })),
  };
}

/** The download's file name. */
export function exportFileName(userId: string, now: Date): string {
  return `personal-data-${userId}-${now.toISOString().slice(0, 10)}.json`;
}
