/**
 * What the reports count, and how the counts are stored.
 *
 * One ROW per session (its course, location, instructor and capacity, and the counters below),
 * kept in day blobs: `["report_days", day, bucket]` holds the rows of the sessions starting that
 * UTC day (4 buckets by session id, so a busy day stays far below KV's 64 KiB value limit), and
 * `["report_dealer_days", dealerId, day]` the same rows counting only that dealer's learners.
 * A report over a period reads one blob per day and bucket (about 4,400 entries for 3 years),
 * never the bookings themselves: that is what keeps it under a second over a million bookings.
 *
 * Everything is attributed to the SESSION's day (a hold placed in May for a June session counts
 * in June): reports answer "what happened around the sessions of this period".
 */
import { z } from "zod";
import { IdSchema } from "../domain/common.ts";
import { TOPICS } from "../domain/course.ts";

/** The counters of a row, in storage order (rows store a plain number array). */
export const COUNTERS = [
  "views",
  "holds",
  "holdsConfirmed",
  "bookings",
  "holdsExpired",
  "holdsReleased",
  "altOffered",
  "altAccepted",
  "waitJoins",
  "waitOffers",
  "waitAccepted",
  "waitLapsed",
  "waitDeclined",
  "waitToOfferSec",
  "attended",
  "noShows",
  "excused",
  "cancels",
  "lateCancels",
] as const;

/** A counter's name. */
export type Counter = typeof COUNTERS[number];

/** Index of each counter in a row's array. */
export const C: Record<Counter, number> = Object.fromEntries(COUNTERS.map((c, i) => [c, i])) as Record<
  Counter,
  number
>;

/** A session's counters (for all learners, or for one dealer's). */
export interface ReportRow {
  /** Course id. */
  c: string;
  /** Location id, null online. */
  l: string | null;
  /** Instructor id. */
  i: string;
  /** Capacity. */
  cap: number;
  /** True when the session is cancelled (left out of fill rates). */
  x: boolean;
  /** Counters, in {@link COUNTERS} order. */
  n: number[];
  /** No-shows per learner (only learners with at least one). */
  ns: Record<string, number>;
  /** Late cancellations per learner. */
  lc: Record<string, number>;
}

/** The value of a day blob: rows by session id. */
export interface ReportBlob {
  rows: Record<string, ReportRow>;
}

/** Number of buckets a day's rows are spread over. */
export const DAY_BUCKETS = 4;

/** The bucket of a session's row. */
export function bucketOf(sessionId: string): number {
  let h = 0;
  for (let i = 0; i < sessionId.length; i++) h = (h * 31 + sessionId.charCodeAt(i)) >>> 0;
  return h % DAY_BUCKETS;
}

/** The UTC day (YYYY-MM-DD) a session's row belongs to. */
export function dayOf(startsAt: string): string {
  return startsAt.slice(0, 10);
}

/** An empty row for a session. */
export function emptyRow(meta: SessionMeta): ReportRow {
  return { ...metaFields(meta), n: COUNTERS.map(() => 0), ns: {}, lc: {} };
}

/** What a row records about its session (refreshed every time the row changes). */
export interface SessionMeta {
  id: string;
  courseId: string;
  locationId: string | null;
  instructorId: string;
  capacity: number;
  status: "scheduled" | "cancelled";
  startsAt: string;
}

/** The session fields of a row. */
export function metaFields(meta: SessionMeta): Pick<ReportRow, "c" | "l" | "i" | "cap" | "x"> {
  return {
    c: meta.courseId,
    l: meta.locationId,
    i: meta.instructorId,
    cap: meta.capacity,
    x: meta.status === "cancelled",
  };
}

/** A view of a session page waiting to be folded into the rows. */
export interface ReportInboxItem {
  kind: "view";
  sessionId: string;
  /** The signed-in viewer's dealer (that dealer's slice counts the view too), or null. */
  dealerId: string | null;
  atMs: number;
}

/** A full-session answer that offered alternatives; decided 24 h later (booked one of them or not). */
export interface AltOffer {
  id: string;
  sessionId: string;
  learnerId: string;
  alternatives: string[];
  atMs: number;
  decided: boolean;
  accepted: boolean;
}

/** How long a learner has to book one of the alternatives for the offer to count as accepted. */
export const ALT_WINDOW_MS = 24 * 3600_000;

/** A calendar day `YYYY-MM-DD` that exists (2025-02-30 does not). */
const DaySchema = z.string().refine((d) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(d)) return false;
  const t = Date.parse(`${d}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === d;
}, { error: "must be a date like 2025-01-31" });

/** Report filters (query string of pages, API and CSV). Empty strings mean "any". */
export const ReportFiltersSchema = z.strictObject({
  from: DaySchema.optional(),
  to: DaySchema.optional(),
  courseId: IdSchema.optional(),
  topic: z.enum(TOPICS).optional(),
  locationId: z.union([IdSchema, z.literal("online")]).optional(),
  instructorId: IdSchema.optional(),
  dealerId: IdSchema.optional(),
}).refine((f) => !f.from || !f.to || f.from <= f.to, { error: "must not be after `to`", path: ["from"] });

/** Parsed report filters. */
export type ReportFilters = z.infer<typeof ReportFiltersSchema>;

/** Drops empty values (a GET form sends every field) before parsing. */
export function withoutEmpty(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== "" && v !== undefined));
}
