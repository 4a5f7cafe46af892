/**
 * Fixtures for the booking engine tests (not a test file itself). Records are built with the
 * lib/domain zod schemas and written with raw `kv.set`, so these tests do not depend on the store
 * layer (lib/store) that is being written in parallel.
 * @module
 */
import {
  type Course,
  CourseSchema,
  type Location,
  LocationSchema,
  newId,
  type Session,
  SessionSchema,
  type User,
  UserSchema,
} from "../../lib/domain/mod.ts";
import { BookingEngine } from "../../lib/booking/engine.ts";
import type { Actor } from "../../lib/booking/events.ts";
import { keys } from "../../lib/store/keys.ts";

export const HOUR = 3_600_000;
export const MINUTE = 60_000;
/** The test clock starts here. */
export const T0 = Date.parse("2026-03-01T15:00:00.000Z");

/** A clock tests move by hand (`new BookingEngine(kv, {now: clock.now})`). */
export class Clock {
  constructor(public ms = T0) {}
  readonly now = (): Date => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Writes a location. */
export async function putLocation(kv: Deno.Kv, over: Partial<Location> = {}): Promise<Location> {
  const location = LocationSchema.parse({
    id: newId(),
    slug: `loc-${newId().toLowerCase().slice(-8)}`,
    name: "Atlanta Midtown Training Center",
    address: { line1: "1100 Peachtree St NE", city: "Atlanta", region: "GA", postalCode: "30309", country: "US" },
    lat: 33.7845,
    lng: -84.3838,
    timeZone: "America/New_York",
    ...over,
  });
  await kv.set(["locations", location.id], location);
  return location;
}

/** Writes a course. */
export async function putCourse(kv: Deno.Kv, over: Partial<Course> = {}): Promise<Course> {
  const course = CourseSchema.parse({
    id: newId(),
    code: "SAF-101",
    title: "Shop Safety Fundamentals",
    summary: "Lockout/tagout, PPE and hazard communication.",
    topic: "safety",
    programType: "onboarding",
    durationMinutes: 120,
    ...over,
  });
  await kv.set(keys.course(course.id), course);
  return course;
}

/** Writes a session with its zeroed seat counters and its sessions_by_course index entry. */
export async function putSession(
  kv: Deno.Kv,
  courseId: string,
  over: Partial<Session> & { startsInHours?: number } = {},
): Promise<Session> {
  const { startsInHours = 24 * 7, ...rest } = over;
  const startsAt = new Date(T0 + startsInHours * HOUR).toISOString();
  const session = SessionSchema.parse({
    id: newId(),
    courseId,
    startsAt,
    endsAt: new Date(Date.parse(rest.startsAt ?? startsAt) + 2 * HOUR).toISOString(),
    timeZone: "America/New_York",
    mode: "online",
    joinUrl: "https://meet.example.com/x",
    capacity: 10,
    instructorId: newId(),
    createdAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString(),
    ...rest,
  });
  await kv.atomic()
    .set(keys.session(session.id), session)
    .set(keys.seats(session.id), { confirmed: 0, holds: 0, waiting: 0 })
    .set(["sessions_by_course", session.courseId, session.startsAt, session.id], {
      id: session.id,
      courseId: session.courseId,
      locationId: session.locationId,
      instructorId: session.instructorId,
      mode: session.mode,
      status: session.status,
    })
    .commit();
  return session;
}

/** Writes a learner. */
export async function putUser(kv: Deno.Kv, over: Partial<User> = {}): Promise<User> {
  const id = over.id ?? newId();
  const user = UserSchema.parse({
    id,
    email: `u${id.toLowerCase()}@example.com`,
    name: "Test Learner",
    roles: ["learner"],
    createdAt: new Date(T0).toISOString(),
    ...over,
  });
  await kv.set(keys.user(user.id), user);
  return user;
}

/** Writes `n` learners. */
export async function putUsers(kv: Deno.Kv, n: number): Promise<User[]> {
  const users: User[] = [];
  for (let i = 0; i < n; i++) users.push(await putUser(kv));
  return users;
}

/** The learner acting for themself. */
export function self(userId: string, origin: Actor["origin"] = "web"): Actor {
  return { userId, roles: ["learner"], origin, correlationId: crypto.randomUUID() };
}

/** An admin acting for anyone. */
export function admin(userId = newId()): Actor {
  return { userId, roles: ["admin"], origin: "admin", correlationId: crypto.randomUUID() };
}

/** A fresh engine on a fresh KV with a hand-moved clock. */
export async function setup(
  options: { path?: string; holdMinutes?: number } = {},
): Promise<{ kv: Deno.Kv; engine: BookingEngine; clock: Clock; course: Course }> {
  const kv = await Deno.openKv(options.path ?? ":memory:");
  const clock = new Clock();
  const engine = new BookingEngine(kv, { holdMinutes: options.holdMinutes ?? 15, now: clock.now });
  const course = await putCourse(kv);
  return { kv, engine, clock, course };
}

/** Settles every pending promise (errors included) and closes the store. */
export async function teardown(kv: Deno.Kv, pending: Promise<unknown>[] = []): Promise<void> {
  await Promise.allSettled(pending);
  // Let lane drains and retry timers finish before the store goes away.
  await new Promise((r) => setTimeout(r, 0));
  kv.close();
}

/** Every value under a prefix. */
export async function listValues<T>(kv: Deno.Kv, prefix: Deno.KvKey): Promise<T[]> {
  const out: T[] = [];
  for await (const e of kv.list<T>({ prefix })) out.push(e.value);
  return out;
}
