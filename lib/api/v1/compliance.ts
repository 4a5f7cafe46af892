/**
 * Compliance: requirements, assignments, a person's own compliance, a team's or dealer's matrix, and
 * booking a recommended session for a team member (rules: lib/compliance/service.ts).
 */
import { z } from "zod";
import { SELF } from "../../access/matrix.ts";
import type { Principal } from "../../auth/principal.ts";
import { assertMayReadTeam } from "../../booking/access.ts";
import {
  type Acting,
  assignCourse,
  bookForPerson,
  createRequirement,
  getComplianceMatrix,
  getPersonCompliance,
  listAllRequirements,
  removeRequirement,
} from "../../compliance/service.ts";
import { COMPLIANCE_STATES } from "../../compliance/state.ts";
import {
  AssignmentInputSchema,
  AssignmentSchema,
  RequirementInputSchema,
  RequirementSchema,
} from "../../domain/compliance.ts";
import { BookingSchema, CalendarDateSchema, IdSchema } from "../../domain/mod.ts";
import { ApiError } from "../errors.ts";
import { defineOperation } from "../operation.ts";
import { BUSY_RESPONSE, ErrorSchema, IdParams } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });
const TAG = "Compliance";

const CellSchema = z.object({
  courseId: IdSchema,
  state: z.enum(COMPLIANCE_STATES),
  dueOn: CalendarDateSchema.nullable(),
  daysLeft: z.number().int().nullable(),
  completedAt: z.string().nullable(),
  expiresOn: CalendarDateSchema.nullable(),
  seat: z.object({ sessionId: IdSchema, startsAt: z.string(), late: z.boolean() }).nullable(),
});

const GapSchema = z.object({
  courseId: IdSchema,
  state: z.enum(COMPLIANCE_STATES),
  dueOn: CalendarDateSchema.nullable(),
  missingPrerequisites: z.array(IdSchema),
  sessions: z.array(z.object({
    sessionId: IdSchema,
    startsAt: z.string(),
    reasons: z.array(z.string()).describe('why, in words: "same course", "12 km away", "in 3 days"'),
    distanceKm: z.number().nullable(),
    late: z.boolean().describe("starts after the due date"),
  })).max(3),
});

const PersonComplianceSchema = z.object({
  person: z.object({
    id: IdSchema,
    name: z.string(),
    email: z.string(),
    managerId: IdSchema.nullable(),
    dealerId: IdSchema.nullable(),
    jobFunction: z.string().nullable(),
  }),
  cells: z.array(CellSchema),
  certifications: z.array(z.object({
    courseId: IdSchema,
    completedAt: z.string(),
    expiresOn: CalendarDateSchema,
    daysLeft: z.number().int(),
    status: z.enum(["valid", "expiring", "expired"]),
  })),
  gaps: z.array(GapSchema).nullable().describe("from the last compliance scan; null before one"),
  scannedAt: z.string().nullable(),
});

const MatrixSchema = z.object({
  courses: z.array(z.object({ id: IdSchema, code: z.string(), title: z.string() })),
  rows: z.array(PersonComplianceSchema.extend({ level: z.union([z.literal(0), z.literal(1)]) })),
  counts: z.record(z.enum(COMPLIANCE_STATES), z.number().int()),
  filter: z.enum(["all", "overdue", "expiring"]),
});

const FilterQuery = z.enum(["all", "overdue", "expiring"]).default("all")
  .describe("only people with an overdue (or expiring) course");

/** The caller as the compliance rules see them, limited to the roles this operation serves. */
function acting(p: Principal, roles: readonly string[]): Acting {
  return { userId: p.userId, roles: p.roles.filter((r) => roles.includes(r)), dealerId: p.user?.dealerId ?? null };
}

export const listRequirementsOp = defineOperation({
  method: "get",
  path: "/v1/requirements",
  operationId: "listRequirements",
  tag: TAG,
  summary: "Every course requirement (by role, job function or dealer)",
  access: { manager: "any", dealer_admin: "any", admin: "any" },
  responses: {
    200: { description: "The requirements", schema: z.object({ requirements: z.array(RequirementSchema) }) },
  },
  async handler(ctx) {
    return { status: 200, body: { requirements: await listAllRequirements(ctx.services.kv) } };
  },
});

export const createRequirementOp = defineOperation({
  method: "post",
  path: "/v1/requirements",
  operationId: "createRequirement",
  tag: TAG,
  summary: "Require a course for roles, job functions or dealers, once or every N months",
  description: "A person is matched when any of the roles, job functions or dealers is theirs. Admins: any; " +
    "dealer admins: their own dealer only (`dealerIds: [their dealer]`, no roles or job functions). Everyone's " +
    "recommendations are recomputed by the worker.",
  access: { dealer_admin: "own_dealer", admin: "any" },
  body: RequirementInputSchema,
  responses: {
    201: { description: "The requirement", schema: RequirementSchema },
    400: err("invalid_request"),
    403: err("forbidden: a dealer admin naming roles, job functions or another dealer"),
    404: err("course_not_found"),
  },
  async handler(ctx) {
    const p = ctx.requirePrincipal();
    const r = await createRequirement(
      ctx.services.kv,
      acting(p, ["admin", "dealer_admin"]),
      ctx.body,
      ctx.services.engine.now(),
    );
    return { status: 201, body: r };
  },
});

export const deleteRequirementOp = defineOperation({
  method: "delete",
  path: "/v1/requirements/{id}",
  operationId: "deleteRequirement",
  tag: TAG,
  summary: "Remove a requirement (admins any; dealer admins their own dealer's)",
  access: { dealer_admin: "own_dealer", admin: "any" },
  params: IdParams,
  responses: {
    204: { description: "Removed" },
    403: err("forbidden: another dealer's or a global requirement"),
    404: err("requirement_not_found"),
  },
  async handler(ctx) {
    const p = ctx.requirePrincipal();
    await removeRequirement(ctx.services.kv, acting(p, ["admin", "dealer_admin"]), ctx.params.id);
    return { status: 204, body: null };
  },
});

const assignmentResponses = {
  201: { description: "The assignment (replaces an earlier one of the course)", schema: AssignmentSchema },
  400: err("invalid_request, due_date_past"),
  404: err("course_not_found"),
};

export const assignToTeamMemberOp = defineOperation({
  method: "post",
  path: "/v1/team/assignments",
  operationId: "assignToTeamMember",
  tag: TAG,
  summary: "Assign a course to someone on your team (direct reports and their reports), with a due date and a note",
  access: { manager: "own_team", admin: "any" },
  body: AssignmentInputSchema,
  responses: { ...assignmentResponses, 403: err("forbidden: not on your team") },
  async handler(ctx) {
    const p = ctx.requirePrincipal();
    const s = ctx.services;
    const a = await assignCourse(s.kv, acting(p, ["admin", "manager"]), ctx.body, s.engine.now(), s.config.compliance);
    return { status: 201, body: a };
  },
});

export const assignInDealerOp = defineOperation({
  method: "post",
  path: "/v1/dealers/{id}/assignments",
  operationId: "assignInDealer",
  tag: TAG,
  summary: "Assign a course to a person of your dealer, with a due date and a note",
  access: { dealer_admin: "own_dealer", admin: "any" },
  params: IdParams,
  body: AssignmentInputSchema,
  responses: { ...assignmentResponses, 403: err("forbidden: another dealer, or a person not of this dealer") },
  async handler(ctx) {
    const p = ctx.requirePrincipal();
    const s = ctx.services;
    assertMayReadTeam({ ...p, dealerId: p.user?.dealerId }, { dealerId: ctx.params.id });
    // Admins too are held to the dealer named in the path.
    const who: Acting = { userId: p.userId, roles: ["dealer_admin"], dealerId: ctx.params.id };
    const a = await assignCourse(s.kv, who, ctx.body, s.engine.now(), s.config.compliance);
    return { status: 201, body: a };
  },
});

export const getTeamComplianceOp = defineOperation({
  method: "get",
  path: "/v1/team/compliance",
  operationId: "getTeamCompliance",
  tag: TAG,
  summary: "A manager's team (direct reports and their reports) × required courses, with states, dates and " +
    "recommended sessions",
  access: { manager: "own_team", admin: "any" },
  query: z.strictObject({
    managerId: IdSchema.optional().describe("defaults to the caller"),
    filter: FilterQuery,
  }),
  responses: {
    200: { description: "The matrix", schema: MatrixSchema },
    400: err("The admin token must name the manager"),
    403: err("forbidden: another manager's team"),
  },
  async handler(ctx) {
    const p = ctx.requirePrincipal();
    const managerId = ctx.query.managerId ?? p.userId;
    if (!managerId) throw new ApiError(400, "manager_required", "Name the manager with managerId.");
    assertMayReadTeam({ ...p, dealerId: p.user?.dealerId }, { managerId });
    const s = ctx.services;
    const m = await getComplianceMatrix(s.kv, { managerId }, ctx.query.filter, s.engine.now(), s.config.compliance);
    return { status: 200, body: m };
  },
});

export const getDealerComplianceOp = defineOperation({
  method: "get",
  path: "/v1/dealers/{id}/compliance",
  operationId: "getDealerCompliance",
  tag: TAG,
  summary: "A dealer's people × required courses, with states, dates and recommended sessions",
  access: { dealer_admin: "own_dealer", admin: "any" },
  params: IdParams,
  query: z.strictObject({ filter: FilterQuery }),
  responses: { 200: { description: "The matrix", schema: MatrixSchema }, 403: err("forbidden: another dealer") },
  async handler(ctx) {
    const p = ctx.requirePrincipal();
    assertMayReadTeam({ ...p, dealerId: p.user?.dealerId }, { dealerId: ctx.params.id });
    const s = ctx.services;
    const m = await getComplianceMatrix(
      s.kv,
      { dealerId: ctx.params.id },
      ctx.query.filter,
      s.engine.now(),
      s.config.compliance,
    );
    return { status: 200, body: m };
  },
});

export const getMyComplianceOp = defineOperation({
  method: "get",
  path: "/v1/me/compliance",
  operationId: "getMyCompliance",
  tag: TAG,
  summary: "Your required courses with their state, your certifications and their expiry, recommended sessions",
  access: SELF,
  responses: {
    200: { description: "Your compliance", schema: PersonComplianceSchema },
    400: err("The admin token has no person of its own"),
  },
  async handler(ctx) {
    const p = ctx.requirePrincipal();
    if (!p.user) throw new ApiError(400, "user_required", "The admin token has no compliance of its own.");
    const s = ctx.services;
    return { status: 200, body: await getPersonCompliance(s.kv, p.user, s.engine.now(), s.config.compliance) };
  },
});

const BookForBody = z.strictObject({ learnerId: IdSchema, sessionId: IdSchema });
const bookForResponses = {
  201: { description: "The person's confirmed booking", schema: BookingSchema },
  404: err("session_not_found"),
  409: err("session_full, already_booked, session_started, session_cancelled"),
  422: err("prerequisites_missing"),
  503: BUSY_RESPONSE,
};
const BOOK_FOR_DESCRIPTION = "A direct booking in the person's name (not a hold: a hold lasts minutes, too short " +
  "for someone who is not at the screen). It appears in their schedule, and they may cancel it. Every booking " +
  "rule applies.";

export const bookForTeamMemberOp = defineOperation({
  method: "post",
  path: "/v1/team/bookings",
  operationId: "bookForTeamMember",
  tag: TAG,
  summary: "Book a session for someone on your team (e.g. a recommended session for a gap)",
  description: BOOK_FOR_DESCRIPTION,
  access: { manager: "own_team", admin: "any" },
  body: BookForBody,
  responses: { ...bookForResponses, 403: err("forbidden: not on your team") },
  async handler(ctx) {
    const p = ctx.requirePrincipal();
    const b = await bookForPerson(
      ctx.services.engine,
      acting(p, ["admin", "manager"]),
      ctx.body.learnerId,
      ctx.body.sessionId,
      ctx.correlationId,
    );
    return { status: 201, body: b };
  },
});

export const bookInDealerOp = defineOperation({
  method: "post",
  path: "/v1/dealers/{id}/bookings",
  operationId: "bookInDealer",
  tag: TAG,
  summary: "Book a session for a person of your dealer (e.g. a recommended session for a gap)",
  description: BOOK_FOR_DESCRIPTION,
  access: { dealer_admin: "own_dealer", admin: "any" },
  params: IdParams,
  body: BookForBody,
  responses: { ...bookForResponses, 403: err("forbidden: another dealer, or a person not of this dealer") },
  async handler(ctx) {
    const p = ctx.requirePrincipal();
    assertMayReadTeam({ ...p, dealerId: p.user?.dealerId }, { dealerId: ctx.params.id });
    const who: Acting = { userId: p.userId, roles: ["dealer_admin"], dealerId: ctx.params.id };
    const b = await bookForPerson(ctx.services.engine, who, ctx.body.learnerId, ctx.body.sessionId, ctx.correlationId);
    return { status: 201, body: b };
  },
});

/** Every compliance operation. */
export const complianceOperations = [
  listRequirementsOp,
  createRequirementOp,
  deleteRequirementOp,
  assignToTeamMemberOp,
  assignInDealerOp,
  getTeamComplianceOp,
  getDealerComplianceOp,
  getMyComplianceOp,
  bookForTeamMemberOp,
  bookInDealerOp,
];
