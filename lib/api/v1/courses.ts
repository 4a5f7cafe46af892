/** The course catalog for admins: list (retired ones too), create, change (prerequisites without cycles). */
import { ADMIN_ONLY } from "../../access/matrix.ts";
import { z } from "zod";
import { addCourse, changeCourse, courseVersion } from "../../admin/courses.ts";
import { CompletionRuleSchema, CourseSchema, IdSchema, ProgramTypeSchema, TopicSchema } from "../../domain/mod.ts";
import { listCourses } from "../../store/courses.ts";
import { defineOperation } from "../operation.ts";
import { ErrorSchema, IdParams } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });
const TAG = "Catalog";

const CourseWithVersion = z.object({
  course: CourseSchema,
  version: z.string().describe("send it back as ifVersion to refuse a stale change"),
}).meta({ id: "CourseWithVersion" });

const CourseBody = z.strictObject({
  code: z.string().max(20).describe("like SAF-101"),
  title: z.string().max(160),
  summary: z.string().max(2000),
  topic: TopicSchema,
  programType: ProgramTypeSchema,
  durationMinutes: z.number().int(),
  prerequisiteCourseIds: z.array(IdSchema).max(20).default([]),
  lateCancelCutoffHours: z.number().int().optional().describe("default 24"),
  certificationTrack: z.string().max(120).nullable().optional(),
  certificationValidMonths: z.number().int().min(1).max(240).nullable().optional()
    .describe("completing it grants a certification valid this many months"),
  completionRule: CompletionRuleSchema.optional().describe("live sessions; default 30 minutes or 50 %"),
  required: z.boolean().optional(),
  active: z.boolean().optional().describe("false: retired (no longer listed)"),
});

export const listCoursesAdminOp = defineOperation({
  method: "get",
  path: "/v1/admin/courses",
  operationId: "listCoursesAdmin",
  tag: TAG,
  summary: "Every course, retired ones too, by code, with its version",
  access: ADMIN_ONLY,
  responses: { 200: { description: "The courses", schema: z.object({ courses: z.array(CourseWithVersion) }) } },
  async handler(ctx) {
    const courses = await listCourses(ctx.services.kv, { includeInactive: true });
    return { status: 200, body: { courses: courses.map((course) => ({ course, version: courseVersion(course) })) } };
  },
});

export const createCourseOp = defineOperation({
  method: "post",
  path: "/v1/courses",
  operationId: "createCourse",
  tag: TAG,
  summary: "Add a course (prerequisites must exist)",
  access: ADMIN_ONLY,
  idempotency: "stored",
  body: CourseBody,
  responses: {
    201: { description: "The course", schema: CourseWithVersion },
    400: err("Invalid fields or an unknown prerequisite"),
    409: err("code_taken"),
  },
  async handler(ctx) {
    const course = await addCourse(ctx.services.kv, ctx.body);
    return { status: 201, body: { course, version: courseVersion(course) } };
  },
});

export const updateCourseOp = defineOperation({
  method: "put",
  path: "/v1/courses/{id}",
  operationId: "updateCourse",
  tag: TAG,
  summary: "Change a course; a prerequisite cycle is refused with the cycle named",
  description: "Send every field. With `ifVersion`, the change is refused (409 stale_edit, details.current) when " +
    "the course changed since that version.",
  access: ADMIN_ONLY,
  params: IdParams,
  body: CourseBody.extend({ ifVersion: z.string().max(20).optional() }),
  responses: {
    200: { description: "The course", schema: CourseWithVersion },
    400: err("Invalid fields, an unknown prerequisite, or a prerequisite cycle (named in the message)"),
    404: err("No such course"),
    409: err("code_taken, stale_edit"),
  },
  async handler(ctx) {
    const { ifVersion, ...fields } = ctx.body;
    const course = await changeCourse(ctx.services.kv, ctx.params.id, fields, ifVersion);
    return { status: 200, body: { course, version: courseVersion(course) } };
  },
});

/** Every catalog operation. */
export const courseOperations = [listCoursesAdminOp, createCourseOp, updateCourseOp];
