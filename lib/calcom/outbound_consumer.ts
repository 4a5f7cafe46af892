/**
 * The outbound sync's consumer: turns the Cal.com outbox's events into work. `booking.confirmed` /
 * `booking.cancelled` mark that booking pending; `booking.rescheduled` marks the old and the new
 * booking pending; `session.*` queue a job for the session's event type. A change whose origin is
 * `calcom` is never sent back: its booking becomes `skipped`. No tenant for the session →
 * `skipped`; a session already over → `skipped` (the past is not replayed to Cal.com). Marking
 * twice is harmless: the runner brings Cal.com to our current state, it does not replay changes.
 */
import type { CommittedEvent } from "../booking/events.ts";
import { getSession } from "../store/sessions.ts";
import { iso, NOTE_FROM_CALCOM, NOTE_NO_TENANT, NOTE_SESSION_OVER, type OutboundContext } from "./outbound_context.ts";
import { queueSessionJob } from "./outbound_store.ts";
import { getEventTypeLink, pendingState, type SyncState, updateSyncState } from "./sync_store.ts";
import { tenantForSession } from "./tenants.ts";

/** Milliseconds of a ULID's time part (the writer's wall-clock time when the event was committed). */
function ulidMs(key: string): number {
  const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  let t = 0;
  for (const ch of key.slice(0, 10)) t = t * 32 + alphabet.indexOf(ch);
  return t;
}

/** Marks the work one event asks for. */
export async function markEvent(ctx: OutboundContext, event: CommittedEvent): Promise<void> {
  const data = event.data as Record<string, unknown>;
  const str = (v: unknown) => typeof v === "string" ? v : null;
  switch (event.type) {
    case "booking.confirmed":
    case "booking.cancelled": {
      const bookingId = str(data.bookingId);
      if (bookingId) await markBooking(ctx, event, bookingId, event.sessionId);
      return;
    }
    case "booking.rescheduled": {
      const from = str(data.fromBookingId);
      const to = str(data.bookingId);
      if (from) await markBooking(ctx, event, from, str(data.fromSessionId) ?? event.sessionId);
      if (to) await markBooking(ctx, event, to, str(data.toSessionId) ?? event.sessionId);
      return;
    }
    case "session.scheduled":
    case "session.updated":
    case "session.cancelled":
      if (event.origin !== "calcom") await markSession(ctx, event);
      return;
    default:
      return;
  }
}

async function markBooking(
  ctx: OutboundContext,
  event: CommittedEvent,
  bookingId: string,
  sessionId: string,
): Promise<void> {
  const { kv, lease } = ctx;
  const nowMs = ctx.now();
  const changedMs = Math.min(nowMs, ulidMs(event.key));
  const base = (cur: SyncState | null, tenant: string | null) => ({
    ...pendingState(cur, { bookingId, sessionId, tenant, origin: event.origin, nowMs }),
    changedAt: iso(changedMs),
  });
  const skipped = (cur: SyncState | null, tenant: string | null, note: string): SyncState => ({
    ...base(cur, tenant),
    status: "skipped",
    nextAttemptAt: null,
    note,
  });
  if (event.origin === "calcom") {
    // The inbound step may have recorded it already (synced, verified): keep that.
    await updateSyncState(
      kv,
      bookingId,
      (cur) =>
        cur && cur.origin === "calcom" && cur.status !== "pending"
          ? null
          : skipped(cur, cur?.tenant ?? null, NOTE_FROM_CALCOM),
      lease,
    );
    return;
  }
  const session = await getSession(kv, sessionId);
  const tenant = session ? await tenantForSession(kv, ctx.config, session) : null;
  if (!session || !tenant) {
    await updateSyncState(
      kv,
      bookingId,
      (cur) => skipped(cur, null, session ? NOTE_NO_TENANT : "session not found"),
      lease,
    );
    return;
  }
  if (Date.parse(session.endsAt) <= nowMs) {
    await updateSyncState(kv, bookingId, (cur) => skipped(cur, tenant.slug, NOTE_SESSION_OVER), lease);
    return;
  }
  await updateSyncState(kv, bookingId, (cur) => base(cur, tenant.slug), lease);
}

async function markSession(ctx: OutboundContext, event: CommittedEvent): Promise<void> {
  const session = await getSession(ctx.kv, event.sessionId);
  if (!session || Date.parse(session.endsAt) <= ctx.now()) return;
  const link = await getEventTypeLink(ctx.kv, session.id);
  // A session never mirrored needs nothing when it is cancelled.
  if (event.type === "session.cancelled" && !link) return;
  const tenant = link?.tenant ?? (await tenantForSession(ctx.kv, ctx.config, session))?.slug ?? null;
  if (!tenant) return;
  await queueSessionJob(ctx.kv, session.id, tenant, ctx.now(), ctx.lease);
}
