import { type Access } from "../../lib/access/matrix.ts";
import { AuditList, peopleIdsOf } from "../../components/admin/AdminUi.tsx";
import { type AuditEntry, bookingHistory } from "../../lib/admin/audit.ts";
import { getUser, getUsers } from "../../lib/store/users.ts";
import { ownBooking } from "../../components/bookings.ts";
import { SessionSummary } from "../../components/SessionSummary.tsx";
import type { PageState } from "../../lib/auth/page_user.ts";
import { joinLinkFor } from "../../lib/booking/join_link.ts";
import { services } from "../../lib/services.ts";
import { sessionsWithRecording } from "../../lib/attendance/recording.ts";
import { bookingCalendarEvent } from "../../lib/calendar/booking_event.ts";
import { googleCalendarUrl, outlookCalendarUrl } from "../../lib/calendar/links.ts";
import type { SessionDetail } from "../../lib/catalog/browse.ts";
import type { Booking } from "../../lib/domain/booking.ts";
import { type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: Access = "user";

interface Data {
  booking: Booking;
  detail: SessionDetail;
  joinUrl: string | null;
  google: string;
  outlook: string;
  /** The recording's player page, once the session has one. */
  recordingHref: string | null;
  /** Admins viewing the booking: its full history, the names it mentions and the learner's name. */
  staff: { history: AuditEntry[]; names: Record<string, string>; learnerName: string } | null;
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const found = await ownBooking(ctx, { admins: true });
    if (found instanceof Response) return found;
    const user = ctx.state.user!;
    let staff: Data["staff"] = null;
    if (found.booking.learnerId !== user.id) {
      const { kv } = services();
      const history = await bookingHistory(kv, found.booking);
      const users = await getUsers(kv, peopleIdsOf(history));
      const learner = users.get(found.booking.learnerId) ?? await getUser(kv, found.booking.learnerId);
      staff = {
        history,
        names: Object.fromEntries([...users.values()].map((u) => [u.id, u.name])),
        learnerName: learner?.name ?? found.booking.learnerId,
      };
    }
    const joinUrl = await joinLinkFor(services().kv, { userId: user.id, roles: user.roles }, found.detail.session);
    const event = bookingCalendarEvent(found.booking.id, found.detail, ctx.url.origin, joinUrl);
    return ctx.render({
      ...found,
      detail: { ...found.detail, session: { ...found.detail.session, joinUrl: null } },
      joinUrl,
      google: googleCalendarUrl(event),
      outlook: outlookCalendarUrl(event),
      recordingHref: found.booking.status === "confirmed" &&
          (await sessionsWithRecording(services().kv, [found.booking.sessionId])).size
        ? `/sessions/${found.booking.sessionId}/recording`
        : null,
      staff,
    });
  },
};

const link = "block rounded-lg border border-gray-600 px-4 py-3 text-center font-semibold text-blue-900";

/** Booking confirmation: what, when, where, what happens next, add to calendar. */
export default function BookingPage({ data }: PageProps<Data, PageState>) {
  const { booking, detail } = data;
  const confirmed = booking.status === "confirmed";
  const online = detail.session.mode !== "in_person";
  if (data.staff) return <StaffView data={data} staff={data.staff} />;
  return (
    <>
      <Head>
        <title>{confirmed ? "You're booked" : "Booking cancelled"} · {detail.course.title}</title>
      </Head>
      <h1 class="mb-3 text-2xl font-bold leading-tight">
        {confirmed ? "You're booked" : "This booking was cancelled"}
      </h1>
      <div class="space-y-4">
        <SessionSummary detail={detail} joinUrl={confirmed ? data.joinUrl : null} />
        {data.recordingHref && (
          <p class="text-base">
            <a href={data.recordingHref} class="font-semibold text-blue-800 underline">Watch the recording</a>
          </p>
        )}
        {confirmed && (
          <>
            <section aria-labelledby="next" class="rounded-xl border border-gray-200 p-4">
              <h2 id="next" class="text-base font-semibold">What happens next</h2>
              <p class="text-base">
                Your seat is confirmed. Add the session to your calendar below so your phone reminds you; a cancellation
                shortly before the start counts as late.
                {online ? " Join a few minutes early to test your audio." : " Bring a photo ID to sign in on the day."}
              </p>
            </section>
            <section aria-labelledby="calendar" class="space-y-2 rounded-xl border border-gray-200 p-4">
              <h2 id="calendar" class="text-base font-semibold">Add to your calendar</h2>
              <a href={`/bookings/${booking.id}/calendar.ics`} download class={link} data-testid="ics">
                Download calendar file (.ics)
              </a>
              <a href={data.google} class={link} rel="noopener" target="_blank">Google Calendar</a>
              <a href={data.outlook} class={link} rel="noopener" target="_blank">Outlook</a>
            </section>
          </>
        )}
        <p class="text-sm">
          <a href="/" class="font-semibold text-blue-800 underline">← All sessions</a>
        </p>
      </div>
    </>
  );
}

/** An admin looking at someone's booking: its state and its full history. */
function StaffView({ data, staff }: { data: Data; staff: NonNullable<Data["staff"]> }) {
  const { booking, detail } = data;
  return (
    <>
      <Head>
        <title>Booking of {staff.learnerName} · {detail.course.title}</title>
      </Head>
      <p class="text-sm">
        <a href="/admin/audit" class="font-semibold text-blue-800 underline">← Audit trail</a>
      </p>
      <h1 class="mb-3 text-2xl font-bold leading-tight">Booking of {staff.learnerName}</h1>
      <div class="space-y-4">
        <p class="text-base" data-testid="booking-status">
          Status: <strong>{booking.status}</strong>
          {booking.lateCancel ? " (late cancellation)" : ""}. Booking id <code class="break-all">{booking.id}</code>.
        </p>
        <SessionSummary detail={detail} joinUrl={booking.status === "confirmed" ? data.joinUrl : null} />
        <p class="text-base">
          <a href={`/admin/audit?learner=${booking.learnerId}`} class="font-semibold text-blue-800 underline">
            Everything that happened to {staff.learnerName}
          </a>
        </p>
        <section aria-labelledby="history" class="space-y-3">
          <h2 id="history" class="text-xl font-bold">History, oldest first</h2>
          <AuditList entries={staff.history} names={staff.names} />
        </section>
      </div>
    </>
  );
}
