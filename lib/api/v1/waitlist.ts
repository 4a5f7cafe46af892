/** Waitlist: join a full session's FIFO queue, leave it. */
import { PLACE_OWNER, SELF } from "../../access/matrix.ts";
import { z } from "zod";
import { IdSchema } from "../../domain/mod.ts";
import { defineOperation } from "../operation.ts";
import { WAITLIST_RULE } from "../../booking/waitlist_order.ts";
import { callerUserId, learnerFor } from "./access.ts";
import {
  CourseWaitlistInputSchema,
  joinCourseWaitlist,
  leaveCourseWaitlist,
  listCourseWaitlists,
} from "../../booking/course_waitlist.ts";
import { BUSY_RESPONSE, ErrorSchema, WaitlistViewSchema } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });
const TAG = "Waitlist";

export const joinWaitlist = defineOperation({
  method: "post",
  path: "/v1/waitlist",
  operationId: "joinWaitlist",
  tag: TAG,
  summary: "Join a full session's waitlist (sooner compliance deadline first, then first come)",
  description: `${WAITLIST_RULE} When a seat frees, the first learner in that order gets an offer: a hold ` +
    "lasting 24 h (2 h when the session starts within 48 h, never past the start) that they confirm with " +
    "POST /v1/bookings.",
  access: PLACE_OWNER,
  idempotency: "stored",
  body: z.strictObject({
    sessionId: IdSchema,
    learnerId: IdSchema.optional().describe("admins, or the session's instructor: for another learner"),
  }),
  responses: {
    201: { description: "The entry and the learner's 1-based position", schema: WaitlistViewSchema },
    403: err("forbidden: not your place, and you are neither an admin nor this session's instructor"),
    404: err("No such session"),
    409: err("seats_available, waitlist_closed, already_waitlisted, already_booked, session_cancelled"),
    422: err("prerequisites_missing"),
    503: BUSY_RESPONSE,
  },
  async handler(ctx) {
    const learnerId = learnerFor(ctx.requirePrincipal(), ctx.body.learnerId);
    const out = await ctx.services.engine.joinWaitlist(ctx.body.sessionId, learnerId, ctx.actor());
    return { status: 201, body: out };
  },
});

export const leaveWaitlist = defineOperation({
  method: "delete",
  path: "/v1/waitlist/{sessionId}",
  operationId: "leaveWaitlist",
  tag: TAG,
  summary: "Leave a waitlist (a pending offer is declined and passes to the next learner)",
  access: PLACE_OWNER,
  params: z.strictObject({ sessionId: IdSchema }),
  query: z.strictObject({
    learnerId: IdSchema.optional().describe("admins, or the session's instructor: for another learner"),
  }),
  responses: {
    200: {
      description: "Left",
      schema: z.object({ sessionId: IdSchema, learnerId: IdSchema, left: z.literal(true) }),
    },
    403: err("forbidden: not your place, and you are neither an admin nor this session's instructor"),
    404: err("not_on_waitlist"),
    503: BUSY_RESPONSE,
  },
  async handler(ctx) {
    const learnerId = learnerFor(ctx.requirePrincipal(), ctx.query.learnerId);
    await ctx.services.engine.leaveWaitlist(ctx.params.sessionId, learnerId, ctx.actor());
    return { status: 200, body: { sessionId: ctx.params.sessionId, learnerId, left: true } };
  },
});

const COURSE_TAG = "Course-wide waitlist";

const CourseWaitlistViewSchema = z.object({
  entry: z.object({
    id: IdSchema,
    courseId: IdSchema,
    learnerId: IdSchema,
    joinedAt: z.string(),
    from: z.string().nullable(),
    to: z.string().nullable(),
    maxKm: z.number().nullable(),
    deadline: z.string().nullable(),
    sessionIds: z.array(IdSchema).describe("sessions joined when the entry was made; `sessions` lists them all"),
    offer: z.object({ holdId: IdSchema, sessionId: IdSchema, expiresAt: z.string() }).nullable(),
  }),
  courseTitle: z.string(),
  sessions: z.array(z.object({
    sessionId: IdSchema,
    startsAt: z.string(),
    timeZone: z.string(),
    status: z.enum(["waiting", "offered", "left", "converted"]),
  })),
}).meta({ id: "CourseWaitlistView" });

export const joinCourseWaitlistOp = defineOperation({
  method: "post",
  path: "/v1/course-waitlist",
  operationId: "joinCourseWaitlist",
  tag: COURSE_TAG,
  summary: "Any date that suits me: wait for a seat in any session of a course within your dates and distance",
  description: "Puts the caller on the waitlist of every upcoming session of the course that starts within " +
    "`from`..`to` (each session's local date) and, with `maxKm`, lies within that distance of their preferred " +
    "location (online sessions always count). The first seat freed in any of them is offered (a hold with an " +
    "expiry, one live offer at a time; a session with a free seat now offers it at once); accepting it with " +
    "POST /v1/bookings removes the rest of the entry. Sessions of the course scheduled later (or moved into the " +
    "window or distance, or re-opened) are added to the entry by themselves; one moved out of them drops its place. " +
    WAITLIST_RULE,
  access: SELF,
  body: CourseWaitlistInputSchema,
  responses: {
    201: { description: "The entry and the sessions it waits on", schema: CourseWaitlistViewSchema },
    400: err("invalid_request (e.g. `to` before `from`), learner_required"),
    404: err("course_not_found"),
    409: err("already_on_course_waitlist, no_matching_sessions"),
    422: err("prerequisites_missing, no_preferred_location"),
    503: BUSY_RESPONSE,
  },
  async handler(ctx) {
    const learnerId = callerUserId(ctx.requirePrincipal(), "waitlist");
    const view = await joinCourseWaitlist(ctx.services.engine, learnerId, ctx.body, ctx.actor());
    return { status: 201, body: view };
  },
});

export const leaveCourseWaitlistOp = defineOperation({
  method: "delete",
  path: "/v1/course-waitlist/{courseId}",
  operationId: "leaveCourseWaitlist",
  tag: COURSE_TAG,
  summary: "Leave a course-wide waitlist (every place it holds goes; a pending offer from it is declined)",
  access: SELF,
  params: z.strictObject({ courseId: IdSchema }),
  responses: {
    200: { description: "Left", schema: z.object({ courseId: IdSchema, left: z.literal(true) }) },
    400: err("learner_required"),
    404: err("not_on_course_waitlist"),
    503: BUSY_RESPONSE,
  },
  async handler(ctx) {
    const learnerId = callerUserId(ctx.requirePrincipal(), "waitlist");
    await leaveCourseWaitlist(ctx.services.engine, learnerId, ctx.params.courseId, ctx.actor());
    return { status: 200, body: { courseId: ctx.params.courseId, left: true as const } };
  },
});

export const listMyCourseWaitlists = defineOperation({
  method: "get",
  path: "/v1/me/course-waitlist",
  operationId: "listMyCourseWaitlists",
  tag: COURSE_TAG,
  summary: "The caller's course-wide waitlist entries and the sessions each waits on",
  access: SELF,
  responses: {
    200: { description: "Entries by course title", schema: z.object({ entries: z.array(CourseWaitlistViewSchema) }) },
    400: err("learner_required"),
  },
  async handler(ctx) {
    const learnerId = callerUserId(ctx.requirePrincipal(), "waitlist");
    return { status: 200, body: { entries: await listCourseWaitlists(ctx.services.kv, learnerId) } };
  },
});

/** Every waitlist operation. */
export const waitlistOperations = [
  joinWaitlist,
  leaveWaitlist,
  joinCourseWaitlistOp,
  leaveCourseWaitlistOp,
  listMyCourseWaitlists,
];
