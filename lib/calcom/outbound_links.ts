/**
 * The two Cal.com objects both outbound runners create or end: a session's seated event type and
 * a booking's seat. Every write carries the worker's fence.
 */
import type { Session } from "../domain/mod.ts";
import { getCourse } from "../store/courses.ts";
import { getLocation } from "../store/locations.ts";
import type { CalcomClient } from "./client.ts";
import { type ApiTenant, apiTenant, iso, type OutboundContext } from "./outbound_context.ts";
import { eventTypeInput } from "./outbound_event_type.ts";
import { isNotFound, OutboundDataError } from "./outbound_retry.ts";
import {
  type EventTypeLink,
  getEventTypeLink,
  type getSeatLink,
  saveEventTypeLink,
  saveSeatLink,
} from "./sync_store.ts";

/** The Cal.com event type input of a session (title, length, seats, locations). */
export async function eventTypeInputFor(ctx: OutboundContext, session: Session) {
  const course = await getCourse(ctx.kv, session.courseId);
  if (!course) throw new OutboundDataError("COURSE_NOT_FOUND", `course ${session.courseId} not found`);
  const location = session.locationId ? await getLocation(ctx.kv, session.locationId) : null;
  return eventTypeInput(session, course, location);
}

/** The session's active event type, created on Cal.com first when it has none. */
export async function ensureEventType(
  ctx: OutboundContext,
  session: Session,
  tenant: ApiTenant,
  client: CalcomClient,
): Promise<EventTypeLink> {
  const link = await getEventTypeLink(ctx.kv, session.id);
  if (link?.status === "active") return link;
  const input = await eventTypeInputFor(ctx, session);
  await ctx.lease.ensure(2 * ctx.sendBoundMs);
  const created = await client.createSeatedEventType(input);
  const saved: EventTypeLink = {
    sessionId: session.id,
    tenant: tenant.slug,
    eventTypeId: created.id,
    slug: created.slug,
    capacity: session.capacity,
    startsAt: session.startsAt,
    status: "active",
    syncedAt: iso(ctx.now()),
  };
  await saveEventTypeLink(ctx.kv, saved, ctx.lease);
  return saved;
}

/** Cancels one seat on Cal.com (a 404 means it is gone already) and records it cancelled. */
export async function cancelSeat(
  ctx: OutboundContext,
  link: NonNullable<Awaited<ReturnType<typeof getSeatLink>>>,
): Promise<void> {
  if (!link.seatUid) {
    throw new OutboundDataError("NO_SEAT_UID", `Cal.com booking ${link.calBookingUid} has no seat uid to cancel`);
  }
  const tenant = await apiTenant(ctx, link.tenant);
  if (!tenant) throw new OutboundDataError("NO_API_ACCESS", `tenant ${link.tenant} has no Cal.com API access`);
  await ctx.lease.ensure(2 * ctx.sendBoundMs);
  try {
    await ctx.clientFor(tenant).cancelSeat(link.calBookingUid, link.seatUid);
  } catch (err) {
    if (!isNotFound(err)) throw err; // a 404: the seat is already gone
  }
  await saveSeatLink(ctx.kv, { ...link, status: "cancelled" }, ctx.lease);
}
