/** Records the booking engine reads and writes (shapes match the zod schemas in lib/domain). */
import type { Booking, Hold, Session, WaitlistEntry } from "../domain/mod.ts";
import type { Actor } from "./events.ts";
export type { Booking, Hold, Session, WaitlistEntry };

/** `["seats", sessionId]`: counters every seat-affecting write touches, so its versionstamp guards them. */
export interface SeatDoc {
  confirmed: number;
  /** Hold records (kind hold or offer) still indexed under holds_by_session, expired or not. */
  holds: number;
  /** Entries waiting under ["waitlist", sessionId]. */
  waiting?: number;
}

/** `["places", sessionId, learnerId]`: a learner's one live place in a session. */
export interface Place {
  kind: "hold" | "offer" | "booking" | "waitlist";
  id: string;
  expiresAtMs?: number;
}

/** `["learner_holds", learnerId]`: the learner's live holds and offers (for the 3-hold limit). */
export interface LearnerHolds {
  items: { holdId: string; sessionId: string; kind: "hold" | "offer"; expiresAtMs: number }[];
}

/** Active holds a learner may have at once (waitlist offers do not count). */
export const MAX_ACTIVE_HOLDS = 3;

/**
 * `["session_cancels_pending", sessionId]`: a session cancel that has set the session cancelled
 * but not yet cleaned up every place in it. Written in the same atomic op as the status change,
 * deleted in the one that writes `session.cancelled`; whoever finds it finishes the job.
 */
export interface PendingSessionCancel {
  sessionId: string;
  /** When the cancel began (the engine's clock). */
  startedAt: string;
  /** Who asked for it: every event of the cancel carries this actor, resumed or not. */
  actor: Actor;
}

/**
 * `["course_waitlist_cover", sessionId]`: the course's course-wide waitlist entries are still to be
 * added to this session (it was scheduled, or moved, re-opened or given to another course, after
 * they joined). Written in the same atomic op as the session change; each batch of entries moves
 * `after` forward in a checked write, and the last one deletes it (lib/booking/course_waitlist.ts).
 */
export interface CourseWaitlistCover {
  /** New with every session change that asks for a walk: a walk that meets another id starts over. */
  id: string;
  sessionId: string;
  /** When the session change that asked for it committed (the engine's clock). */
  startedAt: string;
  /** The last `["course_waitlist_by_course", courseId, joinedAt, learnerId]` considered: `[joinedAt, learnerId]`. */
  after: [string, string] | null;
}
