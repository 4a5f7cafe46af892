/** Loading a booking for its owner (booking page and its calendar file). */
import type { PageState } from "../lib/auth/page_user.ts";
import { getSessionDetail, type SessionDetail } from "../lib/catalog/browse.ts";
import type { Booking } from "../lib/domain/booking.ts";
import type { FreshContext } from "../lib/fresh/mod.ts";
import { services } from "../lib/services.ts";
import { getBooking } from "../lib/store/bookings.ts";
import { signInHref } from "./Journey.tsx";

/**
 * The booking and its session when the signed-in user owns it (or, with `admins`, is an admin);
 * otherwise the response to send.
 */
export async function ownBooking(
  // deno-lint-ignore no-explicit-any
  ctx: FreshContext<PageState, any>,
  options: { admins?: boolean } = {},
): Promise<{ booking: Booking; detail: SessionDetail } | Response> {
  const user = ctx.state.user;
  if (!user) {
    return ctx.state.devLogin || ctx.state.sso
      ? new Response(null, { status: 303, headers: { location: signInHref(ctx.url.pathname) } })
      : ctx.renderNotFound();
  }
  const booking = await getBooking(services().kv, ctx.params.id);
  // Someone else's booking is as good as missing.
  const reach = booking?.learnerId === user.id || (options.admins === true && user.roles.includes("admin"));
  if (!booking || !reach) return ctx.renderNotFound();
  const detail = await getSessionDetail(services().kv, booking.sessionId);
  if (!detail) return ctx.renderNotFound();
  return { booking, detail };
}
