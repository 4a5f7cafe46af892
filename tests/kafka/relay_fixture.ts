/**
 * Fixtures for the relay tests against a real broker (not a test file itself): the app in process
 * with a started relay (as main.ts wires it), a kafkajs consumer that reads every topic from the
 * beginning in its own group, and the delivery invariants checked against KV.
 * @module
 */
import assert from "node:assert/strict";
import type { Hono } from "hono";
import { Kafka, logLevel } from "kafkajs";
import xapiValidation from "@learninglocker/xapi-validation";
import { mintToken } from "../../lib/auth/tokens.ts";
import { createApp } from "../../lib/app.ts";
import { createHoldSweep } from "../../lib/worker/mod.ts";
import { BookingEngine } from "../../lib/booking/engine.ts";
import { type CommittedEvent, listEvents } from "../../lib/booking/events.ts";
import { type Config, loadConfig } from "../../lib/config.ts";
import type { Course, Location, Session, User } from "../../lib/domain/mod.ts";
import { createRelay } from "../../lib/relay/mod.ts";
import { freePort } from "../../scripts/kafka_lib.ts";
import type { EventRelay, RelayOptions } from "../../lib/relay/relay.ts";
import { topicFor, TOPICS } from "../../lib/relay/xapi.ts";
import { createCourse, createLocation, createSession, createUser } from "../../lib/store/mod.ts";
import { ApiClient, type Body } from "../api/client.ts";

export const ADMIN_TOKEN = "relay-test-admin-token-0123456789";

// CommonJS with `exports.default` (see lib/relay/xapi_test.ts).
const validateStatement = xapiValidation.default;

/** Learning Locker's xAPI validator: [] when the statement is valid. */
export function statementProblems(statement: unknown): string[] {
  return validateStatement(statement).map((w) => `${w.path.join(".")}: ${w.constructor.name}`);
}

/** Polls `check` until it returns a truthy value; throws with `what()` after `timeoutMs`. */
export async function waitFor<T>(
  what: () => string,
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const out = await check();
    if (out) return out;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Every event in KV, in commit order. */
export async function allEvents(kv: Deno.Kv): Promise<CommittedEvent[]> {
  const out: CommittedEvent[] = [];
  let after: string | null = null;
  while (true) {
    const page: { events: CommittedEvent[]; nextCursor: string | null } = await listEvents(kv, {
      after,
      limit: 1000,
    });
    out.push(...page.events);
    if (page.events.length < 1000) return out;
    after = page.nextCursor;
  }
}

/** A learner with a token (and a client for the in-process app). */
export interface Learner {
  user: User;
  token: string;
  api: ApiClient;
}

/** A small catalog of our own: one location, a course without prerequisites, an instructor. */
export interface TinyCatalog {
  location: Location;
  course: Course;
  instructor: User;
}

let seq = 0;
const stamp = Date.now().toString(36);

/** Writes the catalog through the store layer (no events: only the engine emits them). */
export async function createTinyCatalog(kv: Deno.Kv): Promise<TinyCatalog> {
  const n = ++seq;
  const location = await createLocation(kv, {
    slug: `relay-center-${stamp}-${n}`,
    name: "Relay Test Center",
    address: { line1: "1 Relay Way", city: "Atlanta", region: "GA", postalCode: "30309", country: "US" },
    lat: 33.78,
    lng: -84.38,
    timeZone: "America/New_York",
  });
  const course = await createCourse(kv, {
    code: `RLY-${100 + n}`,
    title: "Relay Fundamentals",
    summary: "Events, end to end.",
    topic: "safety",
    programType: "onboarding",
    durationMinutes: 120,
  });
  const instructor = await createUser(kv, {
    email: `relay-instructor-${stamp}-${n}@example.com`,
    name: "Relay Instructor",
    roles: ["instructor"],
  });
  return { location, course, instructor };
}

/** A session of the catalog's course written through the store (no event), 72 h ahead. */
export function createCatalogSession(kv: Deno.Kv, catalog: TinyCatalog, capacity = 1_000): Promise<Session> {
  const start = Date.now() + 72 * 3_600_000 + ++seq * 60_000;
  return createSession(kv, {
    courseId: catalog.course.id,
    startsAt: new Date(start).toISOString(),
    endsAt: new Date(start + 2 * 3_600_000).toISOString(),
    timeZone: catalog.location.timeZone,
    mode: "in_person",
    locationId: catalog.location.id,
    capacity,
    instructorId: catalog.instructor.id,
    waitlistEnabled: true,
  });
}

/** Creates learners with minted tokens. */
export async function createLearners(kv: Deno.Kv, n: number): Promise<{ user: User; token: string }[]> {
  const out: { user: User; token: string }[] = [];
  for (let i = 0; i < n; i++) {
    const k = ++seq;
    const user = await createUser(kv, {
      email: `relay-learner-${stamp}-${k}@example.com`,
      name: `Relay Learner ${k}`,
      roles: ["learner"],
    });
    out.push({ user, token: (await mintToken(kv, user.id)).token });
  }
  return out;
}

/** The app in process with its relay, on in-memory KV. */
export interface RelayApp extends TinyCatalog {
  kv: Deno.Kv;
  config: Config;
  engine: BookingEngine;
  relay: EventRelay;
  app: Hono;
  admin: ApiClient;
  anonymous: ApiClient;
  /** What the relay logged (delivery failures, dead letters). */
  relayLog: string[];
  learners(n: number): Promise<Learner[]>;
  /** Schedules a session of the catalog's course over HTTP (a `session.scheduled` event). */
  schedule(options?: { capacity?: number; startsInHours?: number; waitlist?: boolean }): Promise<Body>;
  /** Stops the relay, the hold sweep and KV. */
  close(): Promise<void>;
}

/**
 * Starts the app as main.ts does (createRelay from the config, the hold sweep, `relay.start()`;
 * commits wake the relay in process), with `KAFKA_BROKERS` = `brokers` (null: no Kafka, the relay is off).
 */
export async function startRelayApp(
  brokers: string[] | null,
  relayOptions: RelayOptions = {},
): Promise<RelayApp> {
  const config = loadConfig({
    DENO_KV_PATH: ":memory:",
    PORT: "0",
    SEED_DEMO: "0",
    ADMIN_TOKEN,
    KAFKA_BROKERS: brokers?.join(",") ?? "",
  });
  const kv = await Deno.openKv(":memory:");
  const catalog = await createTinyCatalog(kv);
  const engine = new BookingEngine(kv, { holdMinutes: config.holdMinutes });
  const relayLog: string[] = [];
  const relay = createRelay(kv, config, { log: (m) => relayLog.push(m), ...relayOptions });
  const holdSweep = createHoldSweep(engine, { log: () => {} });
  holdSweep.start();
  relay.start();
  const app = await createApp({ kv, config, engine, relay });
  const admin = new ApiClient(app, ADMIN_TOKEN);
  let sessionSeq = 0;
  return {
    ...catalog,
    kv,
    config,
    engine,
    relay,
    app,
    admin,
    anonymous: new ApiClient(app),
    relayLog,
    async learners(n) {
      return (await createLearners(kv, n)).map((l) => ({ ...l, api: new ApiClient(app, l.token) }));
    },
    async schedule(options = {}) {
      const start = Date.now() + (options.startsInHours ?? 72) * 3_600_000 + ++sessionSeq * 60_000;
      const res = await admin.post<Body>("/api/v1/sessions", {
        courseId: catalog.course.id,
        startsAt: new Date(start).toISOString(),
        mode: "in_person",
        locationId: catalog.location.id,
        capacity: options.capacity ?? 10,
        instructorId: catalog.instructor.id,
        waitlistEnabled: options.waitlist ?? true,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.session;
    },
    async close() {
      await Promise.all([relay.stop(), holdSweep.stop()]);
      kv.close();
    },
  };
}

/** One record read back from Kafka. */
export interface Consumed {
  topic: string;
  partition: number;
  offset: bigint;
  key: string;
  headers: Record<string, string>;
  value: string;
  /** Date.now() when the consumer got it. */
  at: number;
}

/** A consumer reading every relay topic from the beginning, in a group of its own. */
export interface TopicReader {
  records: Consumed[];
  /** Records whose key (the session id) is in `sessionIds`. */
  forSessions(sessionIds: ReadonlySet<string>): Consumed[];
  stop(): Promise<void>;
}

/** Starts a kafkajs consumer on every topic in TOPICS (fromBeginning, own group). */
export async function readTopics(brokers: string[], onRecord?: (r: Consumed) => void): Promise<TopicReader> {
  const kafka = new Kafka({ clientId: "relay-check", brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `relay-check-${crypto.randomUUID()}`, maxWaitTimeInMs: 250 });
  const records: Consumed[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: Object.values(TOPICS), fromBeginning: true });
  await consumer.run({
    eachMessage: ({ topic, partition, message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      const r: Consumed = {
        topic,
        partition,
        offset: BigInt(message.offset),
        key: message.key?.toString() ?? "",
        headers,
        value: message.value?.toString() ?? "",
        at: Date.now(),
      };
      records.push(r);
      onRecord?.(r);
      return Promise.resolve();
    },
  });
  return {
    records,
    forSessions: (ids) => records.filter((r) => ids.has(r.key)),
    stop: () => consumer.disconnect(),
  };
}

/** What {@link checkDelivered} saw. */
export interface DeliveryReport {
  events: number;
  records: number;
  duplicates: number;
  sessions: number;
}

/**
 * Waits until the reader has every event of `kv` (except `excludeIds`), then asserts the
 * delivery invariants over the records keyed by this store's sessions:
 * - the set of event ids on Kafka equals the set in KV (any duplicate repeats a known id);
 * - per topic and session key, first occurrences come in KV commit order;
 * - each value is a valid xAPI statement whose id is the `event-id` header, on the event's topic,
 *   with the event's type in `event-type`.
 */
export async function checkDelivered(
  kv: Deno.Kv,
  reader: TopicReader,
  options: { timeoutMs?: number; excludeIds?: ReadonlySet<string> } = {},
): Promise<DeliveryReport> {
  const exclude = options.excludeIds ?? new Set<string>();
  const events = (await allEvents(kv)).filter((e) => !exclude.has(e.id));
  const sessions = new Set(events.map((e) => e.sessionId));
  const want = new Set(events.map((e) => e.id));
  await waitFor(
    () => {
      const got = new Set(reader.forSessions(sessions).map((r) => r.headers["event-id"]));
      const missing = [...want].filter((id) => !got.has(id));
      return `${missing.length} of ${want.size} events on Kafka (e.g. ${missing.slice(0, 3).join(", ")})`;
    },
    () => {
      const got = new Set(reader.forSessions(sessions).map((r) => r.headers["event-id"]));
      return [...want].every((id) => got.has(id));
    },
    options.timeoutMs ?? 30_000,
  );
  const records = reader.forSessions(sessions).filter((r) => !exclude.has(r.headers["event-id"]));
  const ids = new Set(records.map((r) => r.headers["event-id"]));
  assert.deepEqual([...ids].sort(), [...want].sort(), "the event ids on Kafka are exactly the events in KV");
  assert.equal(ids.size, events.length, "count(events in KV) == count(distinct event ids on Kafka)");

  const byId = new Map(events.map((e) => [e.id, e]));
  for (const r of records) {
    const event = byId.get(r.headers["event-id"])!;
    const statement = JSON.parse(r.value);
    assert.deepEqual(statementProblems(statement), [], `statement of ${event.type} ${event.id} is valid xAPI`);
    assert.equal(statement.id, r.headers["event-id"], "statement id == event-id header");
    assert.equal(r.headers["event-type"], event.type);
    assert.equal(r.headers["schema-version"], "1");
    assert.equal(r.headers["origin"], event.origin);
    assert.equal(r.headers["correlation-id"], event.correlationId);
    assert.equal(r.topic, topicFor(event), `${event.type} on its topic`);
    assert.equal(r.key, event.sessionId);
  }

  // Per topic and session: Kafka order (partition offsets; one key → one partition) == commit order.
  const kafkaOrder = firstOccurrenceOrder(records);
  const kvOrder = new Map<string, string[]>();
  for (const e of events) {
    const k = `${topicFor(e)}|${e.sessionId}`;
    kvOrder.set(k, [...kvOrder.get(k) ?? [], e.id]);
  }
  assert.deepEqual([...kafkaOrder.keys()].sort(), [...kvOrder.keys()].sort());
  for (const [k, order] of kvOrder) assert.deepEqual(kafkaOrder.get(k), order, `order of ${k}`);
  return {
    events: events.length,
    records: records.length,
    duplicates: records.length - ids.size,
    sessions: sessions.size,
  };
}

/**
 * Event ids per `topic|key` in Kafka order (partition offsets; one key → one partition), each id at
 * its first occurrence (a redelivery repeats an id later and is left out).
 */
export function firstOccurrenceOrder(records: readonly Consumed[]): Map<string, string[]> {
  const sorted = [...records].sort((a, b) =>
    a.topic !== b.topic
      ? (a.topic < b.topic ? -1 : 1)
      : a.partition !== b.partition
      ? a.partition - b.partition
      : a.offset < b.offset
      ? -1
      : a.offset > b.offset
      ? 1
      : 0
  );
  const order = new Map<string, string[]>();
  for (const r of sorted) {
    const k = `${r.topic}|${r.key}`;
    const list = order.get(k) ?? [];
    if (!list.includes(r.headers["event-id"])) list.push(r.headers["event-id"]);
    order.set(k, list);
  }
  return order;
}

/** Asserts GET /api/calcom/topics: delivered per topic == events in KV on it, nothing pending. */
export async function checkTopicFigures(
  admin: ApiClient | (() => Promise<Body>),
  kv: Deno.Kv,
  options: { deadLetters?: number } = {},
): Promise<Body> {
  const events = await allEvents(kv);
  const dead = new Set(
    (await Array.fromAsync(kv.list<{ eventId: string }>({ prefix: ["dead_letters"] }))).map((e) => e.value.eventId),
  );
  const res = typeof admin === "function"
    ? { status: 200, body: await admin() }
    : await admin.get<Body>("/api/calcom/topics");
  assert.equal(res.status, 200);
  for (const t of res.body.topics as Body[]) {
    const onTopic = events.filter((e) => topicFor(e) === t.topic);
    assert.equal(t.pending, 0, `${t.topic} pending`);
    assert.equal(t.delivered, onTopic.filter((e) => !dead.has(e.id)).length, `${t.topic} delivered`);
  }
  const deadTotal = (res.body.topics as Body[]).reduce((n, t) => n + t.deadLetters, 0);
  assert.equal(deadTotal, options.deadLetters ?? 0, "dead letters");
  return res.body;
}

/** Waits until GET /api/calcom/topics shows nothing pending (`fetchTopics` returns its body). */
export async function waitUntilDrained(
  fetchTopics: () => Promise<Body>,
  timeoutMs: number,
): Promise<Body> {
  let last: Body | null = null;
  return await waitFor(
    () => `pending 0 (last: ${JSON.stringify(last?.topics?.map((t: Body) => [t.topic, t.pending]))})`,
    async () => {
      last = await fetchTopics();
      return (last.topics as Body[]).every((t) => t.pending === 0) ? last : null;
    },
    timeoutMs,
    200,
  );
}

/** Every relay topic, for consumers and assertions. */
export const ALL_TOPICS: readonly string[] = Object.values(TOPICS);

/** A JSON call over real HTTP (for the app running as a subprocess). */
export async function httpJson(
  baseUrl: string,
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
): Promise<{ status: number; body: Body }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

/** `deno run -A main.ts` as a child process. */
export interface AppProcess {
  baseUrl: string;
  /** The last few KB of its stdout and stderr. */
  output(): string;
  kill(signal: Deno.Signal): Promise<Deno.CommandStatus>;
}

/**
 * Starts main.ts with `env` (plus PORT) and waits until /health answers 200. A port taken meanwhile
 * (free ports are picked, then released, while brokers of parallel tests pick theirs) is retried:
 * with a new port when none was given, else the same one after a pause.
 */
export async function spawnApp(env: Record<string, string>, port?: number): Promise<AppProcess> {
  for (let attempt = 0;; attempt++) {
    try {
      return await spawnAppOnce(env, port ?? freePort());
    } catch (err) {
      if (attempt >= 3 || !/AddrInUse|address already in use/i.test(String(err))) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function spawnAppOnce(env: Record<string, string>, port: number): Promise<AppProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: new URL("../../", import.meta.url).pathname,
    env: { ...env, PORT: String(port) },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let tail = "";
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) tail = (tail + decoder.decode(chunk, { stream: true })).slice(-6000);
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]).catch(() => {});
  let exited = false;
  child.status.then(() => exited = true);
  const baseUrl = `http://127.0.0.1:${port}`;
  const proc: AppProcess = {
    baseUrl,
    output: () => tail,
    async kill(signal) {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      const status = await child.status;
      await drained;
      return status;
    },
  };
  try {
    await waitFor(
      () => `the app on ${baseUrl} (output: ${tail.slice(-1500)})`,
      async () => {
        if (exited) throw new Error(`the app exited during startup:\n${tail}`);
        try {
          const res = await fetch(`${baseUrl}/health`);
          await res.body?.cancel();
          return res.status === 200;
        } catch {
          return false;
        }
      },
      60_000,
      100,
    );
  } catch (err) {
    await proc.kill("SIGKILL");
    throw err;
  }
  return proc;
}
