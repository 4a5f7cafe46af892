import { z } from "zod";
import { IdSchema, TimeZoneSchema, UtcDateTimeSchema } from "./common.ts";

/** How learners attend a session. */
export const SESSION_MODES = ["in_person", "online", "hybrid"] as const;
export const SessionModeSchema = z.enum(SESSION_MODES);
export type SessionMode = z.infer<typeof SessionModeSchema>;

export const SESSION_STATUSES = ["scheduled", "cancelled"] as const;
export const SessionStatusSchema = z.enum(SESSION_STATUSES);
export type SessionStatus = z.infer<typeof SessionStatusSchema>;

/** Link to the Cal.com event type that mirrors this session, if any. */
export const CalcomLinkSchema = z.object({
  eventTypeId: z.number().int().positive().optional(),
  slug: z.string().min(1).max(200).optional(),
});
export type CalcomLink = z.infer<typeof CalcomLinkSchema>;

const SessionObjectSchema = z.object({
  id: IdSchema,
  courseId: IdSchema,
  startsAt: UtcDateTimeSchema,
  endsAt: UtcDateTimeSchema,
  /** IANA zone used to show local times (the center's zone for in-person). */
  timeZone: TimeZoneSchema,
  mode: SessionModeSchema,
  locationId: IdSchema.nullable().default(null),
  joinUrl: z.url({ protocol: /^https?$/ }).nullable().default(null),
  /** Seat capacity; the only place capacity lives (see `["seats", id]`). */
  capacity: z.number().int().min(1).max(10000),
  instructorId: IdSchema,
  waitlistEnabled: z.boolean().default(true),
  status: SessionStatusSchema.default("scheduled"),
  /** Per-session override of the hold length in minutes (absent or null: the course's and the rules'). */
  holdMinutes: z.number().int().min(1).max(1440).nullable().optional(),
  /** Per-session override of the late-cancel cut-off in hours (absent or null: the course's). */
  lateCancelCutoffHours: z.number().int().min(0).max(720).nullable().optional(),
  calcom: CalcomLinkSchema.nullable().default(null),
  createdAt: UtcDateTimeSchema,
  updatedAt: UtcDateTimeSchema,
});

/**
 * A session as shown to people who may not see everything of it: the same fields, without the
 * cross-field rules, since `joinUrl` is null there unless the reader may see it.
 */
export const SessionFieldsSchema = SessionObjectSchema;

/** A scheduled instance of a course. */
export const SessionSchema = SessionObjectSchema.superRefine((s, ctx) => {
  if (
    typeof s.startsAt === "string" && typeof s.endsAt === "string" &&
    Date.parse(s.endsAt) <= Date.parse(s.startsAt)
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["endsAt"],
      message: "must be after startsAt",
    });
  }
  const needsLocation = s.mode === "in_person" || s.mode === "hybrid";
  const needsUrl = s.mode === "online" || s.mode === "hybrid";
  if (needsLocation && !s.locationId) {
    ctx.addIssue({
      code: "custom",
      path: ["locationId"],
      message: `is required for ${s.mode} sessions`,
    });
  }
  if (needsUrl && !s.joinUrl) {
    ctx.addIssue({
      code: "custom",
      path: ["joinUrl"],
      message: `is required for ${s.mode} sessions`,
    });
  }
});
export type Session = z.infer<typeof SessionSchema>;

/** Input accepted by `createSession`: id and timestamps are optional. */
export type NewSession =
  & Omit<z.input<typeof SessionObjectSchema>, "id" | "createdAt" | "updatedAt">
  & { id?: string; createdAt?: string; updatedAt?: string };

/** Fields `updateSession` may change. */
export type SessionPatch = Partial<
  Omit<z.input<typeof SessionObjectSchema>, "id" | "createdAt" | "updatedAt">
>;

/** Seat counters kept at `["seats", sessionId]` by the booking engine. */
export const SeatCountsSchema = z.object({
  confirmed: z.number().int().min(0),
  holds: z.number().int().min(0),
});
export type SeatCounts = z.infer<typeof SeatCountsSchema>;

/** Seats still available: never negative. */
export function seatsAvailable(
  session: Pick<Session, "capacity">,
  seats: SeatCounts,
): number {
  return Math.max(0, session.capacity - seats.confirmed - seats.holds);
}
