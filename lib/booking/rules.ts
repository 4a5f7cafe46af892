/**
 * Business rules admins set without a deploy: global values with per-course overrides where they
 * make sense. Stored in KV (`["rules", …]`), every change written together with its audit entry
 * (`["rules_audit", key]`: who, when, from where, why, what changed). The booking engine reads the
 * effective rules when an action starts, so a change applies to new actions only: holds placed
 * before keep their expiry.
 *
 * Who reads which rule, and when (each read goes through the per-instance cache below, never a
 * KV read per hold):
 * - the engine, when a hold starts: `holdMinutes` (per course), `maxLiveHolds`;
 *   when a booking is cancelled: `cancelCutoffHours` (when the course has none);
 * - the waitlist, when it makes an offer (lib/booking/session_tx.ts): `offerHours`,
 *   `offerHoursNearStart` (per course); an offer already made keeps its expiry;
 * - attendance, when a check-in or the roster is asked for (lib/attendance/windows.ts):
 *   `checkInWindowMinutes`;
 * - notifications, when they plan a booking's reminders (lib/notify/produce.ts): `reminderHours`
 *   (per course); reminders planned earlier keep their times.
 *
 * Until an admin saves rules, the defaults are the environment's (`HOLD_MINUTES`,
 * `CHECKIN_OPENS_MINUTES`, `REMINDER_OFFSETS`: {@link ruleDefaultsOf}) or the built-in ones.
 */
import { monotonicFactory } from "ulid";
import { z } from "zod";
import { DomainError } from "./errors.ts";
import { MAX_ACTIVE_HOLDS } from "./model.ts";
import type { Actor } from "./events.ts";
import { parseOrThrow } from "../domain/validation.ts";
import { keys } from "../store/keys.ts";
import { TtlCache } from "../store/ttl_cache.ts";
import { DEFAULT_REMINDER_OFFSETS_MIN } from "../notify/kinds.ts";

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

/** What a course may override (`reminderHours: []`: no reminders for this course). */
export const CourseOverridesSchema = RulesSchema.pick({
  holdMinutes: true,
  offerHours: true,
  offerHoursNearStart: true,
  reminderHours: true,
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

/**
 * Defaults the environment sets for rules no admin has saved yet: the hold length (`HOLD_MINUTES`),
 * the check-in window (`CHECKIN_OPENS_MINUTES`) and the reminder schedule (`REMINDER_OFFSETS`, in
 * hours; lib/config.ts accepts whole hours only, as the rule does). A number is the hold length alone.
 */
export type RuleDefaults = number | Partial<Pick<Rules, "holdMinutes" | "checkInWindowMinutes" | "reminderHours">>;

/** The rule defaults of a loaded configuration (lib/config.ts). */
export function ruleDefaultsOf(
  config: { holdMinutes: number; checkInOpensMinutes: number; reminderOffsetsMin: readonly number[] },
): Exclude<RuleDefaults, number> {
  return {
    holdMinutes: config.holdMinutes,
    checkInWindowMinutes: config.checkInOpensMinutes,
    reminderHours: config.reminderOffsetsMin.map((m) => m / 60),
  };
}

/**
 * The rules before an admin changes any: the environment's defaults (see {@link RuleDefaults}),
 * else 15 min holds, 3 live holds, offers of 24 h (2 h near the start), a 24 h cut-off, check-in
 * 30 min before, reminders 1 week, 1 day and 1 hour before.
 */
export function defaultRules(defaults: RuleDefaults = {}): Rules {
  const d = typeof defaults === "number" ? { holdMinutes: defaults } : defaults;
  return {
    holdMinutes: d.holdMinutes ?? 15,
    maxLiveHolds: MAX_ACTIVE_HOLDS,
    offerHours: 24,
    offerHoursNearStart: 2,
    cancelCutoffHours: 24,
    checkInWindowMinutes: d.checkInWindowMinutes ?? 30,
    reminderHours: d.reminderHours ? [...d.reminderHours] : DEFAULT_REMINDER_OFFSETS_MIN.map((m) => m / 60),
  };
}

/** What the cache keeps per course: the stored documents, so each caller's defaults still apply. */
interface StoredRules {
  global: Rules | null;
  courseOverrides: CourseOverrides;
}

const cache = new WeakMap<Deno.Kv, TtlCache<StoredRules>>();
/** How long an instance reuses the rules it read (a change made on this instance applies at once). */
export const RULES_CACHE_MS = 5_000;

function cacheOf(kv: Deno.Kv) {
  let c = cache.get(kv);
  if (!c) cache.set(kv, c = new TtlCache(RULES_CACHE_MS, 1_000));
  return c;
}

/** The global rules as stored (defaults when none were saved) with their version (null: never saved). */
export async function getRules(
  kv: Deno.Kv,
  defaults?: RuleDefaults,
): Promise<{ rules: Rules; version: string | null }> {
  const doc = (await kv.get<RulesDoc>(keys.rulesGlobal())).value;
  return doc ? { rules: doc.rules, version: doc.version } : { rules: defaultRules(defaults), version: null };
}

/**
 * The effective rules for an action in a course: global ones with the course's overrides. Served
 * from the instance's cache (at most {@link RULES_CACHE_MS} old); the defaults are applied per call,
 * so callers with different defaults never see each other's.
 */
export async function effectiveRules(
  kv: Deno.Kv,
  courseId: string,
  defaults?: RuleDefaults,
): Promise<Rules & { courseOverrides: CourseOverrides }> {
  const stored = await cacheOf(kv).get(courseId, async () => {
    const [g, c] = await kv.getMany<[RulesDoc, CourseRulesDoc]>([keys.rulesGlobal(), keys.rulesCourse(courseId)]);
    return { global: g.value?.rules ?? null, courseOverrides: c.value?.overrides ?? {} };
  });
  return {
    ...(stored.global ?? defaultRules(defaults)),
    ...stored.courseOverrides,
    courseOverrides: stored.courseOverrides,
  };
}

/** The global rules in force (cached like {@link effectiveRules}), for rules no course overrides. */
export async function loadGlobalRules(kv: Deno.Kv, defaults?: RuleDefaults): Promise<Rules> {
  // Cached under a key no course id takes (ids are ULIDs or slugs, never empty).
  const stored = await cacheOf(kv).get("", async () => ({
    global: (await kv.get<RulesDoc>(keys.rulesGlobal())).value?.rules ?? null,
    courseOverrides: {},
  }));
  return stored.global ?? defaultRules(defaults);
}

/** Minutes before the start a course's reminders go out (the rules keep hours). */
export function reminderMinutesOf(rules: Pick<Rules, "reminderHours">): number[] {
  return rules.reminderHours.map((h) => Math.round(h * 60));
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
  options: { ifVersion?: string | null; now: Date; holdMinutes?: number; defaults?: RuleDefaults },
): Promise<RulesDoc> {
  const rules = parseOrThrow(RulesSchema, input, "rules");
  const entry = await kv.get<RulesDoc>(keys.rulesGlobal());
  const before = entry.value?.rules ?? defaultRules(options.defaults ?? options.holdMinutes);
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
