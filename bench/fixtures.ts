/**
 * What the bench needs in KV, made through the store layer (no demo seed): one location, courses
 * without prerequisites, sessions, and learners with minted API tokens.
 */
import { mintToken } from "../lib/auth/tokens.ts";
import type { Course, Location, Session, User } from "../lib/domain/mod.ts";
import { createCourse, createLocation, createUser, importSessions, importUsers } from "../lib/store/mod.ts";

/** The catalog the scenarios run on. */
export interface BenchCatalog {
  location: Location;
  instructorId: string;
  /** Course of the hot sessions (few sessions: what a full one's alternatives look at). */
  hotCourse: Course;
  /** Course of the many spread sessions. */
  spreadCourse: Course;
}

let seq = 0;

/** Creates the location, instructor and the two courses. */
export async function createCatalog(kv: Deno.Kv): Promise<BenchCatalog> {
  const location = await createLocation(kv, {
    slug: "bench-center",
    name: "Bench Training Center",
    address: { line1: "1 Bench Way", city: "Atlanta", region: "GA", postalCode: "30309", country: "US" },
    lat: 33.7845,
    lng: -84.3838,
    timeZone: "America/New_York",
  });
  const instructor = await createUser(kv, {
    email: "bench-instructor@example.com",
    name: "Bench Instructor",
    roles: ["instructor"],
  });
  const course = (code: string, title: string) =>
    createCourse(kv, {
      code,
      title,
      summary: "A course for the bench.",
      topic: "safety",
      programType: "onboarding",
      durationMinutes: 120,
    });
  return {
    location,
    instructorId: instructor.id,
    hotCourse: await course("BEN-101", "Bench Hot Course"),
    spreadCourse: await course("BEN-201", "Bench Spread Course"),
  };
}

/** Creates `n` in-person sessions of a course, a day apart from 30 days ahead, with the capacity given. */
export function createSessions(
  kv: Deno.Kv,
  catalog: BenchCatalog,
  course: Course,
  n: number,
  capacity: number,
): Promise<Session[]> {
  const base = Date.now() + 30 * 24 * 3_600_000;
  return importSessions(
    kv,
    Array.from({ length: n }, (_, i) => {
      const start = base + (seq++ % 5000) * 3_600_000 + i * 60_000;
      return {
        courseId: course.id,
        startsAt: new Date(start).toISOString(),
        endsAt: new Date(start + 2 * 3_600_000).toISOString(),
        timeZone: catalog.location.timeZone,
        mode: "in_person" as const,
        locationId: catalog.location.id,
        capacity,
        instructorId: catalog.instructorId,
        waitlistEnabled: true,
      };
    }),
  );
}

/** Creates `n` learners (importUsers) and mints one token each (mintToken, `parallel` at a time). */
export async function createLearnerTokens(kv: Deno.Kv, n: number, parallel = 32): Promise<string[]> {
  const stamp = Date.now().toString(36);
  const users: User[] = [];
  for (let from = 0; from < n; from += 2000) {
    users.push(
      ...await importUsers(
        kv,
        Array.from({ length: Math.min(2000, n - from) }, (_, i) => ({
          email: `bench-${stamp}-${from + i}@example.com`,
          name: `Bench Learner ${from + i}`,
          roles: ["learner" as const],
        })),
      ),
    );
  }
  const tokens = new Array<string>(n);
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < n) {
      const i = next++;
      tokens[i] = (await mintToken(kv, users[i].id)).token;
    }
  }));
  return tokens;
}
