/**
 * Builds the reports from the day blobs: one list read of the period's blobs (the dealer's own
 * blobs when a dealer is chosen), rows filtered in memory, then totals, rates, the people with more
 * than one no-show or late cancellation, and per-course and per-location tables. A result is cached
 * in this process until the next aggregate write (`["report_meta", "version"]` changes).
 */
import { type Topic, TOPIC_LABELS, TOPICS } from "../domain/course.ts";
import type { Course, Dealer, Location, User } from "../domain/mod.ts";
import { keys } from "../store/keys.ts";
import { listDealers } from "../store/dealers.ts";
import { getManyValues } from "./aggregator.ts";
import { C, type Counter, COUNTERS, type ReportBlob, type ReportFilters, type ReportRow } from "./model.ts";

/** The KPI targets of the customer's documents (issue 14). */
export const KPI_TARGETS = {
  registrationCompletion: { label: "> 90 %", ok: (r: number) => r > 0.9 },
  alternativeAcceptance: { label: "> 60 %", ok: (r: number) => r > 0.6 },
  noShowRate: { label: "< 10 %", ok: (r: number) => r < 0.1 },
  reportGeneration: { label: "< 5 s", ok: (ms: number) => ms < 5_000 },
} as const;

/** A person with more than one no-show or late cancellation. */
export interface RepeatPerson {
  learnerId: string;
  name: string;
  count: number;
}

/** One line of a per-course or per-location table. */
export interface BreakdownLine {
  id: string;
  label: string;
  sessions: number;
  bookings: number;
  /** Attendance recorded (attended, no-show, excused). */
  recorded: number;
  attended: number;
  /** Attended per recorded attendance; null when nothing was recorded. */
  completionRate: number | null;
  capacity: number;
  /** Bookings still held (bookings less cancellations). */
  seats: number;
  /** Seats per capacity over sessions not cancelled; null without capacity. */
  fillRate: number | null;
}

/** Everything the report page, API and CSV show. */
export interface Report {
  filters: ReportFilters;
  sessions: number;
  totals: Record<Counter, number>;
  /** `repeatPeople`: how many people have more than one; `people`: the first 100 of them, most first. */
  noShows: { count: number; recorded: number; rate: number | null; repeatPeople: number; people: RepeatPerson[] };
  lateCancels: { count: number; bookings: number; rate: number | null; repeatPeople: number; people: RepeatPerson[] };
  funnel: {
    views: number;
    holds: number;
    bookings: number;
    holdsConfirmed: number;
    holdsExpired: number;
    holdsReleased: number;
    /** Registration completion: holds turned into bookings per hold. */
    completionRate: number | null;
  };
  alternatives: { offered: number; accepted: number; rate: number | null };
  waitlist: {
    joins: number;
    offers: number;
    accepted: number;
    lapsed: number;
    declined: number;
    /** Mean hours from joining to the offer; null without offers. */
    avgHoursToOffer: number | null;
  };
  byCourse: BreakdownLine[];
  byLocation: BreakdownLine[];
  /** Filter choices present in the period (before the other filters), with labels. */
  options: {
    courses: { id: string; label: string; topic: Topic }[];
    topics: { id: Topic; label: string }[];
    locations: { id: string; label: string }[];
    instructors: { id: string; label: string }[];
    dealers: { id: string; label: string }[];
  };
  /** The aggregate version this report was built from. */
  version: string | null;
  tookMs: number;
  cached: boolean;
}

const rate = (n: number, d: number) => d > 0 ? n / d : null;
const END = "9999-99-99";

const cache = new Map<string, Report>();
const CACHE_MAX = 64;

/** Forgets cached reports (the bench's cold runs; tests). */
export function clearReportCache(): void {
  cache.clear();
}

/** Reads the rows of the period: every dealer's, or one dealer's own. */
async function readRows(kv: Deno.Kv, filters: ReportFilters): Promise<ReportRow[]> {
  const from = filters.from ?? "0000-00-00";
  const to = filters.to ?? END;
  const prefix = filters.dealerId ? keys.reportDealerDaysPrefix(filters.dealerId) : keys.reportDaysPrefix();
  const rows: ReportRow[] = [];
  // Day keys sort as text; `to` + "~" is past every bucket of the last day.
  const selector = { start: [...prefix, from], end: [...prefix, `${to}~`] };
  for await (const e of kv.list<ReportBlob>(selector, { batchSize: 1000 })) {
    for (const row of Object.values(e.value.rows)) rows.push(row);
  }
  return rows;
}

function emptyLine(id: string, label: string): BreakdownLine {
  return {
    id,
    label,
    sessions: 0,
    bookings: 0,
    recorded: 0,
    attended: 0,
    completionRate: null,
    capacity: 0,
    seats: 0,
    fillRate: null,
  };
}

function addToLine(line: BreakdownLine, row: ReportRow): void {
  const n = row.n;
  line.sessions++;
  line.bookings += n[C.bookings];
  line.attended += n[C.attended];
  line.recorded += n[C.attended] + n[C.noShows] + n[C.excused];
  if (!row.x) {
    line.capacity += row.cap;
    line.seats += Math.max(0, n[C.bookings] - n[C.cancels]);
  }
}

function finishLine(line: BreakdownLine): BreakdownLine {
  return { ...line, completionRate: rate(line.attended, line.recorded), fillRate: rate(line.seats, line.capacity) };
}

async function names<T extends { id: string }>(kv: Deno.Kv, ids: string[], key: (id: string) => Deno.KvKey) {
  const got = await getManyValues<T>(kv, ids.map(key));
  return new Map(got.flatMap((v) => v ? [[v.id, v] as const] : []));
}

/** People counted more than once, most first (ties by id, so the list is stable). */
function repeaters(counts: Map<string, number>): [string, number][] {
  return [...counts].filter(([, n]) => n > 1).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

function named(list: [string, number][], users: Map<string, User>): RepeatPerson[] {
  return list.slice(0, PEOPLE_LIMIT).map(([learnerId, count]) => ({
    learnerId,
    name: users.get(learnerId)?.name ?? "(unknown person)",
    count,
  }));
}

/** Most repeat people listed (the count of all of them is in the totals). */
const PEOPLE_LIMIT = 100;

/** Builds the report for `filters` (the caller has checked the dealer scope). */
export async function buildReport(kv: Deno.Kv, filters: ReportFilters): Promise<Report> {
  const t0 = performance.now();
  const version = (await kv.get<string>(keys.reportMeta("version"))).value;
  const cacheKey = JSON.stringify([filters, version]);
  const hit = cache.get(cacheKey);
  if (hit) return { ...hit, cached: true, tookMs: Math.round((performance.now() - t0) * 10) / 10 };

  const all = await readRows(kv, filters);
  const courseIds = [...new Set(all.map((r) => r.c))];
  const courses = await names<Course>(kv, courseIds, keys.course);
  const topicOf = (courseId: string) => courses.get(courseId)?.topic;
  const rows = all.filter((r) =>
    (!filters.courseId || r.c === filters.courseId) &&
    (!filters.topic || topicOf(r.c) === filters.topic) &&
    (!filters.locationId || (r.l ?? "online") === filters.locationId) &&
    (!filters.instructorId || r.i === filters.instructorId)
  );

  const totals = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<Counter, number>;
  const noShowPeople = new Map<string, number>();
  const latePeople = new Map<string, number>();
  const byCourse = new Map<string, BreakdownLine>();
  const byLocation = new Map<string, BreakdownLine>();
  for (const row of rows) {
    COUNTERS.forEach((c, i) => totals[c] += row.n[i]);
    for (const [id, n] of Object.entries(row.ns)) noShowPeople.set(id, (noShowPeople.get(id) ?? 0) + n);
    for (const [id, n] of Object.entries(row.lc)) latePeople.set(id, (latePeople.get(id) ?? 0) + n);
    const course = byCourse.get(row.c) ?? emptyLine(row.c, "");
    addToLine(course, row);
    byCourse.set(row.c, course);
    const locId = row.l ?? "online";
    const loc = byLocation.get(locId) ?? emptyLine(locId, "");
    addToLine(loc, row);
    byLocation.set(locId, loc);
  }

  const locationIds = [...new Set(all.flatMap((r) => r.l ? [r.l] : []))];
  const instructorIds = [...new Set(all.map((r) => r.i))];
  const noShowRepeat = repeaters(noShowPeople);
  const lateRepeat = repeaters(latePeople);
  // Names only for the people listed (the count covers everyone).
  const repeatIds = [...noShowRepeat.slice(0, PEOPLE_LIMIT), ...lateRepeat.slice(0, PEOPLE_LIMIT)].map(([id]) => id);
  const [locations, instructors, people, dealers] = await Promise.all([
    names<Location>(kv, locationIds, keys.location),
    names<User>(kv, instructorIds, keys.user),
    names<User>(kv, [...new Set(repeatIds)], keys.user),
    listDealers(kv) as Promise<Dealer[]>,
  ]);
  const courseLabel = (id: string) => {
    const c = courses.get(id);
    return c ? `${c.code} ${c.title}` : "(removed course)";
  };
  const locationLabel = (id: string) => id === "online" ? "Online" : locations.get(id)?.name ?? "(removed location)";
  const byLabel = (a: { label: string }, b: { label: string }) => a.label.localeCompare(b.label);

  const recorded = totals.attended + totals.noShows + totals.excused;
  const report: Report = {
    filters,
    sessions: rows.length,
    totals,
    noShows: {
      count: totals.noShows,
      recorded,
      rate: rate(totals.noShows, recorded),
      repeatPeople: noShowRepeat.length,
      people: named(noShowRepeat, people),
    },
    lateCancels: {
      count: totals.lateCancels,
      bookings: totals.bookings,
      rate: rate(totals.lateCancels, totals.bookings),
      repeatPeople: lateRepeat.length,
      people: named(lateRepeat, people),
    },
    funnel: {
      views: totals.views,
      holds: totals.holds,
      bookings: totals.bookings,
      holdsConfirmed: totals.holdsConfirmed,
      holdsExpired: totals.holdsExpired,
      holdsReleased: totals.holdsReleased,
      completionRate: rate(totals.holdsConfirmed, totals.holds),
    },
    alternatives: {
      offered: totals.altOffered,
      accepted: totals.altAccepted,
      rate: rate(totals.altAccepted, totals.altOffered),
    },
    waitlist: {
      joins: totals.waitJoins,
      offers: totals.waitOffers,
      accepted: totals.waitAccepted,
      lapsed: totals.waitLapsed,
      declined: totals.waitDeclined,
      avgHoursToOffer: totals.waitOffers ? Math.round(totals.waitToOfferSec / totals.waitOffers / 36) / 100 : null,
    },
    byCourse: [...byCourse.values()].map((l) => finishLine({ ...l, label: courseLabel(l.id) })).sort(byLabel),
    byLocation: [...byLocation.values()].map((l) => finishLine({ ...l, label: locationLabel(l.id) })).sort(byLabel),
    options: {
      courses: courseIds.map((id) => ({ id, label: courseLabel(id), topic: courses.get(id)?.topic ?? TOPICS[0] }))
        .sort(byLabel),
      topics: [...new Set([...courses.values()].map((c) => c.topic))].map((t) => ({ id: t, label: TOPIC_LABELS[t] }))
        .sort(byLabel),
      locations: [
        ...locationIds.map((id) => ({ id, label: locationLabel(id) })),
        ...(all.some((r) => !r.l) ? [{ id: "online", label: "Online" }] : []),
      ].sort(byLabel),
      instructors: instructorIds.map((id) => ({ id, label: instructors.get(id)?.name ?? "(removed person)" }))
        .sort(byLabel),
      dealers: dealers.map((d) => ({ id: d.id, label: d.name })).sort(byLabel),
    },
    version,
    tookMs: 0,
    cached: false,
  };
  report.tookMs = Math.round((performance.now() - t0) * 10) / 10;
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(cacheKey, report);
  return report;
}
