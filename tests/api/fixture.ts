/**
 * API test fixture: the real app on in-memory KV with the demo catalog, an admin client
 * (ADMIN_TOKEN), learners with their own minted tokens, and small sessions made to order.
 */
import { mintToken } from "../../lib/auth/tokens.ts";
import type { Course, Location, Session, User } from "../../lib/domain/mod.ts";
import { createSession, createUser, listCourses, listLocations } from "../../lib/store/mod.ts";
import { startTestApp, type TestApp } from "../app_fixture.ts";
import { ApiClient } from "./client.ts";

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

/** A learner with a client that carries their token. */
export interface Learner {
  user: User;
  token: string;
  api: ApiClient;
}

/** The running app plus helpers. */
export interface ApiFixture extends TestApp {
  admin: ApiClient;
  anonymous: ApiClient;
  /** Creates learners (no completed courses) with tokens. */
  learners(n: number, roles?: User["roles"]): Promise<Learner[]>;
  /** A session of a course without prerequisites, starting in `startsInHours` (default 72). */
  session(
    options?: { capacity?: number; startsInHours?: number; course?: Course; waitlist?: boolean; locationId?: string },
  ): Promise<Session>;
  courseWithoutPrerequisites(): Promise<Course>;
  location(): Promise<Location>;
}

let seq = 0;

/** Starts the app; `close()` it in a finally block. */
export async function startApiFixture(env: Record<string, string> = {}): Promise<ApiFixture> {
  const t = await startTestApp({ env: { ADMIN_TOKEN, ...env } });
  const kv = t.services.kv;
  const courses = await listCourses(kv);
  const locations = await listLocations(kv);
  const plain = courses.filter((c) => c.prerequisiteCourseIds.length === 0);
  const admin = new ApiClient(t.app, ADMIN_TOKEN);
  return {
    ...t,
    admin,
    anonymous: new ApiClient(t.app),
    async learners(n, roles = ["learner"]) {
      const out: Learner[] = [];
      for (let i = 0; i < n; i++) {
        const user = await createUser(kv, {
          email: `api-test-${Date.now()}-${++seq}@example.com`,
          name: `Test Learner ${seq}`,
          roles,
        });
        const { token } = await mintToken(kv, user.id);
        out.push({ user, token, api: new ApiClient(t.app, token) });
      }
      return out;
    },
    async session(options = {}) {
      const course = options.course ?? plain[seq++ % plain.length];
      const location = locations.find((l) => l.id === options.locationId) ?? locations[seq % locations.length];
      const start = Date.now() + (options.startsInHours ?? 72) * 3_600_000;
      return await createSession(kv, {
        courseId: course.id,
        startsAt: new Date(start).toISOString(),
        endsAt: new Date(start + 2 * 3_600_000).toISOString(),
        timeZone: location.timeZone,
        mode: "in_person",
        locationId: location.id,
        capacity: options.capacity ?? 10,
        instructorId: (await createUser(kv, {
          email: `instructor-${Date.now()}-${++seq}@example.com`,
          name: "Test Instructor",
          roles: ["instructor"],
        })).id,
        waitlistEnabled: options.waitlist ?? true,
      });
    },
    courseWithoutPrerequisites: () => Promise.resolve(plain[0]),
    location: () => Promise.resolve(locations[0]),
  };
}
