import { z } from "zod";
import { isValidTimeZone, TIME_ZONE_NAME } from "./time_zone.ts";

/** A ULID primary or foreign key. */
export const IdSchema = z.ulid();

/**
 * A UTC instant as an ISO-8601 string ending in `Z`. Normalised to
 * `Date#toISOString()` form (millisecond precision) so that stored strings
 * sort chronologically in KV keys.
 */
export const UtcDateTimeSchema = z.iso.datetime().overwrite((s) => {
  // zod runs this even when the format check failed: leave such input alone so the issue is reported.
  const t = Date.parse(s);
  return Number.isNaN(t) ? s : new Date(t).toISOString();
});

/**
 * A calendar date like 2026-12-01 (years 1000–9999). The pattern alone is exact, leap years
 * included, so what the OpenAPI document shows is all a client must meet: no 0000-00-00, no
 * 2026-02-30.
 */
export const CalendarDateSchema = z.string().regex(
  /^(?:(?:[1-9]\d(?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[13579][26])00)-02-29|[1-9]\d{3}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|02-(?:0[1-9]|1\d|2[0-8])))$/,
  "must be a real date like 2026-12-01",
);

/** An IANA time zone name such as "America/Denver". */
export const TimeZoneSchema = z.string().refine(isValidTimeZone, {
  error: (issue) => `"${String(issue.input)}" is not a known IANA time zone (e.g. America/Chicago)`,
}).meta({ pattern: TIME_ZONE_NAME.source });

/** A URL-safe lower-case slug: `atlanta-midtown`. */
export const SlugSchema = z.string().min(1).max(80).regex(
  /^[a-z0-9]+(?:-[a-z0-9]+)*$/,
  { error: "must be lower-case letters, digits and single dashes" },
);

/** Where a change came from. */
export const ORIGINS = ["web", "api", "admin", "calcom", "system"] as const;
export const OriginSchema = z.enum(ORIGINS);
export type Origin = z.infer<typeof OriginSchema>;

/** Two-letter US state and DC codes. */
export const US_STATE_CODES = [
  "AL",
  "AK",
  "AZ",
  "AR",
  "CA",
  "CO",
  "CT",
  "DE",
  "DC",
  "FL",
  "GA",
  "HI",
  "ID",
  "IL",
  "IN",
  "IA",
  "KS",
  "KY",
  "LA",
  "ME",
  "MD",
  "MA",
  "MI",
  "MN",
  "MS",
  "MO",
  "MT",
  "NE",
  "NV",
  "NH",
  "NJ",
  "NM",
  "NY",
  "NC",
  "ND",
  "OH",
  "OK",
  "OR",
  "PA",
  "RI",
  "SC",
  "SD",
  "TN",
  "TX",
  "UT",
  "VT",
  "VA",
  "WA",
  "WV",
  "WI",
  "WY",
] as const;
export const UsStateSchema = z.enum(US_STATE_CODES, {
  error: "must be a two-letter US state code such as GA or TX",
});

/** A non-empty, trimmed line of text up to `max` characters. */
export function text(max: number) {
  return z.string().trim().min(1).max(max);
}
