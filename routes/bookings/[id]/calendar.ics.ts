import { type AccessRule, SELF } from "../../../lib/access/matrix.ts";
import { ownBooking } from "../../../components/bookings.ts";
import type { PageState } from "../../../lib/auth/page_user.ts";
import { bookingCalendarEvent } from "../../../lib/calendar/booking_event.ts";
import { eventToIcs } from "../../../lib/calendar/ics.ts";
import type { Handlers } from "../../../lib/fresh/mod.ts";
import { joinLinkFor } from "../../../lib/booking/join_link.ts";
import { services } from "../../../lib/services.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = SELF;

/** The booking as an iCalendar file (owner only). */
export const handler: Handlers<unknown, PageState> = {
  async GET(_req, ctx) {
    const found = await ownBooking(ctx);
    if (found instanceof Response) return found;
    if (found.booking.status !== "confirmed") return ctx.renderNotFound();
    const user = ctx.state.user!;
    const joinUrl = await joinLinkFor(services().kv, { userId: user.id, roles: user.roles }, found.detail.session);
    const ics = eventToIcs(bookingCalendarEvent(found.booking.id, found.detail, ctx.url.origin, joinUrl));
    const name = found.detail.course.code.replace(/[^\w-]/g, "") || "session";
    return new Response(ics, {
      headers: {
        "content-type": "text/calendar; charset=utf-8",
        "content-disposition": `attachment; filename="training-${name}.ics"`,
        "cache-control": "private, no-store",
      },
    });
  },
};
