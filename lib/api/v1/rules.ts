/** Business rules for admins: global values, per-course overrides, and the audit of every change. */
import { ADMIN_ONLY } from "../../access/matrix.ts";
import { z } from "zod";
import {
  CourseOverridesSchema,
  getRules,
  listCourseRules,
  listRulesAudit,
  ruleDefaultsOf,
  RulesSchema,
  saveCourseRules,
  saveRules,
} from "../../booking/rules.ts";
import { getCourse } from "../../store/courses.ts";
import { ApiError } from "../errors.ts";
import { defineOperation } from "../operation.ts";
import { ErrorSchema, IdParams } from "./schemas.ts";

const err = (description: string) => ({ description, schema: ErrorSchema });
const TAG = "Rules";

const AuditSchema = z.object({
  key: z.string(),
  at: z.string(),
  actorId: z.string().nullable(),
  origin: z.string(),
  correlationId: z.string(),
  scope: z.string().describe("global or course:<id>"),
  changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })),
  reason: z.string().nullable(),
}).meta({ id: "RulesAuditEntry" });

const CourseRulesSchema = z.object({
  courseId: z.string(),
  overrides: CourseOverridesSchema,
  version: z.string(),
  updatedAt: z.string(),
  updatedBy: z.string().nullable(),
});

const IfVersion = z.string().max(40).nullable().optional()
  .describe("the version you read (null: never saved); a change made since is refused with 409 stale_edit");
const Reason = z.string().trim().min(1).max(500).optional().describe("why (kept in the rules audit)");

export const getRulesOp = defineOperation({
  method: "get",
  path: "/v1/admin/rules",
  operationId: "getRules",
  tag: TAG,
  summary: "The business rules in force, each course's overrides, and the latest changes",
  access: ADMIN_ONLY,
  responses: {
    200: {
      description: "The rules",
      schema: z.object({
        rules: RulesSchema,
        version: z.string().nullable().describe("null: defaults, never saved"),
        courses: z.array(CourseRulesSchema),
        audit: z.array(AuditSchema),
      }),
    },
  },
  async handler(ctx) {
    const { kv, config } = ctx.services;
    const [global, courses, audit] = await Promise.all([
      getRules(kv, ruleDefaultsOf(config)),
      listCourseRules(kv),
      listRulesAudit(kv, 20),
    ]);
    return { status: 200, body: { ...global, courses, audit } };
  },
});

export const putRulesOp = defineOperation({
  method: "put",
  path: "/v1/admin/rules",
  operationId: "putRules",
  tag: TAG,
  summary: "Set the global rules (they apply to new actions only; the change is audited)",
  access: ADMIN_ONLY,
  body: RulesSchema.extend({ ifVersion: IfVersion, reason: Reason }),
  responses: {
    200: { description: "Saved", schema: z.object({ rules: RulesSchema, version: z.string() }) },
    400: err("A value out of range"),
    409: err("stale_edit (details.current)"),
  },
  async handler(ctx) {
    const { ifVersion, reason, ...rules } = ctx.body;
    const doc = await saveRules(ctx.services.kv, rules, ctx.actor(reason), {
      ifVersion,
      now: ctx.services.engine.now(),
      defaults: ruleDefaultsOf(ctx.services.config),
    });
    return { status: 200, body: { rules: doc.rules, version: doc.version } };
  },
});

export const putCourseRulesOp = defineOperation({
  method: "put",
  path: "/v1/admin/rules/courses/{id}",
  operationId: "putCourseRules",
  tag: TAG,
  summary:
    "Set one course's overrides (hold minutes, offer windows, reminder schedule); an empty body returns it to the global rules",
  access: ADMIN_ONLY,
  params: IdParams,
  body: CourseOverridesSchema.extend({ ifVersion: IfVersion, reason: Reason }),
  responses: {
    200: { description: "Saved (null: no overrides)", schema: z.object({ overrides: CourseRulesSchema.nullable() }) },
    400: err("A value out of range"),
    404: err("No such course"),
    409: err("stale_edit"),
  },
  async handler(ctx) {
    const { kv, engine } = ctx.services;
    if (!(await getCourse(kv, ctx.params.id))) {
      throw new ApiError(404, "course_not_found", `No course with id ${ctx.params.id}.`);
    }
    const { ifVersion, reason, ...overrides } = ctx.body;
    const doc = await saveCourseRules(kv, ctx.params.id, overrides, ctx.actor(reason), {
      ifVersion,
      now: engine.now(),
    });
    return { status: 200, body: { overrides: doc } };
  },
});

/** Every rules operation. */
export const rulesOperations = [getRulesOp, putRulesOp, putCourseRulesOp];
