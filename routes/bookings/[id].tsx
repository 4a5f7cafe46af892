import { type AccessRule, SELF } from "../../lib/access/matrix.ts";
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
export const access: AccessRule = SELF;

interface Data {
  booking: Booking;
  detail: SessionDetail;
  joinUrl: string | null;
  google: string;
  outlook: string;
  /** The recording's player page, once the session has one. */
  recordingHref: string | null;
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const found = await ownBooking(ctx);
    if (found instanceof Response) return found;
    const user = ctx.state.user!;
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
    });
  },
};

const link = "block rounded-lg border border-gray-600 px-4 py-3 text-center font-semibold text-blue-900";

/** Booking confirmation: what, when, where, what happens next, add to calendar. */
export default function BookingPage({ data }: PageProps<Data, PageState>) {
  const { booking, detail } = data;
  const confirmed = booking.status === "confirmed";
  const online = detail.session.mode !== "in_person";
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
