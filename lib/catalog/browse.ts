/**
 * The catalog as learners browse it: filters parsed from a query string, sessions listed through
 * the store's indexes, joined with course, location and live seat availability.
 */
import { z } from "zod";
import { distanceKm } from "../booking/ranking.ts";
import { type Availability, getAvailability } from "../booking/availability.ts";
import {
  CalendarDateSchema,
  type Course,
  type Location,
  PROGRAM_TYPES,
  type Session,
  SESSION_MODES,
  TOPICS,
} from "../domain/mod.ts";
import { IdSchema } from "../domain/common.ts";
import { getSession, getUser, isSessionCursor, listCourses, listLocations, listSessions } from "../store/mod.ts";
import { localDate } from "./format.ts";

const DateSchema = CalendarDateSchema;

/** Near-me cursors are offsets into the distance ordering: "n24", "n48", … */
const NEAR_CURSOR = /^n(\d{1,6})$/;

/** Catalog filters as they appear in the query string of `/`. */
export const BrowseFiltersSchema = z.object({
  from: DateSchema.optional(),
  to: DateSchema.optional(),
  location: z.string().refine((v) => v === "online" || IdSchema.safeParse(v).success, "is not a location of the list")
    .optional(),
  topic: z.enum(TOPICS).optional(),
  program: z.enum(PROGRAM_TYPES).optional(),
  mode: z.enum(SESSION_MODES).optional(),
  q: z.string().max(100).optional(),
  cursor: z.string().max(500).refine((c) => NEAR_CURSOR.test(c) || isSessionCursor(c), "is not a page of this list")
    .optional(),
  /** "Near me": in-person and hybrid sessions by distance from the learner's preferred location. */
  near: z.literal("1", { error: 'must be "1" (the Near me box)' }).optional(),
});
export type BrowseFilters = z.infer<typeof BrowseFiltersSchema>;

const DAY = 86_400_000;

/**
 * The earliest local date an upcoming session can have at `now`: yesterday in UTC, since a
 * session's local date trails the UTC date by at most one day.
 */
export function earliestUpcomingDate(now: Date): string {
  return new Date(now.getTime() - DAY).toISOString().slice(0, 10);
}

/**
 * Why the `to` date of `filters` can match no upcoming session, or null: it is before `from`
 * ("before_from"), or before {@link earliestUpcomingDate} ("past"; `from` defaults to now).
 */
export function toDateProblem(filters: Pick<BrowseFilters, "from" | "to">, now: Date): "before_from" | "past" | null {
  if (!filters.to) return null;
  if (filters.from && filters.from > filters.to) return "before_from";
  return filters.to < earliestUpcomingDate(now) ? "past" : null;
}

/**
 * Parses filters leniently: a bad value is dropped and reported, so the page still shows
 * sessions and tells the learner what it ignored.
 */
export function parseBrowseFilters(
  params: URLSearchParams,
  now = new Date(),
): { filters: BrowseFilters; problems: string[] } {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(BrowseFiltersSchema.shape)) {
    const v = params.get(key)?.trim();
    if (v) raw[key] = v;
  }
  const filters: Record<string, string> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const field = BrowseFiltersSchema.shape[key as keyof BrowseFilters];
    const r = field.safeParse(value);
    if (r.success) filters[key] = value;
    else problems.push(`${labelOf(key)} "${value}" ${r.error.issues[0]?.message ?? "is not valid"}; it was ignored.`);
  }
  const toProblem = toDateProblem(filters, now);
  if (toProblem) {
    problems.push(
      toProblem === "before_from"
        ? "The end date is before the start date; the end date was ignored."
        : "The end date is in the past, and only upcoming sessions are listed; the end date was ignored.",
    );
    delete filters.to;
  }
  return { filters: filters as BrowseFilters, problems };
}

function labelOf(key: string): string {
  return ({
    from: "From date",
    to: "To date",
    program: "Program type",
    q: "Search",
    near: "Near me",
    cursor: "Page",
  } as Record<
    string,
    string
  >)[key] ??
    key[0].toUpperCase() + key.slice(1);
}

/** One row of the catalog. */
export interface SessionRow {
  session: Session;
  course: Course;
  location: Location | null;
  availability: Availability;
  /** Whole km from the learner's preferred location (near-me results only). */
  distanceKm?: number;
}

/** A page of catalog rows plus everything the filter form needs. */
export interface BrowseResult {
  rows: SessionRow[];
  nextCursor: string | null;
  locations: Location[];
  /** Set on near-me results. */
  near?: NearMeInfo;
}

/** What a near-me listing was measured from and how much it found. */
export interface NearMeInfo {
  origin: Location;
  radiusKm: number;
  /** Sessions within the radius (all pages). */
  total: number;
  /** 0-based index of the first row on this page. */
  offset: number;
  /** True when the scan stopped at {@link NEAR_SCAN_LIMIT} sessions, so farther-future sessions may be missing. */
  truncated: boolean;
}

/** Lists upcoming sessions matching the filters, soonest first, one page at a time. */
export async function browseSessions(
  kv: Deno.Kv,
  filters: BrowseFilters,
  now = new Date(),
  limit = 24,
): Promise<BrowseResult> {
  const [courses, locations] = await Promise.all([listCourses(kv), listLocations(kv)]);
  const courseById = new Map(courses.map((c) => [c.id, c]));
  const locationById = new Map(locations.map((l) => [l.id, l]));
  // Dates are the sessions' local calendar dates: widen the UTC range by a day and filter exactly below.
  const fromMs = filters.from ? Math.max(Date.parse(`${filters.from}T00:00:00Z`) - DAY, now.getTime()) : now.getTime();
  const to = filters.to ? new Date(Date.parse(`${filters.to}T00:00:00Z`) + 2 * DAY).toISOString() : undefined;
  const online = filters.location === "online";
  const page = await listSessions(kv, {
    from: new Date(fromMs).toISOString(),
    to,
    locationId: filters.location && !online ? filters.location : undefined,
    online: online || undefined,
    topic: filters.topic,
    programType: filters.program,
    mode: filters.mode,
    q: filters.q,
    cursor: filters.cursor,
    limit,
  });
  const sessions = page.sessions.filter((s) => {
    const day = localDate(s.startsAt, s.timeZone);
    return (!filters.from || day >= filters.from) && (!filters.to || day <= filters.to);
  });
  const availability = await getAvailability(kv, sessions, now);
  const rows = sessions.flatMap((s) => {
    const course = courseById.get(s.courseId);
    if (!course) return [];
    return [{
      session: s,
      course,
      location: s.locationId ? locationById.get(s.locationId) ?? null : null,
      availability: availability.get(s.id)!,
    }];
  });
  return { rows, nextCursor: page.nextCursor, locations };
}

/** Near me lists in-person and hybrid sessions at most this far (great-circle km) from the learner's location. */
export const NEAR_RADIUS_KM = 300;
/** Near me reads at most this many upcoming sessions per location (the demo catalog has 600 in all). */
export const NEAR_SCAN_LIMIT = 3000;

/** Whether a cursor is a near-me cursor (an offset), as opposed to the store's position cursor. */
export function isNearCursor(cursor: string | undefined): boolean {
  return !!cursor && NEAR_CURSOR.test(cursor);
}

/**
 * Near me: upcoming in-person and hybrid sessions matching the other filters, within
 * {@link NEAR_RADIUS_KM} of `origin`, ordered by distance rounded to whole km, then soonest first
 * (so one location's sessions stay together, soonest first), then id. Online sessions are left
 * out. The ordering cannot follow the store's start-time cursor, so pages are offsets into it
 * (`nextCursor` "n24", …); each location's scan stops after {@link NEAR_SCAN_LIMIT} sessions
 * (`near.truncated`).
 */
export async function browseNearMe(
  kv: Deno.Kv,
  filters: BrowseFilters,
  origin: Location,
  now = new Date(),
  limit = 24,
): Promise<BrowseResult> {
  const [courses, locations] = await Promise.all([listCourses(kv), listLocations(kv)]);
  const courseById = new Map(courses.map((c) => [c.id, c]));
  const locationById = new Map(locations.map((l) => [l.id, l]));
  const offset = Number(NEAR_CURSOR.exec(filters.cursor ?? "")?.[1] ?? 0);
  const empty = (): BrowseResult => ({
    rows: [],
    nextCursor: null,
    locations,
    near: { origin, radiusKm: NEAR_RADIUS_KM, total: 0, offset, truncated: false },
  });
  if (filters.location === "online" || filters.mode === "online") return empty();
  const fromMs = filters.from ? Math.max(Date.parse(`${filters.from}T00:00:00Z`) - DAY, now.getTime()) : now.getTime();
  const to = filters.to ? new Date(Date.parse(`${filters.to}T00:00:00Z`) + 2 * DAY).toISOString() : undefined;
  // Only locations inside the radius can contribute: list each one's sessions through the store's
  // location index (in parallel) instead of reading the whole catalog.
  const nearby = locations.flatMap((loc) => {
    const km = Math.round(distanceKm(origin, loc));
    return km <= NEAR_RADIUS_KM && (!filters.location || filters.location === loc.id) ? [{ loc, km }] : [];
  });
  let truncated = false;
  const perLocation = await Promise.all(nearby.map(async ({ loc, km }) => {
    const out: { s: Session; km: number }[] = [];
    let scanned = 0;
    let cursor: string | null = null;
    do {
      const page = await listSessions(kv, {
        from: new Date(fromMs).toISOString(),
        to,
        locationId: loc.id,
        topic: filters.topic,
        programType: filters.program,
        mode: filters.mode,
        q: filters.q,
        cursor,
        limit: 500,
      });
      scanned += page.sessions.length;
      cursor = page.nextCursor;
      for (const s of page.sessions) {
        if (s.mode === "online") continue;
        const day = localDate(s.startsAt, s.timeZone);
        if ((filters.from && day < filters.from) || (filters.to && day > filters.to)) continue;
        out.push({ s, km });
      }
    } while (cursor && scanned < NEAR_SCAN_LIMIT);
    if (cursor) truncated = true;
    return out;
  }));
  const found = perLocation.flat();
  found.sort((a, b) =>
    a.km - b.km || (a.s.startsAt < b.s.startsAt ? -1 : a.s.startsAt > b.s.startsAt ? 1 : a.s.id < b.s.id ? -1 : 1)
  );
  const page = found.slice(offset, offset + limit).filter((f) => courseById.has(f.s.courseId));
  const availability = await getAvailability(kv, page.map((f) => f.s), now);
  const rows: SessionRow[] = page.map(({ s, km }) => ({
    session: s,
    course: courseById.get(s.courseId)!,
    location: locationById.get(s.locationId!) ?? null,
    availability: availability.get(s.id)!,
    distanceKm: km,
  }));
  return {
    rows,
    nextCursor: offset + limit < found.length ? `n${offset + limit}` : null,
    locations,
    near: { origin, radiusKm: NEAR_RADIUS_KM, total: found.length, offset, truncated },
  };
}

/** One session with its course, location, availability and prerequisite courses. */
export interface SessionDetail extends SessionRow {
  prerequisites: Course[];
  /** The instructor's name (null when the user record is gone). */
  instructor: { id: string; name: string } | null;
}

/** Loads a session for its detail page; null when there is no such session. */
export async function getSessionDetail(kv: Deno.Kv, id: string, now = new Date()): Promise<SessionDetail | null> {
  const session = await getSession(kv, id);
  if (!session) return null;
  const [courses, locations] = await Promise.all([listCourses(kv), listLocations(kv)]);
  const course = courses.find((c) => c.id === session.courseId);
  if (!course) return null;
  const [availability, instructor] = await Promise.all([
    getAvailability(kv, [session], now).then((m) => m.get(session.id)!),
    getUser(kv, session.instructorId),
  ]);
  return {
    session,
    course,
    location: locations.find((l) => l.id === session.locationId) ?? null,
    availability,
    prerequisites: courses.filter((c) => course.prerequisiteCourseIds.includes(c.id)),
    instructor: instructor ? { id: instructor.id, name: instructor.name } : null,
  };
}
