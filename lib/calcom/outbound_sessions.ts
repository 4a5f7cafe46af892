/**
 * The outbound session jobs: bring a session's Cal.com event type to our current state (create,
 * PATCH, move its seats when the start moved, or cancel its seats and delete it). Every write
 * carries the worker's fence; retries and flags work as for bookings (lib/calcom/outbound_bookings.ts).
 */
import { listBookingsBySession } from "../store/bookings.ts";
import { getSession } from "../store/sessions.ts";
import type { Session } from "../domain/mod.ts";
import { LeaseLostError } from "../worker/lease.ts";
import type { CalcomClient } from "./client.ts";
import { apiTenant, iso, type OutboundContext, tenantSecrets } from "./outbound_context.ts";
import { cancelSeat, ensureEventType, eventTypeInputFor } from "./outbound_links.ts";
import { classifyFailure, decideRetry, isNotFound, OutboundDataError } from "./outbound_retry.ts";
import {
  deleteSessionJob,
  getSessionJob,
  putSessionJob,
  sessionReviewId,
  type SessionSyncJob,
} from "./outbound_store.ts";
import {
  flagForReview,
  getEventTypeLink,
  getReviewItem,
  getSeatLink,
  resolveReviewItem,
  saveEventTypeLink,
  saveSeatLink,
} from "./sync_store.ts";

function sameJobRound(a: SessionSyncJob, b: SessionSyncJob): boolean {
  return a.status === "pending" && a.changedAt === b.changedAt && a.attempts === b.attempts &&
    a.nextAttemptAt === b.nextAttemptAt;
}

/** Runs one due session job. */
export async function runSessionJob(ctx: OutboundContext, job: SessionSyncJob): Promise<void> {
  try {
    await applySession(ctx, job);
    // Resolved before the job goes, so whoever sees the job gone sees the item resolved.
    const item = await getReviewItem(ctx.kv, sessionReviewId(job.sessionId));
    if (item?.status === "open") await resolveReviewItem(ctx.kv, item.id, "synced on retry", null, ctx.now());
    const current = await getSessionJob(ctx.kv, job.sessionId);
    if (current && sameJobRound(current, job)) await deleteSessionJob(ctx.kv, job.sessionId, ctx.lease);
    ctx.status.synced++;
  } catch (err) {
    if (err instanceof LeaseLostError) throw err;
    await sessionJobFailed(ctx, job, err);
  }
}

/**
 * Brings a session's Cal.com event type to our current state: scheduled and not mirrored yet →
 * create it; mirrored → PATCH title, length, seats (capacity) and locations, and when the start
 * moved, reschedule every active seat to the new start (keeping each seat uid; Cal.com may put
 * them under a new booking uid, which is stored); cancelled → cancel its seats, then delete it.
 */
async function applySession(ctx: OutboundContext, job: SessionSyncJob): Promise<void> {
  const session = await getSession(ctx.kv, job.sessionId);
  if (!session) throw new OutboundDataError("SESSION_NOT_FOUND", `session ${job.sessionId} not found`);
  const link = await getEventTypeLink(ctx.kv, session.id);
  const tenant = await apiTenant(ctx, link?.tenant ?? job.tenant);
  if (!tenant) throw new OutboundDataError("NO_API_ACCESS", `tenant ${job.tenant} has no Cal.com API access`);
  const client = ctx.clientFor(tenant);
  if (session.status === "cancelled") {
    for (const booking of await listBookingsBySession(ctx.kv, session.id)) {
      const seat = await getSeatLink(ctx.kv, booking.id);
      if (seat?.status === "active") await cancelSeat(ctx, seat);
    }
    if (link?.status === "active") {
      try {
        await ctx.lease.ensure(2 * ctx.sendBoundMs);
        await client.deleteEventType(link.eventTypeId);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      await saveEventTypeLink(ctx.kv, { ...link, status: "deleted", syncedAt: iso(ctx.now()) }, ctx.lease);
    }
    return;
  }
  if (!link || link.status !== "active") {
    await ensureEventType(ctx, session, tenant, client);
    return;
  }
  const input = await eventTypeInputFor(ctx, session);
  await ctx.lease.ensure(2 * ctx.sendBoundMs);
  await client.updateEventType(link.eventTypeId, {
    title: input.title,
    lengthInMinutes: input.lengthInMinutes,
    seats: input.seats,
    locations: input.locations,
  });
  if (Date.parse(link.startsAt) !== Date.parse(session.startsAt)) await moveSeats(ctx, session, client, job);
  await saveEventTypeLink(ctx.kv, {
    ...link,
    capacity: session.capacity,
    startsAt: session.startsAt,
    syncedAt: iso(ctx.now()),
  }, ctx.lease);
}

async function moveSeats(
  ctx: OutboundContext,
  session: Session,
  client: CalcomClient,
  job: SessionSyncJob,
): Promise<void> {
  for (const booking of await listBookingsBySession(ctx.kv, session.id, { status: "confirmed" })) {
    const seat = await getSeatLink(ctx.kv, booking.id);
    if (!seat || seat.status !== "active" || !seat.seatUid) continue;
    if (job.movedToStart === session.startsAt && job.movedToUid === seat.calBookingUid) continue;
    await ctx.lease.ensure(2 * ctx.sendBoundMs);
    const moved = await client.rescheduleSeat(seat.calBookingUid, seat.seatUid, session.startsAt);
    await saveSeatLink(ctx.kv, { ...seat, calBookingUid: moved.bookingUid, seatUid: moved.seatUid }, ctx.lease);
    job.movedToUid = moved.bookingUid;
    job.movedToStart = session.startsAt;
    const current = await getSessionJob(ctx.kv, job.sessionId);
    if (current) {
      await putSessionJob(
        ctx.kv,
        { ...current, movedToUid: job.movedToUid, movedToStart: job.movedToStart },
        ctx.lease,
      );
    }
  }
}

async function sessionJobFailed(ctx: OutboundContext, job: SessionSyncJob, err: unknown): Promise<void> {
  const failure = classifyFailure(err, await tenantSecrets(ctx));
  const attempts = job.attempts + 1;
  const decision = decideRetry(attempts, failure, ctx.delays);
  const nowMs = ctx.now();
  ctx.status.failures++;
  const current = await getSessionJob(ctx.kv, job.sessionId);
  const wrote = !!current && sameJobRound(current, job);
  const what = `calcom outbound: session ${job.sessionId} attempt ${attempts} failed (${failure.code})`;
  if (wrote) {
    const common: SessionSyncJob = {
      ...current!,
      attempts,
      lastAttemptAt: iso(nowMs),
      errorCode: failure.code,
      errorMessage: failure.message,
    };
    await putSessionJob(
      ctx.kv,
      decision.retry ? { ...common, nextAttemptAt: iso(nowMs + decision.delayMs) } : {
        ...common,
        status: "failed",
        nextAttemptAt: null,
        requiresManualReview: true,
        flaggedAt: iso(nowMs),
      },
      ctx.lease,
    );
  }
  if (decision.retry) {
    ctx.log("warn", `${what}; retrying in ${decision.delayMs} ms: ${failure.message}`);
    return;
  }
  const why = decision.reason === "exhausted" ? `retries exhausted after ${attempts} attempts` : "not retryable";
  ctx.log("error", `${what}; ${why}, flagged for manual review: ${failure.message}`);
  if (!wrote) return;
  ctx.status.flagged++;
  await flagForReview(ctx.kv, {
    id: sessionReviewId(job.sessionId),
    kind: "sync_failed",
    tenant: job.tenant,
    bookingId: null,
    sessionId: job.sessionId,
    calBookingUid: null,
    email: null,
    code: failure.code,
    message: `${failure.message} (${why})`,
    flaggedAt: iso(nowMs),
  }, ctx.lease);
}
