import { z } from "zod";
import { IdSchema, OriginSchema, UtcDateTimeSchema } from "./common.ts";

export const ATTENDANCE_STATUSES = ["attended", "no_show", "excused"] as const;
export const AttendanceStatusSchema = z.enum(ATTENDANCE_STATUSES);
export type AttendanceStatus = z.infer<typeof AttendanceStatusSchema>;

/** What happened to one booked learner at one session. */
export const AttendanceRecordSchema = z.object({
  sessionId: IdSchema,
  learnerId: IdSchema,
  bookingId: IdSchema,
  status: AttendanceStatusSchema,
  recordedAt: UtcDateTimeSchema,
  /** User id of the instructor or admin who recorded it; null when it came from Cal.com or the system. */
  recordedBy: IdSchema.nullable(),
  origin: OriginSchema,
});
export type AttendanceRecord = z.infer<typeof AttendanceRecordSchema>;
