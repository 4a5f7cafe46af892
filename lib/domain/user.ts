import { z } from "zod";
import { IdSchema, text, UtcDateTimeSchema } from "./common.ts";

export const ROLES = [
  "learner",
  "instructor",
  "manager",
  "admin",
  "dealer_admin",
] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

/** Whether an address keeps to the lengths mail servers (RFC 5321) and JSON Schema's `email` format allow. */
function withinEmailLengths(email: string): boolean {
  const at = email.lastIndexOf("@");
  const domain = email.slice(at + 1);
  return email.length <= 254 && at <= 64 && domain.split(".").every((label) => label.length <= 63);
}

/**
 * An email address, trimmed and lower-cased before it is checked: at most 254 characters, 64 before the `@` and 63
 * per domain label. The pattern documents what is accepted (JSON Schema would otherwise show a bare string for the
 * untrimmed input).
 */
export const EmailSchema = z.string().trim().toLowerCase().pipe(
  z.email({ error: "must be a valid email address" }).refine(withinEmailLengths, {
    error: "must be a valid email address (at most 254 characters, 64 before the @)",
  }),
).meta({ pattern: `^\\s*(?:${z.regexes.email.source.slice(1, -1)})\\s*$` });

export const CompletedCourseSchema = z.object({
  courseId: IdSchema,
  completedAt: UtcDateTimeSchema,
});
export type CompletedCourse = z.infer<typeof CompletedCourseSchema>;

/** Parts of the day a learner may prefer (in a session's own time zone: before 12:00, 12:00–17:00, from 17:00). */
export const DAY_PARTS = ["morning", "afternoon", "evening"] as const;
export const DayPartSchema = z.enum(DAY_PARTS);
export type DayPart = z.infer<typeof DayPartSchema>;

/** When a learner prefers to train: a mild factor in the ranking of alternatives (lib/booking/ranking.ts). */
export const PreferredTimesSchema = z.object({
  /** ISO weekdays, 1 = Monday … 7 = Sunday. */
  weekdays: z.array(z.number().int().min(1).max(7)).max(7)
    .refine((d) => new Set(d).size === d.length, { error: "must not repeat a day" }).default([]),
  dayParts: z.array(DayPartSchema).max(3)
    .refine((d) => new Set(d).size === d.length, { error: "must not repeat a time of day" }).default([]),
});
export type PreferredTimes = z.infer<typeof PreferredTimesSchema>;

/** A person: learner, instructor, manager, admin or dealer admin. */
export const UserSchema = z.object({
  id: IdSchema,
  email: EmailSchema,
  name: text(160),
  roles: z.array(RoleSchema).min(1, { error: "must include at least one role" })
    .refine((r) => new Set(r).size === r.length, {
      error: "must not repeat a role",
    }),
  /** Tenant the user belongs to; null for staff such as instructors. */
  dealerId: IdSchema.nullable().default(null),
  managerId: IdSchema.nullable().default(null),
  preferredLocationId: IdSchema.nullable().default(null),
  /** Set on /me/profile; absent: no preference. */
  preferredTimes: PreferredTimesSchema.optional(),
  completedCourses: z.array(CompletedCourseSchema).default([]),
  /** Job function (e.g. "technician", "sales"): requirements may target it (lib/compliance/). */
  jobFunction: z.string().trim().min(1).max(80).nullable().optional(),
  /** False: deactivated (every page session is refused and ended, API tokens stop working); absent: active. */
  active: z.boolean().optional(),
  createdAt: UtcDateTimeSchema,
  /** Set when the person's data was erased (lib/privacy/erase.ts): the record is a pseudonymised tombstone. */
  erasedAt: UtcDateTimeSchema.optional(),
});
export type User = z.infer<typeof UserSchema>;
/** Input accepted by `createUser`: id and createdAt are optional. */
export type NewUser = Omit<z.input<typeof UserSchema>, "id" | "createdAt"> & {
  id?: string;
  createdAt?: string;
};

/** True when the user has `role`. */
export function hasRole(user: Pick<User, "roles">, role: Role): boolean {
  return user.roles.includes(role);
}
