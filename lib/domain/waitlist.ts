import { z } from "zod";
import { CalendarDateSchema, IdSchema, UtcDateTimeSchema } from "./common.ts";

export const WAITLIST_STATUSES = [
  "waiting",
  "offered",
  "left",
  "converted",
] as const;
export const WaitlistStatusSchema = z.enum(WAITLIST_STATUSES);
export type WaitlistStatus = z.infer<typeof WaitlistStatusSchema>;

/**
 * A learner queued for a full session. Offer order (lib/booking/waitlist_order.ts): the sooner
 * compliance `deadline` first, then joinedAt, then learnerId.
 */
export const WaitlistEntrySchema = z.object({
  sessionId: IdSchema,
  learnerId: IdSchema,
  joinedAt: UtcDateTimeSchema,
  status: WaitlistStatusSchema,
  /** The `offer` hold made when a seat freed up. */
  offerHoldId: IdSchema.nullable().default(null),
  /** The learner's compliance deadline for the course when they joined (absent or null: none). */
  deadline: CalendarDateSchema.nullable().optional(),
  /** Set when the place belongs to a course-wide entry (`["course_waitlist", learnerId, courseId]`, its id). */
  courseEntryId: IdSchema.optional(),
});
export type WaitlistEntry = z.infer<typeof WaitlistEntrySchema>;
