/**
 * The outbound booking runner: takes a due booking and brings Cal.com to OUR CURRENT state of it
 * (desired state, not a replay of changes), so a repeat, a retry after a lost answer or an old
 * event marked again sends nothing twice. Retries follow {@link decideRetry} (1 s, 5 s, 30 s; 429
 * honours Retry-After; other 4xx are final); a final failure sets `failed`, flags the booking and
 * opens a review item; a later success resolves it ("synced on retry").
 *
 * Never twice, even across workers: before a seat is POSTed the state records `sendingUntil` (the
 * send's deadline: the client's time limit plus a margin plus the tolerated clock skew between
 * workers) under the worker's fenced lease, which is first extended past the send. A worker that takes over meanwhile leaves the booking until
 * `sendingUntil`, then looks for the seat on Cal.com before posting; the old worker's late writes
 * fail on the fence.
 */
import { getBooking } from "../store/bookings.ts";
import { getSession } from "../store/sessions.ts";
import { getUser } from "../store/users.ts";
import { LeaseLostError } from "../worker/lease.ts";
import type { CalcomClient, SeatBooking } from "./client.ts";
import {
  apiTenant,
  iso,
  NOTE_ERASED,
  NOTE_NO_TENANT,
  NOTE_NOTHING_ON_CALCOM,
  type OutboundContext,
  tenantSecrets,
} from "./outbound_context.ts";
import { keys } from "../store/keys.ts";
import { cancelSeat, ensureEventType } from "./outbound_links.ts";
import { classifyFailure, decideRetry, OutboundDataError } from "./outbound_retry.ts";
import {
  getReviewItem,
  getSeatLink,
  getSyncState,
  openReviewItem,
  resolvedReviewItem,
  saveSeatLink,
  syncReviewId,
  type SyncState,
  updateSyncState,
} from "./sync_store.ts";

interface Outcome {
  status: "synced" | "skipped";
  note: string;
}

function sameRound(a: SyncState, b: SyncState): boolean {
  return a.status === "pending" && a.changedAt === b.changedAt && a.attempts === b.attempts &&
    a.nextAttemptAt === b.nextAttemptAt;
}

/** Runs one due booking (nothing when it is no longer pending). */
export async function runBooking(ctx: OutboundContext, bookingId: string): Promise<void> {
  const state = await getSyncState(ctx.kv, bookingId);
  if (!state || state.status !== "pending") return;
  if (state.sendingUntil && Date.parse(state.sendingUntil) > ctx.now()) {
    // Another worker's send may still be in flight: come back once it must have ended.
    const until = state.sendingUntil;
    await updateSyncState(
      ctx.kv,
      bookingId,
      (s) => s && sameRound(s, state) ? { ...s, nextAttemptAt: until } : null,
      ctx.lease,
    );
    return;
  }
  try {
    const outcome = await applyBooking(ctx, state);
    await bookingDone(ctx, state, outcome);
  } catch (err) {
    if (err instanceof LeaseLostError) throw err;
    await bookingFailed(ctx, state, err);
  }
}

/**
 * Brings Cal.com to our current state of one booking.
 *
 * - confirmed, no active seat: ensure the session's event type, book a seat at the session's
 *   start (attendee = the learner, in the session's time zone; learners carry no zone of their
 *   own), keep Cal.com's booking uid and seat uid. On a retry it first looks for a seat an
 *   earlier attempt may have created before its answer was lost.
 * - cancelled with an active seat: cancel that seat only (`seatUid`); a 404 means it is gone.
 * - cancelled and never linked: skipped, nothing on Cal.com.
 *
 * A reschedule is two bookings: the old one (cancelled) and the new one (confirmed). With one
 * event type per session, a move BETWEEN sessions is therefore a seat cancel on the old
 * session's event type plus a new seat on the target's; a change of a session's TIME keeps the
 * bookings and moves each seat with `rescheduleSeat(bookingUid, seatUid, newStart)` (the session
 * job does that).
 */
async function applyBooking(ctx: OutboundContext, state: SyncState): Promise<Outcome> {
  const booking = await getBooking(ctx.kv, state.bookingId);
  if (!booking) throw new OutboundDataError("BOOKING_NOT_FOUND", `booking ${state.bookingId} not found`);
  const link = await getSeatLink(ctx.kv, booking.id);
  if (booking.status === "confirmed") {
    if (link?.status === "active") return { status: "synced", note: "the seat is on Cal.com" };
    const session = await getSession(ctx.kv, booking.sessionId);
    if (!session) throw new OutboundDataError("SESSION_NOT_FOUND", `session ${booking.sessionId} not found`);
    const tenant = await apiTenant(ctx, state.tenant);
    if (!tenant) return { status: "skipped", note: NOTE_NO_TENANT };
    const client = ctx.clientFor(tenant);
    const eventType = await ensureEventType(ctx, session, tenant, client);
    const learner = await getUser(ctx.kv, booking.learnerId);
    if (!learner) throw new OutboundDataError("USER_NOT_FOUND", `learner ${booking.learnerId} not found`);
    // An erased person's name and email are never sent (their future bookings are cancelled anyway).
    if (learner.erasedAt) return { status: "skipped", note: NOTE_ERASED };
    // An earlier attempt (ours or another worker's) may have created the seat before its answer
    // was lost, or may still be in flight: look first.
    let seat = state.attempts > 0 || state.sendingUntil
      ? await findSeat(client, eventType.eventTypeId, learner.email, session.startsAt)
      : null;
    if (!seat) {
      // Announce the send (fenced) and make sure the lease outlasts it: another worker that takes
      // over waits until `sendingUntil`, then looks before posting.
      await ctx.lease.ensure(2 * ctx.sendBoundMs);
      const sendingUntil = iso(ctx.now() + ctx.sendBoundMs + ctx.maxClockSkewMs);
      await updateSyncState(
        ctx.kv,
        booking.id,
        (s) => s && s.status === "pending" ? { ...s, sendingUntil } : null,
        ctx.lease,
      );
      seat = await client.bookSeat({
        eventTypeId: eventType.eventTypeId,
        start: session.startsAt,
        attendee: { name: learner.name, email: learner.email, timeZone: session.timeZone, language: "en" },
        metadata: { bookingId: booking.id, sessionId: session.id },
      });
    }
    await saveSeatLink(ctx.kv, {
      bookingId: booking.id,
      sessionId: session.id,
      tenant: tenant.slug,
      eventTypeId: eventType.eventTypeId,
      calBookingUid: seat.bookingUid,
      seatUid: seat.seatUid,
      email: learner.email,
      status: "active",
      createdBy: "ours",
      linkedAt: iso(ctx.now()),
    }, ctx.lease);
    return { status: "synced", note: "seat booked on Cal.com" };
  }
  if (!link) return { status: "skipped", note: NOTE_NOTHING_ON_CALCOM };
  if (link.status !== "active") return { status: "synced", note: "the seat is already cancelled on Cal.com" };
  await cancelSeat(ctx, link);
  return { status: "synced", note: "seat cancelled on Cal.com" };
}

/** A seat for `email` at `start` that an earlier attempt created (its answer lost), or null. */
async function findSeat(
  client: CalcomClient,
  eventTypeId: number,
  email: string,
  start: string,
): Promise<SeatBooking | null> {
  const page = await client.listBookings({ eventTypeId, attendeeEmail: email });
  for (const b of page.bookings) {
    if (b.status !== "accepted" || Date.parse(b.start) !== Date.parse(start)) continue;
    const attendee = b.attendees.find((a) => a.email.toLowerCase() === email.toLowerCase() && a.seatUid);
    if (attendee?.seatUid) return { bookingUid: b.uid, seatUid: attendee.seatUid, booking: b };
  }
  return null;
}

async function bookingDone(ctx: OutboundContext, state: SyncState, outcome: Outcome): Promise<void> {
  const nowMs = ctx.now();
  let wrote = false;
  // A review item this booking left open is resolved in the same commit as the new state.
  const item = await getReviewItem(ctx.kv, syncReviewId(state.bookingId));
  const comment = outcome.status === "synced" ? "synced on retry" : `nothing to send on retry: ${outcome.note}`;
  await updateSyncState(
    ctx.kv,
    state.bookingId,
    (s) => {
      wrote = !!s && sameRound(s, state);
      if (!s || !wrote) return null;
      const next: SyncState = {
        ...s,
        status: outcome.status,
        attempts: s.attempts + 1,
        lastAttemptAt: iso(nowMs),
        nextAttemptAt: null,
        errorCode: null,
        errorMessage: null,
        requiresManualReview: false,
        flaggedAt: null,
        note: outcome.note,
        sendingUntil: null,
      };
      if (outcome.status === "synced") {
        next.verifiedAt = iso(nowMs);
        next.syncedAt = iso(nowMs);
        next.latencyMs = Math.max(0, nowMs - Date.parse(s.changedAt));
      }
      return next;
    },
    ctx.lease,
    (op) => {
      if (item?.status === "open") op.set(keys.calcomReview(item.id), resolvedReviewItem(item, comment, null, nowMs));
    },
  );
  if (!wrote) return;
  ctx.status.synced++;
}

async function bookingFailed(ctx: OutboundContext, state: SyncState, err: unknown): Promise<void> {
  const failure = classifyFailure(err, await tenantSecrets(ctx));
  const attempts = state.attempts + 1;
  const decision = decideRetry(attempts, failure, ctx.delays);
  const nowMs = ctx.now();
  const why = !decision.retry && decision.reason === "exhausted"
    ? `retries exhausted after ${attempts} attempts`
    : "not retryable";
  // The review item is opened in the same commit as the failed state: a reader never sees one alone.
  const link = decision.retry ? null : await getSeatLink(ctx.kv, state.bookingId);
  const item = decision.retry ? null : openReviewItem({
    id: syncReviewId(state.bookingId),
    kind: "sync_failed",
    tenant: state.tenant,
    bookingId: state.bookingId,
    sessionId: state.sessionId,
    calBookingUid: link?.calBookingUid ?? null,
    email: link?.email ?? null,
    code: failure.code,
    message: `${failure.message} (${why})`,
    flaggedAt: iso(nowMs),
  });
  let wrote = false;
  await updateSyncState(
    ctx.kv,
    state.bookingId,
    (s) => {
      wrote = !!s && sameRound(s, state);
      if (!s || !wrote) return null;
      const common = {
        ...s,
        attempts,
        lastAttemptAt: iso(nowMs),
        errorCode: failure.code,
        errorMessage: failure.message,
        sendingUntil: null,
      };
      return decision.retry ? { ...common, nextAttemptAt: iso(nowMs + decision.delayMs) } : {
        ...common,
        status: "failed",
        nextAttemptAt: null,
        requiresManualReview: true,
        flaggedAt: iso(nowMs),
      };
    },
    ctx.lease,
    (op) => {
      if (item) op.set(keys.calcomReview(item.id), item);
    },
  );
  ctx.status.failures++;
  const what = `calcom outbound: booking ${state.bookingId} attempt ${attempts} failed (${failure.code})`;
  if (decision.retry) {
    ctx.log("warn", `${what}; retrying in ${decision.delayMs} ms: ${failure.message}`);
    return;
  }
  ctx.log("error", `${what}; ${why}, flagged for manual review: ${failure.message}`);
  if (wrote) ctx.status.flagged++;
}
