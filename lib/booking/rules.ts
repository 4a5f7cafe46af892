/**
 * Business rules admins set without a deploy: global values with per-course overrides where they
 * make sense. Stored in KV (`["rules", …]`), every change written together with its audit entry
 * (`["rules_audit", key]`: who, when, from where, why, what changed). The booking engine reads the
 * effective rules when an action starts, so a change applies to new actions only: holds placed
 * before keep their expiry.
 *
 * Read by the engine today: `holdMinutes` (per course), `maxLiveHolds`, `cancelCutoffHours` (when
 * a course has none). Stored for their consumers: the waitlist offer windows, the check-in window
 * and the reminder schedule (the notifications work).
 */
import { monotonicFactory } from "ulid";
import { z } from "zod";
import { DomainError } from "./errors.ts";
import { MAX_ACTIVE_HOLDS } from "./model.ts";
import type { Actor } from "./events.ts";
import { parseOrThrow } from "../domain/validation.ts";
import { keys } from "../store/keys.ts";
import { TtlCache } from "../store/ttl_cache.ts";

/** The global rules. */
export const RulesSchema = z.strictObject({
  holdMinutes: z.number().int().min(1).max(1440).describe("how long a held seat is kept"),
  maxLiveHolds: z.number().int().min(1).max(20).describe("live holds one learner may have at once"),
  offerHours: z.number().int().min(1).max(168).describe("how long a waitlist offer lasts"),
  offerHoursNearStart: z.number().int().min(1).max(48).describe("…when the session starts within 48 h"),
  cancelCutoffHours: z.number().int().min(0).max(720).describe("late-cancel cut-off of courses that set none"),
  checkInWindowMinutes: z.number().int().min(0).max(240).describe("check-in opens this long before the start"),
  reminderHours: z.array(z.number().int().min(1).max(720)).max(5)
    .refine((r) => new Set(r).size === r.length, "must not repeat a time")
    .describe("reminders this many hours before the start"),
});
export type Rules = z.infer<typeof RulesSchema>;

/** What a course may override. */
export const CourseOverridesSchema = RulesSchema.pick({
  holdMinutes: true,
  offerHours: true,
  offerHoursNearStart: true,
})
  .partial();
export type CourseOverrides = z.infer<typeof CourseOverridesSchema>;

/** The stored global rules. */
export interface RulesDoc {
  rules: Rules;
  version: string;
  updatedAt: string;
  updatedBy: string | null;
}

/** The stored overrides of one course. */
export interface CourseRulesDoc {
  courseId: string;
  overrides: CourseOverrides;
  version: string;
  updatedAt: string;
  updatedBy: string | null;
}

/** One rule change. */
export interface RulesAuditEntry {
  key: string;
  at: string;
  actorId: string | null;
  origin: Actor["origin"];
  correlationId: string;
  /** `global` or `course:<id>`. */
  scope: string;
  changes: Record<string, { from: unknown; to: unknown }>;
  reason: string | null;
}

/** The rules before an admin changes any (the hold length from HOLD_MINUTES). */
export function defaultRules(holdMinutes = 15): Rules {
  return {
    holdMinutes,
    maxLiveHolds: MAX_ACTIVE_HOLDS,
    offerHours: 24,
    offerHoursNearStart: 2,
    cancelCutoffHours: 24,
    checkInWindowMinutes: 30,
    reminderHours: [48, 2],
  };
}

const cache = new WeakMap<Deno.Kv, TtlCache<Rules & { courseOverrides: CourseOverrides }>>();
/** How long an instance reuses the rules it read (a change made on this instance applies at once). */
export const RULES_CACHE_MS = 5_000;

function cacheOf(kv: Deno.Kv) {
  let c = cache.get(kv);
  if (!c) cache.set(kv, c = new TtlCache(RULES_CACHE_MS, 1_000));
  return c;
}

/** The global rules as stored (defaults when none were saved) with their version (null: never saved). */
export async function getRules(kv: Deno.Kv, holdMinutes?: number): Promise<{ rules: Rules; version: string | null }> {
  const doc = (await kv.get<RulesDoc>(keys.rulesGlobal())).value;
  return doc ? { rules: doc.rules, version: doc.version } : { rules: defaultRules(holdMinutes), version: null };
}

/** The effective rules for an action in a course: global ones with the course's overrides. */
export function effectiveRules(kv: Deno.Kv, courseId: string, holdMinutes?: number): Promise<Rules> {
  return cacheOf(kv).get(courseId, async () => {
    const [g, c] = await kv.getMany<[RulesDoc, CourseRulesDoc]>([keys.rulesGlobal(), keys.rulesCourse(courseId)]);
    const base = g.value?.rules ?? defaultRules(holdMinutes);
    const courseOverrides = c.value?.overrides ?? {};
    return { ...base, ...courseOverrides, courseOverrides };
  });
}

/** Every course's overrides. */
export async function listCourseRules(kv: Deno.Kv): Promise<CourseRulesDoc[]> {
  const out: CourseRulesDoc[] = [];
  for await (const e of kv.list<CourseRulesDoc>({ prefix: keys.rulesCoursesPrefix() })) out.push(e.value);
  return out;
}

/** One course's overrides (null: none). */
export async function getCourseRules(kv: Deno.Kv, courseId: string): Promise<CourseRulesDoc | null> {
  return (await kv.get<CourseRulesDoc>(keys.rulesCourse(courseId))).value;
}

const mintKey = monotonicFactory();

function changesOf(before: Record<string, unknown>, after: Record<string, unknown>) {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const from = before[k] ?? null;
    const to = after[k] ?? null;
    if (JSON.stringify(from) !== JSON.stringify(to)) out[k] = { from, to };
  }
  return out;
}

function stale(what: string, current: unknown): DomainError {
  return new DomainError(
    409,
    "stale_edit",
    `Someone changed the ${what} after you opened them, so nothing was changed. The current values are shown.`,
    { current },
  );
}

/**
 * Saves the global rules with their audit entry in one atomic op. `ifVersion` (the version read,
 * null for never saved) refuses a stale change with 409 `stale_edit`. ValidationError for values
 * out of range. A change that changes nothing writes nothing.
 */
export async function saveRules(
  kv: Deno.Kv,
  input: Rules,
  actor: Actor,
  options: { ifVersion?: string | null; now: Date; holdMinutes?: number },
): Promise<RulesDoc> {
  const rules = parseOrThrow(RulesSchema, input, "rules");
  const entry = await kv.get<RulesDoc>(keys.rulesGlobal());
  const before = entry.value?.rules ?? defaultRules(options.holdMinutes);
  if (options.ifVersion !== undefined && (entry.value?.version ?? null) !== options.ifVersion) {
    throw stale("rules", entry.value ?? { rules: before, version: null });
  }
  const changes = changesOf(before, rules);
  if (!Object.keys(changes).length && entry.value) return entry.value;
  const key = mintKey(options.now.getTime());
  const doc: RulesDoc = { rules, version: key, updatedAt: options.now.toISOString(), updatedBy: actor.userId };
  const audit = auditEntry(key, "global", changes, actor, options.now);
  const ok = await kv.atomic().check(entry).set(keys.rulesGlobal(), doc).set(keys.rulesAudit(key), audit).commit();
  if (!ok.ok) throw stale("rules", (await kv.get<RulesDoc>(keys.rulesGlobal())).value);
  cacheOf(kv).clear();
  return doc;
}

/** Saves one course's overrides (empty: back to the global rules) with its audit entry; like {@link saveRules}. */
export async function saveCourseRules(
  kv: Deno.Kv,
  courseId: string,
  input: CourseOverrides,
  actor: Actor,
  options: { ifVersion?: string | null; now: Date },
): Promise<CourseRulesDoc | null> {
  const overrides = parseOrThrow(CourseOverridesSchema, input, "overrides");
  const entry = await kv.get<CourseRulesDoc>(keys.rulesCourse(courseId));
  if (options.ifVersion !== undefined && (entry.value?.version ?? null) !== options.ifVersion) {
    throw stale("course rules", entry.value);
  }
  const changes = changesOf(entry.value?.overrides ?? {}, overrides);
  if (!Object.keys(changes).length) return entry.value;
  const key = mintKey(options.now.getTime());
  const audit = auditEntry(key, `course:${courseId}`, changes, actor, options.now);
  const op = kv.atomic().check(entry).set(keys.rulesAudit(key), audit);
  const doc: CourseRulesDoc | null = Object.keys(overrides).length
    ? { courseId, overrides, version: key, updatedAt: options.now.toISOString(), updatedBy: actor.userId }
    : null;
  if (doc) op.set(keys.rulesCourse(courseId), doc);
  else op.delete(keys.rulesCourse(courseId));
  if (!(await op.commit()).ok) throw stale("course rules", (await kv.get(keys.rulesCourse(courseId))).value);
  cacheOf(kv).clear();
  return doc;
}

function auditEntry(
  key: string,
  scope: string,
  changes: RulesAuditEntry["changes"],
  actor: Actor,
  now: Date,
): RulesAuditEntry {
  return {
    key,
    at: now.toISOString(),
    actorId: actor.userId,
    origin: actor.origin,
    correlationId: actor.correlationId,
    scope,
    changes,
    reason: actor.reason ?? null,
  };
}

/** The rule changes, newest first. */
export async function listRulesAudit(kv: Deno.Kv, limit = 50): Promise<RulesAuditEntry[]> {
  const out: RulesAuditEntry[] = [];
  for await (const e of kv.list<RulesAuditEntry>({ prefix: keys.rulesAuditPrefix() }, { reverse: true, limit })) {
    out.push(e.value);
  }
  return out;
}
