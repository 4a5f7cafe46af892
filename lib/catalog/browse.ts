/**
 * The catalog as learners browse it: filters parsed from a query string, sessions listed through
 * the store's indexes, joined with course, location and live seat availability.
 */
import { z } from "zod";
import { type Availability, getAvailability } from "../booking/availability.ts";
import { type Course, type Location, PROGRAM_TYPES, type Session, SESSION_MODES, TOPICS } from "../domain/mod.ts";
import { getSession, listCourses, listLocations, listSessions } from "../store/mod.ts";
import { localDate } from "./format.ts";

const DateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date like 2026-12-01")
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), "must be a real date");

/** Catalog filters as they appear in the query string of `/`. */
export const BrowseFiltersSchema = z.object({
  from: DateSchema.optional(),
  to: DateSchema.optional(),
  location: z.string().max(40).optional(),
  topic: z.enum(TOPICS).optional(),
  program: z.enum(PROGRAM_TYPES).optional(),
  mode: z.enum(SESSION_MODES).optional(),
  q: z.string().max(100).optional(),
  cursor: z.string().max(500).optional(),
});
export type BrowseFilters = z.infer<typeof BrowseFiltersSchema>;

/**
 * Parses filters leniently: a bad value is dropped and reported, so the page still shows
 * sessions and tells the learner what it ignored.
 */
export function parseBrowseFilters(params: URLSearchParams): { filters: BrowseFilters; problems: string[] } {
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
  if (filters.from && filters.to && filters.from > filters.to) {
    problems.push("The end date is before the start date; the end date was ignored.");
    delete filters.to;
  }
  return { filters: filters as BrowseFilters, problems };
}

function labelOf(key: string): string {
  return ({ from: "From date", to: "To date", program: "Program type", q: "Search" } as Record<string, string>)[key] ??
    key[0].toUpperCase() + key.slice(1);
}

/** One row of the catalog. */
export interface SessionRow {
  session: Session;
  course: Course;
  location: Location | null;
  availability: Availability;
}

/** A page of catalog rows plus everything the filter form needs. */
export interface BrowseResult {
  rows: SessionRow[];
  nextCursor: string | null;
  locations: Location[];
}

const DAY = 86_400_000;

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

/** One session with its course, location, availability and prerequisite courses. */
export interface SessionDetail extends SessionRow {
  prerequisites: Course[];
}

/** Loads a session for its detail page; null when there is no such session. */
export async function getSessionDetail(kv: Deno.Kv, id: string, now = new Date()): Promise<SessionDetail | null> {
  const session = await getSession(kv, id);
  if (!session) return null;
  const [courses, locations] = await Promise.all([listCourses(kv), listLocations(kv)]);
  const course = courses.find((c) => c.id === session.courseId);
  if (!course) return null;
  const availability = (await getAvailability(kv, [session], now)).get(session.id)!;
  return {
    session,
    course,
    location: locations.find((l) => l.id === session.locationId) ?? null,
    availability,
    prerequisites: courses.filter((c) => course.prerequisiteCourseIds.includes(c.id)),
  };
}
