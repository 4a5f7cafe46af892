/**
 * An in-process Cal.com API v2 emulator for tests: a `Deno.serve` on 127.0.0.1 (random port)
 * answering the subset the project's client calls (`/v2/me`, event types, bookings with seats,
 * cancel / reschedule / mark-absent, listing with filters and paging) with Cal.com's envelopes.
 *
 * It checks `Authorization: Bearer <key>` (401 otherwise) and the `cal-api-version` of each
 * endpoint family (400 here; real Cal.com silently falls back to older shapes, which is worse).
 * Given an {@link OpenApiContract}, it checks every request it receives and every response it
 * sends against Cal.com's OpenAPI document and records each mismatch in `violations`; tests
 * assert that list is empty.
 *
 * Test controls: `failNext` (500 / 429 with Retry-After / any status / a hang until the client
 * gives up), `down`/`up` (the port refuses connections), `requests` and `requestCount`, `state`,
 * and `webhooks.*`, which build signed webhook bodies from the state, and `deliver` to post them.
 *
 * Automatic delivery, like real Cal.com: with a `webhookUrl` every successful state change through
 * the API fires exactly one signed webhook (seat booked → `BOOKING_CREATED` with `attendeeSeatId`;
 * cancel with `seatUid` → `BOOKING_CANCELLED` of that attendee only; cancel without → of the whole
 * booking; reschedule → `BOOKING_RESCHEDULED`; mark-absent → `BOOKING_NO_SHOW_UPDATED`). Each is
 * sent ONCE and never retried: a non-2xx answer or a network error is only recorded in
 * `webhookLog`. `webhookTiming` decides whether the webhook is POSTed and awaited before the API
 * answers (`before-response`, the default and the hardest order for echo detection: the caller
 * has not stored the seat uid yet) or fired after it (`after-response`; `waitForWebhooks` awaits
 * those). `dropNextWebhooks(n)` loses the next n (recorded as dropped, never sent).
 */
import type { ContractViolation, OpenApiContract } from "./openapi_contract.ts";
import {
  type BookingFilter,
  type EmulatorEventType,
  EmulatorHttpError,
  type EmulatorLocation,
  type EmulatorOrganizer,
  type EmulatorSeats,
  EmulatorState,
  type SeatRequest,
} from "./emulator_state.ts";
import {
  bookingOutput,
  type BookingOutputOptions,
  deletedEventTypeOutput,
  eventTypeOutput,
  failure,
  meOutput,
  success,
} from "./emulator_output.ts";
import * as hooks from "./webhooks.ts";
import type { SignedWebhook } from "./webhooks.ts";

export type { ContractViolation } from "./openapi_contract.ts";
export type { SignedWebhook } from "./webhooks.ts";

/** `cal-api-version` the emulator requires per path family (none for `/v2/me`). */
export const EMULATOR_API_VERSIONS: Record<string, string> = {
  "/v2/bookings": "2024-08-13",
  "/v2/slots": "2024-09-04",
  "/v2/event-types": "2024-06-14",
};

/** Options of {@link startCalcomEmulator}. */
export interface CalcomEmulatorOptions {
  /** The only accepted API key (default `cal_test_emulator_key`). */
  apiKey?: string;
  /** Secret that signs built webhooks (default random). */
  webhookSecret?: string;
  /** Checks every request and response against Cal.com's OpenAPI document. */
  contract?: OpenApiContract;
  organizer?: Partial<EmulatorOrganizer>;
  /** Refuse seats beyond `seatsPerTimeSlot` (default true; real Cal.com does not always). */
  enforceSeatLimit?: boolean;
  /** Clock for `upcoming`/`past` and timestamps (default `Date.now`). */
  now?: () => number;
  /** Web app origin used in video links and `bookerUrl` (default `https://app.cal.com`). */
  appUrl?: string;
  /** Where state changes made through the API are delivered as webhooks (none: nothing is sent). */
  webhookUrl?: string;
  /** When a webhook is sent relative to the API answer (default `before-response`). */
  webhookTiming?: WebhookTiming;
  /** Time limit of one webhook POST (default 10 000 ms); a timeout is recorded as an error. */
  webhookTimeoutMs?: number;
}

/**
 * `before-response`: POSTed and awaited before the API call that caused it is answered.
 * `after-response`: fired asynchronously once the answer is on its way.
 */
export type WebhookTiming = "before-response" | "after-response";

/** One webhook the emulator fired (or dropped) on its own. */
export interface WebhookLogEntry {
  trigger: string;
  /** The payload's `uid` (`bookingUid` for `BOOKING_NO_SHOW_UPDATED`). */
  uid: string;
  /** `attendeeSeatId` of a seat's `BOOKING_CREATED`. */
  attendeeSeatId?: string;
  /** Attendee emails the payload names. */
  emails: string[];
  /** ISO instant it was fired (emulator clock). */
  at: string;
  url: string;
  /** The receiver's HTTP status (any status: never retried). */
  status?: number;
  /** The receiver's answer text (first 4 000 characters). */
  responseBody?: string;
  /** Network error or timeout (never retried). */
  error?: string;
  /** Lost on purpose by {@link CalcomEmulator.dropNextWebhooks}: never sent. */
  dropped?: true;
  /** What was (or would have been) sent; set once signed, before any delivery attempt. */
  webhook?: SignedWebhook;
}

/** What the next request gets instead of an answer. */
export type EmulatorFault =
  | {
    status: number;
    /** Cal.com exception name (defaults by status). */
    code?: string;
    message?: string;
    /** `Retry-After` header value, e.g. `"2"`. */
    retryAfter?: string;
    /** Send this text instead of the error envelope (e.g. a proxy's HTML page); still contract-checked. */
    rawBody?: string;
  }
  /** No answer until `down()` or `close()`; the client's own time limit must end the call. */
  | { hang: true };

/** One request the emulator received, with what it answered. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Raw query string without `?`. */
  query: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body?: unknown;
  status?: number;
  responseBody?: unknown;
}

/** Builders of signed webhooks from the emulator's state. */
export interface EmulatorWebhooks {
  /** `BOOKING_CREATED` for the seat (parent uid, `attendeeSeatId`). */
  bookingCreated(seatUid: string): Promise<SignedWebhook>;
  /** `BOOKING_CANCELLED` for a seat cancelled through the API (that attendee only, no seat id). */
  bookingCancelled(seatUid: string): Promise<SignedWebhook>;
  /** `BOOKING_CANCELLED` for a whole cancelled booking. */
  bookingCancelledAll(bookingUid: string): Promise<SignedWebhook>;
  /** `BOOKING_RESCHEDULED` for the seat's latest move (new `uid`, old `rescheduleUid`). */
  bookingRescheduled(seatUid: string): Promise<SignedWebhook>;
  /** `BOOKING_RESCHEDULED` for a whole booking moved to `newBookingUid` (every attendee). */
  bookingRescheduledAll(newBookingUid: string): Promise<SignedWebhook>;
  /** `BOOKING_NO_SHOW_UPDATED` with the attendees' current `absent` flags (or the given emails only). */
  noShowUpdated(bookingUid: string, emails?: string[]): Promise<SignedWebhook>;
  /** Flat `MEETING_ENDED`. */
  meetingEnded(bookingUid: string): Promise<SignedWebhook>;
}

/** A running emulator. */
export interface CalcomEmulator {
  /** `http://127.0.0.1:<port>`: the client's `baseUrl`. */
  readonly url: string;
  readonly apiKey: string;
  readonly webhookSecret: string;
  readonly state: EmulatorState;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Contract mismatches (requests received and responses sent); empty when all conformed. */
  readonly violations: ContractViolation[];
  /** Requests received, optionally only those of a method and/or path (exact or pattern). */
  requestCount(filter?: { method?: string; path?: string | RegExp }): number;
  /** The next `count` requests get `fault` instead of being served (queued after earlier faults). */
  failNext(count: number, fault: EmulatorFault): void;
  /**
   * A slow answer: the next `method` request to `path` is served (its state change is made at
   * once), but its answer is held for `ms`; `onHeld` runs as the hold begins.
   */
  answerLate(method: string, path: string | RegExp, ms: number, onHeld?: () => void | Promise<void>): void;
  /** Stops listening: connections are refused until {@link CalcomEmulator.up}. */
  down(): Promise<void>;
  /** Listens again on the same port, with the same state. */
  up(): Promise<void>;
  readonly webhooks: EmulatorWebhooks;
  /** POSTs a webhook's exact bytes and headers to `url`. */
  deliver(url: string, webhook: SignedWebhook): Promise<Response>;
  /** Current target of automatic webhooks (undefined: none are fired). */
  readonly webhookUrl: string | undefined;
  /** Sets (or with `undefined` clears) the target of automatic webhooks. */
  setWebhookUrl(url: string | undefined): void;
  /** Current delivery timing of automatic webhooks. */
  readonly webhookTiming: WebhookTiming;
  /** Changes the delivery timing of later webhooks. */
  setWebhookTiming(timing: WebhookTiming): void;
  /** The next `count` automatic webhooks are lost: recorded as dropped, never sent. */
  dropNextWebhooks(count: number): void;
  /** Every automatic webhook fired or dropped, in the order of the state changes. */
  readonly webhookLog: WebhookLogEntry[];
  /** Resolves once no automatic webhook is in flight (after-response deliveries included). */
  waitForWebhooks(): Promise<void>;
  /** Stops the server and releases hanging requests. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_CODES: Record<number, string> = {
  400: "BadRequestException",
  401: "UnauthorizedException",
  403: "ForbiddenException",
  404: "NotFoundException",
  408: "RequestTimeoutException",
  429: "ThrottlerException",
  500: "InternalServerErrorException",
  502: "BadGatewayException",
  503: "ServiceUnavailableException",
};

/** A route's answer, with the webhook its state change fires (built at once, so it shows that state). */
type Routed = { status: number; body: unknown; webhook?: Record<string, unknown> };

type Handler = (ctx: {
  params: Record<string, string>;
  body: unknown;
  query: URLSearchParams;
}) => Routed;

function familyVersion(path: string): string | undefined {
  for (const [prefix, version] of Object.entries(EMULATOR_API_VERSIONS)) {
    if (path === prefix || path.startsWith(`${prefix}/`)) return version;
  }
  return undefined;
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new EmulatorHttpError(400, "BadRequestException", "a JSON object body is required");
  }
  return body as Record<string, unknown>;
}

function need<T>(ok: boolean, value: T, message: string): T {
  if (!ok) throw new EmulatorHttpError(400, "BadRequestException", message);
  return value;
}

function parseLocations(value: unknown): EmulatorLocation[] | undefined {
  if (value === undefined) return undefined;
  need(Array.isArray(value), null, "locations must be an array");
  return (value as Record<string, unknown>[]).map((l) => {
    if (l.type === "address" && typeof l.address === "string") {
      return { type: "address", address: l.address, public: l.public === true };
    }
    if (l.type === "link" && typeof l.link === "string") {
      return { type: "link", link: l.link, public: l.public === true };
    }
    if (l.type === "integration" && typeof l.integration === "string") {
      return { type: "integration", integration: l.integration };
    }
    throw new EmulatorHttpError(400, "BadRequestException", `unsupported location ${JSON.stringify(l)}`);
  });
}

function parseSeats(value: unknown): EmulatorSeats | undefined | null {
  if (value === undefined) return undefined;
  const s = asObject(value);
  if (s.disabled === true) return null;
  need(
    typeof s.seatsPerTimeSlot === "number" && s.seatsPerTimeSlot >= 1 && typeof s.showAttendeeInfo === "boolean" &&
      typeof s.showAvailabilityCount === "boolean",
    null,
    "seats needs seatsPerTimeSlot ≥ 1, showAttendeeInfo and showAvailabilityCount",
  );
  return {
    seatsPerTimeSlot: s.seatsPerTimeSlot as number,
    showAttendeeInfo: s.showAttendeeInfo as boolean,
    showAvailabilityCount: s.showAvailabilityCount as boolean,
  };
}

/** Starts an emulator on 127.0.0.1 with a random port. Close it (or `await using`) at the end. */
export function startCalcomEmulator(options: CalcomEmulatorOptions = {}): CalcomEmulator {
  const apiKey = options.apiKey ?? "cal_test_emulator_key";
  const webhookSecret = options.webhookSecret ?? crypto.randomUUID();
  const appUrl = options.appUrl ?? "https://app.cal.com";
  const now = options.now ?? Date.now;
  const organizer: EmulatorOrganizer = {
    id: 42,
    username: "training-team",
    name: "Training Team",
    email: "training@example.com",
    timeZone: "Europe/Berlin",
    ...options.organizer,
  };
  const state = new EmulatorState(organizer, { enforceSeatLimit: options.enforceSeatLimit ?? true, now, appUrl });
  const requests: RecordedRequest[] = [];
  const violations: ContractViolation[] = [];
  const faults: EmulatorFault[] = [];
  const lateAnswers: { method: string; path: string | RegExp; ms: number; onHeld?: () => void | Promise<void> }[] = [];
  const contract = options.contract;
  let release = Promise.withResolvers<void>();
  let webhookUrl = options.webhookUrl;
  let webhookTiming: WebhookTiming = options.webhookTiming ?? "before-response";
  const webhookTimeoutMs = options.webhookTimeoutMs ?? 10_000;
  let dropNext = 0;
  const webhookLog: WebhookLogEntry[] = [];
  const inFlight = new Set<Promise<void>>();

  const etRef = (id: number) => state.eventTypes.get(id) ?? { id, slug: "" };
  const renderBooking = (uid: string, o: BookingOutputOptions = {}) => {
    const b = state.booking(uid);
    return bookingOutput(b, etRef(b.eventTypeId), organizer, o);
  };

  const routes: [string, RegExp, Handler][] = [
    ["GET", /^\/v2\/me$/, () => ({ status: 200, body: success(meOutput(organizer)) })],
    ["POST", /^\/v2\/event-types$/, ({ body }) => {
      const b = asObject(body);
      need(typeof b.title === "string" && b.title !== "", null, "title must be a non-empty string");
      need(
        typeof b.slug === "string" && /^[a-z0-9-]+$/.test(b.slug),
        null,
        "slug must be lowercase letters, digits, -",
      );
      need(typeof b.lengthInMinutes === "number" && b.lengthInMinutes > 0, null, "lengthInMinutes must be > 0");
      const et = state.createEventType({
        title: b.title as string,
        slug: b.slug as string,
        lengthInMinutes: b.lengthInMinutes as number,
        description: typeof b.description === "string" ? b.description : "",
        seats: parseSeats(b.seats) ?? undefined,
        locations: parseLocations(b.locations) ?? [{ type: "integration", integration: "cal-video" }],
        hidden: b.hidden === true,
      });
      return { status: 201, body: success(eventTypeOutput(et)) };
    }],
    ["GET", /^\/v2\/event-types\/(?<id>\d+)$/, ({ params }) => ({
      status: 200,
      body: success(eventTypeOutput(state.eventType(Number(params.id)))),
    })],
    ["PATCH", /^\/v2\/event-types\/(?<id>\d+)$/, ({ params, body }) => {
      const b = asObject(body);
      const seats = parseSeats(b.seats);
      const patch: Partial<EmulatorEventType> = {
        title: typeof b.title === "string" ? b.title : undefined,
        slug: typeof b.slug === "string" ? b.slug : undefined,
        lengthInMinutes: typeof b.lengthInMinutes === "number" ? b.lengthInMinutes : undefined,
        description: typeof b.description === "string" ? b.description : undefined,
        locations: parseLocations(b.locations),
        hidden: typeof b.hidden === "boolean" ? b.hidden : undefined,
        seats: seats ?? undefined,
      };
      const et = state.updateEventType(Number(params.id), patch);
      if (seats === null) delete et.seats;
      return { status: 200, body: success(eventTypeOutput(et)) };
    }],
    ["DELETE", /^\/v2\/event-types\/(?<id>\d+)$/, ({ params }) => ({
      status: 200,
      body: success(deletedEventTypeOutput(state.deleteEventType(Number(params.id)))),
    })],
    ["POST", /^\/v2\/bookings$/, ({ body }) => {
      const b = asObject(body);
      const attendee = asObject(b.attendee ?? need(false, null, "attendee is required"));
      need(typeof b.eventTypeId === "number", null, "eventTypeId is required (slug booking is not emulated)");
      need(
        typeof attendee.name === "string" && typeof attendee.timeZone === "string",
        null,
        "attendee.name and timeZone",
      );
      need(typeof attendee.email === "string", null, "attendee.email is required");
      const { booking, seat } = state.book(b as unknown as SeatRequest);
      return {
        status: 201,
        body: success(renderBooking(booking.uid, booking.seated ? { seatUid: seat.seatUid } : {})),
        webhook: envelopes.bookingCreated(seat.seatUid),
      };
    }],
    ["GET", /^\/v2\/bookings$/, ({ query }) => {
      const filter = bookingFilter(query);
      const { items, total } = state.list(filter);
      const returned = items.length;
      return {
        status: 200,
        body: {
          status: "success",
          data: items.map((b) => renderBooking(b.uid)),
          pagination: {
            totalItems: total,
            remainingItems: Math.max(0, total - filter.skip - returned),
            returnedItems: returned,
            itemsPerPage: filter.take,
            currentPage: Math.floor(filter.skip / filter.take) + 1,
            totalPages: Math.ceil(total / filter.take),
            hasNextPage: filter.skip + returned < total,
            hasPreviousPage: filter.skip > 0,
          },
        },
      };
    }],
    ["GET", /^\/v2\/bookings\/(?<uid>[^/]+)$/, ({ params }) => ({
      status: 200,
      body: success(renderBooking(params.uid)),
    })],
    ["POST", /^\/v2\/bookings\/(?<uid>[^/]+)\/cancel$/, ({ params, body }) => {
      const b = asObject(body ?? {});
      const seatUid = typeof b.seatUid === "string" ? b.seatUid : undefined;
      const reason = typeof b.cancellationReason === "string" ? b.cancellationReason : undefined;
      state.cancel(params.uid, { seatUid, cancellationReason: reason });
      return {
        status: 200,
        body: success(renderBooking(params.uid)),
        webhook: seatUid === undefined
          ? envelopes.bookingCancelledAll(params.uid)
          : envelopes.bookingCancelled(seatUid, reason ?? null),
      };
    }],
    ["POST", /^\/v2\/bookings\/(?<uid>[^/]+)\/reschedule$/, ({ params, body }) => {
      const b = asObject(body);
      const seatUid = typeof b.seatUid === "string" ? b.seatUid : undefined;
      const moves = state.seatMoves.length;
      const { booking, seat } = state.reschedule(params.uid, { start: b.start, seatUid });
      // A seat "moved" to the start it already has changes nothing: no webhook.
      const webhook = seatUid === undefined
        ? envelopes.bookingRescheduledAll(booking.uid)
        : state.seatMoves.length > moves
        ? envelopes.bookingRescheduled(seatUid)
        : undefined;
      return {
        status: 201,
        body: success(renderBooking(booking.uid, seat ? { seatUid: seat.seatUid } : {})),
        webhook,
      };
    }],
    ["POST", /^\/v2\/bookings\/(?<uid>[^/]+)\/mark-absent$/, ({ params, body }) => {
      const b = asObject(body);
      const attendees = b.attendees === undefined ? undefined : need(
        Array.isArray(b.attendees) &&
          b.attendees.every((a) => typeof a?.email === "string" && typeof a?.absent === "boolean"),
        b.attendees as { email: string; absent: boolean }[],
        "attendees must be [{email, absent}]",
      );
      state.markAbsent(params.uid, { host: typeof b.host === "boolean" ? b.host : undefined, attendees });
      return {
        status: 200,
        body: success(renderBooking(params.uid, { plain: true })),
        webhook: envelopes.noShowUpdated(params.uid, (attendees ?? []).map((a) => a.email)),
      };
    }],
  ];

  function route(
    method: string,
    path: string,
    body: unknown,
    query: URLSearchParams,
  ): Routed {
    for (const [m, re, handler] of routes) {
      if (m !== method) continue;
      const match = re.exec(path);
      if (!match) continue;
      const params = Object.fromEntries(
        Object.entries(match.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]),
      );
      return handler({ params, body, query });
    }
    throw new EmulatorHttpError(404, "NotFoundException", `Cannot ${method} ${path}`);
  }

  function check(direction: "request" | "response", rec: RecordedRequest, problems: string[], status?: number) {
    if (problems.length === 0) return;
    const op = contract?.findOperation(rec.method, rec.path);
    violations.push({ direction, method: rec.method, path: rec.path, operationId: op?.operationId, status, problems });
  }

  async function serve(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const text = await request.text();
    const headers = Object.fromEntries([...request.headers].map(([k, v]) => [k.toLowerCase(), v]));
    const rec: RecordedRequest = { method: request.method, path: url.pathname, query: url.search.slice(1), headers };
    requests.push(rec);
    let body: unknown = undefined;
    let bodyError: string | undefined;
    if (text) {
      try {
        rec.body = body = JSON.parse(text);
      } catch {
        bodyError = "request body is not valid JSON";
      }
    }
    if (contract) {
      const problems = contract.checkRequest({ method: rec.method, url: url.pathname + url.search, headers, body });
      check("request", rec, bodyError ? [bodyError, ...problems] : problems);
    }

    const reply = (status: number, json: unknown, extra: Record<string, string> = {}): Response => {
      rec.status = status;
      rec.responseBody = json;
      if (contract) {
        check("response", rec, contract.checkResponse(rec.method, rec.path, { status, body: json }), status);
      }
      return Response.json(json, { status, headers: extra });
    };
    const fail = (
      status: number,
      code: string,
      message: string,
      extra: Record<string, string> = {},
      details?: unknown,
    ) => reply(status, failure(url.pathname, code, message, details), extra);

    const fault = faults.shift();
    if (fault && "hang" in fault) {
      await release.promise; // until down() or close(): the client gives up first
      return fail(504, "GatewayTimeoutException", "emulated hang ended");
    }
    if (fault) {
      const extra: Record<string, string> = fault.retryAfter ? { "Retry-After": fault.retryAfter } : {};
      if (fault.rawBody !== undefined) {
        rec.status = fault.status;
        if (contract) {
          let json: unknown;
          try {
            rec.responseBody = json = JSON.parse(fault.rawBody);
          } catch {
            check("response", rec, ["response body is not JSON"], fault.status);
          }
          if (json !== undefined) {
            check(
              "response",
              rec,
              contract.checkResponse(rec.method, rec.path, { status: fault.status, body: json }),
              fault.status,
            );
          }
        }
        return new Response(fault.rawBody, {
          status: fault.status,
          headers: { ...extra, "Content-Type": "text/html" },
        });
      }
      const code = fault.code ?? DEFAULT_CODES[fault.status] ?? `HttpException${fault.status}`;
      return fail(fault.status, code, fault.message ?? `emulated ${fault.status}`, extra);
    }

    if (headers["authorization"] !== `Bearer ${apiKey}`) {
      return fail(401, "UnauthorizedException", "Invalid Access Token or API key");
    }
    const expected = familyVersion(url.pathname);
    if (expected !== undefined && headers["cal-api-version"] !== expected) {
      return fail(
        400,
        "BadRequestException",
        `emulator: cal-api-version must be ${expected} for ${url.pathname}, got ${
          headers["cal-api-version"] ?? "none"
        } (real Cal.com would silently answer in an older shape)`,
      );
    }
    if (bodyError) return fail(400, "BadRequestException", bodyError);
    try {
      const out = route(request.method, url.pathname, body, url.searchParams);
      if (out.webhook) {
        const sent = fire(out.webhook);
        if (webhookTiming === "before-response") await sent;
      }
      const late = lateAnswers.findIndex((l) =>
        l.method === request.method &&
        (typeof l.path === "string" ? l.path === url.pathname : l.path.test(url.pathname))
      );
      if (late >= 0) {
        const [l] = lateAnswers.splice(late, 1);
        await l.onHeld?.();
        await new Promise((r) => setTimeout(r, l.ms));
      }
      return reply(out.status, out.body);
    } catch (e) {
      if (e instanceof EmulatorHttpError) return fail(e.status, e.code, e.message, {}, e.details);
      return fail(500, "InternalServerErrorException", e instanceof Error ? e.message : String(e));
    }
  }

  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  let port = 0;
  const listen = () => {
    server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, serve);
    port = server.addr.port;
  };
  const stop = async () => {
    if (!server) return;
    const s = server;
    server = undefined;
    release.resolve();
    await s.shutdown();
    release = Promise.withResolvers<void>();
  };
  listen();

  const source = (bookingUid: string) => {
    const booking = state.booking(bookingUid);
    return { booking, eventType: state.eventType(booking.eventTypeId), organizer, appUrl };
  };
  const sign = (envelope: Record<string, unknown>) => hooks.signWebhook(webhookSecret, envelope);
  const clock = () => new Date(now());

  type Envelope = Record<string, unknown>;
  /** The webhook envelopes, built synchronously from the state as it is now. */
  const envelopes = {
    bookingCreated(seatUid: string): Envelope {
      const found = state.findSeat(seatUid);
      if (!found) throw new Error(`no active seat ${seatUid}`);
      return hooks.bookingCreated(source(found.booking.uid), found.booking.seated ? found.seat : undefined, clock());
    },
    bookingCancelled(seatUid: string, reason: string | null = null): Envelope {
      const cancelled = state.cancelledSeats.findLast((c) => c.seat.seatUid === seatUid);
      if (!cancelled) throw new Error(`seat ${seatUid} was not cancelled`);
      return hooks.bookingCancelled(source(cancelled.bookingUid), cancelled.seat, clock(), reason);
    },
    bookingCancelledAll(bookingUid: string): Envelope {
      return hooks.bookingCancelled(source(bookingUid), undefined, clock());
    },
    bookingRescheduled(seatUid: string): Envelope {
      const move = state.seatMoves.findLast((m) => m.seatUid === seatUid);
      if (!move) throw new Error(`seat ${seatUid} was not moved`);
      const found = state.findSeat(seatUid);
      const from = state.booking(move.fromBookingUid);
      return hooks.bookingRescheduled(
        source(move.toBookingUid),
        { uid: from.uid, id: from.id, start: move.fromStart, end: move.fromEnd },
        found?.seat,
        clock(),
      );
    },
    bookingRescheduledAll(newBookingUid: string): Envelope {
      const to = state.booking(newBookingUid);
      if (!to.rescheduledFromUid) throw new Error(`booking ${newBookingUid} was not rescheduled`);
      const from = state.booking(to.rescheduledFromUid);
      return hooks.bookingRescheduled(
        source(to.uid),
        { uid: from.uid, id: from.id, start: from.start, end: from.end },
        undefined,
        clock(),
      );
    },
    noShowUpdated(bookingUid: string, emails?: string[]): Envelope {
      const b = state.booking(bookingUid);
      const attendees = b.seats
        .filter((s) => !emails || emails.includes(s.email))
        .map((s) => ({ email: s.email, noShow: s.absent }));
      return hooks.noShowUpdated(b, attendees, clock());
    },
  };

  const webhooks: EmulatorWebhooks = {
    bookingCreated: (seatUid) => sign(envelopes.bookingCreated(seatUid)),
    bookingCancelled: (seatUid) => sign(envelopes.bookingCancelled(seatUid)),
    bookingCancelledAll: (bookingUid) => sign(envelopes.bookingCancelledAll(bookingUid)),
    bookingRescheduled: (seatUid) => sign(envelopes.bookingRescheduled(seatUid)),
    bookingRescheduledAll: (newBookingUid) => sign(envelopes.bookingRescheduledAll(newBookingUid)),
    noShowUpdated: (bookingUid, emails) => sign(envelopes.noShowUpdated(bookingUid, emails)),
    meetingEnded: (bookingUid) => sign(hooks.meetingEnded(source(bookingUid))),
  };

  /**
   * Fires the webhook of one state change: logged at once (state-change order), then signed and
   * POSTed ONCE, never retried, unless it is to be dropped; the entry gets the status or the error.
   */
  function fire(envelope: Envelope): Promise<void> {
    const url = webhookUrl;
    if (url === undefined) return Promise.resolve();
    const payload = (envelope.payload ?? envelope) as Record<string, unknown>;
    const attendees = Array.isArray(payload.attendees) ? payload.attendees as { email?: unknown }[] : [];
    const entry: WebhookLogEntry = {
      trigger: String(envelope.triggerEvent),
      uid: String(payload.uid ?? payload.bookingUid ?? ""),
      emails: attendees.map((a) => String(a.email)),
      at: new Date(now()).toISOString(),
      url,
    };
    if (typeof payload.attendeeSeatId === "string") entry.attendeeSeatId = payload.attendeeSeatId;
    webhookLog.push(entry);
    const drop = dropNext > 0;
    if (drop) {
      dropNext--;
      entry.dropped = true;
    }
    const timing = webhookTiming;
    const delivery = (async () => {
      try {
        const webhook = entry.webhook = await sign(envelope);
        if (drop) return;
        if (timing === "after-response") await new Promise((r) => setTimeout(r, 0)); // the answer goes first
        const res = await fetch(url, {
          method: "POST",
          headers: webhook.headers,
          body: webhook.body,
          signal: AbortSignal.timeout(webhookTimeoutMs),
        });
        entry.status = res.status;
        entry.responseBody = (await res.text()).slice(0, 4_000);
      } catch (e) {
        entry.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      }
    })();
    inFlight.add(delivery);
    return delivery.finally(() => inFlight.delete(delivery));
  }

  async function waitForWebhooks(): Promise<void> {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  }

  const close = async () => {
    await waitForWebhooks();
    await stop();
  };

  const emulator: CalcomEmulator = {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    apiKey,
    webhookSecret,
    state,
    requests,
    violations,
    requestCount(filter = {}) {
      return requests.filter((r) =>
        (!filter.method || r.method === filter.method.toUpperCase()) &&
        (!filter.path || (typeof filter.path === "string" ? r.path === filter.path : filter.path.test(r.path)))
      ).length;
    },
    failNext(count, fault) {
      for (let i = 0; i < count; i++) faults.push(fault);
    },
    answerLate(method, path, ms, onHeld) {
      lateAnswers.push({ method: method.toUpperCase(), path, ms, onHeld });
    },
    down: stop,
    up() {
      if (!server) listen();
      return Promise.resolve();
    },
    webhooks,
    deliver(target, webhook) {
      return fetch(target, { method: "POST", headers: webhook.headers, body: webhook.body });
    },
    get webhookUrl() {
      return webhookUrl;
    },
    setWebhookUrl(url) {
      webhookUrl = url;
    },
    get webhookTiming() {
      return webhookTiming;
    },
    setWebhookTiming(timing) {
      webhookTiming = timing;
    },
    dropNextWebhooks(count) {
      dropNext += count;
    },
    webhookLog,
    waitForWebhooks,
    close,
    [Symbol.asyncDispose]: close,
  };
  return emulator;
}

function bookingFilter(q: URLSearchParams): BookingFilter {
  const list = (name: string) => q.getAll(name).flatMap((v) => v.split(",")).filter((v) => v !== "");
  const num = (name: string, fallback: number, min: number) => {
    const v = q.get(name);
    if (v === null) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) {
      throw new EmulatorHttpError(400, "BadRequestException", `${name} must be ≥ ${min}`);
    }
    return n;
  };
  const ids = [...list("eventTypeId"), ...list("eventTypeIds")].map(Number);
  const sortStart = q.get("sortStart");
  return {
    eventTypeIds: ids.length ? ids : undefined,
    afterStart: q.get("afterStart") ?? undefined,
    beforeEnd: q.get("beforeEnd") ?? undefined,
    status: list("status"),
    attendeeEmail: q.get("attendeeEmail") ?? undefined,
    bookingUid: q.get("bookingUid") ?? undefined,
    sortStart: sortStart === "asc" || sortStart === "desc" ? sortStart : undefined,
    take: num("take", 100, 1),
    skip: num("skip", 0, 0),
  };
}
