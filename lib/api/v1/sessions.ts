/** Sessions: browse (public), day slots per hub, and the staff lifecycle (schedule, update, cancel). */
import { SESSION_STAFF } from "../../access/matrix.ts";
import { z } from "zod";
import { getAvailability } from "../../booking/availability.ts";
import { browseSessions, earliestUpcomingDate, getSessionDetail, toDateProblem } from "../../catalog/browse.ts";
import {
  type Course,
  IdSchema,
  PROGRAM_TYPES,
  type Session,
  SESSION_MODES,
  SessionSchema,
  TimeZoneSchema,
  TOPICS,
  UtcDateTimeSchema,
  zonedWallTimeToUtc,
} from "../../domain/mod.ts";
import { assertMayManageSession } from "../../booking/access.ts";
import { joinLinkFor } from "../../booking/join_link.ts";
import { getCourse, getLocation, getSession, isSessionCursor, listSessions } from "../../store/mod.ts";
import { localDate } from "../../catalog/format.ts";
import { ApiError } from "../errors.ts";
import { defineOperation } from "../operation.ts";
import { BUSY_RESPONSE, DateSchema, ErrorSchema, IdParams, presentSession, SessionViewSchema } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });
const TAG = "Sessions";

export const listSessionsOp = defineOperation({
  method: "get",
  path: "/v1/sessions",
  operationId: "listSessions",
  tag: TAG,
  summary: "Upcoming sessions, soonest first, with seats left",
  description: "Dates are the session's local calendar date. Page on with `cursor` = the previous `nextCursor`.",
  access: "public",
  query: z.strictObject({
    from: DateSchema.optional(),
    to: DateSchema.optional(),
    location: z.union([IdSchema, z.literal("online")]).optional().describe("a location id, or `online`"),
    topic: z.enum(TOPICS).optional(),
    program: z.enum(PROGRAM_TYPES).optional(),
    mode: z.enum(SESSION_MODES).optional(),
    q: z.string().max(100).optional().describe("words that must all appear in the course title or code"),
    cursor: z.string().min(1).max(500).refine(isSessionCursor, "is not a nextCursor of this list").optional(),
    limit: z.coerce.number().int().min(1).max(100).default(24),
  }),
  responses: {
    200: {
      description: "One page",
      schema: z.object({ sessions: z.array(SessionViewSchema), nextCursor: z.string().nullable() }),
    },
    400: err("A filter or the cursor is not valid"),
  },
  async handler(ctx) {
    const { limit, ...filters } = ctx.query;
    const now = ctx.services.engine.now();
    const toProblem = toDateProblem(filters, now);
    if (toProblem === "before_from") {
      throw new ApiError(400, "invalid_request", "`to` is before `from`.", {
        issues: [{ path: "query.to", message: "must not be before from" }],
      });
    }
    if (toProblem === "past") {
      const earliest = earliestUpcomingDate(now);
      throw new ApiError(400, "invalid_request", `\`to\` is in the past: only upcoming sessions are listed.`, {
        issues: [{ path: "query.to", message: `must not be before ${earliest}` }],
      });
    }
    const page = await browseSessions(ctx.services.kv, filters, now, limit);
    return {
      status: 200,
      body: {
        sessions: page.rows.map((r) => presentSession(r.session, r.course, r.location, r.availability)),
        nextCursor: page.nextCursor,
      },
    };
  },
});

export const getSessionOp = defineOperation({
  method: "get",
  path: "/v1/sessions/{id}",
  operationId: "getSession",
  tag: TAG,
  summary: "One session: seats left, waitlist length, prerequisites",
  description: "`session.joinUrl` is shown only to the session's instructor, admins and learners booked in it.",
  access: "public",
  params: IdParams,
  responses: {
    200: {
      description: "The session",
      schema: SessionViewSchema.extend({
        prerequisites: z.array(z.object({ id: IdSchema, code: z.string(), title: z.string() })),
      }),
    },
    404: err("No such session"),
  },
  async handler(ctx) {
    const d = await getSessionDetail(ctx.services.kv, ctx.params.id, ctx.services.engine.now());
    if (!d) throw new ApiError(404, "session_not_found", `No session with id ${ctx.params.id}.`);
    const joinUrl = await joinLinkFor(ctx.services.kv, ctx.principal, d.session);
    return {
      status: 200,
      body: {
        ...presentSession(d.session, d.course, d.location, d.availability, joinUrl),
        prerequisites: d.prerequisites.map((c) => ({ id: c.id, code: c.code, title: c.title })),
      },
    };
  },
});

export const listSlots = defineOperation({
  method: "get",
  path: "/v1/slots",
  operationId: "listSlots",
  tag: TAG,
  summary: "A training center's sessions on one local date, with seats left",
  access: "public",
  query: z.strictObject({ hub: IdSchema.describe("location id"), date: DateSchema.describe("the hub's local date") }),
  responses: {
    200: {
      description: "The day's sessions at the hub, by start time",
      schema: z.object({
        hub: IdSchema,
        date: z.string(),
        timeZone: z.string(),
        slots: z.array(z.object({
          sessionId: IdSchema,
          courseId: IdSchema,
          courseTitle: z.string(),
          startsAt: z.string(),
          endsAt: z.string(),
          seatsLeft: z.number().int(),
          state: z.string(),
        })),
      }),
    },
    404: err("No such hub"),
  },
  async handler(ctx) {
    const { kv, engine } = ctx.services;
    const hub = await getLocation(kv, ctx.query.hub);
    if (!hub) throw new ApiError(404, "location_not_found", `No training center with id ${ctx.query.hub}.`);
    const [year, month, day] = ctx.query.date.split("-").map(Number);
    const from = zonedWallTimeToUtc({ year, month, day, hour: 0, minute: 0 }, hub.timeZone);
    const to = new Date(from.getTime() + 30 * 3_600_000);
    const page = await listSessions(kv, {
      locationId: hub.id,
      from: from.toISOString(),
      to: to.toISOString(),
      limit: 200,
    });
    const sessions = page.sessions.filter((s) => localDate(s.startsAt, hub.timeZone) === ctx.query.date);
    const courses = new Map<string, Course | null>();
    for (const s of sessions) if (!courses.has(s.courseId)) courses.set(s.courseId, await getCourse(kv, s.courseId));
    const avail = await getAvailability(kv, sessions, engine.now());
    return {
      status: 200,
      body: {
        hub: hub.id,
        date: ctx.query.date,
        timeZone: hub.timeZone,
        slots: sessions.map((s) => ({
          sessionId: s.id,
          courseId: s.courseId,
          courseTitle: courses.get(s.courseId)?.title ?? s.courseId,
          startsAt: s.startsAt,
          endsAt: s.endsAt,
          seatsLeft: avail.get(s.id)!.seatsLeft,
          state: avail.get(s.id)!.state,
        })),
      },
    };
  },
});

/** Sessions are scheduled for the future only. */
function assertFuture(startsAt: string, now: Date): void {
  if (Date.parse(startsAt) <= now.getTime()) {
    throw new ApiError(400, "invalid_request", "startsAt must be in the future.", {
      issues: [{ path: "body.startsAt", message: "must be in the future" }],
    });
  }
}

async function requireSession(kv: Deno.Kv, id: string): Promise<Session> {
  const s = await getSession(kv, id);
  if (!s) throw new ApiError(404, "session_not_found", `No session with id ${id}.`);
  return s;
}

export const scheduleSession = defineOperation({
  method: "post",
  path: "/v1/sessions",
  operationId: "scheduleSession",
  tag: TAG,
  summary: "Schedule a session (admin, or an instructor for themself)",
  description: "`endsAt` defaults to the course's duration; `timeZone` to the location's (required when online).",
  access: SESSION_STAFF,
  idempotency: "stored",
  body: z.strictObject({
    courseId: IdSchema,
    startsAt: UtcDateTimeSchema,
    endsAt: UtcDateTimeSchema.optional(),
    timeZone: TimeZoneSchema.optional(),
    mode: z.enum(SESSION_MODES),
    locationId: IdSchema.nullable().optional(),
    joinUrl: z.url({ protocol: /^https?$/ }).nullable().optional(),
    capacity: z.number().int().min(1).max(10000),
    instructorId: IdSchema.optional().describe("defaults to the calling instructor"),
    waitlistEnabled: z.boolean().optional(),
    holdMinutes: z.number().int().min(1).max(1440).nullable().optional()
      .describe("this session's hold length in minutes (null: the course's and the rules')"),
    lateCancelCutoffHours: z.number().int().min(0).max(720).nullable().optional()
      .describe("this session's late-cancel cut-off in hours (null: the course's)"),
  }),
  responses: {
    201: { description: "The scheduled session", schema: z.object({ session: SessionSchema }) },
    400: err("Invalid fields, unknown course, location or instructor"),
    403: err("An instructor scheduling for someone else"),
    503: BUSY_RESPONSE,
  },
  async handler(ctx) {
    const principal = ctx.requirePrincipal();
    const { kv, engine } = ctx.services;
    const b = ctx.body;
    const instructorId = b.instructorId ?? principal.userId;
    if (!instructorId) {
      throw new ApiError(400, "instructor_required", "Name the instructor with instructorId.");
    }
    assertMayManageSession(principal, { instructorId });
    assertFuture(b.startsAt, engine.now());
    const course = await getCourse(kv, b.courseId);
    const location = b.locationId ? await getLocation(kv, b.locationId) : null;
    const timeZone = b.timeZone ?? location?.timeZone;
    if (!timeZone) {
      throw new ApiError(400, "invalid_request", "timeZone is required for sessions without a location.", {
        issues: [{ path: "body.timeZone", message: "is required when there is no location" }],
      });
    }
    const endsAt = b.endsAt ??
      (course ? new Date(Date.parse(b.startsAt) + course.durationMinutes * 60_000).toISOString() : b.startsAt);
    const session = await engine.scheduleSession({
      courseId: b.courseId,
      startsAt: b.startsAt,
      endsAt,
      timeZone,
      mode: b.mode,
      locationId: b.locationId ?? null,
      joinUrl: b.joinUrl ?? null,
      capacity: b.capacity,
      instructorId,
      waitlistEnabled: b.waitlistEnabled ?? true,
      holdMinutes: b.holdMinutes ?? null,
      lateCancelCutoffHours: b.lateCancelCutoffHours ?? null,
    }, ctx.actor());
    return { status: 201, body: { session }, headers: { location: `/api/v1/sessions/${session.id}` } };
  },
});

export const updateSession = defineOperation({
  method: "patch",
  path: "/v1/sessions/{id}",
  operationId: "updateSession",
  tag: TAG,
  summary: "Change a session (capacity cannot drop below the seats taken)",
  description: "Raising capacity offers the new seats to the waitlist first.",
  access: SESSION_STAFF,
  params: IdParams,
  body: z.strictObject({
    startsAt: UtcDateTimeSchema.optional(),
    endsAt: UtcDateTimeSchema.optional(),
    timeZone: TimeZoneSchema.optional(),
    mode: z.enum(SESSION_MODES).optional(),
    locationId: IdSchema.nullable().optional(),
    joinUrl: z.url({ protocol: /^https?$/ }).nullable().optional(),
    capacity: z.number().int().min(1).max(10000).optional(),
    instructorId: IdSchema.optional(),
    waitlistEnabled: z.boolean().optional(),
    holdMinutes: z.number().int().min(1).max(1440).nullable().optional()
      .describe("this session's hold length in minutes (null: the course's and the rules')"),
    lateCancelCutoffHours: z.number().int().min(0).max(720).nullable().optional()
      .describe("this session's late-cancel cut-off in hours (null: the course's)"),
    reason: z.string().trim().min(1).max(500).optional(),
    ifUpdatedAt: UtcDateTimeSchema.optional().describe(
      "the session's updatedAt as you last read it: the change is refused (409 stale_edit) if it changed since",
    ),
  }),
  responses: {
    200: { description: "The updated session", schema: z.object({ session: SessionSchema }) },
    400: err("Invalid fields"),
    403: err("Not an admin, nor this session's instructor (an instructor hands a session only to themself)"),
    404: err("No such session"),
    409: err("capacity_below_taken (details.taken), session_cancelled, stale_edit (details.current: the session now)"),
    503: BUSY_RESPONSE,
  },
  async handler(ctx) {
    const principal = ctx.requirePrincipal();
    const current = await requireSession(ctx.services.kv, ctx.params.id);
    assertMayManageSession(principal, current);
    const { reason, ifUpdatedAt, ...patch } = ctx.body;
    if (patch.startsAt) assertFuture(patch.startsAt, ctx.services.engine.now());
    if (patch.instructorId && patch.instructorId !== current.instructorId) {
      assertMayManageSession(principal, { instructorId: patch.instructorId });
    }
    const session = await ctx.services.engine.updateSession(ctx.params.id, patch, ctx.actor(reason), { ifUpdatedAt });
    return { status: 200, body: { session } };
  },
});

export const cancelSession = defineOperation({
  method: "post",
  path: "/v1/sessions/{id}/cancel",
  operationId: "cancelSession",
  tag: TAG,
  summary: "Cancel a session with all its bookings, holds, offers and waitlist",
  access: SESSION_STAFF,
  idempotency: "stored",
  params: IdParams,
  body: z.strictObject({ reason: z.string().trim().min(1).max(500).optional() }),
  bodyOptional: true,
  responses: {
    200: {
      description: "What was cancelled",
      schema: z.object({
        session: SessionSchema,
        cancelledBookings: z.number().int().describe("confirmed bookings cancelled"),
        releasedHolds: z.number().int().describe("live holds and waitlist offers released"),
        expiredHolds: z.number().int().describe("holds and offers already past their time, ended as expired"),
        removedWaitlist: z.number().int().describe("waiting learners removed from the waitlist"),
      }),
    },
    403: err("Not an admin, nor this session's instructor"),
    404: err("No such session"),
    409: err("session_cancelled: already cancelled"),
    503: BUSY_RESPONSE,
  },
  async handler(ctx) {
    const principal = ctx.requirePrincipal();
    const current = await requireSession(ctx.services.kv, ctx.params.id);
    assertMayManageSession(principal, current);
    const out = await ctx.services.engine.cancelSession(ctx.params.id, ctx.actor(ctx.body.reason ?? null));
    return { status: 200, body: out };
  },
});

/** Every session operation. */
export const sessionOperations = [
  listSessionsOp,
  getSessionOp,
  listSlots,
  scheduleSession,
  updateSession,
  cancelSession,
];
