import { z } from "zod";

/** One readable validation problem: where it is and what is wrong. */
export interface ValidationIssue {
  /** Dotted path of the offending field (`address.city`, `roles.0`); "" for the whole value. */
  path: string;
  /** Human-readable message, e.g. "must be at least 1". */
  message: string;
}

/**
 * Thrown when a value fails its schema. `issues` lists every problem; the
 * error message joins them as `path: message` so logs are readable as is.
 */
export class ValidationError extends Error {
  override name = "ValidationError";
  readonly issues: ValidationIssue[];

  constructor(issues: ValidationIssue[], subject?: string) {
    const detail = issues.map(formatIssueLine).join("; ");
    super(
      subject ? `Invalid ${subject}: ${detail}` : `Invalid value: ${detail}`,
    );
    this.issues = issues;
  }
}

function formatIssueLine(issue: ValidationIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

/** Formats a zod path (`["address", "city"]`) as `address.city`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => String(p)).join(".");
}

/** Converts zod issues into `{path, message}` pairs. */
export function formatZodIssues(
  issues: ReadonlyArray<z.core.$ZodIssue>,
): ValidationIssue[] {
  return issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}

const FORMAT_MESSAGES: Record<string, string> = {
  email: "must be a valid email address",
  url: "must be a valid URL",
  uuid: "must be a valid UUID",
  ulid: "must be a ULID (26 characters, Crockford base32)",
  datetime: "must be a UTC ISO date-time ending in Z (e.g. 2026-03-01T15:00:00.000Z)",
  date: "must be a date like 2026-03-01",
};

/**
 * Per-parse zod error map with short, readable messages. Messages written on
 * a schema itself (refinements, `{ error }` options) take precedence.
 */
export const readableErrors: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "is required";
      return `must be ${article(issue.expected)} (got ${describeValue(issue.input)})`;
    case "too_small": {
      const n = Number(issue.minimum);
      if (issue.origin === "string") {
        return n <= 1 ? "must not be empty" : `must be at least ${n} characters`;
      }
      if (issue.origin === "array" || issue.origin === "set") {
        return `must have at least ${n} item${n === 1 ? "" : "s"}`;
      }
      return issue.inclusive ? `must be at least ${n}` : `must be greater than ${n}`;
    }
    case "too_big": {
      const n = Number(issue.maximum);
      if (issue.origin === "string") return `must be at most ${n} characters`;
      if (issue.origin === "array" || issue.origin === "set") {
        return `must have at most ${n} item${n === 1 ? "" : "s"}`;
      }
      return issue.inclusive ? `must be at most ${n}` : `must be less than ${n}`;
    }
    case "invalid_format":
      return FORMAT_MESSAGES[issue.format] ?? `must be a valid ${issue.format}`;
    case "invalid_value":
      return `must be one of: ${issue.values.map((v) => String(v)).join(", ")}`;
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor}`;
    case "unrecognized_keys":
      return `unknown field${issue.keys.length === 1 ? "" : "s"}: ${issue.keys.join(", ")}`;
    case "invalid_union":
      return "does not match any allowed shape";
    default:
      return undefined;
  }
};

const TYPE_NAMES: Record<string, string> = {
  int: "a whole number",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  array: "a list",
  object: "an object",
  date: "a date",
};

function article(type: string): string {
  return TYPE_NAMES[type] ??
    (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);
}

/**
 * Parses `data` with `schema` and returns the typed (and normalised) output,
 * or throws a {@link ValidationError} listing every problem.
 *
 * @param subject a noun for the error message, e.g. "session".
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  data: unknown,
  subject?: string,
): z.output<S> {
  const result = schema.safeParse(data, { error: readableErrors });
  if (!result.success) {
    throw new ValidationError(formatZodIssues(result.error.issues), subject);
  }
  return result.data;
}

/** Like {@link parseOrThrow} but returns the issues instead of throwing. */
export function validate<S extends z.ZodType>(
  schema: S,
  data: unknown,
):
  | { ok: true; value: z.output<S> }
  | { ok: false; issues: ValidationIssue[] } {
  const result = schema.safeParse(data, { error: readableErrors });
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, issues: formatZodIssues(result.error.issues) };
}
