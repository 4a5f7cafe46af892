/**
 * Test fixture: the real app on an in-memory KV loaded with the demo catalog, optionally served
 * on a random loopback port; a one-course catalog for apps started without it; full sessions.
 */
import type { Hono } from "hono";
import { createApp } from "../lib/app.ts";
import { getAvailability } from "../lib/booking/availability.ts";
import { BookingEngine } from "../lib/booking/engine.ts";
import type { Actor } from "../lib/booking/events.ts";
import { loadConfig } from "../lib/config.ts";
import { createRelay } from "../lib/relay/mod.ts";
import { seedDemoData } from "../lib/seed/mod.ts";
import type { Course, NewUser, Session, User } from "../lib/domain/mod.ts";
import type { Services } from "../lib/services.ts";
import { createCourse, createSession, createUser, getSession } from "../lib/store/mod.ts";

/** A running test app. Call `close()` in a finally block. */
export interface TestApp {
  app: Hono;
  services: Services;
  /** Base URL when served (`serve: true`). */
  baseUrl: string;
  close(): Promise<void>;
}

/** Starts the app on `:memory:` KV with the demo data. */
export async function startTestApp(
  options: { serve?: boolean; seed?: boolean; env?: Record<string, string>; dev?: boolean; now?: () => Date } = {},
): Promise<TestApp> {
  const config = loadConfig({ DENO_KV_PATH: ":memory:", PORT: "0", ...options.env });
  const kv = await Deno.openKv(":memory:");
  if (options.seed !== false) await seedDemoData(kv);
  // `now`: the engine's (business) clock, for tests that move time instead of waiting.
  const engine = new BookingEngine(kv, { holdMinutes: config.holdMinutes, now: options.now });
  // With KAFKA_BROKERS in `env` the relay delivers to that broker; otherwise it is off.
  const relay = createRelay(kv, config, { idleMs: 200 });
  relay.start();
  const services: Services = { kv, config, engine, relay };
  const app = await createApp(services, { dev: options.dev });
  let server: Deno.HttpServer | null = null;
  let baseUrl = "";
  if (options.serve) {
    server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
    baseUrl = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  }
  return {
    app,
    services,
    baseUrl,
    async close() {
      if (server) await server.shutdown();
      await relay.stop();
      kv.close();
    },
  };
}

/** A course, its instructor and a learner (`courseFixture`); `session` schedules the course. */
export interface CourseFixture {
  course: Course;
  instructor: User;
  learner: User;
  /**
   * A one-hour session of the course starting `hours` from the engine's now: online, or in person at
   * `locationId`; 5 seats unless `capacity` says otherwise.
   */
  session(hours: number, where?: { locationId?: string; capacity?: number }): Promise<Session>;
}

/**
 * On an app started with `seed: false`: the course SAF-101 (no prerequisites), an instructor and the
 * learner Lee (l@example.com; `learner` adds to or changes their fields).
 */
export async function courseFixture(t: TestApp, learner: Partial<NewUser> = {}): Promise<CourseFixture> {
  const kv = t.services.kv;
  const now = t.services.engine.now().getTime();
  const course = await createCourse(kv, {
    code: "SAF-101",
    title: "Shop Safety",
    summary: "Safety.",
    topic: "safety",
    programType: "onboarding",
    durationMinutes: 60,
  });
  const instructor = await createUser(kv, { email: "i@example.com", name: "Instructor", roles: ["instructor"] });
  return {
    course,
    instructor,
    learner: await createUser(kv, { email: "l@example.com", name: "Lee", roles: ["learner"], ...learner }),
    session: (hours, { locationId, capacity = 5 } = {}) =>
      createSession(kv, {
        courseId: course.id,
        startsAt: new Date(now + hours * 3_600_000).toISOString(),
        endsAt: new Date(now + (hours + 1) * 3_600_000).toISOString(),
        timeZone: "America/New_York",
        ...(locationId
          ? { mode: "in_person" as const, locationId }
          : { mode: "online" as const, joinUrl: "https://meet.example.com/x" }),
        capacity,
        instructorId: instructor.id,
      }),
  };
}

/**
 * Takes every seat left on a session: one new learner (filler-N-<session id>@example.com) holds each,
 * and with `book` confirms the hold.
 */
export async function fillSession(t: TestApp, sessionId: string, options: { book?: boolean } = {}): Promise<void> {
  const { kv, engine } = t.services;
  const session = (await getSession(kv, sessionId))!;
  const left = (await getAvailability(kv, [session])).get(sessionId)!.seatsLeft;
  for (let i = 0; i < left; i++) {
    const u = await createUser(kv, {
      email: `filler-${i}-${sessionId.toLowerCase()}@example.com`,
      name: "Filler",
      roles: ["learner"],
    });
    const actor: Actor = {
      userId: u.id,
      roles: ["learner"],
      origin: "web",
      correlationId: crypto.randomUUID(),
      reason: "test",
    };
    const { hold } = await engine.placeHold(sessionId, u.id, actor);
    if (options.book) await engine.confirmHold(hold.id, actor);
  }
}
