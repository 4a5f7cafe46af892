import { createCourse } from "../store/courses.ts";
import { createDealer } from "../store/dealers.ts";
import { createLocation } from "../store/locations.ts";
import { importSessions } from "../store/sessions.ts";
import { importUsers } from "../store/users.ts";
import { importConfirmedBookings } from "../store/bookings.ts";
import { deleteAllKeys } from "../store/reset.ts";
import { keys } from "../store/keys.ts";
import { buildDemoData, DEFAULT_SEED } from "./demo_data.ts";
import { buildCompliance, certifyCourses } from "./build_compliance.ts";
import { saveAssignment, saveRequirement } from "../store/compliance.ts";
import { complianceEvent } from "../store/compliance.ts";
import { runComplianceScan } from "../compliance/scan.ts";
import { DEFAULT_COMPLIANCE_SETTINGS } from "../compliance/state.ts";
import { seedDemoNotifications } from "../notify/seed.ts";

/**
 * Version of the demo data set. Change it when the generated data changes:
 * a store seeded with another version is wiped and seeded again.
 */
export const SEED_VERSION = "demo-v2";

/** A seed still "in progress" after this long is treated as crashed. */
const STALE_SEED_MS = 2 * 60_000;

/** Value of `["meta", "seed"]`. */
export interface SeedMarker {
  version: string;
  status: "in_progress" | "complete";
  startedAt: string;
  completedAt: string | null;
  counts: SeedCounts | null;
}

/** How many records a seed wrote. */
export interface SeedCounts {
  locations: number;
  courses: number;
  dealers: number;
  users: number;
  sessions: number;
  bookings: number;
}

/** Outcome of {@link seedDemoData}. */
export interface SeedResult {
  seeded: boolean;
  version: string;
  /** Why nothing was written, when `seeded` is false. */
  reason?: "already_seeded" | "seed_in_progress";
  counts: SeedCounts | null;
  /** Keys deleted first (stale or crashed seed, or a reset). */
  deleted: number;
  ms: number;
}

export interface SeedOptions {
  /** Dates are generated relative to this instant (default: now). */
  now?: Date;
  /** PRNG seed (default {@link DEFAULT_SEED}). */
  seed?: number;
}

/** Prefixes whose presence means the store already holds application data. */
const DATA_PREFIXES = ["locations", "courses", "users", "sessions", "bookings"];

async function hasData(kv: Deno.Kv): Promise<boolean> {
  for (const prefix of DATA_PREFIXES) {
    for await (const _ of kv.list({ prefix: [prefix] }, { limit: 1 })) return true;
  }
  return false;
}

/**
 * Loads the demo catalog, people, sessions and bookings — idempotently.
 *
 * - `["meta","seed"]` complete with this version: does nothing
 *   (`{seeded: false, reason: "already_seeded"}`).
 * - In progress and recent: another process is seeding; does nothing.
 * - In progress but stale (a crashed seed) or another version: deletes every
 *   key, then seeds.
 * - No marker but data present: throws instead of mixing demo data into
 *   real data (use {@link resetAndSeed}).
 *
 * The marker is claimed first ("in_progress") and completed LAST, so a
 * crashed seed is redone on the next call.
 */
export async function seedDemoData(kv: Deno.Kv, options: SeedOptions = {}): Promise<SeedResult> {
  const started = performance.now();
  const now = options.now ?? new Date();
  const elapsed = () => Math.round(performance.now() - started);
  const markerKey = keys.seedMarker();
  const marker = await kv.get<SeedMarker>(markerKey);
  const m = marker.value;
  let deleted = 0;

  if (m?.status === "complete" && m.version === SEED_VERSION) {
    return { seeded: false, reason: "already_seeded", version: SEED_VERSION, counts: m.counts, deleted, ms: elapsed() };
  }
  if (m?.status === "in_progress" && Date.now() - Date.parse(m.startedAt) < STALE_SEED_MS) {
    return { seeded: false, reason: "seed_in_progress", version: SEED_VERSION, counts: null, deleted, ms: elapsed() };
  }
  if (!m && await hasData(kv)) {
    throw new Error(
      "the store holds data but no seed marker; refusing to seed over it (run `deno task seed --reset` to wipe it)",
    );
  }

  const claim: SeedMarker = {
    version: SEED_VERSION,
    status: "in_progress",
    startedAt: new Date().toISOString(),
    completedAt: null,
    counts: null,
  };
  const claimed = await kv.atomic().check(marker).set(markerKey, claim).commit();
  if (!claimed.ok) {
    return { seeded: false, reason: "seed_in_progress", version: SEED_VERSION, counts: null, deleted, ms: elapsed() };
  }
  if (m) deleted = await deleteAllKeys(kv, { keep: [markerKey] });

  const counts = await writeDemoData(kv, now, options.seed ?? DEFAULT_SEED);
  await kv.set(markerKey, { ...claim, status: "complete", completedAt: new Date().toISOString(), counts });
  return { seeded: true, version: SEED_VERSION, counts, deleted, ms: elapsed() };
}

async function writeDemoData(kv: Deno.Kv, now: Date, seed: number): Promise<SeedCounts> {
  const data = buildDemoData(now, seed);
  const courses = certifyCourses(data.courses);
  const compliance = buildCompliance(data.users, courses, now);
  await Promise.all(data.locations.map((l) => createLocation(kv, l)));
  // Courses one by one: each one's prerequisites must already exist.
  for (const course of courses) await createCourse(kv, course);
  await Promise.all(data.dealers.map((d) => createDealer(kv, d)));
  await importUsers(kv, compliance.users);
  await importSessions(kv, data.sessions);
  await importConfirmedBookings(kv, data.bookings);
  for (const r of compliance.requirements) await saveRequirement(kv, r);
  for (const a of compliance.assignments) {
    const event = complianceEvent("assignment.created", a.learnerId, a.courseId, [], { dueOn: a.dueOn }, now);
    await saveAssignment(kv, a, event);
  }
  // Recommendations from the start (the nightly scan keeps them fresh); alerts wait for the worker's scans.
  await runComplianceScan(kv, { now, settings: DEFAULT_COMPLIANCE_SETTINGS, alerts: false });
  // The demo learner's inbox and the admin's notification list (imported bookings have no events).
  await seedDemoNotifications(kv, data.demoLearnerId, now);
  return {
    locations: data.locations.length,
    courses: data.courses.length,
    dealers: data.dealers.length,
    users: data.users.length,
    sessions: data.sessions.length,
    bookings: data.bookings.length,
  };
}

/** Deletes every key in the store, then seeds the demo data. */
export async function resetAndSeed(kv: Deno.Kv, options: SeedOptions = {}): Promise<SeedResult> {
  const started = performance.now();
  const deleted = await deleteAllKeys(kv);
  const result = await seedDemoData(kv, options);
  return { ...result, deleted: deleted + result.deleted, ms: Math.round(performance.now() - started) };
}
