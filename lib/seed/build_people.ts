import type { Course, Topic } from "../domain/course.ts";
import type { Location } from "../domain/location.ts";
import type { CompletedCourse, Role, User } from "../domain/user.ts";
import { newId } from "../domain/ids.ts";
import type { DemoCatalog } from "./build_catalog.ts";
import { FIRST_NAMES, LAST_NAMES } from "./data/names.ts";
import type { Random } from "./random.ts";

const DAY = 24 * 3600_000;

/** How many learners (users whose only role is learner) the demo has. */
export const LEARNER_COUNT = 2000;
/** Instructors per training center. */
export const INSTRUCTORS_PER_CENTER = 3;

/** Well-known accounts for demos and manual testing. */
export const DEMO_EMAILS = {
  admin: "admin@example.com",
  instructor: "instructor@example.com",
  manager: "manager@example.com",
  dealerAdmin: "dealer.admin@example.com",
  learner: "learner@example.com",
} as const;

/** Job families: which topics a person mostly trains in. */
const DEPARTMENTS: Record<string, Topic[]> = {
  sales: ["sales", "product", "customer-experience", "software"],
  service: ["service", "safety", "software", "product"],
  parts: ["safety", "software", "service"],
  office: ["compliance", "software", "customer-experience"],
  leadership: ["leadership", "compliance", "customer-experience"],
};

/** A person who can book sessions, with what the booking generator needs. */
export interface LearnerProfile {
  user: User;
  topics: ReadonlySet<Topic>;
  locationId: string;
  completed: Set<string>;
}

/** An instructor, the center they work from and the topics they teach. */
export interface InstructorProfile {
  user: User;
  home: Location;
  topics: ReadonlySet<Topic>;
}

export interface DemoPeople {
  users: User[];
  learners: LearnerProfile[];
  instructors: InstructorProfile[];
  demoLearnerId: string;
}

class NameMaker {
  #used = new Set<string>();
  constructor(private rng: Random) {}

  person(domain: string): { name: string; email: string } {
    const first = this.rng.pick(FIRST_NAMES);
    const last = this.rng.pick(LAST_NAMES);
    const base = `${first}.${last}`.toLowerCase().replace(/[^a-z.]/g, "");
    let email = `${base}@${domain}`;
    for (let n = 2; this.#used.has(email); n++) email = `${base}${n}@${domain}`;
    this.#used.add(email);
    return { name: `${first} ${last}`, email };
  }

  reserve(email: string): void {
    this.#used.add(email);
  }
}

/** Courses a person completed: prerequisites always earlier than dependents. */
function completions(
  rng: Random,
  courses: ReadonlyArray<Course>,
  topics: ReadonlySet<Topic>,
  hiredAt: number,
  now: number,
): CompletedCourse[] {
  const months = (now - hiredAt) / (30 * DAY);
  if (months < 0.5) return [];
  const byId = new Map(courses.map((c) => [c.id, c]));
  const chosen = new Set<string>();
  const add = (course: Course) => {
    for (const pre of course.prerequisiteCourseIds) add(byId.get(pre)!);
    chosen.add(course.id);
  };
  for (const c of courses) {
    if ((c.required || c.programType === "onboarding") && rng.chance(0.85)) add(c);
  }
  const inTrack = courses.filter((c) => topics.has(c.topic));
  const extra = Math.min(Math.floor(months / 3), 9);
  for (let i = 0; i < extra; i++) add(rng.pick(inTrack));
  if (rng.chance(0.3)) add(rng.pick(courses));

  // `courses` lists prerequisites first, so catalog order is a valid order.
  const ordered = courses.filter((c) => chosen.has(c.id));
  const start = hiredAt + 3 * DAY;
  const end = now - 3 * DAY;
  const times = ordered.map(() => start + rng.next() * Math.max(DAY, end - start)).sort((a, b) => a - b);
  return ordered.map((c, i) => ({
    courseId: c.id,
    completedAt: new Date(Math.min(times[i], end)).toISOString(),
  }));
}

/** Splits `total` into `parts` positive sizes that vary around the mean. */
function splitSizes(rng: Random, total: number, parts: number): number[] {
  const weights = Array.from({ length: parts }, () => 0.6 + rng.next() * 0.8);
  const sum = weights.reduce((a, b) => a + b, 0);
  const sizes = weights.map((w) => Math.max(1, Math.floor((w / sum) * total)));
  sizes[0] += total - sizes.reduce((a, b) => a + b, 0);
  return sizes;
}

/**
 * Admins, instructors, and per dealer a dealer admin, one or two managers
 * and their learners, with realistic course completions.
 */
export function buildPeople(rng: Random, now: Date, catalog: DemoCatalog): DemoPeople {
  const nowMs = now.getTime();
  const names = new NameMaker(rng);
  Object.values(DEMO_EMAILS).forEach((e) => names.reserve(e));
  const users: User[] = [];
  const learners: LearnerProfile[] = [];
  const instructors: InstructorProfile[] = [];
  const iso = (ms: number) => new Date(ms).toISOString();

  const makeUser = (
    who: { name: string; email: string },
    roles: Role[],
    extra: Partial<User> & { hiredAt: number },
  ): User => {
    const { hiredAt, ...rest } = extra;
    const user: User = {
      id: newId(),
      email: who.email,
      name: who.name,
      roles,
      dealerId: null,
      managerId: null,
      preferredLocationId: null,
      completedCourses: [],
      createdAt: iso(hiredAt),
      ...rest,
    };
    users.push(user);
    return user;
  };

  // Admins.
  makeUser({ name: "Alex Morgan", email: DEMO_EMAILS.admin }, ["admin"], { hiredAt: nowMs - 900 * DAY });
  makeUser({ name: "Jordan Blake", email: "training.ops@example.com" }, ["admin"], { hiredAt: nowMs - 700 * DAY });
  makeUser({ name: "Casey Quinn", email: "it.admin@example.com" }, ["admin"], { hiredAt: nowMs - 500 * DAY });

  // Instructors: three per center whose topics together cover every topic.
  const allTopics: Topic[] = [
    "safety",
    "sales",
    "service",
    "leadership",
    "product",
    "compliance",
    "software",
    "customer-experience",
  ];
  catalog.locations.forEach((home, li) => {
    for (let k = 0; k < INSTRUCTORS_PER_CENTER; k++) {
      const who = li === 0 && k === 0
        ? { name: "Dana Whitfield", email: DEMO_EMAILS.instructor }
        : names.person("training.example.com");
      const topics = new Set<Topic>();
      for (let t = 0; t < 3; t++) topics.add(allTopics[(k * 3 + t + li) % allTopics.length]);
      const user = makeUser(who, ["instructor"], {
        hiredAt: nowMs - rng.int(200, 2000) * DAY,
        preferredLocationId: home.id,
      });
      instructors.push({ user, home, topics });
    }
  });

  // Dealers: a dealer admin, managers, learners.
  const sizes = splitSizes(rng, LEARNER_COUNT, catalog.dealers.length);
  let demoLearnerId = "";
  catalog.dealers.forEach((dealer, di) => {
    const center = catalog.dealerCenter.get(dealer.id)!;
    const domain = `${dealer.slug}.example.com`;
    const addLearnerProfile = (user: User, topics: ReadonlySet<Topic>) =>
      learners.push({
        user,
        topics,
        locationId: user.preferredLocationId ?? center.id,
        completed: new Set(user.completedCourses.map((c) => c.courseId)),
      });

    const dealerAdmin = makeUser(
      di === 0 ? { name: "Robin Ellis", email: DEMO_EMAILS.dealerAdmin } : names.person(domain),
      ["dealer_admin"],
      { hiredAt: nowMs - rng.int(400, 3000) * DAY, dealerId: dealer.id, preferredLocationId: center.id },
    );
    const managerCount = sizes[di] > LEARNER_COUNT / catalog.dealers.length ? 2 : 1;
    const managers: User[] = [];
    for (let m = 0; m < managerCount; m++) {
      const hiredAt = nowMs - rng.int(300, 2500) * DAY;
      const topics = new Set(DEPARTMENTS.leadership);
      const manager = makeUser(
        di === 0 && m === 0 ? { name: "Morgan Reyes", email: DEMO_EMAILS.manager } : names.person(domain),
        ["manager", "learner"],
        {
          hiredAt,
          dealerId: dealer.id,
          managerId: dealerAdmin.id,
          preferredLocationId: center.id,
          completedCourses: completions(rng, catalog.courses, topics, hiredAt, nowMs),
        },
      );
      managers.push(manager);
      addLearnerProfile(manager, topics);
    }
    for (let i = 0; i < sizes[di]; i++) {
      const isDemo = di === 0 && i === 0;
      const dept = isDemo ? "sales" : rng.pick(["sales", "sales", "service", "service", "parts", "office"]);
      const topics = new Set(DEPARTMENTS[dept]);
      // Tenure: a quarter are recent hires, the rest spread over four years.
      const hiredAt = isDemo
        ? nowMs - 240 * DAY
        : nowMs - (rng.chance(0.25) ? rng.int(1, 60) : rng.int(60, 1500)) * DAY;
      const elsewhere = rng.chance(0.08) ? rng.pick(catalog.locations) : center;
      const learner = makeUser(
        isDemo ? { name: "Taylor Brooks", email: DEMO_EMAILS.learner } : names.person(domain),
        ["learner"],
        {
          hiredAt,
          dealerId: dealer.id,
          managerId: managers[i % managers.length].id,
          preferredLocationId: elsewhere.id,
          completedCourses: completions(rng, catalog.courses, topics, hiredAt, nowMs),
        },
      );
      if (isDemo) demoLearnerId = learner.id;
      addLearnerProfile(learner, topics);
    }
  });
  return { users, learners, instructors, demoLearnerId };
}
