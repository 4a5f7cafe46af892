import type { AttendanceRecord } from "../domain/attendance.ts";
import { keys } from "./keys.ts";
import { listValues } from "./batch.ts";

/** Attendance records of a session, ordered by learner id. */
export function listAttendance(
  kv: Deno.Kv,
  sessionId: string,
): Promise<AttendanceRecord[]> {
  return listValues<AttendanceRecord>(kv, { prefix: keys.attendancePrefix(sessionId) });
}
