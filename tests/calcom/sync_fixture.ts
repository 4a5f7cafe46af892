/**
 * Helpers of the two-way sync tests: drive the outbound runner until it settles, book over the
 * API, and read the seats each side holds.
 */
import assert from "node:assert/strict";
import type { OutboundSync } from "../../lib/calcom/outbound.ts";
import { nextSessionJobDueAt } from "../../lib/calcom/outbound_store.ts";
import { nextDueAt } from "../../lib/calcom/sync_store.ts";
import type { Booking, Session } from "../../lib/domain/mod.ts";
import { listBookingsBySession } from "../../lib/store/bookings.ts";
import { getUser } from "../../lib/store/users.ts";
import type { ApiClient } from "../api/client.ts";
import type { CalcomEmulator } from "./emulator.ts";

/** Runs the worker until the outbox is read and nothing is due (or `timeoutMs` passes). */
export async function drain(sync: OutboundSync, kv: Deno.Kv, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await sync.syncOnce();
    const due = await nextDueAt(kv);
    const sessionDue = await nextSessionJobDueAt(kv);
    if (r.events === 0 && r.jobs === 0 && due === null && sessionDue === null) return;
    await new Promise((res) => setTimeout(res, 40));
  }
  throw new Error("the outbound runner did not settle");
}

/** Holds and confirms a seat over the API (both must succeed). */
export async function book(l: { api: ApiClient }, sessionId: string): Promise<Booking> {
  const hold = await l.api.post<{ hold: { id: string } }>("/api/v1/holds", { sessionId });
  assert.equal(hold.status, 201, JSON.stringify(hold.body));
  const b = await l.api.post<{ booking: Booking }>("/api/v1/bookings", { holdId: hold.body.hold.id });
  assert.equal(b.status, 201, JSON.stringify(b.body));
  return b.body.booking;
}

/** Active Cal.com seats (emails) of the event type at the session's start. */
export function calcomSeats(emulator: CalcomEmulator, eventTypeId: number, session: Session): string[] {
  const start = Date.parse(session.startsAt);
  return [...emulator.state.bookings.values()]
    .filter((b) => b.eventTypeId === eventTypeId && b.status === "accepted" && Date.parse(b.start) === start)
    .flatMap((b) => b.seats.map((a) => a.email.toLowerCase()))
    .sort();
}

/** Our confirmed bookings' learner emails (duplicates kept: they must not exist). */
export async function ourSeats(kv: Deno.Kv, sessionId: string): Promise<string[]> {
  const out: string[] = [];
  for (const b of await listBookingsBySession(kv, sessionId, { status: "confirmed" })) {
    out.push((await getUser(kv, b.learnerId))!.email.toLowerCase());
  }
  return out.sort();
}
