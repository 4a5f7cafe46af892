/**
 * RSVP for online sessions: a booked learner answers confirmed, tentative or declined
 * (`["rsvps", sessionId, learnerId]`, with the roster tick). Declining may release the seat: the
 * booking is cancelled through the booking engine, whose lane offers the freed seat to the first
 * learner on the waitlist in the same commit.
 */
import type { Session } from "../domain/session.ts";
import { assertMayActOnPlace } from "../booking/access.ts";
import { DomainError, notFound } from "../booking/errors.ts";
import type { Actor } from "../booking/events.ts";
import type { Booking, Place } from "../booking/model.ts";
import { keys } from "../store/keys.ts";

export const RSVP_STATUSES = ["confirmed", "tentative", "declined"] as const;
export type RsvpStatus = typeof RSVP_STATUSES[number];

/** `["rsvps", sessionId, learnerId]`. */
export interface Rsvp {
  sessionId: string;
  learnerId: string;
  status: RsvpStatus;
  at: string;
  by: string | null;
}

/** What {@link answerRsvp} did. */
export interface RsvpResult {
  rsvp: Rsvp;
  /** The booking, cancelled when the seat was released. */
  released: Booking | null;
}

/** The engine call that releases a seat (BookingEngine#cancelBooking). */
export type ReleaseSeat = (bookingId: string, actor: Actor) => Promise<Booking>;

/**
 * Records a booked learner's answer; with `release` (declined only) cancels their booking so the
 * waitlist gets the seat. 404 unknown session; 403 for someone else's seat (not staff); 409
 * `not_online` (in-person), `session_ended`; 404 `not_booked`; 422 `release_needs_decline`.
 */
export async function answerRsvp(
  kv: Deno.Kv,
  input: { sessionId: string; learnerId: string; status: RsvpStatus; release?: boolean },
  actor: Actor,
  now: Date,
  releaseSeat: ReleaseSeat,
): Promise<RsvpResult> {
  const session = (await kv.get<Session>(keys.session(input.sessionId))).value;
  if (!session) throw notFound("session", input.sessionId);
  assertMayActOnPlace(actor, input.learnerId, session);
  if (session.mode === "in_person") throw new DomainError(409, "not_online", "RSVP is for online sessions.");
  if (now.getTime() >= Date.parse(session.endsAt)) {
    throw new DomainError(409, "session_ended", "This session has ended.");
  }
  if (input.release && input.status !== "declined") {
    throw new DomainError(422, "release_needs_decline", "Only a declined RSVP can release the seat.");
  }
  const place = (await kv.get<Place>(keys.place(input.sessionId, input.learnerId))).value;
  const booking = place?.kind === "booking" ? (await kv.get<Booking>(keys.booking(place.id))).value : null;
  if (!booking || booking.status !== "confirmed") {
    throw new DomainError(404, "not_booked", "There is no booking in this session to answer for.");
  }
  const rsvp: Rsvp = { ...input, at: now.toISOString(), by: actor.userId };
  delete (rsvp as { release?: boolean }).release;
  await kv.atomic()
    .set(keys.rsvp(input.sessionId, input.learnerId), rsvp)
    .set(keys.rosterTick(input.sessionId), { at: rsvp.at })
    .commit();
  const released = input.release ? await releaseSeat(booking.id, { ...actor, reason: "declined the RSVP" }) : null;
  return { rsvp, released };
}

/** Every RSVP of a session by learner id. */
export async function listRsvps(kv: Deno.Kv, sessionId: string): Promise<Map<string, Rsvp>> {
  const out = new Map<string, Rsvp>();
  for await (const e of kv.list<Rsvp>({ prefix: keys.rsvpsPrefix(sessionId) })) out.set(e.value.learnerId, e.value);
  return out;
}

/** One learner's RSVP, or null. */
export async function getRsvp(kv: Deno.Kv, sessionId: string, learnerId: string): Promise<Rsvp | null> {
  return (await kv.get<Rsvp>(keys.rsvp(sessionId, learnerId))).value;
}
