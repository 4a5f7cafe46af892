/**
 * What the reports need that no booking event carries: session page views and full-session answers
 * that offered alternatives. Each is written in one atomic op with the aggregator's work item.
 */
import { ulid } from "ulid";
import { keys } from "../store/keys.ts";
import { ALT_WINDOW_MS, type AltOffer, type ReportInboxItem } from "./model.ts";

/** Records one view of a session page (by a viewer of `dealerId`, when known). Never throws. */
export async function recordSessionView(
  kv: Deno.Kv,
  sessionId: string,
  dealerId: string | null,
  now: Date,
): Promise<void> {
  const item: ReportInboxItem = { kind: "view", sessionId, dealerId, atMs: now.getTime() };
  try {
    await kv.atomic()
      .set(keys.reportInbox(ulid(now.getTime())), item)
      .sum(keys.reportViewCount(sessionId, dealerId), 1n)
      .commit();
  } catch (err) {
    // A lost view must never break the page it counts.
    console.error(`report view not recorded: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Adds to `writes` (a Draft, in the commit that records the offer itself) the report's record that a learner was
 * refused a full session and offered `alternatives` (session ids): the aggregator decides 24 h later whether they
 * booked one of them. Nothing is added without alternatives.
 */
export function addAlternativesOffered(
  writes: { set(key: Deno.KvKey, value: unknown): void },
  input: { sessionId: string; learnerId: string; alternatives: string[] },
  now: Date,
): void {
  if (!input.alternatives.length) return;
  const offer: AltOffer = {
    id: ulid(now.getTime()),
    sessionId: input.sessionId,
    learnerId: input.learnerId,
    alternatives: input.alternatives,
    atMs: now.getTime(),
    decided: false,
    accepted: false,
  };
  writes.set(keys.reportAltOffer(offer.id), offer);
  writes.set(keys.reportAltDue(offer.atMs + ALT_WINDOW_MS, offer.id), null);
}
