/**
 * A small typed client for the subset of Cal.com API v2 the two-way sync needs: seated event
 * types, seats (bookings), seat cancellation and rescheduling, no-shows, booking listings and a
 * reachability check. Every call sends `Authorization: Bearer <key>` and the `cal-api-version` of
 * its endpoint family, parses the answer with zod and fails with a {@link CalcomError}.
 *
 * The API key lives only in this module's closure: it is never logged, never put in an error
 * message, and does not show when the client object is printed.
 */
import type { z } from "zod";
import { CalcomError, CLIENT_ERROR_CODES, NO_HTTP_STATUS, parseRetryAfter } from "./errors.ts";
import {
  CalcomBooking,
  CalcomBookingsPage,
  type CalcomBookingStatus,
  CalcomDeletedEventType,
  CalcomEventType,
  CalcomMe,
  type CalcomPagination,
  type CalcomSeats,
  ErrorEnvelope,
  successEnvelope,
} from "./schemas.ts";

export { CalcomError } from "./errors.ts";
export type {
  CalcomAttendee,
  CalcomBooking,
  CalcomDeletedEventType,
  CalcomEventType,
  CalcomMe,
  CalcomPagination,
  CalcomSeats,
} from "./schemas.ts";

/** `cal-api-version` per endpoint family. A missing or unknown one makes Cal.com answer in older shapes. */
export const CALCOM_API_VERSIONS = {
  bookings: "2024-08-13",
  slots: "2024-09-04",
  eventTypes: "2024-06-14",
} as const;

/** An endpoint family with its own `cal-api-version`. */
export type CalcomApiFamily = keyof typeof CALCOM_API_VERSIONS;

/** How to reach Cal.com. */
export interface CalcomClientOptions {
  /** Origin of the API without `/v2`, e.g. `https://api.cal.com` (a path prefix is kept). */
  baseUrl: string;
  /** API key (`cal_…` / `cal_live_…`). */
  apiKey: string;
  /** Per-request time limit in milliseconds (default 10 000); exceeding it is a retryable `TIMEOUT`. */
  timeoutMs?: number;
  /** Injected `fetch` (tests); defaults to the global one. */
  fetch?: typeof fetch;
}

/**
 * Where a session takes place. Cal.com's schema requires `public` on address and link locations
 * (whether the booking page shows it before booking); the client sends `true` when omitted.
 */
export type CalcomLocationInput =
  | { type: "address"; address: string; public?: boolean }
  | { type: "link"; link: string; public?: boolean }
  | { type: "integration"; integration: "cal-video" };

/** A training session as a seated event type. */
export interface SeatedEventTypeInput {
  title: string;
  /** Unique per owner; URL-safe. */
  slug: string;
  lengthInMinutes: number;
  description?: string;
  seats: CalcomSeats;
  /** Omitted: Cal.com uses Cal Video. */
  locations?: CalcomLocationInput[];
  hidden?: boolean;
}

/** Fields to change on an event type. */
export type EventTypeUpdate = Partial<SeatedEventTypeInput>;

/** The person taking a seat. */
export interface CalcomAttendeeInput {
  name: string;
  email: string;
  /** IANA zone, e.g. `Europe/Berlin`. */
  timeZone: string;
  /** One of Cal.com's locale codes, e.g. `en`. */
  language?: string;
  phoneNumber?: string;
}

/**
 * One seat at one start time. Cal.com has no seat-specific body: a booking of a seated event type
 * at a start that already has a booking adds a seat (attendee) to that booking.
 */
export interface SeatBookingInput {
  eventTypeId: number;
  /** ISO 8601 instant in UTC, e.g. `2025-03-01T09:00:00Z`. */
  start: string;
  attendee: CalcomAttendeeInput;
  /** Up to Cal.com's metadata limits; string values only. */
  metadata?: Record<string, string>;
  bookingFieldsResponses?: Record<string, unknown>;
}

/** A seat as Cal.com created or moved it. */
export interface SeatBooking {
  /** The booking that holds every seat of that start time (shared by all seats). */
  bookingUid: string;
  /** This seat; the handle for cancelling or rescheduling it. */
  seatUid: string;
  booking: CalcomBooking;
}

/** Filters of `GET /v2/bookings`. */
export interface BookingListFilter {
  eventTypeId?: number;
  /** Bookings starting at or after this ISO instant. */
  afterStart?: string;
  /** Bookings ending at or before this ISO instant. */
  beforeEnd?: string;
  status?: ("upcoming" | "recurring" | "past" | "cancelled" | "unconfirmed")[];
  attendeeEmail?: string;
  bookingUid?: string;
  sortStart?: "asc" | "desc";
  /** Page size (Cal.com's default 100). */
  take?: number;
  /** Items to skip. */
  skip?: number;
}

/** One page of bookings. */
export interface BookingsPage {
  bookings: CalcomBooking[];
  pagination: CalcomPagination;
}

/** The Cal.com operations the sync uses. Every method rejects with a {@link CalcomError}. */
export interface CalcomClient {
  /** `GET /v2/me`: cheap reachability and credential check; the key's account. */
  me(): Promise<CalcomMe>;
  /** `POST /v2/event-types` with seats. */
  createSeatedEventType(input: SeatedEventTypeInput): Promise<CalcomEventType>;
  /** `PATCH /v2/event-types/{id}`. */
  updateEventType(eventTypeId: number, update: EventTypeUpdate): Promise<CalcomEventType>;
  /** `DELETE /v2/event-types/{id}`. */
  deleteEventType(eventTypeId: number): Promise<CalcomDeletedEventType>;
  /** `POST /v2/bookings` for a seated event type: one seat; keep both uids. */
  bookSeat(input: SeatBookingInput): Promise<SeatBooking>;
  /** `POST /v2/bookings/{uid}/cancel {seatUid}`: frees that seat only (without a seat uid Cal.com cancels them all). */
  cancelSeat(bookingUid: string, seatUid: string): Promise<CalcomBooking>;
  /** `POST /v2/bookings/{uid}/reschedule {start, seatUid}`: moves one seat; the answer names its new booking. */
  rescheduleSeat(
    bookingUid: string,
    seatUid: string,
    start: string,
    options?: { rescheduledBy?: string },
  ): Promise<SeatBooking>;
  /** `POST /v2/bookings/{uid}/mark-absent {attendees}`: no-shows (and their reversal with `absent: false`). */
  markAbsent(bookingUid: string, attendees: { email: string; absent: boolean }[]): Promise<CalcomBooking>;
  /** `GET /v2/bookings` with filters and `take`/`skip` paging. */
  listBookings(filter?: BookingListFilter): Promise<BookingsPage>;
  /** Every booking matching `filter`, page after page (`take` is the page size). */
  listAllBookings(filter?: Omit<BookingListFilter, "skip">): AsyncGenerator<CalcomBooking>;
  /** `GET /v2/bookings/{uid}`. */
  getBooking(bookingUid: string): Promise<CalcomBooking>;
}

const DEFAULT_TIMEOUT_MS = 10_000;

interface Call<T extends z.ZodType> {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  family?: CalcomApiFamily;
  query?: Record<string, string | undefined>;
  body?: unknown;
  schema: T;
}

/** Builds a client. The key is validated for presence only; {@link CalcomClient.me} checks it for real. */
export function createCalcomClient(options: CalcomClientOptions): CalcomClient {
  const apiKey = options.apiKey;
  if (!apiKey) throw new Error("Cal.com client: an API key is required");
  const base = new URL(options.baseUrl);
  const prefix = base.pathname.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch = options.fetch ?? fetch;

  async function call<T extends z.ZodType>(c: Call<T>): Promise<z.infer<T>> {
    const url = new URL(base.origin + prefix + c.path);
    for (const [k, v] of Object.entries(c.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const headers: Record<string, string> = { Authorization: `Bearer ${apiKey}`, Accept: "application/json" };
    if (c.family) headers["cal-api-version"] = CALCOM_API_VERSIONS[c.family];
    if (c.body !== undefined) headers["Content-Type"] = "application/json";
    const what = `${c.method} ${c.path}`;

    let response: Response;
    let text: string;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      response = await doFetch(url, {
        method: c.method,
        headers,
        body: c.body === undefined ? undefined : JSON.stringify(c.body),
        signal,
      });
      text = await response.text();
    } catch (cause) {
      const timedOut = signal.aborted;
      throw new CalcomError({
        status: NO_HTTP_STATUS,
        code: timedOut ? CLIENT_ERROR_CODES.timeout : CLIENT_ERROR_CODES.network,
        message: timedOut
          ? `Cal.com ${what}: no answer within ${timeoutMs} ms`
          : `Cal.com ${what}: ${cause instanceof Error ? cause.message : String(cause)}`,
        retryable: true,
        cause,
      });
    }

    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (e.g. a proxy's HTML error page): handled below
    }
    const failed = ErrorEnvelope.safeParse(json);
    if (!response.ok || failed.success) {
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
      const code = failed.success ? failed.data.error.code : `HTTP_${response.status}`;
      const detail = failed.success ? failed.data.error.message : response.statusText || "no error envelope";
      throw new CalcomError({
        status: response.status,
        code,
        message: `Cal.com ${what} → ${response.status} ${code}: ${detail}`,
        retryAfterMs,
        details: failed.success ? failed.data.error.details : undefined,
        retryable: response.ok ? false : undefined,
      });
    }
    const parsed = c.schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
      throw new CalcomError({
        status: response.status,
        code: CLIENT_ERROR_CODES.invalidResponse,
        message: `Cal.com ${what} → ${response.status}: unexpected answer (${issues.join("; ")})`,
        retryable: false,
      });
    }
    return parsed.data;
  }

  const bookingData = successEnvelope(CalcomBooking);
  const eventTypeData = successEnvelope(CalcomEventType);

  function toSeat(booking: CalcomBooking, what: string): SeatBooking {
    if (!booking.seatUid) {
      throw new CalcomError({
        status: 200,
        code: CLIENT_ERROR_CODES.invalidResponse,
        message: `Cal.com ${what}: the answer has no seatUid (is the event type seated?)`,
        retryable: false,
      });
    }
    return { bookingUid: booking.uid, seatUid: booking.seatUid, booking };
  }

  const client: CalcomClient = {
    async me() {
      return (await call({ method: "GET", path: "/v2/me", schema: successEnvelope(CalcomMe) })).data;
    },
    async createSeatedEventType(input) {
      const body = eventTypeBody(input);
      return (await call({
        method: "POST",
        path: "/v2/event-types",
        family: "eventTypes",
        body,
        schema: eventTypeData,
      }))
        .data;
    },
    async updateEventType(eventTypeId, update) {
      const path = `/v2/event-types/${eventTypeId}`;
      return (await call({
        method: "PATCH",
        path,
        family: "eventTypes",
        body: eventTypeBody(update),
        schema: eventTypeData,
      }))
        .data;
    },
    async deleteEventType(eventTypeId) {
      const path = `/v2/event-types/${eventTypeId}`;
      const schema = successEnvelope(CalcomDeletedEventType);
      return (await call({ method: "DELETE", path, family: "eventTypes", schema })).data;
    },
    async bookSeat(input) {
      const body = dropUndefined({
        start: input.start,
        eventTypeId: input.eventTypeId,
        attendee: dropUndefined({ ...input.attendee }),
        metadata: input.metadata,
        bookingFieldsResponses: input.bookingFieldsResponses,
      });
      const booking =
        (await call({ method: "POST", path: "/v2/bookings", family: "bookings", body, schema: bookingData })).data;
      return toSeat(booking, "POST /v2/bookings");
    },
    async cancelSeat(bookingUid, seatUid) {
      if (!seatUid) throw new TypeError("cancelSeat needs a seat uid (without one Cal.com cancels every seat)");
      const path = `/v2/bookings/${encodeURIComponent(bookingUid)}/cancel`;
      return (await call({ method: "POST", path, family: "bookings", body: { seatUid }, schema: bookingData })).data;
    },
    async rescheduleSeat(bookingUid, seatUid, start, options = {}) {
      if (!seatUid) throw new TypeError("rescheduleSeat needs a seat uid");
      const path = `/v2/bookings/${encodeURIComponent(bookingUid)}/reschedule`;
      const body = dropUndefined({ start, seatUid, rescheduledBy: options.rescheduledBy });
      const booking = (await call({ method: "POST", path, family: "bookings", body, schema: bookingData })).data;
      return toSeat(booking, `POST ${path}`);
    },
    async markAbsent(bookingUid, attendees) {
      const path = `/v2/bookings/${encodeURIComponent(bookingUid)}/mark-absent`;
      return (await call({ method: "POST", path, family: "bookings", body: { attendees }, schema: bookingData })).data;
    },
    async listBookings(filter = {}) {
      const page = await call({
        method: "GET",
        path: "/v2/bookings",
        family: "bookings",
        query: bookingQuery(filter),
        schema: CalcomBookingsPage,
      });
      return { bookings: page.data, pagination: page.pagination };
    },
    async *listAllBookings(filter = {}) {
      let skip = 0;
      while (true) {
        const page = await client.listBookings({ ...filter, skip });
        yield* page.bookings;
        if (!page.pagination.hasNextPage || page.bookings.length === 0) return;
        skip += page.bookings.length;
      }
    },
    async getBooking(bookingUid) {
      const path = `/v2/bookings/${encodeURIComponent(bookingUid)}`;
      return (await call({ method: "GET", path, family: "bookings", schema: bookingData })).data;
    },
  };
  return client;
}

/** Status values of a booking (re-exported for callers that switch on them). */
export type { CalcomBookingStatus };

function eventTypeBody(input: EventTypeUpdate): Record<string, unknown> {
  return dropUndefined({
    title: input.title,
    slug: input.slug,
    lengthInMinutes: input.lengthInMinutes,
    description: input.description,
    seats: input.seats,
    locations: input.locations?.map((l) => l.type === "integration" ? l : { ...l, public: l.public ?? true }),
    hidden: input.hidden,
  });
}

function bookingQuery(f: BookingListFilter): Record<string, string | undefined> {
  return {
    eventTypeId: f.eventTypeId?.toString(),
    afterStart: f.afterStart,
    beforeEnd: f.beforeEnd,
    status: f.status?.length ? f.status.join(",") : undefined,
    attendeeEmail: f.attendeeEmail,
    bookingUid: f.bookingUid,
    sortStart: f.sortStart,
    take: f.take?.toString(),
    skip: f.skip?.toString(),
  };
}

function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
