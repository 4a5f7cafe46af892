/**
 * Reconciliation: Cal.com sends each webhook once and never retries, and our own sends can fail,
 * so a periodic pass compares both sides seat by seat for every mirrored session in a window.
 *
 * For each session mapped to a tenant's event type it reads that event type's Cal.com bookings
 * (`GET /v2/bookings?eventTypeId`, cancelled ones included) and our bookings, then plans:
 * - `import`: an active Cal.com seat we never heard of → booked here with origin `calcom`
 *   (a full session is flagged for manual review by the import itself);
 * - `link`: an active Cal.com seat whose attendee already has our booking (our own send whose
 *   answer was lost) → only the link is written;
 * - `apply_cancel`: a seat we mirrored that is gone from Cal.com (or whose Cal.com booking is
 *   cancelled) while our booking is confirmed → the cancel webhook was missed; cancelled here
 *   with origin `calcom`;
 * - `resend`: our confirmed booking with no seat on Cal.com, or our cancelled booking whose seat
 *   Cal.com still has → queued for the outbound runner again;
 * - `conflict`: a Cal.com seat at a start that is not the session's (moved on Cal.com) → flagged;
 * - `verified`: both sides agree (the sync state's `verifiedAt` is refreshed).
 * `dryRun` computes the same plan and changes nothing.
 */
import type { BookingEngine } from "../booking/engine.ts";
import type { Config } from "../config.ts";
import type { Booking } from "../domain/booking.ts";
import { listBookingsBySession } from "../store/bookings.ts";
import { getSession } from "../store/sessions.ts";
import { getUser } from "../store/users.ts";
import { type CalcomClient, createCalcomClient } from "./client.ts";
import { calcomActor, cancelFromCalcom, importCalcomSeat } from "./inbound.ts";
import type { CalcomBooking } from "./schemas.ts";
import {
  type EventTypeLink,
  flagForReview,
  getReviewItem,
  getSeatLink,
  getSyncState,
  listEventTypeLinks,
  pendingState,
  requeueSync,
  saveSeatLink,
  type SeatLink,
  setSyncMeta,
  updateSyncState,
} from "./sync_store.ts";
import { canCallApi, listTenants, type Tenant } from "./tenants.ts";

/** One step of the plan. */
export interface ReconcileStep {
  action: "import" | "link" | "apply_cancel" | "resend" | "conflict" | "verified";
  tenant: string;
  sessionId: string;
  bookingId: string | null;
  calBookingUid: string | null;
  seatUid: string | null;
  email: string | null;
  reason: string;
  /** What applying it did (absent in a dry run). */
  result?: string;
}

/** What a pass found and did. */
export interface ReconcileReport {
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  window: { from: string; to: string };
  tenants: { slug: string; sessions: number; error: string | null }[];
  steps: ReconcileStep[];
  /** Steps per action, `verified` included. */
  counts: Record<ReconcileStep["action"], number>;
}

/** A Cal.com seat to import (the shape the inbound apply step takes). */
export interface SeatToImport {
  tenant: string;
  eventTypeId: number;
  calBookingUid: string;
  seatUid: string | null;
  startTime: string;
  attendee: { email: string; name?: string; timeZone?: string };
}

/** What reconciliation needs; the apply functions come from the inbound step. */
export interface ReconcileDeps {
  kv: Deno.Kv;
  config: Config;
  clientFor: (tenant: Tenant & { baseUrl: string; apiKey: string }) => CalcomClient;
  /** Books an unknown Cal.com seat here (origin calcom); flags a full session itself. */
  importSeat: (seat: SeatToImport, correlationId: string) => Promise<{ action: string; bookingId?: string | null }>;
  /** Cancels our booking for a Cal.com seat that was cancelled there (origin calcom). */
  cancelSeat: (
    seat: { tenant: string; calBookingUid: string; email: string },
    correlationId: string,
  ) => Promise<{ action: string }>;
  now?: () => number;
}

/** Options of a pass. */
export interface ReconcileOptions {
  dryRun?: boolean;
  /** Sessions starting from this many hours ago (default 24). */
  pastHours?: number;
  /** … up to this many days ahead (default 90). */
  aheadDays?: number;
  /** Only this tenant. */
  tenant?: string;
}

const ACTIONS: ReconcileStep["action"][] = ["import", "link", "apply_cancel", "resend", "conflict", "verified"];

interface CalSeat {
  calBookingUid: string;
  seatUid: string | null;
  email: string;
  name: string;
  timeZone: string;
  start: string;
  cancelled: boolean;
}

function seatsOf(bookings: CalcomBooking[]): CalSeat[] {
  const out: CalSeat[] = [];
  for (const b of bookings) {
    for (const a of b.attendees) {
      out.push({
        calBookingUid: b.uid,
        seatUid: a.seatUid ?? null,
        email: a.email.toLowerCase(),
        name: a.name,
        timeZone: a.timeZone,
        start: b.start,
        cancelled: b.status === "cancelled" || b.status === "rejected",
      });
    }
  }
  return out;
}

/** Runs one pass over every tenant that can call Cal.com (or `options.tenant`). */
export async function reconcile(deps: ReconcileDeps, options: ReconcileOptions = {}): Promise<ReconcileReport> {
  const now = deps.now ?? Date.now;
  const startedMs = now();
  const dryRun = options.dryRun ?? false;
  const from = startedMs - (options.pastHours ?? 24) * 3600_000;
  const to = startedMs + (options.aheadDays ?? 90) * 86_400_000;
  const report: ReconcileReport = {
    dryRun,
    startedAt: new Date(startedMs).toISOString(),
    finishedAt: "",
    window: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    tenants: [],
    steps: [],
    counts: Object.fromEntries(ACTIONS.map((a) => [a, 0])) as ReconcileReport["counts"],
  };
  const links = (await listEventTypeLinks(deps.kv)).filter((l) =>
    l.status === "active" && Date.parse(l.startsAt) >= from && Date.parse(l.startsAt) <= to
  );
  const correlationId = `reconcile-${crypto.randomUUID()}`;
  for (const tenant of await listTenants(deps.kv, deps.config)) {
    if (options.tenant && tenant.slug !== options.tenant) continue;
    if (!canCallApi(tenant)) continue;
    const mine = links.filter((l) => l.tenant === tenant.slug);
    const line = { slug: tenant.slug, sessions: mine.length, error: null as string | null };
    report.tenants.push(line);
    const client = deps.clientFor(tenant);
    for (const link of mine) {
      try {
        const steps = await planSession(deps, client, link);
        for (const step of steps) {
          if (!dryRun) step.result = await applyStep(deps, step, link, correlationId);
          report.steps.push(step);
          report.counts[step.action]++;
        }
      } catch (err) {
        // One session's failure (Cal.com down, say) is reported; the others still run.
        line.error = `${link.sessionId}: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
  }
  report.finishedAt = new Date(now()).toISOString();
  if (!dryRun) {
    await setSyncMeta(deps.kv, "last_reconcile", {
      at: report.finishedAt,
      counts: report.counts,
      errors: report.tenants.filter((t) => t.error).map((t) => t.error),
    });
  }
  return report;
}

async function planSession(deps: ReconcileDeps, client: CalcomClient, link: EventTypeLink): Promise<ReconcileStep[]> {
  const { kv } = deps;
  const session = await getSession(kv, link.sessionId);
  if (!session) return [];
  const calBookings: CalcomBooking[] = [];
  for await (const b of client.listAllBookings({ eventTypeId: link.eventTypeId, take: 100 })) calBookings.push(b);
  const seats = seatsOf(calBookings);
  const active = seats.filter((s) => !s.cancelled);
  const ours = await listBookingsBySession(kv, link.sessionId);
  const oursById = new Map(ours.map((b) => [b.id, b]));
  const seatLinks = new Map<string, SeatLink>();
  await Promise.all(ours.map(async (b) => {
    const l = await getSeatLink(kv, b.id);
    if (l) seatLinks.set(b.id, l);
  }));
  const byUidEmail = new Map<string, SeatLink>();
  for (const l of seatLinks.values()) byUidEmail.set(`${l.calBookingUid}\0${l.email}`, l);
  const emailOf = new Map<string, string>();
  await Promise.all(ours.map(async (b) => {
    const u = await getUser(kv, b.learnerId);
    if (u) emailOf.set(b.id, u.email.toLowerCase());
  }));
  const confirmedByEmail = new Map<string, Booking>();
  for (const b of ours) {
    const email = emailOf.get(b.id);
    if (b.status === "confirmed" && email) confirmedByEmail.set(email, b);
  }

  const base = { tenant: link.tenant, sessionId: link.sessionId };
  const steps: ReconcileStep[] = [];
  const sessionStart = Date.parse(session.startsAt);
  const seenBookings = new Set<string>();

  for (const seat of active) {
    const key = `${seat.calBookingUid}\0${seat.email}`;
    const linked = byUidEmail.get(key);
    const at = { ...base, calBookingUid: seat.calBookingUid, seatUid: seat.seatUid, email: seat.email };
    if (Date.parse(seat.start) !== sessionStart) {
      steps.push({
        ...at,
        action: "conflict",
        bookingId: linked?.bookingId ?? null,
        reason: `Cal.com has this seat at ${seat.start}, not at the session's start ${session.startsAt}`,
      });
      if (linked) seenBookings.add(linked.bookingId);
      continue;
    }
    if (linked) {
      const ourBooking = oursById.get(linked.bookingId);
      seenBookings.add(linked.bookingId);
      if (ourBooking?.status === "confirmed") {
        steps.push({ ...at, action: "verified", bookingId: linked.bookingId, reason: "both sides have this seat" });
      } else {
        steps.push({
          ...at,
          action: "resend",
          bookingId: linked.bookingId,
          reason: "cancelled here, still booked on Cal.com",
        });
      }
      continue;
    }
    const existing = confirmedByEmail.get(seat.email);
    if (existing) {
      seenBookings.add(existing.id);
      const prior = seatLinks.get(existing.id);
      if (prior && prior.status === "active" && prior.calBookingUid !== seat.calBookingUid) {
        steps.push({
          ...at,
          action: "conflict",
          bookingId: existing.id,
          reason:
            `this attendee has two Cal.com seats for the session (${prior.calBookingUid} and ${seat.calBookingUid})`,
        });
      } else {
        steps.push({ ...at, action: "link", bookingId: existing.id, reason: "our booking, the link was missing" });
      }
      continue;
    }
    steps.push({ ...at, action: "import", bookingId: null, reason: "booked on Cal.com, unknown here" });
  }

  const activeKeys = new Set(active.map((s) => `${s.calBookingUid}\0${s.email}`));
  for (const b of ours) {
    if (seenBookings.has(b.id)) continue;
    const l = seatLinks.get(b.id);
    const email = emailOf.get(b.id) ?? null;
    const at = {
      ...base,
      bookingId: b.id,
      email,
      calBookingUid: l?.calBookingUid ?? null,
      seatUid: l?.seatUid ?? null,
    };
    if (b.status === "confirmed") {
      if (l && l.status === "active" && !activeKeys.has(`${l.calBookingUid}\0${l.email}`)) {
        steps.push({ ...at, action: "apply_cancel", reason: "the seat is gone from Cal.com: its cancel was missed" });
      } else {
        steps.push({ ...at, action: "resend", reason: "booked here, no seat on Cal.com" });
      }
    }
    // A cancelled booking whose seat Cal.com no longer lists already agrees.
  }
  return steps;
}

async function applyStep(
  deps: ReconcileDeps,
  step: ReconcileStep,
  link: EventTypeLink,
  correlationId: string,
): Promise<string> {
  const { kv } = deps;
  const nowMs = (deps.now ?? Date.now)();
  switch (step.action) {
    case "verified": {
      await updateSyncState(kv, step.bookingId!, (s) => s && { ...s, verifiedAt: new Date(nowMs).toISOString() });
      return "verified";
    }
    case "import": {
      const out = await deps.importSeat({
        tenant: step.tenant,
        eventTypeId: link.eventTypeId,
        calBookingUid: step.calBookingUid!,
        seatUid: step.seatUid,
        startTime: link.startsAt,
        attendee: { email: step.email! },
      }, correlationId);
      if (out.bookingId) step.bookingId = out.bookingId;
      return out.action;
    }
    case "link": {
      await saveSeatLink(kv, {
        bookingId: step.bookingId!,
        sessionId: step.sessionId,
        tenant: step.tenant,
        eventTypeId: link.eventTypeId,
        calBookingUid: step.calBookingUid!,
        seatUid: step.seatUid,
        email: step.email!,
        status: "active",
        createdBy: "ours",
        linkedAt: new Date(nowMs).toISOString(),
      });
      await updateSyncState(kv, step.bookingId!, (s) =>
        s && {
          ...s,
          status: "synced",
          nextAttemptAt: null,
          verifiedAt: new Date(nowMs).toISOString(),
          note: "linked by reconciliation",
        });
      return "linked";
    }
    case "apply_cancel": {
      const out = await deps.cancelSeat(
        { tenant: step.tenant, calBookingUid: step.calBookingUid!, email: step.email! },
        correlationId,
      );
      return out.action;
    }
    case "resend": {
      const state = await getSyncState(kv, step.bookingId!);
      if (state) {
        await requeueSync(kv, step.bookingId!, nowMs);
      } else {
        await updateSyncState(kv, step.bookingId!, (prior) =>
          pendingState(prior, {
            bookingId: step.bookingId!,
            sessionId: step.sessionId,
            tenant: step.tenant,
            origin: "system",
            nowMs,
          }));
      }
      return "queued";
    }
    case "conflict": {
      // One review item per Cal.com seat: later passes do not pile up copies (or reopen a resolved one).
      const id = `reconcile-${step.tenant}-${step.calBookingUid}-${step.email}`;
      if (await getReviewItem(kv, id)) return `already flagged ${id}`;
      const item = await flagForReview(kv, {
        id,
        kind: "calcom_conflict",
        tenant: step.tenant,
        bookingId: step.bookingId,
        sessionId: step.sessionId,
        calBookingUid: step.calBookingUid,
        email: step.email,
        code: "reconcile_conflict",
        message: step.reason,
      });
      return `flagged ${item.id}`;
    }
  }
}

/** The production dependencies: the real client and the inbound apply step of `lib/calcom/inbound.ts`. */
export function reconcileDepsFor(
  kv: Deno.Kv,
  config: Config,
  engine: BookingEngine,
  clientFor: ReconcileDeps["clientFor"] = (t) => createCalcomClient({ baseUrl: t.baseUrl, apiKey: t.apiKey }),
): ReconcileDeps {
  const inbound = { kv, engine };
  return {
    kv,
    config,
    clientFor,
    importSeat: (seat, correlationId) =>
      importCalcomSeat(inbound, seat, calcomActor("reconciliation (BOOKING_CREATED missed)", correlationId)),
    cancelSeat: (seat, correlationId) =>
      cancelFromCalcom(inbound, seat, calcomActor("reconciliation (BOOKING_CANCELLED missed)", correlationId)),
  };
}
