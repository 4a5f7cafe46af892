/**
 * The fold: how each event, page view and decided alternative offer changes the report rows. The
 * aggregator (lib/reports/aggregator.ts) folds what is pending into rows loaded from KV; the
 * recount (lib/reports/recount.ts) folds the whole history into empty rows; both use this one
 * function, so a difference between them is a lost or doubled update, never a second rule.
 */
import type { DomainEvent } from "../booking/events.ts";
import { keys } from "../store/keys.ts";
import {
  type AltOffer,
  bucketOf,
  C,
  type Counter,
  dayOf,
  emptyRow,
  metaFields,
  type ReportBlob,
  type ReportRow,
  type SessionMeta,
} from "./model.ts";

/** What the fold needs to know besides the event: the session's current fields and each learner's dealer. */
export interface FoldLookup {
  session(id: string): SessionMeta | null;
  dealerOf(learnerId: string): string | null;
}

/** Day blobs being changed in memory, by KV key. */
export class Ledger {
  /** Blobs by key id (JSON of the key). */
  readonly blobs = new Map<string, { key: Deno.KvKey; blob: ReportBlob }>();
  readonly dirty = new Set<string>();

  /** Puts a blob read from KV (null: none yet). */
  put(key: Deno.KvKey, blob: ReportBlob | null): void {
    this.blobs.set(JSON.stringify(key), { key, blob: blob ?? { rows: {} } });
  }

  #blob(key: Deno.KvKey): ReportBlob {
    const id = JSON.stringify(key);
    let e = this.blobs.get(id);
    if (!e) {
      e = { key, blob: { rows: {} } };
      this.blobs.set(id, e);
    }
    this.dirty.add(id);
    return e.blob;
  }

  /** The session's row (all learners, or one dealer's), created when missing, with fresh session fields. */
  row(meta: SessionMeta, dealerId: string | null = null): ReportRow {
    const day = dayOf(meta.startsAt);
    const blob = this.#blob(dealerId ? keys.reportDealerDay(dealerId, day) : keys.reportDay(day, bucketOf(meta.id)));
    const row = blob.rows[meta.id] ??= emptyRow(meta);
    Object.assign(row, metaFields(meta));
    return row;
  }

  /** The changed blobs. */
  changed(): { key: Deno.KvKey; blob: ReportBlob }[] {
    return [...this.dirty].map((id) => this.blobs.get(id)!);
  }
}

/** Blob keys an event may touch (to load them before folding). */
export function blobKeysFor(meta: SessionMeta, dealerId: string | null): Deno.KvKey[] {
  const day = dayOf(meta.startsAt);
  const out: Deno.KvKey[] = [keys.reportDay(day, bucketOf(meta.id))];
  if (dealerId) out.push(keys.reportDealerDay(dealerId, day));
  return out;
}

/** Adds `by` to a counter of the session's row and of the learner's dealer's row. */
function add(
  ledger: Ledger,
  meta: SessionMeta,
  dealerId: string | null,
  counter: Counter,
  by = 1,
  person?: { learnerId: string; list: "ns" | "lc" },
): void {
  const rows = [ledger.row(meta)];
  if (dealerId) rows.push(ledger.row(meta, dealerId));
  for (const row of rows) {
    row.n[C[counter]] += by;
    if (person) {
      const list = row[person.list];
      const n = (list[person.learnerId] ?? 0) + by;
      if (n > 0) list[person.learnerId] = n;
      else delete list[person.learnerId];
    }
  }
}

const ATTENDANCE: Record<string, Counter> = { attended: "attended", no_show: "noShows", excused: "excused" };

/** Folds one domain event. Events of unknown sessions (deleted) are skipped. */
export function foldEvent(ledger: Ledger, ev: DomainEvent, look: FoldLookup): void {
  const meta = look.session(ev.sessionId);
  if (!meta) return;
  const learner = ev.learnerId;
  const dealer = learner ? look.dealerOf(learner) : null;
  const d = ev.data;
  switch (ev.type) {
    case "session.scheduled":
    case "session.updated":
    case "session.cancelled":
      ledger.row(meta); // the row exists (capacity counts for fill) and carries the current fields
      return;
    case "hold.placed":
      return add(ledger, meta, dealer, "holds");
    case "hold.expired":
      return add(ledger, meta, dealer, d.kind === "offer" ? "waitLapsed" : "holdsExpired");
    case "hold.released":
      return add(ledger, meta, dealer, d.kind === "offer" ? "waitDeclined" : "holdsReleased");
    case "booking.confirmed":
      add(ledger, meta, dealer, "bookings");
      if (d.viaOffer) add(ledger, meta, dealer, "waitAccepted");
      else if (d.holdId) add(ledger, meta, dealer, "holdsConfirmed");
      return;
    case "booking.cancelled":
      add(ledger, meta, dealer, "cancels");
      if (d.late === true && learner) add(ledger, meta, dealer, "lateCancels", 1, { learnerId: learner, list: "lc" });
      return;
    case "booking.rescheduled": {
      add(ledger, meta, dealer, "bookings");
      const from = look.session(String(d.fromSessionId));
      if (!from) return;
      add(ledger, from, dealer, "cancels");
      if (d.late === true && learner) add(ledger, from, dealer, "lateCancels", 1, { learnerId: learner, list: "lc" });
      return;
    }
    case "waitlist.joined":
      return add(ledger, meta, dealer, "waitJoins");
    case "waitlist.offered": {
      add(ledger, meta, dealer, "waitOffers");
      const joined = Date.parse(String(d.joinedAt));
      const waited = Number.isFinite(joined) ? Math.max(0, Math.round((Date.parse(ev.occurredAt) - joined) / 1000)) : 0;
      return add(ledger, meta, dealer, "waitToOfferSec", waited);
    }
    case "attendance.recorded": {
      const before = ATTENDANCE[String(d.previousStatus)];
      const after = ATTENDANCE[String(d.status)];
      const person = (c: Counter) =>
        c === "noShows" && learner ? { learnerId: learner, list: "ns" as const } : undefined;
      if (before) add(ledger, meta, dealer, before, -1, person(before));
      if (after) add(ledger, meta, dealer, after, 1, person(after));
      return;
    }
    default:
      return;
  }
}

/** Folds `count` views of a session page (by a signed-in learner of `dealerId`, when known). */
export function foldViews(ledger: Ledger, meta: SessionMeta, dealerId: string | null, count: number): void {
  add(ledger, meta, dealerId, "views", count);
}

/** Folds a decided alternative offer into the full session's row. */
export function foldAltOffer(ledger: Ledger, offer: AltOffer, look: FoldLookup): void {
  const meta = look.session(offer.sessionId);
  if (!meta) return;
  const dealer = look.dealerOf(offer.learnerId);
  add(ledger, meta, dealer, "altOffered");
  if (offer.accepted) add(ledger, meta, dealer, "altAccepted");
}

/** Whether a learner's bookings (session id, created at) took one of the offer's alternatives in time. */
export function offerAccepted(
  offer: AltOffer,
  bookings: readonly { sessionId: string; createdAtMs: number }[],
): boolean {
  const alts = new Set(offer.alternatives);
  return bookings.some((b) =>
    alts.has(b.sessionId) && b.createdAtMs >= offer.atMs && b.createdAtMs <= offer.atMs + 24 * 3600_000
  );
}
