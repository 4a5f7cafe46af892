/**
 * State and rules of the Cal.com emulator, without HTTP: seated event types, bookings that hold
 * seats (one booking per event type and start time, one seat uid per attendee), single-seat
 * cancellation, seat moves (reschedules), no-shows and the bookings listing. Errors are
 * {@link EmulatorHttpError}s carrying the status and Cal.com exception name to answer with.
 *
 * Assumptions where Cal.com's documents are silent: a booking whose last seat is cancelled stays
 * `accepted` with no attendees; a moved seat keeps its seat uid.
 */

/** A failure the emulator answers with Cal.com's error envelope. */
export class EmulatorHttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

/** `seats` of a seated event type. */
export interface EmulatorSeats {
  seatsPerTimeSlot: number;
  showAttendeeInfo: boolean;
  showAvailabilityCount: boolean;
}

/** A location as stored (Cal.com's output shape). */
export type EmulatorLocation =
  | { type: "address"; address: string; public: boolean }
  | { type: "link"; link: string; public: boolean }
  | { type: "integration"; integration: string };

/** An event type. */
export interface EmulatorEventType {
  id: number;
  title: string;
  slug: string;
  lengthInMinutes: number;
  description: string;
  seats?: EmulatorSeats;
  locations: EmulatorLocation[];
  hidden: boolean;
  ownerId: number;
}

/** One seat: an attendee of a booking. */
export interface EmulatorSeat {
  seatUid: string;
  attendeeId: number;
  name: string;
  email: string;
  timeZone: string;
  language: string;
  phoneNumber?: string;
  absent: boolean;
  bookingFieldsResponses: Record<string, unknown>;
  createdAt: string;
}

/** A booking; for a seated event type, the one booking of its start time holding every seat. */
export interface EmulatorBooking {
  id: number;
  uid: string;
  eventTypeId: number;
  title: string;
  start: string;
  end: string;
  status: "accepted" | "cancelled";
  seated: boolean;
  seats: EmulatorSeat[];
  location: string;
  metadata: Record<string, string>;
  absentHost: boolean;
  iCalUID: string;
  createdAt: string;
  updatedAt: string;
  cancellationReason?: string;
  rescheduledFromUid?: string;
  rescheduledToUid?: string;
}

/** A seat that was cancelled on its own (the attendee is gone from the booking). */
export interface CancelledSeat {
  bookingUid: string;
  seat: EmulatorSeat;
  cancelledAt: string;
}

/** A seat moved from one booking (start time) to another. */
export interface SeatMove {
  seatUid: string;
  fromBookingUid: string;
  toBookingUid: string;
  fromStart: string;
  fromEnd: string;
  at: string;
}

/** The organizer (owner of the API key). */
export interface EmulatorOrganizer {
  id: number;
  username: string;
  name: string;
  email: string;
  timeZone: string;
}

/** Filters of the bookings listing (already parsed from the query). */
export interface BookingFilter {
  eventTypeIds?: number[];
  afterStart?: string;
  beforeEnd?: string;
  status?: string[];
  attendeeEmail?: string;
  bookingUid?: string;
  sortStart?: "asc" | "desc";
  take: number;
  skip: number;
}

/** Seat request (`POST /v2/bookings`). */
export interface SeatRequest {
  eventTypeId: number;
  start: string;
  attendee: { name: string; email: string; timeZone: string; language?: string; phoneNumber?: string };
  metadata?: Record<string, string>;
  bookingFieldsResponses?: Record<string, unknown>;
}

const UID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A 22-character base62 uid like Cal.com's booking uids. */
export function bookingUid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(22));
  return Array.from(bytes, (b) => UID_ALPHABET[b % 62]).join("");
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function parseInstant(value: unknown, field: string): number {
  const ms = typeof value === "string" ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new EmulatorHttpError(400, "BadRequestException", `${field} must be an ISO 8601 date`);
  return ms;
}

/** Everything the emulator knows. Mutated only through its methods. */
export class EmulatorState {
  readonly eventTypes = new Map<number, EmulatorEventType>();
  readonly bookings = new Map<string, EmulatorBooking>();
  readonly cancelledSeats: CancelledSeat[] = [];
  readonly seatMoves: SeatMove[] = [];
  #nextEventTypeId = 1001;
  #nextBookingId = 5001;
  #nextAttendeeId = 9001;

  constructor(
    readonly organizer: EmulatorOrganizer,
    readonly options: { enforceSeatLimit: boolean; now: () => number; appUrl: string },
  ) {}

  /** `POST /v2/event-types`. */
  createEventType(input: Omit<EmulatorEventType, "id" | "ownerId">): EmulatorEventType {
    for (const et of this.eventTypes.values()) {
      if (et.slug === input.slug) {
        throw new EmulatorHttpError(
          400,
          "BadRequestException",
          `User already has an event type with slug ${input.slug}`,
        );
      }
    }
    const eventType = { ...input, id: this.#nextEventTypeId++, ownerId: this.organizer.id };
    this.eventTypes.set(eventType.id, eventType);
    return eventType;
  }

  /** The event type or a 404. */
  eventType(id: number): EmulatorEventType {
    const et = this.eventTypes.get(id);
    if (!et) throw new EmulatorHttpError(404, "NotFoundException", `Event type with id=${id} not found`);
    return et;
  }

  /** `PATCH /v2/event-types/{id}`. */
  updateEventType(id: number, patch: Partial<Omit<EmulatorEventType, "id" | "ownerId">>): EmulatorEventType {
    const et = this.eventType(id);
    Object.assign(et, Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)));
    return et;
  }

  /** `DELETE /v2/event-types/{id}`. */
  deleteEventType(id: number): EmulatorEventType {
    const et = this.eventType(id);
    this.eventTypes.delete(id);
    return et;
  }

  /** The booking or a 404. */
  booking(uid: string): EmulatorBooking {
    const b = this.bookings.get(uid);
    if (!b) {
      throw new EmulatorHttpError(404, "NotFoundException", `Booking with uid=${uid} was not found in the database`);
    }
    return b;
  }

  /** The booking currently holding `seatUid`, if any. */
  findSeat(seatUid: string): { booking: EmulatorBooking; seat: EmulatorSeat } | undefined {
    for (const booking of this.bookings.values()) {
      const seat = booking.seats.find((s) => s.seatUid === seatUid);
      if (seat) return { booking, seat };
    }
    return undefined;
  }

  /** `POST /v2/bookings`: a seat in the start time's booking (created when first), or a plain booking. */
  book(request: SeatRequest): { booking: EmulatorBooking; seat: EmulatorSeat } {
    const et = this.eventType(request.eventTypeId);
    const startMs = parseInstant(request.start, "start");
    const seat: EmulatorSeat = {
      seatUid: crypto.randomUUID(),
      attendeeId: this.#nextAttendeeId++,
      name: request.attendee.name,
      email: request.attendee.email,
      timeZone: request.attendee.timeZone,
      language: request.attendee.language ?? "en",
      phoneNumber: request.attendee.phoneNumber,
      absent: false,
      bookingFieldsResponses: {
        name: request.attendee.name,
        email: request.attendee.email,
        ...request.bookingFieldsResponses,
      },
      createdAt: iso(this.options.now()),
    };
    const booking = this.#slotBooking(et, startMs, request.metadata ?? {});
    this.#addSeat(et, booking, seat);
    this.bookings.set(booking.uid, booking);
    return { booking, seat };
  }

  /** `POST /v2/bookings/{uid}/cancel`: one seat with `seatUid`, otherwise the whole booking. */
  cancel(uid: string, body: { seatUid?: string; cancellationReason?: string }): EmulatorBooking {
    const booking = this.booking(uid);
    if (booking.status === "cancelled") {
      throw new EmulatorHttpError(400, "BadRequestException", "This booking has already been cancelled.");
    }
    const now = iso(this.options.now());
    if (body.seatUid !== undefined) {
      const index = booking.seats.findIndex((s) => s.seatUid === body.seatUid);
      if (index < 0) {
        throw new EmulatorHttpError(
          404,
          "NotFoundException",
          `Seat with uid=${body.seatUid} not found in booking ${uid}`,
        );
      }
      const [seat] = booking.seats.splice(index, 1);
      this.cancelledSeats.push({ bookingUid: uid, seat, cancelledAt: now });
    } else {
      booking.status = "cancelled";
      if (body.cancellationReason) booking.cancellationReason = body.cancellationReason;
    }
    booking.updatedAt = now;
    return booking;
  }

  /** `POST /v2/bookings/{uid}/reschedule`: moves one seat (with `seatUid`) or the whole booking. */
  reschedule(
    uid: string,
    body: { start?: unknown; seatUid?: string },
  ): { booking: EmulatorBooking; seat?: EmulatorSeat } {
    const from = this.booking(uid);
    if (from.status === "cancelled") {
      throw new EmulatorHttpError(400, "BadRequestException", "Can't reschedule a cancelled booking.");
    }
    const et = this.eventType(from.eventTypeId);
    const startMs = parseInstant(body.start, "start");
    const now = iso(this.options.now());
    if (body.seatUid === undefined) {
      const to = this.#newBooking(et, startMs, from.metadata);
      to.seats = from.seats;
      to.rescheduledFromUid = from.uid;
      this.bookings.set(to.uid, to);
      from.seats = [];
      from.status = "cancelled";
      from.rescheduledToUid = to.uid;
      from.updatedAt = now;
      return { booking: to };
    }
    const index = from.seats.findIndex((s) => s.seatUid === body.seatUid);
    if (index < 0) {
      throw new EmulatorHttpError(
        404,
        "NotFoundException",
        `Seat with uid=${body.seatUid} not found in booking ${uid}`,
      );
    }
    const seat = from.seats[index];
    const to = this.#slotBooking(et, startMs, from.metadata);
    if (to === from) return { booking: from, seat };
    this.#addSeat(et, to, seat);
    this.bookings.set(to.uid, to);
    from.seats.splice(index, 1);
    from.updatedAt = now;
    this.seatMoves.push({
      seatUid: seat.seatUid,
      fromBookingUid: from.uid,
      toBookingUid: to.uid,
      fromStart: from.start,
      fromEnd: from.end,
      at: now,
    });
    return { booking: to, seat };
  }

  /** `POST /v2/bookings/{uid}/mark-absent`. */
  markAbsent(uid: string, body: { host?: boolean; attendees?: { email: string; absent: boolean }[] }): EmulatorBooking {
    const booking = this.booking(uid);
    for (const a of body.attendees ?? []) {
      const seat = booking.seats.find((s) => s.email === a.email);
      if (!seat) {
        throw new EmulatorHttpError(
          400,
          "BadRequestException",
          `Attendee with email ${a.email} is not in booking ${uid}`,
        );
      }
      seat.absent = a.absent;
    }
    if (body.host !== undefined) booking.absentHost = body.host;
    booking.updatedAt = iso(this.options.now());
    return booking;
  }

  /** `GET /v2/bookings`: matching bookings and the total before paging. */
  list(filter: BookingFilter): { items: EmulatorBooking[]; total: number } {
    const now = this.options.now();
    const statuses = filter.status ?? [];
    const all = [...this.bookings.values()].filter((b) => {
      if (filter.eventTypeIds && !filter.eventTypeIds.includes(b.eventTypeId)) return false;
      if (filter.afterStart && Date.parse(b.start) < Date.parse(filter.afterStart)) return false;
      if (filter.beforeEnd && Date.parse(b.end) > Date.parse(filter.beforeEnd)) return false;
      if (filter.bookingUid && b.uid !== filter.bookingUid) return false;
      if (filter.attendeeEmail && !b.seats.some((s) => s.email === filter.attendeeEmail)) return false;
      if (statuses.length) {
        const cancelled = b.status === "cancelled";
        const ended = Date.parse(b.end) < now;
        const ok = statuses.some((s) =>
          s === "cancelled"
            ? cancelled
            : s === "upcoming"
            ? !cancelled && !ended
            : s === "past"
            ? !cancelled && ended
            : false
        );
        if (!ok) return false;
      }
      return true;
    });
    const direction = filter.sortStart === "desc" ? -1 : 1;
    all.sort((a, b) => direction * (Date.parse(a.start) - Date.parse(b.start)) || a.id - b.id);
    return { items: all.slice(filter.skip, filter.skip + filter.take), total: all.length };
  }

  /** The accepted booking of that start time (seated), or a new one not yet stored. */
  #slotBooking(et: EmulatorEventType, startMs: number, metadata: Record<string, string>): EmulatorBooking {
    if (et.seats) {
      for (const b of this.bookings.values()) {
        if (b.eventTypeId === et.id && b.status === "accepted" && Date.parse(b.start) === startMs) return b;
      }
    }
    return this.#newBooking(et, startMs, metadata);
  }

  #newBooking(et: EmulatorEventType, startMs: number, metadata: Record<string, string>): EmulatorBooking {
    const now = iso(this.options.now());
    const uid = bookingUid();
    const booking: EmulatorBooking = {
      id: this.#nextBookingId++,
      uid,
      eventTypeId: et.id,
      title: `${et.title} between ${this.organizer.name} and attendees`,
      start: iso(startMs),
      end: iso(startMs + et.lengthInMinutes * 60_000),
      status: "accepted",
      seated: et.seats !== undefined,
      seats: [],
      location: this.#location(et, uid),
      metadata: { ...metadata },
      absentHost: false,
      iCalUID: `${uid}@Cal.com`,
      createdAt: now,
      updatedAt: now,
    };
    return booking;
  }

  #addSeat(et: EmulatorEventType, booking: EmulatorBooking, seat: EmulatorSeat): void {
    if (booking.seats.some((s) => s.email === seat.email)) {
      throw new EmulatorHttpError(400, "BadRequestException", "Already signed up for this booking.");
    }
    if (et.seats && this.options.enforceSeatLimit && booking.seats.length >= et.seats.seatsPerTimeSlot) {
      throw new EmulatorHttpError(400, "BadRequestException", "Booking seats are full");
    }
    booking.seats.push(seat);
    booking.updatedAt = iso(this.options.now());
  }

  #location(et: EmulatorEventType, uid: string): string {
    const first = et.locations[0];
    if (first?.type === "address") return first.address;
    if (first?.type === "link") return first.link;
    return `${this.options.appUrl}/video/${uid}`;
  }
}
