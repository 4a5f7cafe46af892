/** Seats left per session as a learner sees them right now (expired holds do not count). */
import type { Session } from "../domain/mod.ts";
import { keys } from "../store/keys.ts";
import type { SeatDoc } from "./model.ts";

/** Seat picture of one session. */
export interface Availability {
  sessionId: string;
  capacity: number;
  taken: number;
  seatsLeft: number;
  waiting: number;
  state: "open" | "few_seats" | "full" | "waitlist" | "cancelled" | "started";
}

/** "Few seats" threshold: at most this many left, or at most 20 % of capacity. */
export function isFewSeats(seatsLeft: number, capacity: number): boolean {
  return seatsLeft > 0 && (seatsLeft <= 3 || seatsLeft <= capacity * 0.2);
}

/** Reads of one session's counters before its availability is reported from a moving store anyway. */
const MAX_READS = 8;

/**
 * Reads seat counters and live-hold expiries for many sessions at once. The counters and the
 * expired-holds range are two reads; a session whose `["seats", id]` versionstamp changed between
 * them (every seat-affecting write touches it) is read again, so a cleanup or confirm landing in
 * between cannot make `taken` exceed what was ever true.
 */
export async function getAvailability(
  kv: Deno.Kv,
  sessions: Session[],
  now = new Date(),
): Promise<Map<string, Availability>> {
  const out = new Map<string, Availability>();
  const docs: (SeatDoc | null)[] = new Array(sessions.length).fill(null);
  const expired: number[] = new Array(sessions.length).fill(0);
  let todo = sessions.map((_, i) => i);
  for (let read = 0; todo.length && read < MAX_READS; read++) {
    const first = await seatEntries(kv, todo.map((i) => sessions[i]));
    const counts = await Promise.all(
      todo.map((i, j) => (first[j].value?.holds ?? 0) > 0 ? countExpired(kv, sessions[i].id, now) : 0),
    );
    const again = await seatEntries(kv, todo.map((i) => sessions[i]));
    const moved: number[] = [];
    todo.forEach((i, j) => {
      docs[i] = first[j].value;
      expired[i] = counts[j];
      if (again[j].versionstamp !== first[j].versionstamp) moved.push(i);
    });
    todo = moved;
  }
  sessions.forEach((s, i) => {
    const d = docs[i] ?? { confirmed: 0, holds: 0, waiting: 0 };
    const taken = d.confirmed + d.holds - expired[i];
    const seatsLeft = Math.max(0, s.capacity - taken);
    const waiting = d.waiting ?? 0;
    let state: Availability["state"] = seatsLeft === 0
      ? (s.waitlistEnabled ? "waitlist" : "full")
      : isFewSeats(seatsLeft, s.capacity)
      ? "few_seats"
      : "open";
    if (Date.parse(s.startsAt) <= now.getTime()) state = "started";
    if (s.status === "cancelled") state = "cancelled";
    out.set(s.id, { sessionId: s.id, capacity: s.capacity, taken, seatsLeft, waiting, state });
  });
  return out;
}

async function seatEntries(kv: Deno.Kv, sessions: Session[]): Promise<Deno.KvEntryMaybe<SeatDoc>[]> {
  const out: Deno.KvEntryMaybe<SeatDoc>[] = [];
  for (let i = 0; i < sessions.length; i += 10) {
    out.push(...await kv.getMany<SeatDoc[]>(sessions.slice(i, i + 10).map((s) => keys.seats(s.id))));
  }
  return out;
}

async function countExpired(kv: Deno.Kv, sessionId: string, now: Date): Promise<number> {
  const prefix = keys.holdsBySessionPrefix(sessionId);
  let n = 0;
  for await (const _ of kv.list({ start: prefix, end: [...prefix, now.getTime() + 1] })) n++;
  return n;
}
