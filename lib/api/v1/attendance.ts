/**
 * Instructors and attendance: the instructor's sessions, a session's roster, marks, all present,
 * self check-in, the audit, and closing attendance (lib/attendance/).
 */
import { z } from "zod";
import { PLACE_OWNER, SELF, SESSION_STAFF } from "../../access/matrix.ts";
import { recordHeartbeat, recordJoin, recordLeave } from "../../attendance/online.ts";
import { answerRsvp, RSVP_STATUSES } from "../../attendance/rsvp.ts";
import { addRecording, openRecording, reportProgress } from "../../attendance/recording.ts";
import { learnerFor } from "./access.ts";
import { closeAttendance } from "../../attendance/close.ts";
import { listAttendanceAudit, markAllPresent, markAttendance, MARKS, selfCheckIn } from "../../attendance/marks.ts";
import { getRoster, listTeachSessions } from "../../attendance/roster.ts";
import { attendanceSettingsOf } from "../../attendance/windows.ts";
import { assertMayManageSession } from "../../booking/access.ts";
import { notFound } from "../../booking/errors.ts";
import { IdSchema } from "../../domain/mod.ts";
import { listBookingsBySession } from "../../store/bookings.ts";
import { getSession } from "../../store/sessions.ts";
import { ApiError } from "../errors.ts";
import { defineOperation } from "../operation.ts";
import { ErrorSchema, IdParams } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });
const TAG = "Attendance";

const Time = z.string().nullable();
const WindowSchema = z.object({ opensAt: z.string(), closesAt: z.string() });
const MarkSchema = z.enum(MARKS);
const OUTCOMES = ["completed", "attended", "no_show", "excused"] as const;

/** The stored attendance record of one learner. */
const AttendanceRecordViewSchema = z.object({
  sessionId: IdSchema,
  learnerId: IdSchema,
  bookingId: IdSchema,
  status: z.enum(["attended", "no_show", "excused"]),
  mark: MarkSchema.nullable().optional(),
  checkInAt: Time.optional(),
  checkOutAt: Time.optional(),
  method: z.enum(["in_person", "online"]).optional(),
  revision: z.number().int().min(1).optional().describe("send it back as expectedRevision with the next mark"),
  outcome: z.enum(OUTCOMES).optional(),
  recordedAt: z.string(),
  recordedBy: IdSchema.nullable(),
  origin: z.string(),
  source: z.string(),
}).meta({ id: "AttendanceRecord" });

const RosterSchema = z.object({
  session: z.object({
    id: IdSchema,
    startsAt: z.string(),
    endsAt: z.string(),
    timeZone: z.string(),
    mode: z.string(),
    capacity: z.number().int(),
    status: z.string(),
    instructorId: IdSchema,
  }),
  course: z.object({ id: IdSchema, code: z.string(), title: z.string() }),
  phase: z.enum(["scheduled", "live", "ended", "cancelled"]),
  attendance: z.object({
    state: z.enum(["not_open", "open", "closed"]),
    checkIn: WindowSchema.describe("self check-in: from the rule checkInWindowMinutes before the start to the end"),
    marks: WindowSchema.describe("marks and corrections: until attendanceCloseDays after the end"),
    closed: z.unknown().nullable(),
  }),
  counts: z.record(z.string(), z.number().int()),
  completionRule: z.string(),
  checkInCode: z.string().describe("the short code learners type (or scan as a QR code) to check in"),
  rows: z.array(z.object({
    learnerId: IdSchema,
    bookingId: IdSchema,
    name: z.string(),
    email: z.string(),
    dealer: z.string().nullable(),
    missingPrerequisites: z.array(z.string()),
    mark: MarkSchema.nullable(),
    status: z.string().nullable(),
    checkInAt: Time,
    checkOutAt: Time,
    minutes: z.number().int().nullable(),
    revision: z.number().int().min(0),
    outcome: z.enum(OUTCOMES).nullable(),
    online: z.object({ joinCount: z.number().int(), minutes: z.number().int(), inMeeting: z.boolean() }).nullable(),
    rsvp: z.enum(RSVP_STATUSES).nullable(),
  })),
}).meta({ id: "Roster" });

const settingsOf = (ctx: { services: { config: Parameters<typeof attendanceSettingsOf>[0] } }) =>
  attendanceSettingsOf(ctx.services.config);

export const listTeachingOp = defineOperation({
  method: "get",
  path: "/v1/me/teaching",
  operationId: "listMyTeaching",
  tag: TAG,
  summary: "The caller's sessions as instructor: upcoming (and live) and recent, with seats and states",
  access: SESSION_STAFF,
  responses: {
    200: {
      description: "Upcoming sessions (soonest first) and recent ones (latest first)",
      schema: z.object({ upcoming: z.array(z.unknown()), recent: z.array(z.unknown()) }),
    },
    400: err("The admin token has no sessions of its own"),
  },
  async handler(ctx) {
    const p = ctx.requirePrincipal();
    if (!p.userId) throw new ApiError(400, "user_required", "The admin token teaches no sessions; sign in as a user.");
    const s = ctx.services;
    return { status: 200, body: await listTeachSessions(s.kv, p.userId, s.engine.now(), settingsOf(ctx)) };
  },
});

export const getRosterOp = defineOperation({
  method: "get",
  path: "/v1/sessions/{id}/roster",
  operationId: "getRoster",
  tag: TAG,
  summary: "A session's roster: booked learners with dealer, prerequisites and attendance (its instructor, admins)",
  access: SESSION_STAFF,
  params: IdParams,
  responses: {
    200: { description: "The roster", schema: RosterSchema },
    403: err("forbidden: not this session's instructor"),
    404: err("No such session"),
  },
  async handler(ctx) {
    const s = ctx.services;
    const roster = await getRoster(s.kv, ctx.params.id, ctx.requirePrincipal(), s.engine.now(), settingsOf(ctx));
    return { status: 200, body: roster };
  },
});

export const markAttendanceOp = defineOperation({
  method: "put",
  path: "/v1/sessions/{id}/attendance/marks/{learnerId}",
  operationId: "markAttendance",
  tag: TAG,
  summary: "Mark a booked learner present, late, absent or excused (or correct a mark) until attendance closes",
  description: "Name the revision you saw (`expectedRevision`, 0 when nothing was recorded): when the record has " +
    "changed since, the mark is refused with 409 `stale_mark` and `details.current`, the record now stored, so a " +
    "later mark never silently overwrites a newer one. Every change, and every refused stale mark, is audited.",
  access: SESSION_STAFF,
  params: z.strictObject({ id: IdSchema, learnerId: IdSchema }),
  body: z.strictObject({
    mark: MarkSchema,
    expectedRevision: z.number().int().min(0).max(1_000_000),
    checkInAt: z.iso.datetime({ offset: true }).nullable().optional().describe("corrections; default now"),
    checkOutAt: z.iso.datetime({ offset: true }).nullable().optional(),
    checkOut: z.boolean().optional().describe("set the check-out time to now"),
  }),
  responses: {
    200: { description: "The record now stored", schema: AttendanceRecordViewSchema },
    403: err("forbidden: not this session's instructor"),
    404: err("not_on_roster: the learner has no confirmed booking in this session; or no such session"),
    409: err("outside_window (the window in the message), stale_mark (details.current), attendance_closed"),
    422: err("invalid_time: check-out before check-in"),
    503: err("busy"),
  },
  async handler(ctx) {
    const s = ctx.services;
    const record = await markAttendance(
      s.kv,
      { sessionId: ctx.params.id, learnerId: ctx.params.learnerId, ...ctx.body },
      ctx.actor(),
      s.engine.now(),
      settingsOf(ctx),
    );
    return { status: 200, body: record };
  },
});

export const markAllPresentOp = defineOperation({
  method: "post",
  path: "/v1/sessions/{id}/attendance/all-present",
  operationId: "markAllPresent",
  tag: TAG,
  summary: "Mark every booked learner without a mark present (marked learners keep theirs)",
  access: SESSION_STAFF,
  params: IdParams,
  responses: {
    200: {
      description: "Who was marked, who kept an earlier mark",
      schema: z.object({ marked: z.array(IdSchema), skipped: z.array(IdSchema) }),
    },
    403: err("forbidden: not this session's instructor"),
    404: err("No such session"),
    409: err("outside_window, attendance_closed"),
  },
  async handler(ctx) {
    const s = ctx.services;
    const session = await getSession(s.kv, ctx.params.id);
    if (!session) throw notFound("session", ctx.params.id);
    assertMayManageSession(ctx.requirePrincipal(), session);
    const learners = (await listBookingsBySession(s.kv, session.id, { status: "confirmed" })).map((b) => b.learnerId);
    const out = await markAllPresent(s.kv, session.id, learners, ctx.actor(), s.engine.now(), settingsOf(ctx));
    return { status: 200, body: out };
  },
});

export const closeAttendanceOp = defineOperation({
  method: "post",
  path: "/v1/sessions/{id}/attendance/close",
  operationId: "closeAttendance",
  tag: TAG,
  summary: "Close attendance: each booked learner becomes completed, attended, no-show (never marked) or excused",
  description: "Completion adds the course to the learner's completed courses (unlocking courses that require " +
    "it) and emits course.completed; every learner gets a final attendance.recorded. The worker closes " +
    "attendance by itself attendanceCloseDays after the end.",
  access: SESSION_STAFF,
  params: IdParams,
  responses: {
    200: {
      description: "The close record",
      schema: z.object({
        sessionId: IdSchema,
        closedAt: z.string(),
        closedBy: IdSchema.nullable(),
        automatic: z.boolean(),
        counts: z.record(z.enum(OUTCOMES), z.number().int()),
      }),
    },
    403: err("forbidden: not this session's instructor"),
    404: err("No such session"),
    409: err("session_not_ended, attendance_closed"),
  },
  async handler(ctx) {
    const s = ctx.services;
    return { status: 200, body: await closeAttendance(s.kv, ctx.params.id, ctx.actor(), s.engine.now()) };
  },
});

export const listAttendanceAuditOp = defineOperation({
  method: "get",
  path: "/v1/sessions/{id}/attendance/audit",
  operationId: "listAttendanceAudit",
  tag: TAG,
  summary: "Every attendance change of a session, and every mark refused as stale, oldest first",
  access: SESSION_STAFF,
  params: IdParams,
  responses: {
    200: { description: "The audit", schema: z.object({ entries: z.array(z.unknown()) }) },
    403: err("forbidden: not this session's instructor"),
    404: err("No such session"),
  },
  async handler(ctx) {
    const s = ctx.services;
    const session = await getSession(s.kv, ctx.params.id);
    if (!session) throw notFound("session", ctx.params.id);
    assertMayManageSession(ctx.requirePrincipal(), session);
    return { status: 200, body: { entries: await listAttendanceAudit(s.kv, session.id) } };
  },
});

export const selfCheckInOp = defineOperation({
  method: "post",
  path: "/v1/sessions/{id}/check-in",
  operationId: "selfCheckIn",
  tag: TAG,
  summary: "A booked learner checks themself in with the session's code (once, inside the check-in window)",
  access: SELF,
  params: IdParams,
  body: z.strictObject({ code: z.string().min(1).max(20) }),
  responses: {
    200: { description: "Checked in (late after lateAfterMinutes)", schema: AttendanceRecordViewSchema },
    400: err("The admin token cannot check in"),
    403: err("wrong_code; not_booked: the caller has no confirmed booking in this session"),
    404: err("No such session"),
    409: err("outside_window (not open yet), already_checked_in, attendance_closed"),
    410: err("code_expired: the session has ended"),
  },
  async handler(ctx) {
    const p = ctx.requirePrincipal();
    if (!p.userId) throw new ApiError(400, "user_required", "Only a signed-in learner can check in.");
    const s = ctx.services;
    const record = await selfCheckIn(
      s.kv,
      { sessionId: ctx.params.id, learnerId: p.userId, code: ctx.body.code },
      ctx.actor(),
      s.engine.now(),
      settingsOf(ctx),
    );
    return { status: 200, body: record };
  },
});

function requireUser(ctx: { requirePrincipal(): { userId: string | null; roles: readonly string[] } }) {
  const p = ctx.requirePrincipal();
  if (!p.userId) throw new ApiError(400, "user_required", "Sign in as a user: the admin token has no seat.");
  return { userId: p.userId, roles: p.roles };
}

export const joinSessionOp = defineOperation({
  method: "post",
  path: "/v1/sessions/{id}/join",
  operationId: "joinSession",
  tag: TAG,
  summary: "Join an online session: records the join (booked learners) and returns the meeting link",
  description: "The page equivalent is GET /sessions/{id}/join, which redirects. The link opens from " +
    "joinOpensMinutes (default 10) before the start until the end. Each join is recorded; time is summed " +
    "over reconnections (leaves: POST …/presence/leave, heartbeats, or Cal.com's MEETING_ENDED).",
  access: PLACE_OWNER,
  params: IdParams,
  responses: {
    200: {
      description: "Where to go",
      schema: z.object({ url: z.url(), recorded: z.boolean(), joinCount: z.number().int().min(0) }),
    },
    400: err("The admin token cannot join"),
    403: err("not_booked: book a seat to join"),
    404: err("No such session"),
    409: err("outside_window (details.window), not_online"),
  },
  async handler(ctx) {
    const s = ctx.services;
    const r = await recordJoin(s.kv, ctx.params.id, requireUser(ctx), s.engine.now(), settingsOf(ctx));
    return { status: 200, body: { url: r.url, recorded: r.recorded, joinCount: r.presence?.joinCount ?? 0 } };
  },
});

export const heartbeatOp = defineOperation({
  method: "post",
  path: "/v1/sessions/{id}/presence/heartbeat",
  operationId: "presenceHeartbeat",
  tag: TAG,
  summary: "The open session page: the learner is still in the meeting (every 30 s)",
  description: "Ignored (200 with `ignored`) when the session has ended, its attendance is closed, or the " +
    "caller has not joined. After more than 90 s of silence the previous stay ends at its last heartbeat.",
  access: SELF,
  params: IdParams,
  responses: {
    200: {
      description: "Participants now and the caller's seconds so far",
      schema: z.object({
        ignored: z.enum(["session_ended", "attendance_closed", "not_joined"]).nullable(),
        participants: z.number().int().min(0),
        seconds: z.number().int().min(0),
      }),
    },
    400: err("The admin token has no presence"),
    404: err("No such session"),
  },
  async handler(ctx) {
    const s = ctx.services;
    const r = await recordHeartbeat(s.kv, ctx.params.id, requireUser(ctx).userId, s.engine.now());
    return { status: 200, body: r };
  },
});

export const leaveOp = defineOperation({
  method: "post",
  path: "/v1/sessions/{id}/presence/leave",
  operationId: "presenceLeave",
  tag: TAG,
  summary: "The learner left the online session (the session page's Leave button or its closing)",
  access: SELF,
  params: IdParams,
  responses: {
    200: { description: "Left (false: was not in it)", schema: z.object({ left: z.boolean() }) },
    400: err("The admin token has no presence"),
    404: err("No such session"),
  },
  async handler(ctx) {
    const s = ctx.services;
    const userId = requireUser(ctx).userId;
    const left = await recordLeave(s.kv, ctx.params.id, userId, s.engine.now(), "page");
    return { status: 200, body: { left: left !== null } };
  },
});

export const answerRsvpOp = defineOperation({
  method: "put",
  path: "/v1/sessions/{id}/rsvp",
  operationId: "answerRsvp",
  tag: TAG,
  summary: "RSVP to an online session: confirmed, tentative or declined; declined may release the seat",
  description: "With `releaseSeat: true` (declined only) the booking is cancelled and the seat offered to the " +
    "first learner on the waitlist, as any cancellation.",
  access: PLACE_OWNER,
  params: IdParams,
  body: z.strictObject({
    status: z.enum(RSVP_STATUSES),
    releaseSeat: z.boolean().optional(),
    learnerId: IdSchema.optional().describe("admins, or the session's instructor: for another learner"),
  }),
  responses: {
    200: {
      description: "The answer, and whether the seat was released",
      schema: z.object({
        rsvp: z.object({
          sessionId: IdSchema,
          learnerId: IdSchema,
          status: z.enum(RSVP_STATUSES),
          at: z.string(),
          by: IdSchema.nullable(),
        }),
        released: z.boolean(),
      }),
    },
    400: err("The admin token must name the learner"),
    403: err("forbidden: not your seat"),
    404: err("not_booked; or no such session"),
    409: err("not_online, session_ended; session_started when releasing after the start"),
    422: err("release_needs_decline"),
    503: err("busy"),
  },
  async handler(ctx) {
    const s = ctx.services;
    const learnerId = learnerFor(ctx.requirePrincipal(), ctx.body.learnerId);
    const out = await answerRsvp(
      s.kv,
      { sessionId: ctx.params.id, learnerId, status: ctx.body.status, release: ctx.body.releaseSeat },
      ctx.actor(),
      s.engine.now(),
      (bookingId, actor) => s.engine.cancelBooking(bookingId, actor),
    );
    return { status: 200, body: { rsvp: out.rsvp, released: out.released !== null } };
  },
});

const RecordingSchema = z.object({
  sessionId: IdSchema,
  url: z.url(),
  durationSeconds: z.number().int(),
  addedAt: z.string(),
  addedBy: IdSchema.nullable(),
  source: z.enum(["staff", "calcom"]),
}).meta({ id: "Recording" });

const ViewSchema = z.object({
  watchedSeconds: z.number(),
  lastAt: z.string(),
  completedAt: z.string().nullable(),
});

export const addRecordingOp = defineOperation({
  method: "put",
  path: "/v1/sessions/{id}/recording",
  operationId: "addRecording",
  tag: TAG,
  summary: "Add (or replace) a session's recording once it has ended; booked learners then see it",
  access: SESSION_STAFF,
  params: IdParams,
  body: z.strictObject({
    url: z.url({ protocol: /^https?$/ }).max(2000),
    durationSeconds: z.number().int().min(1).max(24 * 3600).optional()
      .describe("the recording's length; default the session's scheduled length"),
  }),
  responses: {
    200: { description: "The recording", schema: RecordingSchema },
    403: err("forbidden: not this session's instructor"),
    404: err("No such session"),
    409: err("session_not_ended"),
  },
  async handler(ctx) {
    const s = ctx.services;
    const r = await addRecording(s.kv, { sessionId: ctx.params.id, ...ctx.body }, ctx.actor(), s.engine.now());
    return { status: 200, body: r };
  },
});

export const openRecordingOp = defineOperation({
  method: "post",
  path: "/v1/sessions/{id}/recording/open",
  operationId: "openRecording",
  tag: TAG,
  summary: "A booked learner starts watching the recording (the player page does this on load)",
  description: "Starts the wall clock that caps the next progress report.",
  access: SELF,
  params: IdParams,
  responses: {
    200: {
      description: "The recording and the learner's progress",
      schema: z.object({ recording: RecordingSchema, view: ViewSchema }),
    },
    400: err("The admin token cannot watch"),
    403: err("not_booked"),
    404: err("no_recording; or no such session"),
  },
  async handler(ctx) {
    const s = ctx.services;
    return { status: 200, body: await openRecording(s.kv, ctx.params.id, requireUser(ctx).userId, s.engine.now()) };
  },
});

export const recordingProgressOp = defineOperation({
  method: "post",
  path: "/v1/sessions/{id}/recording/progress",
  operationId: "reportRecordingProgress",
  tag: TAG,
  summary: "Seconds played since the last report (never credited beyond the real time elapsed); 90 % completes",
  access: SELF,
  params: IdParams,
  body: z.strictObject({ playedSeconds: z.number().min(0).max(24 * 3600) }),
  responses: {
    200: {
      description: "Credited seconds, the share watched, and whether this report completed the course",
      schema: z.object({ view: ViewSchema, credited: z.number(), share: z.number(), completedNow: z.boolean() }),
    },
    400: err("The admin token cannot watch"),
    403: err("not_booked"),
    404: err("no_recording; or no such session"),
    409: err("player_not_open: open the recording first"),
  },
  async handler(ctx) {
    const s = ctx.services;
    const userId = requireUser(ctx).userId;
    const r = await reportProgress(
      s.kv,
      { sessionId: ctx.params.id, learnerId: userId, playedSeconds: ctx.body.playedSeconds },
      ctx.actor(),
      s.engine.now(),
    );
    return { status: 200, body: r };
  },
});

/** Every attendance operation. */
export const attendanceOperations = [
  listTeachingOp,
  getRosterOp,
  markAttendanceOp,
  markAllPresentOp,
  closeAttendanceOp,
  listAttendanceAuditOp,
  selfCheckInOp,
  joinSessionOp,
  heartbeatOp,
  leaveOp,
  answerRsvpOp,
  addRecordingOp,
  openRecordingOp,
  recordingProgressOp,
];
