import { z } from "zod";
import { CalendarDateSchema, IdSchema, UtcDateTimeSchema } from "./common.ts";
import { RoleSchema } from "./user.ts";

/** What a requirement is written with (POST /api/v1/requirements). */
export const RequirementInputSchema = z.strictObject({
  courseId: IdSchema,
  /** People with any of these roles must have the course. */
  roles: z.array(RoleSchema).max(5).default([]),
  /** People with any of these job functions. */
  jobFunctions: z.array(z.string().trim().min(1).max(80)).max(20).default([]),
  /** People of any of these dealers. */
  dealerIds: z.array(IdSchema).max(50).default([]),
  /** Months a completion counts before it must be done again; null: once is enough. */
  periodMonths: z.number().int().min(1).max(240).nullable().default(null),
  /** When the people it applies to must first have done it; null: no date. */
  dueOn: CalendarDateSchema.nullable().default(null),
}).refine((r) => r.roles.length + r.jobFunctions.length + r.dealerIds.length > 0, {
  error: "name at least one role, job function or dealer",
  path: ["roles"],
});
export type RequirementInput = z.input<typeof RequirementInputSchema>;

/** A course required for roles, job functions or dealers. */
export const RequirementSchema = z.object({
  id: IdSchema,
  courseId: IdSchema,
  roles: z.array(RoleSchema),
  jobFunctions: z.array(z.string()),
  dealerIds: z.array(IdSchema),
  periodMonths: z.number().int().nullable(),
  dueOn: CalendarDateSchema.nullable(),
  createdAt: UtcDateTimeSchema,
  createdBy: IdSchema.nullable(),
});
export type Requirement = z.infer<typeof RequirementSchema>;

/** What an assignment is written with (POST /api/v1/assignments). */
export const AssignmentInputSchema = z.strictObject({
  learnerId: IdSchema,
  courseId: IdSchema,
  /** The last day to complete it (in the organisation's time zone); today or later. */
  dueOn: CalendarDateSchema,
  note: z.string().trim().max(500).default(""),
});
export type AssignmentInput = z.input<typeof AssignmentInputSchema>;

/** A course assigned to one person by their manager or dealer admin. One per person and course. */
export const AssignmentSchema = z.object({
  id: IdSchema,
  learnerId: IdSchema,
  courseId: IdSchema,
  dueOn: CalendarDateSchema,
  note: z.string(),
  assignedBy: IdSchema.nullable(),
  assignedAt: UtcDateTimeSchema,
});
export type Assignment = z.infer<typeof AssignmentSchema>;
