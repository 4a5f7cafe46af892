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
import {
  C,
  type Counter,
  COUNTERS,
  encodeBlob,
  FIRST_COUNTER,
  isPacked,
  type PackedBlob,
  type ReportBlob,
  type ReportFilters,
  ROW_WIDTH,
} from "./model.ts";

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

/** What the scan of the period's blobs collects. */
interface Scan {
  totals: number[];
  noShowPeople: Map<string, number>;
  latePeople: Map<string, number>;
  byCourse: Map<string, BreakdownLine>;
  byLocation: Map<string, BreakdownLine>;
  sessions: number;
  /** Choices present in the period, before the other filters. */
  courseIds: Set<string>;
  locationIds: Set<string>;
  instructorIds: Set<string>;
}

/**
 * Reads the period's blobs (every dealer's, or one dealer's own) and sums the rows that pass the
 * filters straight from the packed arrays: no row objects are made.
 */
async function scanRows(
  kv: Deno.Kv,
  filters: ReportFilters,
  topicOf: (courseId: string) => string | undefined,
): Promise<Scan> {
  const from = filters.from ?? "0000-00-00";
  const to = filters.to ?? END;
  const prefix = filters.dealerId ? keys.reportDealerDaysPrefix(filters.dealerId) : keys.reportDaysPrefix();
  const scan: Scan = {
    totals: COUNTERS.map(() => 0),
    noShowPeople: new Map(),
    latePeople: new Map(),
    byCourse: new Map(),
    byLocation: new Map(),
    sessions: 0,
    courseIds: new Set(),
    locationIds: new Set(),
    instructorIds: new Set(),
  };
  const line = (map: Map<string, BreakdownLine>, id: string) => {
    let l = map.get(id);
    if (!l) map.set(id, l = emptyLine(id, ""));
    return l;
  };
  const consume = (value: PackedBlob | ReportBlob) => {
    const { s, r, p } = isPacked(value) ? value : encodeBlob(value as ReportBlob);
    const pass = new Uint8Array(r.length / ROW_WIDTH);
    for (let o = 0, n = 0; o < r.length; o += ROW_WIDTH, n++) {
      const c = s[r[o + 1]];
      const l = r[o + 2] < 0 ? "online" : s[r[o + 2]];
      const i = s[r[o + 3]];
      scan.courseIds.add(c);
      scan.locationIds.add(l);
      scan.instructorIds.add(i);
      if (filters.courseId && c !== filters.courseId) continue;
      if (filters.topic && topicOf(c) !== filters.topic) continue;
      if (filters.locationId && l !== filters.locationId) continue;
      if (filters.instructorId && i !== filters.instructorId) continue;
      pass[n] = 1;
      scan.sessions++;
      for (let k = 0; k < COUNTERS.length; k++) scan.totals[k] += r[o + FIRST_COUNTER + k];
      addToLine(line(scan.byCourse, c), r, o);
      addToLine(line(scan.byLocation, l), r, o);
    }
    for (let q = 0; q < p.length; q += 4) {
      if (!pass[p[q]]) continue;
      const people = p[q + 1] === 0 ? scan.noShowPeople : scan.latePeople;
      const id = s[p[q + 2]];
      people.set(id, (people.get(id) ?? 0) + p[q + 3]);
    }
  };
  // The period's days in a few slices read at once (the store reads them off this thread). Day keys
  // sort as text; `day + "~"` is past every bucket of that day.
  const ranges = await daySlices(kv, prefix, from, to);
  await Promise.all(ranges.map(async ([a, b]) => {
    for await (
      const e of kv.list<PackedBlob | ReportBlob>({ start: [...prefix, a], end: [...prefix, b] }, { batchSize: 500 })
    ) {
      consume(e.value);
    }
  }));
  return scan;
}

/** Splits the stored days between `from` and `to` into up to 4 key ranges `[start, end)`. */
async function daySlices(kv: Deno.Kv, prefix: Deno.KvKey, from: string, to: string): Promise<[string, string][]> {
  const selector = { start: [...prefix, from], end: [...prefix, `${to}~`] };
  const edge = async (reverse: boolean) => {
    for await (const e of kv.list(selector, { limit: 1, reverse })) return String(e.key[prefix.length]);
    return null;
  };
  const [first, last] = await Promise.all([edge(false), edge(true)]);
  if (!first || !last) return [];
  const DAY = 86_400_000;
  const a = Date.parse(`${first}T00:00:00Z`);
  const days = Math.round((Date.parse(`${last}T00:00:00Z`) - a) / DAY) + 1;
  const n = Math.max(1, Math.min(4, Math.ceil(days / 60)));
  const step = Math.ceil(days / n);
  const out: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    const start = new Date(a + i * step * DAY).toISOString().slice(0, 10);
    const end = i === n - 1 ? `${last}~` : new Date(a + (i + 1) * step * DAY).toISOString().slice(0, 10);
    out.push([start, end]);
  }
  return out;
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

/** Adds the packed row at offset `o` to a breakdown line. */
function addToLine(line: BreakdownLine, r: Float64Array, o: number): void {
  const at = (c: Counter) => r[o + FIRST_COUNTER + C[c]];
  line.sessions++;
  line.bookings += at("bookings");
  line.attended += at("attended");
  line.recorded += at("attended") + at("noShows") + at("excused");
  if (r[o + 5] !== 1) {
    line.capacity += r[o + 4];
    line.seats += Math.max(0, at("bookings") - at("cancels"));
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

  // Courses are few: all of them, for the topic filter and the labels.
  const courses = new Map(
    (await Array.fromAsync(kv.list<Course>({ prefix: keys.coursesPrefix() }))).map((e) => [e.value.id, e.value]),
  );
  const scan = await scanRows(kv, filters, (id) => courses.get(id)?.topic);
  const totals = Object.fromEntries(COUNTERS.map((c, k) => [c, scan.totals[k]])) as Record<Counter, number>;
  const { noShowPeople, latePeople, byCourse, byLocation } = scan;
  const courseIds = [...scan.courseIds];

  const locationIds = [...scan.locationIds].filter((id) => id !== "online");
  const instructorIds = [...scan.instructorIds];
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
    sessions: scan.sessions,
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
        ...(scan.locationIds.has("online") ? [{ id: "online", label: "Online" }] : []),
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
