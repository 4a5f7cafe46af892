/**
 * From a domain event to the messages it causes, each with its identity: `event:<event id>:<kind>:
 * <recipient>` for a message about the event, `due:<booking>:<session start>:<minutes before>` for
 * a reminder (a moved session or booking gets new identities, so new reminders). The same event
 * always gives the same identities: ingesting it twice writes nothing new.
 *
 * Reminders follow the rule `reminderHours` (lib/booking/rules.ts: global, a course may override
 * it) in force when a booking's reminders are planned: when the booking is confirmed or moved, or
 * its session moves. Reminders planned before a change keep their times (rules apply to new
 * actions only).
 */
import type { DomainEvent } from "../booking/events.ts";
import { bookingCalendarEvent } from "../calendar/booking_event.ts";
import type { CalendarEvent } from "../calendar/event.ts";
import { getSessionDetail, type SessionDetail } from "../catalog/browse.ts";
import { formatZone } from "../catalog/format.ts";
import type { Booking } from "../domain/booking.ts";
import type { User } from "../domain/user.ts";
import { getBooking, listBookingsBySession } from "../store/bookings.ts";
import { getCourse } from "../store/courses.ts";
import { keys } from "../store/keys.ts";
import { getLocation } from "../store/locations.ts";
import { getUser } from "../store/users.ts";
import { addLocalDays, zonedParts, zonedWallTimeToUtc } from "../domain/zoned_time.ts";
import { effectiveRules, reminderMinutesOf } from "../booking/rules.ts";
import { EXTERNAL_EVENT_KINDS, leadText, type NotificationKind } from "./kinds.ts";
import type { TemplateVars } from "./templates.ts";

/** Calendar state of a booking chain: its UID and the last SEQUENCE sent. */
export interface CalendarState {
  uid: string;
  sequence: number;
}

/** One message to write (rendered and stored by the notifier). */
export interface MessageDraft {
  identity: string;
  kind: NotificationKind;
  userId: string;
  /** When it may be sent (ms). */
  dueAtMs: number;
  vars: TemplateVars;
  calendar?: { method: "REQUEST" | "CANCEL"; event: CalendarEvent; state: CalendarState; bookingId: string };
  /** A manager's notice gathered into their daily digest (sent with the others due at the same time). */
  digest?: boolean;
  /**
   * A reminder is sent only while this booking is still confirmed in this session at this start,
   * and not later than half its lead after `remindAtMs` (a week's reminder 4 days late is wrong).
   */
  guard?: { bookingId: string; sessionId: string; startsAt: string; remindAtMs?: number };
}

/** What producing needs. */
export interface ProduceDeps {
  kv: Deno.Kv;
  /** Public address of the site (links in messages). */
  siteUrl: string;
  /**
   * Minutes before the start reminders go out until an admin saves the rules (`REMINDER_OFFSETS`);
   * after that the rule `reminderHours` decides (a course's override first).
   */
  reminderOffsetsMin: readonly number[];
  /** Session details already read in this batch (many events of one session read it once). */
  sessionCache?: Map<string, Promise<SessionDetail | null>>;
}

function detailOf(deps: ProduceDeps, sessionId: string): Promise<SessionDetail | null> {
  if (!deps.sessionCache) return getSessionDetail(deps.kv, sessionId);
  let found = deps.sessionCache.get(sessionId);
  if (!found) deps.sessionCache.set(sessionId, found = getSessionDetail(deps.kv, sessionId));
  return found;
}

/** A recipient with the zone their times are shown in. */
export interface Recipient {
  user: User;
  timeZone: string;
  /** Team notices as one daily digest. */
  digest: boolean;
}

/** Hour (recipient's local time) the daily digest goes out. */
export const DIGEST_HOUR = 7;

/** The next 07:00 in `timeZone` strictly after `nowMs`. Pure. */
export function nextDigestMs(nowMs: number, timeZone: string): number {
  const today = zonedParts(new Date(nowMs), timeZone);
  for (const days of [0, 1, 2]) {
    const d = addLocalDays(today, days);
    const at = zonedWallTimeToUtc({ ...d, hour: DIGEST_HOUR, minute: 0 }, timeZone).getTime();
    if (at > nowMs) return at;
  }
  return nowMs + 86_400_000;
}

const DATE_TIME: Intl.DateTimeFormatOptions = {
  weekday: "long",
  day: "numeric",
  month: "long",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
};

/** "EDT", "PST"… (as the site shows zones), or where no common abbreviation exists "GMT+1 (Berlin)". */
function zoneLabel(date: Date, timeZone: string): string {
  const short = formatZone(date.toISOString(), timeZone);
  if (!/^(GMT|UTC)/.test(short) || timeZone === "UTC") return short;
  return `${short} (${timeZone.split("/").at(-1)!.replaceAll("_", " ")})`;
}

/** A time in an email, with the date in full, e.g. "Monday, 9 March 2026 at 09:00 EDT". Pure. */
export function formatEmailTime(iso: string, timeZone: string): string {
  const date = new Date(iso);
  return `${new Intl.DateTimeFormat("en-GB", { ...DATE_TIME, timeZone }).format(date)} ${zoneLabel(date, timeZone)}`;
}

async function recipient(kv: Deno.Kv, userId: string | null, fallbackZone: string): Promise<Recipient | null> {
  if (!userId) return null;
  const user = await getUser(kv, userId);
  if (!user || user.erasedAt || user.active === false) return null;
  const prefs = (await kv.get<{ timeZone?: string | null; managerDigest?: boolean }>(keys.notifyPrefs(userId))).value;
  let timeZone = prefs?.timeZone ?? null;
  if (!timeZone && user.preferredLocationId) {
    timeZone = (await getLocation(kv, user.preferredLocationId))?.timeZone ?? null;
  }
  return { user, timeZone: timeZone ?? fallbackZone, digest: prefs?.managerDigest === true };
}

function place(detail: SessionDetail): string {
  const { session, location } = detail;
  if (session.mode === "online") return "Online";
  const where = location ? `${location.name}, ${location.address.line1}, ${location.address.city}` : "to be announced";
  return session.mode === "hybrid" ? `${where} (or online)` : where;
}

/** Placeholders about a session, in the recipient's zone with the session's alongside. */
export function sessionVars(deps: ProduceDeps, detail: SessionDetail, to: Recipient): TemplateVars {
  const { session, course } = detail;
  const zone = session.timeZone;
  return {
    recipientName: to.user.name,
    courseTitle: course.title,
    courseCode: course.code,
    startsAt: formatEmailTime(session.startsAt, to.timeZone),
    endsAt: formatEmailTime(session.endsAt, to.timeZone),
    sessionZoneTime: to.timeZone === zone ? null : formatEmailTime(session.startsAt, zone),
    place: place(detail),
    joinUrl: session.mode !== "in_person" ? session.joinUrl : null,
    courseUrl: `${deps.siteUrl}/?course=${encodeURIComponent(course.code)}`,
  };
}

async function calendarStateOf(kv: Deno.Kv, bookingId: string): Promise<CalendarState | null> {
  return (await kv.get<CalendarState>(keys.notifyCalendar(bookingId))).value;
}

/** Minutes before the start a course's reminders go out now (the rules cache: no store read per event). */
export async function loadReminderSchedule(deps: ProduceDeps, courseId: string): Promise<number[]> {
  const rules = await effectiveRules(deps.kv, courseId, { reminderHours: deps.reminderOffsetsMin.map((m) => m / 60) });
  return reminderMinutesOf(rules);
}

async function reminders(
  deps: ProduceDeps,
  detail: SessionDetail,
  booking: Booking,
  to: Recipient,
): Promise<MessageDraft[]> {
  const startMs = Date.parse(detail.session.startsAt);
  const out: MessageDraft[] = [];
  const base = { ...sessionVars(deps, detail, to), bookingUrl: `${deps.siteUrl}/bookings/${booking.id}` };
  const guard = { bookingId: booking.id, sessionId: detail.session.id, startsAt: detail.session.startsAt };
  for (const minutes of await loadReminderSchedule(deps, detail.session.courseId)) {
    const remindAtMs = startMs - minutes * 60_000;
    out.push({
      identity: `due:${booking.id}:${detail.session.startsAt}:${minutes}`,
      kind: "reminder",
      userId: to.user.id,
      dueAtMs: remindAtMs,
      vars: { ...base, lead: leadText(minutes) },
      guard: { ...guard, remindAtMs },
    });
  }
  if (detail.session.mode !== "in_person" && detail.session.joinUrl) {
    out.push({
      identity: `due:${booking.id}:${detail.session.startsAt}:live`,
      kind: "session_live",
      userId: to.user.id,
      dueAtMs: startMs,
      vars: base,
      guard,
    });
  }
  return out;
}

function managerNotice(
  deps: ProduceDeps,
  event: DomainEvent,
  detail: SessionDetail,
  learner: User,
  manager: Recipient | null,
  change: string,
  dueAtMs: number,
): MessageDraft[] {
  if (!manager) return [];
  const vars = sessionVars(deps, detail, manager);
  return [{
    identity: `event:${event.id}:manager_notice:${manager.user.id}`,
    kind: "manager_notice",
    userId: manager.user.id,
    dueAtMs: manager.digest ? nextDigestMs(dueAtMs, manager.timeZone) : dueAtMs,
    digest: manager.digest,
    vars: {
      ...vars,
      learnerName: learner.name,
      change,
      teamUrl: `${deps.siteUrl}/me/schedule`,
      line: `${learner.name} ${change}: ${vars.courseTitle} (${vars.courseCode}) on ${vars.startsAt}`,
    },
  }];
}

async function instructorNotice(
  deps: ProduceDeps,
  event: DomainEvent,
  detail: SessionDetail,
  learner: User,
  change: string,
  nowMs: number,
): Promise<MessageDraft[]> {
  const startMs = Date.parse(detail.session.startsAt);
  // Only roster changes in the last 48 hours before the session concern the instructor.
  if (nowMs < startMs - 48 * 3_600_000 || nowMs >= startMs) return [];
  const to = await recipient(deps.kv, detail.session.instructorId, detail.session.timeZone);
  if (!to) return [];
  const confirmed = (await deps.kv.get<{ confirmed: number }>(keys.seats(detail.session.id))).value?.confirmed ?? 0;
  const vars = sessionVars(deps, detail, to);
  // Gathered into an hourly digest: the changes of each hour in one email.
  return [{
    identity: `event:${event.id}:instructor_roster:${to.user.id}`,
    kind: "instructor_roster",
    userId: to.user.id,
    dueAtMs: Math.ceil((nowMs + 1) / 3_600_000) * 3_600_000,
    digest: true,
    vars: {
      ...vars,
      learnerName: learner.name,
      change,
      confirmedCount: String(confirmed),
      teamUrl: `${deps.siteUrl}/sessions/${detail.session.id}`,
      line: `${vars.courseTitle} on ${vars.startsAt}: ${learner.name} ${change} (now ${confirmed} booked)`,
    },
  }];
}

/** The messages an event causes (none for most events). Reads the store; writes nothing. */
export async function draftsForEvent(deps: ProduceDeps, event: DomainEvent): Promise<MessageDraft[]> {
  const nowMs = Date.parse(event.occurredAt);
  const type = event.type as string;
  if (type in EXTERNAL_EVENT_KINDS) return await externalDrafts(deps, event, nowMs);
  if (event.type === "session.updated") return await movedSessionDrafts(deps, event, nowMs);
  if (!event.learnerId) return [];
  const detail = await detailOf(deps, event.sessionId);
  if (!detail) return [];
  const to = await recipient(deps.kv, event.learnerId, detail.session.timeZone);
  if (!to) return [];
  const manager = to.user.managerId ? await recipient(deps.kv, to.user.managerId, detail.session.timeZone) : null;
  const id = (kind: NotificationKind, userId = to.user.id) => `event:${event.id}:${kind}:${userId}`;
  const bookingId = typeof event.data.bookingId === "string" ? event.data.bookingId : null;

  switch (event.type) {
    case "booking.confirmed":
    case "booking.rescheduled": {
      const booking = bookingId ? await getBooking(deps.kv, bookingId) : null;
      if (!booking) return [];
      const moved = event.type === "booking.rescheduled";
      const prior = moved ? await calendarStateOf(deps.kv, String(event.data.fromBookingId)) : null;
      const state = prior ? { uid: prior.uid, sequence: prior.sequence + 1 } : {
        uid: `booking-${booking.rescheduledFromBookingId ?? booking.id}@training-booking`,
        sequence: moved ? 1 : 0,
      };
      const kind = moved ? "booking_rescheduled" : "booking_confirmed";
      const out: MessageDraft[] = [{
        identity: id(kind),
        kind,
        userId: to.user.id,
        dueAtMs: nowMs,
        vars: { ...sessionVars(deps, detail, to), bookingUrl: `${deps.siteUrl}/bookings/${booking.id}` },
        calendar: {
          method: "REQUEST",
          event: { ...bookingCalendarEvent(booking.id, detail, deps.siteUrl, detail.session.joinUrl), uid: state.uid },
          state,
          bookingId: booking.id,
        },
      }];
      out.push(...(await reminders(deps, detail, booking, to)).filter((r) => r.dueAtMs > nowMs));
      if (!moved) out.push(...managerNotice(deps, event, detail, to.user, manager, "booked a place", nowMs));
      out.push(...await instructorNotice(deps, event, detail, to.user, moved ? "moved in" : "booked", nowMs));
      return out;
    }
    case "booking.cancelled": {
      if (!bookingId) return [];
      const prior = await calendarStateOf(deps.kv, bookingId);
      const state = {
        uid: prior?.uid ?? `booking-${bookingId}@training-booking`,
        sequence: (prior?.sequence ?? 0) + 1,
      };
      const bySession = event.data.bySessionCancel === true;
      const byLearner = event.actor.userId === event.learnerId;
      const reason = bySession
        ? "This session has been cancelled, so your booking is cancelled too. We are sorry for the change of plan."
        : byLearner
        ? "You cancelled your booking."
        : "Your booking was cancelled by an administrator.";
      const late = event.data.late === true;
      const out: MessageDraft[] = [{
        identity: id("booking_cancelled"),
        kind: "booking_cancelled",
        userId: to.user.id,
        dueAtMs: nowMs,
        vars: { ...sessionVars(deps, detail, to), cancelReason: reason },
        calendar: {
          method: "CANCEL",
          event: { ...bookingCalendarEvent(bookingId, detail, deps.siteUrl), uid: state.uid },
          state,
          bookingId,
        },
      }];
      const change = bySession ? "lost a place (session cancelled)" : late ? "cancelled late" : "cancelled";
      out.push(...managerNotice(deps, event, detail, to.user, manager, change, nowMs));
      if (!bySession) out.push(...await instructorNotice(deps, event, detail, to.user, "cancelled", nowMs));
      return out;
    }
    case "waitlist.offered": {
      const holdId = String(event.data.holdId ?? "");
      const expiresAt = String(event.data.expiresAt ?? event.occurredAt);
      return [{
        identity: id("waitlist_offer"),
        kind: "waitlist_offer",
        userId: to.user.id,
        dueAtMs: nowMs,
        vars: {
          ...sessionVars(deps, detail, to),
          offerExpires: formatEmailTime(expiresAt, to.timeZone),
          offerUrl: `${deps.siteUrl}/holds/${holdId}`,
        },
      }];
    }
    case "attendance.recorded": {
      if (event.data.status !== "no_show" || event.data.previousStatus === "no_show") return [];
      return managerNotice(deps, event, detail, to.user, manager, "was a no-show", nowMs);
    }
    default:
      return [];
  }
}

/**
 * A session whose time (or place) changed: each booked learner gets the updated invitation (same
 * UID, next SEQUENCE) and the new time's reminders; the old ones no longer match and are skipped.
 */
async function movedSessionDrafts(deps: ProduceDeps, event: DomainEvent, nowMs: number): Promise<MessageDraft[]> {
  const changes = (event.data.changes ?? {}) as Record<string, unknown>;
  if (!["startsAt", "endsAt", "locationId", "joinUrl", "mode"].some((f) => f in changes)) return [];
  const detail = await detailOf(deps, event.sessionId);
  if (!detail || detail.session.status === "cancelled") return [];
  const out: MessageDraft[] = [];
  for (const booking of await listBookingsBySession(deps.kv, event.sessionId, { status: "confirmed" })) {
    const to = await recipient(deps.kv, booking.learnerId, detail.session.timeZone);
    if (!to) continue;
    const prior = await calendarStateOf(deps.kv, booking.id);
    const state = { uid: prior?.uid ?? `booking-${booking.id}@training-booking`, sequence: (prior?.sequence ?? 0) + 1 };
    out.push({
      identity: `event:${event.id}:booking_rescheduled:${to.user.id}`,
      kind: "booking_rescheduled",
      userId: to.user.id,
      dueAtMs: nowMs,
      vars: { ...sessionVars(deps, detail, to), bookingUrl: `${deps.siteUrl}/bookings/${booking.id}` },
      calendar: {
        method: "REQUEST",
        event: { ...bookingCalendarEvent(booking.id, detail, deps.siteUrl, detail.session.joinUrl), uid: state.uid },
        state,
        bookingId: booking.id,
      },
    });
    if ("startsAt" in changes) {
      out.push(...(await reminders(deps, detail, booking, to)).filter((r) => r.dueAtMs > nowMs));
    }
  }
  return out;
}

/** Messages from events of other parts of the product (see {@link EXTERNAL_EVENT_KINDS}). */
async function externalDrafts(deps: ProduceDeps, event: DomainEvent, nowMs: number): Promise<MessageDraft[]> {
  const kind = EXTERNAL_EVENT_KINDS[event.type as keyof typeof EXTERNAL_EVENT_KINDS];
  if (kind === "recording_available") {
    const detail = await detailOf(deps, event.sessionId);
    const url = typeof event.data.recordingUrl === "string" ? event.data.recordingUrl : null;
    if (!detail || !url) return [];
    const out: MessageDraft[] = [];
    for (const b of await listBookingsBySession(deps.kv, event.sessionId, { status: "confirmed" })) {
      const to = await recipient(deps.kv, b.learnerId, detail.session.timeZone);
      if (!to) continue;
      out.push({
        identity: `event:${event.id}:${kind}:${to.user.id}`,
        kind,
        userId: to.user.id,
        dueAtMs: nowMs,
        // Our player page, not the file itself: watching 90 % there completes the course.
        vars: {
          ...sessionVars(deps, detail, to),
          recordingUrl: `${deps.siteUrl}/sessions/${detail.session.id}/recording`,
        },
      });
    }
    return out;
  }
  const courseId = typeof event.data.courseId === "string" ? event.data.courseId : null;
  const course = courseId ? await getCourse(deps.kv, courseId) : null;
  const to = await recipient(deps.kv, event.learnerId, "UTC");
  if (!course || !to) return [];
  const date = typeof event.data.dueAt === "string"
    ? event.data.dueAt
    : typeof event.data.expiresAt === "string"
    ? event.data.expiresAt
    : null;
  const texts: Record<string, [string, string]> = {
    compliance_assignment: ["New training assigned", "This training has been assigned to you. Please book a session."],
    compliance_due_soon: [
      "Training due soon",
      "This required training is due soon and you have no session booked. Please book one.",
    ],
    compliance_overdue: ["Training overdue", "This assigned training is overdue. Please book a session now."],
    certification_expiring: ["Certification expiring", "Your certification for this course expires soon."],
  };
  const [title, text] = texts[kind];
  const escalated = event.type === ("assignment.escalated" as string);
  const out: MessageDraft[] = escalated ? [] : [{
    identity: `event:${event.id}:${kind}:${to.user.id}`,
    kind,
    userId: to.user.id,
    dueAtMs: nowMs,
    vars: {
      recipientName: to.user.name,
      courseTitle: course.title,
      courseCode: course.code,
      courseUrl: `${deps.siteUrl}/?course=${encodeURIComponent(course.code)}`,
      complianceTitle: title,
      complianceText: text,
      dueDate: date ? formatEmailTime(date, to.timeZone) : null,
    },
  }];
  // Overdue training also goes to the people the compliance work names: the manager, and after the
  // grace the manager's manager or the dealer admins (escalation).
  const others = Array.isArray(event.data.notify) ? event.data.notify.filter((id) => typeof id === "string") : [];
  if (kind === "compliance_overdue") {
    for (const id of others as string[]) {
      const boss = await recipient(deps.kv, id, "UTC");
      if (!boss) continue;
      out.push({
        identity: `event:${event.id}:${kind}:${boss.user.id}`,
        kind,
        userId: boss.user.id,
        dueAtMs: nowMs,
        vars: {
          recipientName: boss.user.name,
          courseTitle: course.title,
          courseCode: course.code,
          courseUrl: `${deps.siteUrl}/team`,
          complianceTitle: escalated ? "Overdue training escalated to you" : "Training overdue in your team",
          complianceText: escalated
            ? `${to.user.name}'s assigned training is still overdue past the grace period. Please see that a session is booked.`
            : `${to.user.name}'s assigned training is overdue. Please help them book a session.`,
          dueDate: date ? formatEmailTime(date, boss.timeZone) : null,
        },
      });
    }
  }
  return out;
}
