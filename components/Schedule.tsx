/** Server-side pieces of "My schedule": loading the learner's places with their sessions, and the rows. */
import { placeText } from "./SessionCard.tsx";
import { getAvailability } from "../lib/booking/availability.ts";
import type { SessionRow } from "../lib/catalog/browse.ts";
import { formatSessionWhen } from "../lib/catalog/format.ts";
import type { Booking, Hold, Session, WaitlistEntry } from "../lib/domain/mod.ts";
import { services } from "../lib/services.ts";
import { sessionsWithRecording } from "../lib/attendance/recording.ts";
import { getSession, listCourses, listLocations, listSessions } from "../lib/store/mod.ts";

/** A booking with its session. */
export interface BookingRow {
  booking: Booking;
  row: SessionRow;
}

/** Everything the schedule lists for one learner. */
export interface SchedulePlaces {
  upcoming: BookingRow[];
  past: BookingRow[];
  cancelled: BookingRow[];
  holds: { hold: Hold; row: SessionRow }[];
  waitlist: { entry: WaitlistEntry; position: number; row: SessionRow }[];
  /** Sessions of past bookings that have a recording to watch. */
  recordings: Set<string>;
}

/** Session rows (course, location, seats) for the given session ids; unknown ids are left out. */
export async function sessionRows(ids: string[], now: Date): Promise<Map<string, SessionRow>> {
  const kv = services().kv;
  const unique = [...new Set(ids)];
  const [courses, locations, sessions] = await Promise.all([
    listCourses(kv, { includeInactive: true }),
    listLocations(kv, { includeInactive: true }),
    Promise.all(unique.map((id) => getSession(kv, id))),
  ]);
  const found = sessions.filter((s): s is Session => !!s);
  const availability = await getAvailability(kv, found, now);
  const out = new Map<string, SessionRow>();
  for (const session of found) {
    const course = courses.find((c) => c.id === session.courseId);
    if (!course) continue;
    const location = locations.find((l) => l.id === session.locationId) ?? null;
    out.set(session.id, { session, course, location, availability: availability.get(session.id)! });
  }
  return out;
}

/** Sessions where the learner has a live place: an upcoming booking, a live hold or offer, a waitlist place. */
export function sessionsWithPlace(places: SchedulePlaces): Set<string> {
  return new Set([
    ...places.upcoming.map((b) => b.booking.sessionId),
    ...places.holds.map((h) => h.hold.sessionId),
    ...places.waitlist.map((w) => w.entry.sessionId),
  ]);
}

/** The learner's bookings (upcoming, past, cancelled), live holds and waitlist places. */
export async function loadSchedule(learnerId: string, now: Date): Promise<SchedulePlaces> {
  const places = await services().engine.listLearnerPlaces(learnerId);
  const rows = await sessionRows([
    ...places.bookings.map((b) => b.sessionId),
    ...places.holds.map((h) => h.sessionId),
    ...places.waitlist.map((w) => w.entry.sessionId),
  ], now);
  const withRow = <T extends { sessionId: string }>(x: T) => rows.get(x.sessionId);
  const bookings = places.bookings.flatMap((booking) => {
    const row = withRow(booking);
    return row ? [{ booking, row }] : [];
  });
  const start = (b: BookingRow) => Date.parse(b.row.session.startsAt);
  const ended = (b: BookingRow) => Date.parse(b.row.session.endsAt) <= now.getTime();
  const confirmed = bookings.filter((b) => b.booking.status === "confirmed");
  const past = confirmed.filter(ended).sort((a, b) => start(b) - start(a));
  return {
    upcoming: confirmed.filter((b) => !ended(b)).sort((a, b) => start(a) - start(b)),
    past,
    recordings: await sessionsWithRecording(services().kv, past.map((b) => b.booking.sessionId)),
    cancelled: bookings.filter((b) => b.booking.status === "cancelled"),
    holds: places.holds.flatMap((hold) => {
      const row = withRow(hold);
      return row ? [{ hold, row }] : [];
    }),
    waitlist: places.waitlist.flatMap((w) => {
      const row = withRow(w.entry);
      return row ? [{ ...w, row }] : [];
    }),
  };
}

/**
 * Other upcoming sessions of the same course with seats left (targets for a reschedule), soonest first; never one
 * where the learner already has a place (`taken`: the engine would refuse the move).
 */
export async function rescheduleTargets(
  row: SessionRow,
  now: Date,
  taken: ReadonlySet<string> = new Set(),
  max = 8,
): Promise<SessionRow[]> {
  const { sessions } = await listSessions(services().kv, {
    courseId: row.course.id,
    from: now.toISOString(),
    limit: 50,
  });
  const others = sessions.filter((s) => s.id !== row.session.id && s.status === "scheduled" && !taken.has(s.id));
  const rows = await sessionRows(others.map((s) => s.id), now);
  return others.flatMap((s) => {
    const r = rows.get(s.id);
    return r && r.availability.seatsLeft > 0 && Date.parse(s.startsAt) > now.getTime() ? [r] : [];
  }).slice(0, max);
}

/** True when cancelling now would be inside the course's late-cancellation cut-off. */
export function isLateCancel(row: SessionRow, now: Date): boolean {
  const cutoff = row.course.lateCancelCutoffHours ?? 24;
  return now.getTime() > Date.parse(row.session.startsAt) - cutoff * 3_600_000;
}

/** "When" in the session's own zone. */
export function whenText(row: SessionRow): string {
  const { session } = row;
  return formatSessionWhen(session.startsAt, session.endsAt, session.timeZone);
}

/** Course title (linked), when and where of one place on the schedule. */
export function PlaceSummary({ row, keep }: { row: SessionRow; keep?: boolean }) {
  const { session, course } = row;
  return (
    <>
      <p class="font-semibold">
        <a href={`/sessions/${session.id}`} class="text-blue-800 underline" data-offline-keep={keep ? "" : undefined}>
          {course.title}
        </a>
      </p>
      <p class="text-sm">
        <time dateTime={session.startsAt}>{whenText(row)}</time>
      </p>
      <p class="text-sm">{placeText(row)}</p>
    </>
  );
}
