/**
 * When attending a live session completes its course: at least `minMinutes` attended, or at least
 * `minPercent` of the scheduled duration, whichever is reached first. Per course
 * (`course.completionRule`), 30 min / 50 % when the course sets none.
 */
import type { Course } from "../domain/course.ts";

/** A course's completion rule for live sessions. */
export interface CompletionRule {
  minMinutes: number;
  minPercent: number;
}

/** The rule of courses that set none. */
export const DEFAULT_COMPLETION_RULE: Readonly<CompletionRule> = { minMinutes: 30, minPercent: 50 };

/** The course's rule, or the default. */
export function completionRuleOf(course: Pick<Course, "completionRule"> | null): CompletionRule {
  return course?.completionRule ?? { ...DEFAULT_COMPLETION_RULE };
}

/** Seconds of attendance that complete a session of `scheduledSeconds` under `rule`. */
export function secondsToComplete(rule: CompletionRule, scheduledSeconds: number): number {
  return Math.min(rule.minMinutes * 60, Math.ceil(scheduledSeconds * rule.minPercent / 100));
}

/** Whether `attendedSeconds` complete a session of `scheduledSeconds`. */
export function meetsCompletion(rule: CompletionRule, attendedSeconds: number, scheduledSeconds: number): boolean {
  return attendedSeconds >= secondsToComplete(rule, scheduledSeconds);
}

/** The rule in words for learners, e.g. "Attend at least 30 minutes or 50 % of the session (whichever comes first)". */
export function describeCompletionRule(rule: CompletionRule, scheduledSeconds: number): string {
  const needed = Math.ceil(secondsToComplete(rule, scheduledSeconds) / 60);
  return `You complete this course by attending at least ${rule.minMinutes} minutes or ${rule.minPercent} % of the ` +
    `session, whichever comes first (here: ${needed} minutes).`;
}

/** ISO 8601 duration of whole seconds, e.g. `PT1H5M3S` (`PT0S` for none). */
export function isoDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (s === 0) return "PT0S";
  return `PT${h ? `${h}H` : ""}${m ? `${m}M` : ""}${r ? `${r}S` : ""}`;
}
