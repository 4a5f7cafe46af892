import { type Booking, type BookingAuditEntry, BookingSchema, type BookingStatus } from "../domain/booking.ts";
import type { Origin } from "../domain/common.ts";
import type { SeatCounts, Session } from "../domain/session.ts";
import { newId } from "../domain/ids.ts";
import { parseOrThrow, ValidationError } from "../domain/validation.ts";
import { ConflictError, NotFoundError } from "./errors.ts";
import { keys, type Place } from "./keys.ts";
import { type AtomicUnit, commitInBatches, getManyChunked, getValueById, getValuesById } from "./batch.ts";
import { kvLimits } from "./kv.ts";

/** Returns the booking with `id`, or null. */
export async function getBooking(
  kv: Deno.Kv,
  id: string,
): Promise<Booking | null> {
  return await getValueById<Booking>(kv, id, keys.booking);
}

async function listBookingsByIndex(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
  status: BookingStatus | undefined,
): Promise<Booking[]> {
  const ids: string[] = [];
  for await (const e of kv.list<string>({ prefix })) ids.push(e.value);
  const found = await getValuesById<Booking>(kv, ids, keys.booking);
  return ids
    .map((id) => found.get(id))
    .filter((b): b is Booking => !!b && (!status || b.status === status));
}

/** Bookings of a session in creation order (ULID order); optionally one status. */
export function listBookingsBySession(
  kv: Deno.Kv,
  sessionId: string,
  options: { status?: BookingStatus } = {},
): Promise<Booking[]> {
  return listBookingsByIndex(kv, keys.bookingsBySessionPrefix(sessionId), options.status);
}

/** A learner's bookings in creation order (ULID order); optionally one status. */
export function listBookingsByLearner(
  kv: Deno.Kv,
  learnerId: string,
  options: { status?: BookingStatus } = {},
): Promise<Booking[]> {
  return listBookingsByIndex(kv, keys.bookingsByLearnerPrefix(learnerId), options.status);
}

/** One booking for {@link importConfirmedBookings}; omitted fields get defaults. */
export interface ImportBookingInput {
  sessionId: string;
  learnerId: string;
  /** Only "confirmed" is accepted. */
  status?: string;
  id?: string;
  registration?: string;
  origin?: Origin;
  createdAt?: string;
  confirmedAt?: string;
  holdId?: string | null;
  audit?: BookingAuditEntry[];
}

/** What {@link importConfirmedBookings} wrote. */
export interface ImportBookingsResult {
  imported: number;
  sessions: number;
  commits: number;
}

/** Bookings per atomic op: 2 checks (session, seats) + 1 per place within the store's check limit. */
function bookingsPerUnit(kv: Deno.Kv): number {
  return kvLimits(kv).checksPerAtomic - 2;
}

function toBooking(input: ImportBookingInput, now: string): Booking {
  const confirmedAt = input.confirmedAt ?? input.createdAt ?? now;
  const origin = input.origin ?? "system";
  return parseOrThrow(
    BookingSchema,
    {
      ...input,
      id: input.id ?? newId(),
      status: "confirmed",
      registration: input.registration ?? crypto.randomUUID(),
      holdId: input.holdId ?? null,
      origin,
      createdAt: input.createdAt ?? confirmedAt,
      confirmedAt,
      audit: input.audit ??
        [{ at: confirmedAt, actorId: null, origin, action: "imported", reason: null }],
    },
    "booking",
  );
}

function bookingMutations(b: Booking): Deno.KvMutation[] {
  const place: Place = { kind: "booking", id: b.id };
  return [
    { type: "set", key: keys.booking(b.id), value: b },
    { type: "set", key: keys.bookingBySession(b.sessionId, b.id), value: b.id },
    { type: "set", key: keys.bookingByLearner(b.learnerId, b.id), value: b.id },
    { type: "set", key: keys.place(b.sessionId, b.learnerId), value: place },
  ];
}

function groupBySession(bookings: Booking[]): Map<string, Booking[]> {
  const out = new Map<string, Booking[]>();
  for (const b of bookings) {
    const list = out.get(b.sessionId) ?? [];
    list.push(b);
    out.set(b.sessionId, list);
  }
  return out;
}

/** Refuses duplicate ids and a second place for one learner in one session. */
function assertNoDuplicates(bookings: Booking[]): void {
  const ids = new Set<string>();
  const places = new Set<string>();
  for (const b of bookings) {
    if (ids.has(b.id)) throw new ConflictError("exists", `booking id ${b.id} appears twice`);
    ids.add(b.id);
    const place = `${b.sessionId}/${b.learnerId}`;
    if (places.has(place)) {
      throw new ConflictError(
        "duplicate_place",
        `learner ${b.learnerId} appears twice for session ${b.sessionId}`,
      );
    }
    places.add(place);
  }
}

/**
 * Imports confirmed bookings (seeding, migrations). For each booking it
 * writes `["bookings", id]`, both booking indexes and the learner's
 * `["places", sessionId, learnerId]`, and raises `["seats", sessionId]
 * .confirmed` by the number imported — all of one session's bookings in the
 * same atomic op, guarded by checks on the session, its seat counter and
 * each place (so a concurrent booking aborts the op instead of overfilling).
 * Several sessions share an op while the KV limits allow; a session with
 * more imports than one op can check (98 locally, 8 over KV Connect) is
 * written in consecutive guarded ops.
 *
 * Everything is checked before anything is written. Refuses with
 * `ConflictError`: "over_capacity" when confirmed + holds + imported would
 * exceed the session's capacity, "duplicate_place" when a learner already
 * has a place (or appears twice), "invalid_state" for a cancelled session;
 * `NotFoundError` for an unknown session; `ValidationError` for bad input.
 */
export async function importConfirmedBookings(
  kv: Deno.Kv,
  inputs: ReadonlyArray<ImportBookingInput>,
): Promise<ImportBookingsResult> {
  const now = new Date().toISOString();
  const bookings = inputs.map((input, i) => {
    if (input.status !== undefined && input.status !== "confirmed") {
      throw new ValidationError(
        [{ path: `${i}.status`, message: "must be confirmed" }],
        "booking",
      );
    }
    return toBooking(input, now);
  });
  assertNoDuplicates(bookings);
  const groups = groupBySession(bookings);
  const sessionIds = [...groups.keys()];

  const [sessionEntries, seatEntries, placeEntries] = await Promise.all([
    getManyChunked<Session>(kv, sessionIds.map((id) => keys.session(id))),
    getManyChunked<SeatCounts>(kv, sessionIds.map((id) => keys.seats(id))),
    getManyChunked<Place>(kv, bookings.map((b) => keys.place(b.sessionId, b.learnerId))),
  ]);
  placeEntries.forEach((e, i) => {
    if (e.value !== null) {
      const b = bookings[i];
      throw new ConflictError(
        "duplicate_place",
        `learner ${b.learnerId} already has a ${e.value.kind} in session ${b.sessionId}`,
      );
    }
  });

  const units: AtomicUnit[] = [];
  const bigSessions: string[] = [];
  sessionIds.forEach((sessionId, i) => {
    const session = sessionEntries[i];
    const seats = seatEntries[i];
    const list = groups.get(sessionId)!;
    if (!session.value) throw new NotFoundError("session", sessionId);
    if (session.value.status !== "scheduled") {
      throw new ConflictError("invalid_state", `session ${sessionId} is ${session.value.status}`);
    }
    const counts = seats.value ?? { confirmed: 0, holds: 0 };
    if (counts.confirmed + counts.holds + list.length > session.value.capacity) {
      throw new ConflictError(
        "over_capacity",
        `session ${sessionId} has capacity ${session.value.capacity}, ${counts.confirmed} confirmed and ${counts.holds} held; ${list.length} more do not fit`,
      );
    }
    if (list.length > bookingsPerUnit(kv)) {
      bigSessions.push(sessionId);
      return;
    }
    units.push({
      checks: [
        session,
        seats,
        ...list.map((b) => ({ key: keys.place(b.sessionId, b.learnerId), versionstamp: null })),
      ],
      mutations: [
        ...list.flatMap(bookingMutations),
        {
          type: "set",
          key: keys.seats(sessionId),
          value: { ...counts, confirmed: counts.confirmed + list.length },
        },
      ],
    });
  });

  let commits = await commitInBatches(kv, units);
  for (const sessionId of bigSessions) {
    commits += await importIntoOneSession(kv, sessionId, groups.get(sessionId)!);
  }
  return { imported: bookings.length, sessions: sessionIds.length, commits };
}

/** Writes a large import for one session in consecutive guarded ops. */
async function importIntoOneSession(
  kv: Deno.Kv,
  sessionId: string,
  list: Booking[],
): Promise<number> {
  let commits = 0;
  const perUnit = bookingsPerUnit(kv);
  for (let i = 0; i < list.length; i += perUnit) {
    const chunk = list.slice(i, i + perUnit);
    const [session, seats] = await kv.getMany<[Session, SeatCounts]>([
      keys.session(sessionId),
      keys.seats(sessionId),
    ]);
    if (!session.value) throw new NotFoundError("session", sessionId);
    const counts = seats.value ?? { confirmed: 0, holds: 0 };
    if (counts.confirmed + counts.holds + chunk.length > session.value.capacity) {
      throw new ConflictError("over_capacity", `session ${sessionId} filled up during the import`);
    }
    commits += await commitInBatches(kv, [{
      checks: [
        session,
        seats,
        ...chunk.map((b) => ({ key: keys.place(b.sessionId, b.learnerId), versionstamp: null })),
      ],
      mutations: [
        ...chunk.flatMap(bookingMutations),
        {
          type: "set",
          key: keys.seats(sessionId),
          value: { ...counts, confirmed: counts.confirmed + chunk.length },
        },
      ],
    }]);
  }
  return commits;
}
