/**
 * The compliance scan over the store: reads people, requirements, assignments, courses and every
 * upcoming session with its seats and places once, runs the pure core (./recommend.ts) for each
 * person, stores each person's result at `["recommendations", learnerId]`, and emits the alerts
 * that are due (each identity once) to `["compliance_outbox", …]` for the notifications work.
 *
 * Runs nightly (cron) over everyone, and for the people concerned when a requirement or an
 * assignment changes or a session opens or frees seats (./rescan.ts).
 */
import { getAvailability } from "../booking/availability.ts";
import type { Place } from "../booking/model.ts";
import type { Assignment, Requirement } from "../domain/compliance.ts";
import type { Course, Location, Session, User } from "../domain/mod.ts";
import { type AtomicUnit, commitInBatches, getValuesById, listValues } from "../store/batch.ts";
import {
  type ComplianceEvent,
  complianceEvent,
  emitOnce,
  listAllAssignments,
  listAssignmentsOf,
  listRequirements,
} from "../store/compliance.ts";
import { keys, type SessionIndexEntry } from "../store/keys.ts";
import {
  type LearnerRecommendations,
  type OpenSession,
  recommendFor,
  type ScanCourse,
  type ScanPerson,
  type ScanResult,
} from "./recommend.ts";
import { alertThreshold, certificationsOf, type ComplianceSettings, dueSoonThreshold } from "./state.ts";

/** An event to emit; with an identity (`alertId`) it goes out once, without it every time. */
type Alert = { alertId: string | null; event: ComplianceEvent };

/** What a scan did. */
export interface ScanSummary {
  at: string;
  people: number;
  peopleWithGaps: number;
  recommendations: number;
  events: number;
  openSessions: number;
  /** Wall time of the phases, ms. */
  ms: { load: number; compute: number; write: number; total: number };
}

/** Upcoming sessions with seats and places: the part of the world every person shares. */
export interface SessionWorld {
  open: OpenSession[];
  /** Every upcoming scheduled session by id (full ones included), for seats and places. */
  upcoming: Map<string, Session>;
  /** Per learner: confirmed upcoming seats and sessions where they hold any live place. */
  places: Map<
    string,
    { seats: { sessionId: string; startsAt: string; courseId: string }[]; placeSessionIds: Set<string> }
  >;
}

async function inParallel<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

/** Reads every upcoming scheduled session, its availability and the places in it. */
export async function loadSessionWorld(
  kv: Deno.Kv,
  courses: ReadonlyMap<string, Course>,
  now: Date,
): Promise<SessionWorld> {
  const ids: string[] = [];
  const start = [...keys.sessionsByStartPrefix(), now.toISOString()];
  for await (const e of kv.list<SessionIndexEntry>({ start, end: [...keys.sessionsByStartPrefix(), "\uffff"] })) {
    if (e.value.status === "scheduled") ids.push(e.value.id);
  }
  const byId = await getValuesById<Session>(kv, ids, keys.session);
  const sessions = [...byId.values()].filter((s) => s.status === "scheduled" && Date.parse(s.startsAt) > now.getTime());
  const [availability, locations] = await Promise.all([
    getAvailability(kv, sessions, now),
    listValues<Location>(kv, { prefix: keys.locationsPrefix() }),
  ]);
  const where = new Map(locations.map((l) => [l.id, { lat: l.lat, lng: l.lng }]));
  const open: OpenSession[] = [];
  for (const s of sessions) {
    const seatsLeft = availability.get(s.id)?.seatsLeft ?? 0;
    if (seatsLeft <= 0) continue;
    const course = courses.get(s.courseId);
    open.push({
      sessionId: s.id,
      courseId: s.courseId,
      certificationTrack: course?.certificationTrack ?? null,
      topic: course?.topic ?? null,
      startsAt: s.startsAt,
      online: s.mode !== "in_person",
      location: s.locationId ? where.get(s.locationId) ?? null : null,
      seatsLeft,
      status: s.status,
      timeZone: s.timeZone,
    });
  }
  const places: SessionWorld["places"] = new Map();
  const nowMs = now.getTime();
  await inParallel(sessions, 32, async (s) => {
    for await (const e of kv.list<Place>({ prefix: keys.placesPrefix(s.id) })) {
      const learnerId = e.key[2] as string;
      const p = e.value;
      if ((p.kind === "hold" || p.kind === "offer") && (p.expiresAtMs ?? 0) <= nowMs) continue;
      let mine = places.get(learnerId);
      if (!mine) places.set(learnerId, mine = { seats: [], placeSessionIds: new Set() });
      mine.placeSessionIds.add(s.id);
      if (p.kind === "booking") mine.seats.push({ sessionId: s.id, startsAt: s.startsAt, courseId: s.courseId });
    }
  });
  return { open, upcoming: new Map(sessions.map((s) => [s.id, s])), places };
}

function scanCourse(c: Course): ScanCourse {
  return {
    id: c.id,
    prerequisiteCourseIds: c.prerequisiteCourseIds,
    certificationValidMonths: c.certificationValidMonths ?? null,
    certificationTrack: c.certificationTrack,
    topic: c.topic,
  };
}

function toPerson(u: User, where: ReadonlyMap<string, { lat: number; lng: number }>): ScanPerson {
  return {
    id: u.id,
    roles: u.roles,
    jobFunction: u.jobFunction ?? null,
    dealerId: u.dealerId,
    completedCourses: u.completedCourses,
    preferredLocation: u.preferredLocationId ? where.get(u.preferredLocationId) ?? null : null,
  };
}

/** Whether a person takes part in compliance (active, not erased). */
function counts(u: User): boolean {
  return u.active !== false && !u.erasedAt;
}

/** Who hears of a person's overdue items: their manager; after the grace, the manager's manager or dealer admins. */
function escalationTargets(u: User, users: ReadonlyMap<string, User>, dealerAdmins: ReadonlyMap<string, string[]>) {
  const manager = u.managerId ? users.get(u.managerId) : undefined;
  const above = manager?.managerId ? [manager.managerId] : u.dealerId ? dealerAdmins.get(u.dealerId) ?? [] : [];
  return { manager: u.managerId ? [u.managerId] : [], above };
}

function alertsFor(
  u: User,
  rec: ScanResult,
  previous: LearnerRecommendations | null,
  months: (courseId: string) => number | null,
  targets: { manager: string[]; above: string[] },
  now: Date,
  settings: ComplianceSettings,
): Alert[] {
  const out: Alert[] = [];
  for (const cert of certificationsOf(u.completedCourses, months, now, settings)) {
    const data = { expiresOn: cert.expiresOn, daysLeft: cert.daysLeft };
    if (cert.daysLeft < 0) {
      out.push({
        alertId: `expired:${cert.courseId}:${cert.expiresOn}`,
        event: complianceEvent("certification.expired", u.id, cert.courseId, targets.manager, data, now),
      });
      continue;
    }
    const threshold = alertThreshold(cert.daysLeft, settings.alertDays);
    if (threshold === null) continue;
    out.push({
      alertId: `expiring:${cert.courseId}:${cert.expiresOn}:${threshold}`,
      event: complianceEvent(
        "certification.expiring",
        u.id,
        cert.courseId,
        targets.manager,
        { ...data, threshold },
        now,
      ),
    });
  }
  for (const cell of rec.cells) {
    const soon = dueSoonThreshold(cell, settings.dueSoonDays);
    if (soon !== null) {
      // To the learner only: the manager sees the date on /team and hears if it passes.
      out.push({
        alertId: `due_soon:${cell.courseId}:${cell.dueOn}:${soon}`,
        event: complianceEvent(
          "assignment.due_soon",
          u.id,
          cell.courseId,
          [],
          { dueOn: cell.dueOn, daysLeft: cell.daysLeft, threshold: soon },
          now,
        ),
      });
    }
    if (cell.state !== "overdue" || cell.dueOn === null) continue;
    const data = { dueOn: cell.dueOn, daysOverdue: -(cell.daysLeft ?? 0) };
    out.push({
      alertId: `overdue:${cell.courseId}:${cell.dueOn}`,
      event: complianceEvent("assignment.overdue", u.id, cell.courseId, targets.manager, data, now),
    });
    if (-(cell.daysLeft ?? 0) >= settings.escalationGraceDays && targets.above.length) {
      out.push({
        alertId: `escalated:${cell.courseId}:${cell.dueOn}`,
        event: complianceEvent("assignment.escalated", u.id, cell.courseId, targets.above, data, now),
      });
    }
  }
  const sessionsOf = (r: LearnerRecommendations | null) =>
    JSON.stringify(r?.gaps.map((g) => [g.courseId, g.sessions.map((s) => s.sessionId)]) ?? []);
  if (rec.gaps.some((g) => g.sessions.length) && sessionsOf(rec) !== sessionsOf(previous)) {
    out.push({
      alertId: null,
      event: complianceEvent("recommendations.updated", u.id, null, [], {
        gaps: rec.gaps.map((g) => ({
          courseId: g.courseId,
          dueOn: g.dueOn,
          sessionIds: g.sessions.map((s) => s.sessionId),
        })),
      }, now),
    });
  }
  return out;
}

/** Options of a scan. */
export interface RunScanOptions {
  now: Date;
  settings: ComplianceSettings;
  /** Only these people (a targeted rescan); all when omitted. */
  learnerIds?: readonly string[];
  /** Emit alerts (default true). */
  alerts?: boolean;
}

/** Runs the scan (see the module comment) and returns what it did. */
export async function runComplianceScan(kv: Deno.Kv, options: RunScanOptions): Promise<ScanSummary> {
  const t0 = performance.now();
  const { now, settings } = options;
  const targeted = options.learnerIds !== undefined;
  const [courseList, requirements, locations, allUsers] = await Promise.all([
    listValues<Course>(kv, { prefix: keys.coursesPrefix() }),
    listRequirements(kv),
    listValues<Location>(kv, { prefix: keys.locationsPrefix() }),
    targeted ? Promise.resolve([] as User[]) : listValues<User>(kv, { prefix: ["users"] }),
  ]);
  let users: User[] = allUsers;
  let assignments: Assignment[];
  if (targeted) {
    const found = await getValuesById<User>(kv, options.learnerIds!, keys.user);
    users = [...found.values()];
    const managers = await getValuesById<User>(
      kv,
      users.map((u) => u.managerId).filter((x): x is string => !!x),
      keys.user,
    );
    assignments = (await Promise.all(users.map((u) => listAssignmentsOf(kv, u.id)))).flat();
    allUsers.push(...users, ...managers.values());
  } else {
    assignments = await listAllAssignments(kv);
  }
  const courses = new Map(courseList.map((c) => [c.id, c]));
  const sessionWorld = await loadSessionWorld(kv, courses, now);
  const openByCourse = new Map<string, OpenSession[]>();
  for (const s of sessionWorld.open) {
    const list = openByCourse.get(s.courseId) ?? [];
    list.push(s);
    openByCourse.set(s.courseId, list);
  }
  const world = {
    requirements: requirements as Requirement[],
    courses: new Map(courseList.map((c) => [c.id, scanCourse(c)])),
    openByCourse,
    rankings: new Map(),
  };
  const where = new Map(locations.map((l) => [l.id, { lat: l.lat, lng: l.lng }]));
  const assignmentsOf = new Map<string, Assignment[]>();
  for (const a of assignments) {
    const list = assignmentsOf.get(a.learnerId) ?? [];
    list.push(a);
    assignmentsOf.set(a.learnerId, list);
  }
  const usersById = new Map(allUsers.map((u) => [u.id, u]));
  const dealerAdmins = new Map<string, string[]>();
  if (!targeted) {
    for (const u of allUsers) {
      if (u.dealerId && u.roles.includes("dealer_admin")) {
        dealerAdmins.set(u.dealerId, [...dealerAdmins.get(u.dealerId) ?? [], u.id]);
      }
    }
  }
  const previous = new Map<string, LearnerRecommendations>();
  for await (const e of kv.list<LearnerRecommendations>({ prefix: ["recommendations"] })) {
    if (!targeted || usersById.has(e.key[1] as string)) previous.set(e.key[1] as string, e.value);
  }
  const tLoad = performance.now();

  const months = (id: string) => courses.get(id)?.certificationValidMonths ?? null;
  const noPlaces = { seats: [], placeSessionIds: new Set<string>() };
  const units: AtomicUnit[] = [];
  const alerts: Alert[] = [];
  let peopleWithGaps = 0;
  let recommendations = 0;
  let people = 0;
  const seen = new Set<string>();
  for (const u of users) {
    if (!counts(u)) continue;
    people++;
    seen.add(u.id);
    const rec = recommendFor(
      toPerson(u, where),
      assignmentsOf.get(u.id) ?? [],
      sessionWorld.places.get(u.id) ?? noPlaces,
      world,
      now,
      settings,
    );
    if (rec.gaps.length) peopleWithGaps++;
    recommendations += rec.gaps.reduce((n, g) => n + g.sessions.length, 0);
    const before = previous.get(u.id);
    // Unchanged results are not written again (a rescan the same day rewrites nothing).
    if ((rec.cells.length || before) && JSON.stringify(before?.gaps) !== JSON.stringify(rec.gaps)) {
      const value: LearnerRecommendations = { learnerId: rec.learnerId, computedAt: rec.computedAt, gaps: rec.gaps };
      units.push({ checks: [], mutations: [{ type: "set", key: keys.recommendations(u.id), value }] });
    }
    if (options.alerts !== false) {
      const targets = escalationTargets(u, usersById, dealerAdmins);
      alerts.push(...alertsFor(u, rec, previous.get(u.id) ?? null, months, targets, now, settings));
    }
  }
  // People gone (erased, deactivated, deleted) lose their stored result.
  for (const id of previous.keys()) {
    if (!seen.has(id)) units.push({ checks: [], mutations: [{ type: "delete", key: keys.recommendations(id) }] });
  }
  const tCompute = performance.now();
  await commitInBatches(kv, units);
  const emitted = await emitOnce(kv, alerts);
  const tWrite = performance.now();
  const summary: ScanSummary = {
    at: now.toISOString(),
    people,
    peopleWithGaps,
    recommendations,
    events: emitted.length,
    openSessions: sessionWorld.open.length,
    ms: {
      load: Math.round(tLoad - t0),
      compute: Math.round(tCompute - tLoad),
      write: Math.round(tWrite - tCompute),
      total: Math.round(tWrite - t0),
    },
  };
  if (!targeted) await kv.set(keys.complianceMeta("last_scan"), summary);
  return summary;
}

/** A person's stored scan result, or null before the first scan that concerned them. */
export async function getRecommendations(kv: Deno.Kv, learnerId: string): Promise<LearnerRecommendations | null> {
  return (await kv.get<LearnerRecommendations>(keys.recommendations(learnerId))).value;
}
