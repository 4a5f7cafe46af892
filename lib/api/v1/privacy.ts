/** Privacy: a person's data export and erasure (admin). Self-service export is the /me/privacy page. */
import { z } from "zod";
import {
  AttendanceRecordSchema,
  BookingSchema,
  HoldSchema,
  UserSchema,
  WaitlistEntrySchema,
} from "../../domain/mod.ts";
import { exportFileName, exportUserData } from "../../privacy/export.ts";
import { endUserSessions } from "../../auth/sessions.ts";
import { eraseUser } from "../../privacy/erase.ts";
import { ApiError } from "../errors.ts";
import { defineOperation, type OperationResult } from "../operation.ts";
import type { Services } from "../../services.ts";
import { ErrorSchema, IdParams } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });
const TAG = "Privacy";

/** The export document (lib/privacy/export.ts). */
export const PersonalDataExportSchema = z.object({
  format: z.string(),
  exportedAt: z.string(),
  profile: UserSchema,
  bookings: z.array(z.looseObject({
    ...BookingSchema.shape,
    calcom: z.object({ sync: z.unknown(), seat: z.unknown() }),
  })),
  attendance: z.array(z.looseObject(AttendanceRecordSchema.shape)),
  holds: z.array(z.looseObject(HoldSchema.shape)),
  waitlist: z.array(z.looseObject(WaitlistEntrySchema.shape)),
  events: z.array(z.looseObject({ id: z.string(), key: z.string(), type: z.string(), occurredAt: z.string() })),
  apiTokens: z.array(z.object({ tokenId: z.string(), label: z.string().nullable(), createdAt: z.string() })),
  preferences: z.object({
    profile: z.looseObject({
      preferredLocationId: z.string().nullable(),
      preferredTimes: z.looseObject({ weekdays: z.array(z.number()), dayParts: z.array(z.string()) }),
    }),
    notifications: z.looseObject({ off: z.array(z.string()), timeZone: z.string().nullable() }).nullable(),
  }).describe("what the person set on /me/profile and /me/notifications (null: never set)"),
  attendanceAudit: z.array(z.looseObject({
    id: z.string(),
    sessionId: z.string(),
    learnerId: z.string(),
    at: z.string(),
    action: z.string(),
  })).describe("every mark, check-in, correction and refused stale mark about the person"),
  onlinePresence: z.array(z.looseObject({
    sessionId: z.string(),
    learnerId: z.string(),
    joinCount: z.number(),
    seconds: z.number(),
    joins: z.array(z.looseObject({ at: z.string(), leftAt: z.string().nullable() })),
  })).describe("online sessions joined"),
  rsvps: z.array(z.looseObject({ sessionId: z.string(), learnerId: z.string(), status: z.string(), at: z.string() })),
  recordingViews: z.array(z.looseObject({
    sessionId: z.string(),
    watchedSeconds: z.number(),
    lastAt: z.string(),
    completedAt: z.string().nullable(),
  })).describe("recordings watched"),
  courseWaitlist: z.array(z.looseObject({
    id: z.string(),
    courseId: z.string(),
    learnerId: z.string(),
    joinedAt: z.string(),
    from: z.string().nullable(),
    to: z.string().nullable(),
    maxKm: z.number().nullable(),
  })).describe("course-wide waitlist entries; their per-session places are in waitlist"),
  alternativesOffered: z.array(z.looseObject({
    sessionId: z.string(),
    offeredAt: z.string(),
    sessionIds: z.array(z.string()),
  })).describe("alternatives to a full session last shown to the person (kept 24 h)"),
  notifications: z.object({
    messages: z.array(z.looseObject({
      id: z.string(),
      kind: z.string(),
      userId: z.string(),
      status: z.string(),
      createdAt: z.string(),
      subject: z.string().nullable(),
    })),
    calendar: z.array(z.looseObject({ bookingId: z.string(), uid: z.string(), sequence: z.number() })),
    pacing: z.looseObject({ windowStartMs: z.number(), count: z.number() }).nullable(),
  }).describe("messages to the person, their calendar invitations' state, the pacing state"),
  compliance: z.object({
    assignments: z.array(z.looseObject({ id: z.string(), courseId: z.string(), dueOn: z.string() })),
    certifications: z.array(z.looseObject({
      courseId: z.string(),
      completedAt: z.string(),
      expiresOn: z.string(),
      status: z.string(),
    })),
    recommendations: z.looseObject({ learnerId: z.string(), computedAt: z.string(), gaps: z.array(z.unknown()) })
      .nullable(),
    alerts: z.array(z.object({ alertId: z.string(), at: z.string() })),
  }).describe("assignments, held certifications, recommendations and alerts sent"),
}).meta({ id: "PersonalDataExport" });

const ErasureRecordSchema = z.object({
  userId: z.string(),
  erasedAt: z.string(),
  erasedBy: z.string().nullable(),
  reason: z.string(),
  correlationId: z.string(),
  status: z.enum(["cancelling", "done"]),
  cancelled: z.object({ bookings: z.number(), holds: z.number(), waitlist: z.number() }),
  pseudonymised: z.object({ events: z.number(), bookings: z.number(), other: z.number() }),
}).meta({ id: "ErasureRecord" });

async function exportResponse(s: Services, userId: string): Promise<OperationResult> {
  const now = s.engine.now();
  const data = await exportUserData(s.kv, userId, now, s.engine.options.compliance);
  if (!data) throw new ApiError(404, "user_not_found", `No user with id ${userId}.`);
  return {
    status: 200,
    body: data,
    headers: {
      "content-disposition": `attachment; filename="${exportFileName(userId, now)}"`,
      "cache-control": "no-store",
    },
  };
}

export const exportUserOp = defineOperation({
  method: "get",
  path: "/v1/users/{id}/export",
  operationId: "exportUserData",
  tag: TAG,
  summary: "Everything held about a person, as one JSON download (admin; GDPR access and portability)",
  access: ["admin"],
  params: IdParams,
  responses: {
    200: { description: "The person's data (Content-Disposition: attachment)", schema: PersonalDataExportSchema },
    404: err("No such user"),
  },
  handler: (ctx) => exportResponse(ctx.services, ctx.params.id),
});

export const exportMyDataOp = defineOperation({
  method: "get",
  path: "/v1/me/export",
  operationId: "exportMyData",
  tag: TAG,
  summary: "Everything held about the caller, as one JSON download (the API twin of /me/privacy)",
  access: "user",
  responses: {
    200: { description: "The caller's data (Content-Disposition: attachment)", schema: PersonalDataExportSchema },
    400: err("The admin token has no person of its own"),
  },
  async handler(ctx) {
    const p = ctx.requirePrincipal();
    if (!p.userId) throw new ApiError(400, "learner_required", "The admin token has no personal data of its own.");
    return await exportResponse(ctx.services, p.userId);
  },
});

export const eraseUserOp = defineOperation({
  method: "post",
  path: "/v1/users/{id}/erase",
  operationId: "eraseUser",
  tag: TAG,
  summary: "Erase a person (admin, with a reason): pseudonymise their data, cancel their future bookings",
  description: "Personal data is removed or pseudonymised everywhere it is held; ids and counters stay, so seat " +
    "counts and reports do not change. Future bookings are cancelled (their Cal.com seats too), holds released, " +
    "waitlist places left. A `user.erased` message goes to the Kafka topic `nlj.privacy.erasure`. Statements " +
    "already in Kafka are immutable: downstream stores erase on that message. Erasing an erased user again " +
    "changes nothing (200, `alreadyErased: true`). Put no personal data in the reason.",
  access: ["admin"],
  params: IdParams,
  body: z.strictObject({
    reason: z.string().trim().min(3).max(500).describe("why (kept in the erasure record; no personal data)"),
  }),
  responses: {
    200: {
      description: "Erased (or erased already)",
      schema: z.object({ erasure: ErasureRecordSchema, alreadyErased: z.boolean() }),
    },
    400: err("No reason given"),
    404: err("No such user"),
  },
  async handler(ctx) {
    const { kv, engine } = ctx.services;
    const result = await eraseUser(kv, engine, ctx.params.id, {
      actor: ctx.actor(null),
      reason: ctx.body.reason,
      endSessions: endUserSessions,
    });
    if (result.outcome === "not_found") throw new ApiError(404, "user_not_found", `No user with id ${ctx.params.id}.`);
    return {
      status: 200,
      body: { erasure: result.record, alreadyErased: result.outcome === "already_erased" },
      headers: { "cache-control": "no-store" },
    };
  },
});

/** Every privacy operation. */
export const privacyOperations = [exportUserOp, exportMyDataOp, eraseUserOp];
