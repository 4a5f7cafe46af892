import { z } from "zod";
import { type Course, ProgramTypeSchema, TopicSchema } from "../domain/course.ts";
import { IdSchema, UtcDateTimeSchema } from "../domain/common.ts";
import { type Session, SessionModeSchema } from "../domain/session.ts";
import { parseOrThrow } from "../domain/validation.ts";
import { keys, type SessionIndexEntry } from "./keys.ts";
import { getSessions } from "./sessions.ts";
import { type Catalog, loadCatalog } from "./catalog_cache.ts";
import {
  compareSessionPosition,
  decodeSessionCursor,
  encodeSessionCursor,
  type SessionCursor,
} from "./session_cursor.ts";

const DateLike = z.union([z.date(), z.string()]).transform((v, ctx) => {
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) {
    ctx.addIssue({ code: "custom", message: "must be a date-time" });
    return z.NEVER;
  }
  return d.toISOString();
}).pipe(UtcDateTimeSchema);

/** Accepted options of {@link listSessions}. */
export const ListSessionsOptionsSchema = z.object({
  /** Earliest startsAt, inclusive. */
  from: DateLike.optional(),
  /** Latest startsAt, exclusive. */
  to: DateLike.optional(),
  locationId: IdSchema.optional(),
  /**
   * true: only sessions without a location (mode "online"); false: only
   * sessions at a location (in_person or hybrid). Use `mode` for one mode.
   */
  online: z.boolean().optional(),
  courseId: IdSchema.optional(),
  instructorId: IdSchema.optional(),
  topic: TopicSchema.optional(),
  programType: ProgramTypeSchema.optional(),
  mode: SessionModeSchema.optional(),
  /** Words that must all appear in the course title, code or topic. */
  q: z.string().max(200).optional(),
  includeCancelled: z.boolean().default(false),
  cursor: z.string().max(500).nullable().optional(),
  limit: z.number().int().min(1).max(500).default(20),
});
export type ListSessionsOptions = z.input<typeof ListSessionsOptionsSchema>;
type Options = z.output<typeof ListSessionsOptionsSchema>;

/** One page of sessions plus the cursor for the next page (null at the end). */
export interface SessionPage {
  sessions: Session[];
  nextCursor: string | null;
}

/** At most this many course indexes are merged for topic/programType/q. */
const MAX_MERGED_COURSES = 12;
/** Guessed share of sessions taught by one instructor (no counts are kept). */
const INSTRUCTOR_SHARE = 0.04;
/** Guessed share of sessions that are online-only. */
const ONLINE_SHARE = 0.3;

function courseMatchesText(course: Course, words: string[]): boolean {
  const hay = `${course.title} ${course.code} ${course.topic}`.toLowerCase();
  return words.every((w) => hay.includes(w));
}

/**
 * The set of allowed course ids implied by courseId/topic/programType/q, or
 * null when the options do not restrict courses.
 */
function allowedCourses(opts: Options, catalog: Catalog): Set<string> | null {
  const words = (opts.q ?? "").toLowerCase().split(/\s+/).filter(Boolean);
  if (!opts.courseId && !opts.topic && !opts.programType && !words.length) {
    return null;
  }
  const out = new Set<string>();
  const candidates = opts.courseId
    ? [catalog.courses.get(opts.courseId)].filter((c): c is Course => !!c)
    : catalog.courses.values();
  for (const c of candidates) {
    if (opts.topic && c.topic !== opts.topic) continue;
    if (opts.programType && c.programType !== opts.programType) continue;
    if (words.length && !courseMatchesText(c, words)) continue;
    out.add(c.id);
  }
  return out;
}

interface ScanPlan {
  /** Index prefixes to walk and merge; each key is [...prefix, startsAt, id]. */
  prefixes: Deno.KvKey[];
  /** Estimated share of all sessions the plan reads (lower is better). */
  share: number;
  name: string;
}

/** Picks the index (or merged indexes) expected to read the fewest entries. */
function chooseScanPlan(
  opts: Options,
  courses: Set<string> | null,
  catalog: Catalog,
): ScanPlan {
  const plans: ScanPlan[] = [];
  if (courses && courses.size <= MAX_MERGED_COURSES) {
    plans.push({
      name: "course",
      prefixes: [...courses].sort().map((id) => keys.sessionsByCoursePrefix(id)),
      share: courses.size / Math.max(1, catalog.courses.size),
    });
  }
  if (opts.instructorId) {
    plans.push({
      name: "instructor",
      prefixes: [keys.sessionsByInstructorPrefix(opts.instructorId)],
      share: INSTRUCTOR_SHARE,
    });
  }
  if (opts.locationId) {
    plans.push({
      name: "location",
      prefixes: [keys.sessionsByLocationPrefix(opts.locationId)],
      share: 1 / Math.max(1, catalog.locations.size + 1),
    });
  } else if (opts.online === true || opts.mode === "online") {
    plans.push({
      name: "online",
      prefixes: [keys.sessionsByLocationPrefix(null)],
      share: ONLINE_SHARE,
    });
  }
  plans.push({ name: "start", prefixes: [keys.sessionsByStartPrefix()], share: 1 });
  return plans.reduce((best, p) => (p.share < best.share ? p : best));
}

function matches(
  s: Pick<Session, "courseId" | "locationId" | "instructorId" | "mode" | "status">,
  opts: Options,
  courses: Set<string> | null,
): boolean {
  if (!opts.includeCancelled && s.status !== "scheduled") return false;
  if (courses && !courses.has(s.courseId)) return false;
  if (opts.locationId && s.locationId !== opts.locationId) return false;
  if (opts.online === true && s.locationId !== null) return false;
  if (opts.online === false && s.locationId === null) return false;
  if (opts.instructorId && s.instructorId !== opts.instructorId) return false;
  if (opts.mode && s.mode !== opts.mode) return false;
  return true;
}

/** The index range to walk; null when it is empty (KV refuses a start after the end). */
function selectorFor(
  prefix: Deno.KvKey,
  opts: Options,
  after: SessionCursor | null,
): Deno.KvListSelector | null {
  const useCursor = after && (!opts.from || after.startsAt >= opts.from);
  const startsAt = useCursor ? after.startsAt : opts.from;
  if (startsAt && opts.to && startsAt >= opts.to) return null;
  const start = useCursor ? [...prefix, after.startsAt, after.id] : opts.from ? [...prefix, opts.from] : null;
  const end = opts.to ? [...prefix, opts.to] : null;
  if (start && end) return { start, end };
  if (start) return { prefix, start };
  if (end) return { prefix, end };
  return { prefix };
}

interface Positioned {
  pos: SessionCursor;
  entry: SessionIndexEntry;
}

/** Walks one index range, yielding entries strictly after `after`. */
async function* walk(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
  opts: Options,
  after: SessionCursor | null,
  batchSize: number,
): AsyncGenerator<Positioned> {
  const selector = selectorFor(prefix, opts, after);
  if (!selector) return;
  const iter = kv.list<SessionIndexEntry>(selector, { batchSize });
  for await (const { key, value } of iter) {
    const pos = {
      startsAt: String(key[key.length - 2]),
      id: String(key[key.length - 1]),
    };
    if (after && compareSessionPosition(pos, after) <= 0) continue;
    yield { pos, entry: value };
  }
}

/** Merges sorted streams by (startsAt, id). */
async function* mergeByPosition(
  streams: AsyncGenerator<Positioned>[],
): AsyncGenerator<Positioned> {
  const heads = await Promise.all(streams.map((s) => s.next()));
  while (true) {
    let best = -1;
    heads.forEach((h, i) => {
      if (h.done) return;
      const cur = best < 0 ? null : heads[best];
      if (!cur || cur.done || compareSessionPosition(h.value.pos, cur.value.pos) < 0) {
        best = i;
      }
    });
    if (best < 0) return;
    const head = heads[best] as IteratorYieldResult<Positioned>;
    yield head.value;
    heads[best] = await streams[best].next();
  }
}

/**
 * Lists sessions ordered by startsAt then id, one page at a time.
 *
 * Reads only secondary indexes (never a scan of `["sessions"]`): it walks the
 * index expected to be the most selective — one course, a handful of courses
 * matching topic/programType/q (merged), the instructor, the location (or the
 * "online" bucket), or else the start-time index — bounded by `from`/`to`,
 * filters the index summaries in memory, and finally reads only the
 * sessions on the page. `topic`, `programType` and `q` are resolved against
 * the cached course catalog.
 *
 * Throws `ValidationError` for bad options or a malformed cursor.
 */
export async function listSessions(
  kv: Deno.Kv,
  options: ListSessionsOptions = {},
): Promise<SessionPage> {
  const opts = parseOrThrow(ListSessionsOptionsSchema, options, "session query");
  const after = opts.cursor ? decodeSessionCursor(opts.cursor) : null;
  const catalog = await loadCatalog(kv);
  const courses = allowedCourses(opts, catalog);
  if (courses && courses.size === 0) return { sessions: [], nextCursor: null };
  if (opts.locationId && opts.online === true) return { sessions: [], nextCursor: null };

  const plan = chooseScanPlan(opts, courses, catalog);
  const batchSize = Math.min(500, Math.max(25, opts.limit * 2));
  const stream = mergeByPosition(
    plan.prefixes.map((p) => walk(kv, p, opts, after, batchSize)),
  );

  const found: Positioned[] = [];
  for await (const item of stream) {
    if (!matches(item.entry, opts, courses)) continue;
    found.push(item);
    if (found.length > opts.limit) break; // one extra tells us a next page exists
  }
  const page = found.slice(0, opts.limit);
  const byId = await getSessions(kv, page.map((p) => p.entry.id));
  const sessions = page
    .map((p) => byId.get(p.entry.id))
    .filter((s): s is Session => !!s && matches(s, opts, courses));
  const last = page.at(-1);
  return {
    sessions,
    nextCursor: found.length > opts.limit && last ? encodeSessionCursor(last.pos) : null,
  };
}
