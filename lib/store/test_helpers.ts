// Shared fixtures for the store tests (not a test file itself).
import type { Course } from "../domain/course.ts";
import type { Location } from "../domain/location.ts";
import type { NewSession } from "../domain/session.ts";
import { newId } from "../domain/ids.ts";
import { createLocation } from "./locations.ts";
import { createCourse } from "./courses.ts";

/** Runs `fn` with a fresh in-memory KV and always closes it. */
export async function withKv(fn: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    kv.close();
  }
}

/** A KV proxy that records every `list` selector. */
export function spyOnList(kv: Deno.Kv): { kv: Deno.Kv; selectors: Deno.KvListSelector[] } {
  const selectors: Deno.KvListSelector[] = [];
  const proxy = new Proxy(kv, {
    get(target, prop) {
      if (prop === "list") {
        return (selector: Deno.KvListSelector, options?: Deno.KvListOptions) => {
          selectors.push(selector);
          return target.list(selector, options);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv: proxy, selectors };
}

/** A KV proxy that counts read calls (`get`, `getMany`, `list`): how many round trips a function makes. */
export function spyOnReads(kv: Deno.Kv): { kv: Deno.Kv; reads: () => number } {
  let n = 0;
  const proxy = new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (prop === "get" || prop === "getMany" || prop === "list") {
        return (...args: unknown[]) => (n++, (value as (...a: unknown[]) => unknown).apply(target, args));
      }
      return value.bind(target);
    },
  });
  return { kv: proxy, reads: () => n };
}

/** Every key in the store, as JSON strings, for set comparisons. */
export async function allKeys(kv: Deno.Kv, first?: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: first ? [first] : [] })) out.push(JSON.stringify(e.key));
  return out;
}

export interface TinyCatalog {
  atlanta: Location;
  denver: Location;
  safety: Course;
  safety2: Course;
  sales: Course;
  instructorA: string;
  instructorB: string;
}

/** Two locations, three courses and two instructor ids. */
export async function seedTinyCatalog(kv: Deno.Kv): Promise<TinyCatalog> {
  const address = { line1: "1 Main St", postalCode: "30303", country: "US" as const };
  const atlanta = await createLocation(kv, {
    slug: "atlanta",
    name: "Atlanta",
    address: { ...address, city: "Atlanta", region: "GA" },
    lat: 33.75,
    lng: -84.39,
    timeZone: "America/New_York",
  });
  const denver = await createLocation(kv, {
    slug: "denver",
    name: "Denver",
    address: { ...address, city: "Denver", region: "CO", postalCode: "80202" },
    lat: 39.74,
    lng: -104.99,
    timeZone: "America/Denver",
  });
  const safety = await createCourse(kv, {
    code: "SAF-101",
    title: "Shop Safety Fundamentals",
    summary: "PPE and lockout/tagout.",
    topic: "safety",
    programType: "onboarding",
    durationMinutes: 120,
  });
  const safety2 = await createCourse(kv, {
    code: "SAF-201",
    title: "Hazardous Materials Handling",
    summary: "HazCom and spills.",
    topic: "safety",
    programType: "compliance",
    durationMinutes: 240,
    prerequisiteCourseIds: [safety.id],
  });
  const sales = await createCourse(kv, {
    code: "SAL-101",
    title: "Consultative Selling",
    summary: "Needs discovery.",
    topic: "sales",
    programType: "development",
    durationMinutes: 180,
  });
  return { atlanta, denver, safety, safety2, sales, instructorA: newId(), instructorB: newId() };
}

/** An in-person session `hoursFromBase` hours after 2027-01-04T14:00Z. */
export function sessionAt(
  cat: TinyCatalog,
  hoursFromBase: number,
  overrides: Partial<NewSession> = {},
): NewSession {
  const start = new Date(Date.UTC(2027, 0, 4, 14) + hoursFromBase * 3600_000);
  return {
    courseId: cat.safety.id,
    startsAt: start.toISOString(),
    endsAt: new Date(start.getTime() + 2 * 3600_000).toISOString(),
    timeZone: "America/New_York",
    mode: "in_person",
    locationId: cat.atlanta.id,
    joinUrl: null,
    capacity: 10,
    instructorId: cat.instructorA,
    ...overrides,
  };
}

/** Overrides that make a session online-only. */
export function online(): Partial<NewSession> {
  return { mode: "online", locationId: null, joinUrl: `https://meet.example.com/${newId().toLowerCase()}` };
}
