import type { Course } from "../domain/course.ts";
import type { Dealer } from "../domain/dealer.ts";
import type { Location } from "../domain/location.ts";
import type { Session } from "../domain/session.ts";
import type { User } from "../domain/user.ts";
import type { ImportBookingInput } from "../store/bookings.ts";
import { buildCatalog } from "./build_catalog.ts";
import { buildPeople } from "./build_people.ts";
import { buildSchedule } from "./build_schedule.ts";
import { buildBookings } from "./build_bookings.ts";
import { Random } from "./random.ts";

/** Default PRNG seed of the demo data. */
export const DEFAULT_SEED = 20261121;

/** Everything the demo seed writes, in write order. */
export interface DemoData {
  locations: Location[];
  courses: Course[];
  dealers: Dealer[];
  users: User[];
  sessions: Session[];
  bookings: ImportBookingInput[];
  demoLearnerId: string;
}

/**
 * Generates the demo data set in memory. The content depends only on `seed`
 * and on `now` (all dates are relative to it); ids are fresh ULIDs.
 */
export function buildDemoData(now: Date, seed = DEFAULT_SEED): DemoData {
  const rng = new Random(seed);
  const catalog = buildCatalog();
  const people = buildPeople(rng, now, catalog);
  const sessions = buildSchedule(rng, now, catalog.courses, people.instructors);
  const { bookings } = buildBookings(rng, now, sessions, catalog.courses, people.learners, people.demoLearnerId);
  return {
    locations: catalog.locations,
    courses: catalog.courses,
    dealers: catalog.dealers,
    users: people.users,
    sessions,
    bookings,
    demoLearnerId: people.demoLearnerId,
  };
}
