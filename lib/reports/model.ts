/**
 * What the reports count, and how the counts are stored.
 *
 * One ROW per session (its course, location, instructor and capacity, and the counters below),
 * kept in day blobs: `["report_days", day, bucket]` holds the rows of the sessions starting that
 * UTC day (4 buckets by session id, so a busy day stays far below KV's 64 KiB value limit), and
 * `["report_dealer_days", dealerId, day]` the same rows counting only that dealer's learners.
 * A report over a period reads one blob per day and bucket (about 2,900 entries for 2 years),
 * never the bookings themselves. Blobs are stored packed ({@link PackedBlob}).
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

/**
 * How a day blob is stored: its rows packed into one Float64Array (a memcpy to read, where row
 * objects cost a million small allocations over two years of sessions) and the ids they use in one
 * string table. Row `i` starts at `i * ROW_WIDTH`: session, course, location (-1 online),
 * instructor (indexes into `s`), capacity, cancelled (0/1), then the counters in COUNTERS order.
 * `p` holds the people: (row, list 0 no-shows / 1 late cancellations, learner index, count).
 */
export interface PackedBlob {
  v: 2;
  s: string[];
  r: Float64Array;
  p: Int32Array;
}

/** Numbers per packed row. */
export const ROW_WIDTH = 6 + COUNTERS.length;
/** Offset of the first counter in a packed row. */
export const FIRST_COUNTER = 6;

/** Packs a blob for storage. */
export function encodeBlob(blob: ReportBlob): PackedBlob {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const at = (s: string) => {
    let i = index.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      index.set(s, i);
    }
    return i;
  };
  const ids = Object.keys(blob.rows);
  const r = new Float64Array(ids.length * ROW_WIDTH);
  const people: number[] = [];
  ids.forEach((id, n) => {
    const row = blob.rows[id];
    const o = n * ROW_WIDTH;
    r[o] = at(id);
    r[o + 1] = at(row.c);
    r[o + 2] = row.l === null ? -1 : at(row.l);
    r[o + 3] = at(row.i);
    r[o + 4] = row.cap;
    r[o + 5] = row.x ? 1 : 0;
    for (let k = 0; k < COUNTERS.length; k++) r[o + FIRST_COUNTER + k] = row.n[k] ?? 0;
    for (const [learner, count] of Object.entries(row.ns)) people.push(n, 0, at(learner), count);
    for (const [learner, count] of Object.entries(row.lc)) people.push(n, 1, at(learner), count);
  });
  return { v: 2, s: strings, r, p: Int32Array.from(people) };
}

/** Whether a stored blob is in the current packed format. */
export function isPacked(value: unknown): value is PackedBlob {
  return !!value && (value as PackedBlob).v === 2 && (value as PackedBlob).r instanceof Float64Array;
}

/** Unpacks a stored blob (an older unpacked `{rows}` value is read as it is). */
export function decodeBlob(value: PackedBlob | ReportBlob | null): ReportBlob {
  if (!value) return { rows: {} };
  if (!isPacked(value)) return value as ReportBlob;
  const { s, r, p } = value;
  const rows: Record<string, ReportRow> = {};
  const ids: string[] = [];
  for (let o = 0; o < r.length; o += ROW_WIDTH) {
    const id = s[r[o]];
    ids.push(id);
    rows[id] = {
      c: s[r[o + 1]],
      l: r[o + 2] < 0 ? null : s[r[o + 2]],
      i: s[r[o + 3]],
      cap: r[o + 4],
      x: r[o + 5] === 1,
      n: Array.from(r.subarray(o + FIRST_COUNTER, o + ROW_WIDTH)),
      ns: {},
      lc: {},
    };
  }
  for (let q = 0; q < p.length; q += 4) rows[ids[p[q]]][p[q + 1] === 0 ? "ns" : "lc"][s[p[q + 2]]] = p[q + 3];
  return { rows };
}
