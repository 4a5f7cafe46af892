import { z } from "zod";
import { IdSchema, text } from "./common.ts";

/**
 * Course topics (slugs). Extend this list to add a topic; UIs show
 * `TOPIC_LABELS[topic]`.
 */
export const TOPICS = [
  "safety",
  "sales",
  "service",
  "leadership",
  "product",
  "compliance",
  "software",
  "customer-experience",
] as const;
export const TopicSchema = z.enum(TOPICS);
export type Topic = z.infer<typeof TopicSchema>;

/** Display labels for {@link TOPICS}. */
export const TOPIC_LABELS: Record<Topic, string> = {
  "safety": "Safety",
  "sales": "Sales",
  "service": "Service",
  "leadership": "Leadership",
  "product": "Product knowledge",
  "compliance": "Compliance",
  "software": "Software & systems",
  "customer-experience": "Customer experience",
};

/** Why a course exists in the catalog. */
export const PROGRAM_TYPES = [
  "onboarding",
  "new_hire",
  "compliance",
  "development",
  "customer_partner",
] as const;
export const ProgramTypeSchema = z.enum(PROGRAM_TYPES);
export type ProgramType = z.infer<typeof ProgramTypeSchema>;

/** Display labels for {@link PROGRAM_TYPES}. */
export const PROGRAM_TYPE_LABELS: Record<ProgramType, string> = {
  onboarding: "Onboarding",
  new_hire: "New hire",
  compliance: "Compliance",
  development: "Professional development",
  customer_partner: "Customer & partner",
};

/**
 * Live sessions: attended minutes that complete the course, whichever of the two comes first
 * (absent on a course: 30 min or 50 % of the scheduled duration; lib/attendance/completion.ts).
 */
export const CompletionRuleSchema = z.object({
  minMinutes: z.number().int().min(1).max(1440),
  minPercent: z.number().int().min(1).max(100),
});

/** A course in the catalog; sessions are scheduled instances of it. */
export const CourseSchema = z.object({
  id: IdSchema,
  code: z.string().regex(/^[A-Z]{2,6}-\d{3,4}$/, {
    error: "must look like SAF-101 (2-6 capital letters, dash, 3-4 digits)",
  }),
  title: text(160),
  summary: text(2000),
  topic: TopicSchema,
  certificationTrack: text(120).nullable().default(null),
  programType: ProgramTypeSchema,
  prerequisiteCourseIds: z.array(IdSchema).max(20).default([]),
  durationMinutes: z.number().int().min(15).max(600),
  /** Cancelling later than this many hours before the start is a late cancel. */
  lateCancelCutoffHours: z.number().int().min(0).max(24 * 30).default(24),
  /**
   * Live sessions: attended minutes that complete the course (absent: 30 min or 50 % of the
   * scheduled duration, whichever comes first; lib/attendance/completion.ts).
   */
  completionRule: CompletionRuleSchema.optional(),
  /** Required training: managers see who on their team still needs it. */
  required: z.boolean().default(false),
  /** Completing the course grants a certification valid this many months (null: none, or never lapses). */
  certificationValidMonths: z.number().int().min(1).max(240).nullable().optional(),
  active: z.boolean().default(true),
}).superRefine((course, ctx) => {
  const ids = course.prerequisiteCourseIds;
  if (ids.includes(course.id)) {
    ctx.addIssue({
      code: "custom",
      path: ["prerequisiteCourseIds"],
      message: "a course cannot be its own prerequisite",
    });
  }
  if (new Set(ids).size !== ids.length) {
    ctx.addIssue({
      code: "custom",
      path: ["prerequisiteCourseIds"],
      message: "must not list a course twice",
    });
  }
});
export type Course = z.infer<typeof CourseSchema>;
/** Input accepted by `createCourse`: id is optional, defaults apply. */
export type NewCourse = Omit<z.input<typeof CourseSchema>, "id"> & {
  id?: string;
};

/**
 * Returns the ids of courses that take part in a prerequisite cycle, or an
 * empty array when the prerequisite graph is acyclic.
 */
export function findPrerequisiteCycle(
  courses: ReadonlyArray<Pick<Course, "id" | "prerequisiteCourseIds">>,
): string[] {
  const byId = new Map(courses.map((c) => [c.id, c]));
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (id: string): string[] => {
    const s = state.get(id);
    if (s === "done") return [];
    if (s === "visiting") return stack.slice(stack.indexOf(id));
    state.set(id, "visiting");
    stack.push(id);
    for (const pre of byId.get(id)?.prerequisiteCourseIds ?? []) {
      const cycle = visit(pre);
      if (cycle.length) return cycle;
    }
    stack.pop();
    state.set(id, "done");
    return [];
  };
  for (const c of courses) {
    const cycle = visit(c.id);
    if (cycle.length) return cycle;
  }
  return [];
}
