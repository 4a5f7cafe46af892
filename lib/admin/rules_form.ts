/** The rules page's forms: typed text to rules and course overrides, one sentence per wrong field. */
import { type CourseOverrides, type Rules, RulesSchema } from "../booking/rules.ts";
import { formatZodIssues, readableErrors } from "../domain/validation.ts";

/** Fields of the global rules form (reminders as "48, 2"). */
export const RULE_FIELDS = [
  "holdMinutes",
  "maxLiveHolds",
  "offerHours",
  "offerHoursNearStart",
  "cancelCutoffHours",
  "checkInWindowMinutes",
  "reminderHours",
] as const;
export type RuleField = typeof RULE_FIELDS[number];
export type RuleValues = Record<RuleField, string>;
export type RuleErrors = Partial<Record<RuleField, string>>;

/** The course overrides a form may set (reminders as "24, 1", or "none" for no reminders). */
export const OVERRIDE_FIELDS = ["holdMinutes", "offerHours", "offerHoursNearStart", "reminderHours"] as const;
export type OverrideField = typeof OVERRIDE_FIELDS[number];

/** The form's values of rules. */
export function valuesOfRules(r: Rules): RuleValues {
  const out = Object.fromEntries(RULE_FIELDS.map((f) => [f, String(r[f])])) as RuleValues;
  out.reminderHours = r.reminderHours.join(", ");
  return out;
}

/** Reads fields from a form (absent ones empty). */
export function formText<F extends string>(form: FormData, fields: readonly F[]): Record<F, string> {
  return Object.fromEntries(fields.map((f) => [f, String(form.get(f) ?? "").trim()])) as Record<F, string>;
}

const whole = (s: string) => /^\d{1,6}$/.test(s) ? Number(s) : Number.NaN;
/** "48, 2" → [48, 2] (NaN for a part that is not a whole number). */
const hoursList = (s: string) => s.split(/[\s,]+/).filter(Boolean).map(whole);

/** Checks the global rules form. */
export function parseRulesForm(v: RuleValues): { rules: Rules; errors: null } | { rules: null; errors: RuleErrors } {
  const errors: RuleErrors = {};
  const reminders = hoursList(v.reminderHours);
  const input: Record<string, unknown> = { reminderHours: reminders };
  for (const f of RULE_FIELDS) {
    if (f === "reminderHours") continue;
    input[f] = whole(v[f]);
    if (Number.isNaN(input[f])) errors[f] = "Give a whole number.";
  }
  if (reminders.some(Number.isNaN)) errors.reminderHours = "Give whole hours separated by commas, like 48, 2.";
  if (Object.keys(errors).length) return { rules: null, errors };
  const parsed = RulesSchema.safeParse(input, { error: readableErrors });
  if (parsed.success) return { rules: parsed.data, errors: null };
  for (const i of formatZodIssues(parsed.error.issues)) {
    errors[i.path.split(".")[0] as RuleField] ??= `This ${i.message}.`;
  }
  return { rules: null, errors };
}

/** Checks the course overrides form: an empty field means "as the global rules". */
export function parseOverridesForm(
  v: Record<OverrideField, string>,
): { overrides: CourseOverrides; errors: null } | { overrides: null; errors: Partial<Record<OverrideField, string>> } {
  const errors: Partial<Record<OverrideField, string>> = {};
  const overrides: CourseOverrides = {};
  for (const f of OVERRIDE_FIELDS) {
    if (!v[f]) continue;
    if (f === "reminderHours") {
      const hours = /^none$/i.test(v[f]) ? [] : hoursList(v[f]);
      const list = RulesSchema.shape.reminderHours.safeParse(hours, { error: readableErrors });
      if (hours.some(Number.isNaN)) errors[f] = "Give whole hours separated by commas, like 24, 1, or none.";
      else if (!list.success) errors[f] = `This ${list.error.issues[0].message}.`;
      else overrides[f] = list.data;
      continue;
    }
    const n = whole(v[f]);
    const range = RulesSchema.shape[f].safeParse(n, { error: readableErrors });
    if (Number.isNaN(n)) errors[f] = "Give a whole number, or leave it empty.";
    else if (!range.success) errors[f] = `This ${range.error.issues[0].message}.`;
    else overrides[f] = n;
  }
  return Object.keys(errors).length ? { overrides: null, errors } : { overrides, errors: null };
}
