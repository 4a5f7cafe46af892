/**
 * The relay section of `deno task bench` (also runs alone: `deno run -A bench/relay.ts`, printing
 * its JSON). A real single-node Kafka 3.9.1 (scripts/kafka_lib.ts) and a file-backed KV.
 *
 * - saturation: EVENTS hold.placed events (real sessions and learners, so every statement does
 *   its context reads) are committed first in Drafts of 250 through `addEvent`, as the engine
 *   does; then the relay (createRelay, production options) starts and we time it until it has
 *   moved past all of them. Beside it, a raw kafkajs producer with the publisher's settings
 *   (idempotent, acks -1, one request in flight) sends the same messages in the same batches to
 *   topics of its own: the Kafka ceiling on this machine.
 * - breakdown: the saturation run's parts timed alone over the same backlog: reading the Kafka
 *   outbox in pages (`listEventsMs`: the relay's reads), buildMessage for every event, and the raw produce.
 * - steady: STEADY_RATE real commits per second (engine.placeHold on sessions of their own,
 *   paced) for STEADY_MS, each commit waking the relay in process as in main.ts; a consumer records
 *   receive time − the statement's timestamp (the event's occurredAt, taken before its commit).
 * @module
 */
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { BookingEngine } from "../lib/booking/engine.ts";
import { Draft } from "../lib/booking/draft.ts";
import { addEvent, type CommittedEvent } from "../lib/booking/events.ts";
import { type PendingEvent, readOutbox } from "../lib/booking/outbox.ts";
import { loadConfig } from "../lib/config.ts";
import { newId } from "../lib/domain/mod.ts";
import { quietKafkajs } from "../lib/relay/kafkajs.ts";
import { createRelay } from "../lib/relay/mod.ts";
import { KafkaPublisher, type OutboundMessage } from "../lib/relay/publisher.ts";
import { bySize, type EventRelay, type RelayOptions } from "../lib/relay/relay.ts";
import { EXT, TOPICS } from "../lib/relay/xapi.ts";
import { keys } from "../lib/store/keys.ts";
import { importUsers } from "../lib/store/mod.ts";
import { startKafkaBroker } from "../scripts/kafka_lib.ts";
import { createCatalog, createSessions } from "./fixtures.ts";
import { percentile, perSecond, round } from "./stats.ts";

const EVENTS = 20_000;
const DRAFT_EVENTS = 150; // each event writes 5 entries (history, two indexes, the Kafka and reports outboxes)
const STEADY_RATE = 500;
const STEADY_MS = 8_000;
const SESSIONS = 200;
const STEADY_SESSIONS = 200;
const LEARNERS = 2_000;
/** The relay's production page size (RelayOptions.batchSize default), used for the raw baseline too. */
const BATCH = 1_000;
/** A bigger page, measured beside the default to show what the page size buys (see the report). */
const TUNED_BATCH = 2_000;
/** Options for the benchmarked relay: production defaults unless RELAY_BENCH_OPTIONS (JSON) says otherwise. */
const RELAY_OPTIONS: RelayOptions = JSON.parse(Deno.env.get("RELAY_BENCH_OPTIONS") ?? "{}");

/** What {@link relayBench} measures. */
export interface RelayBenchResult {
  relay: {
    events: number;
    batchSize: number;
    options: RelayOptions;
    saturationEventsPerSec: number;
    saturationMs: number;
    /** From start() to the first page delivered (lease, connect, topic check). */
    firstPageMs: number;
    /** The same backlog again with RelayOptions.batchSize 2,000. */
    saturationBatch2000EventsPerSec: number;
    breakdown: { listEventsMs: number; buildMessagesMs: number; rawProduceMs: number; pages: number };
    steady: {
      targetPerSec: number;
      achievedPerSec: number;
      durationMs: number;
      events: number;
      /** Commit → consumed: from the moment the hold's commit returned to its statement's arrival. */
      e2eP50Ms: number;
      e2eP95Ms: number;
      e2eP99Ms: number;
      e2eMaxMs: number;
      /**
       * From the statement's timestamp (the event's occurredAt: when its lane batch started, before the commit) to
       * its arrival: also counts the hold's own wait for KV.
       */
      fromEventP50Ms: number;
      fromEventP95Ms: number;
      /** The hold calls themselves (engine call → commit returned). */
      holdCallP50Ms: number;
      holdCallP95Ms: number;
    };
    e2eP50Ms: number;
    e2eP95Ms: number;
  };
  raw: { kafkaProduceMsgsPerSec: number; kafkaProduceMs: number };
  ratio: { relayToRawKafkaProduce: number };
  targets: { relaySaturationAtLeast3000PerSec: boolean; relayE2eP95AtMost500Ms: boolean };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(what: string, check: () => boolean, timeoutMs: number, everyMs = 5): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`relay bench: timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The lines of a byte stream. */
async function* linesOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
    }
  }
  if (buffer) yield buffer;
}

/**
 * The consumer as a process of its own (this file with `--consumer`): it reads every topic from
 * the beginning, says `caught-up` once it has read every record the topics held when it started
 * (both saturation runs' records and any redelivery), and for records keyed by `keys` records the
 * arrival time, the statement's timestamp and the hold id in its event data; `expect <n>` makes it
 * print them once it has n.
 */
function startConsumerProcess(brokers: string[], keyIds: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--consumer", brokers.join(",")],
    env: { RELAY_BENCH_KEYS: keyIds.join(",") },
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = linesOf(child.stdout);
  const next = async (what: string, timeoutMs: number): Promise<string> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`relay bench: consumer gave no ${what} in ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      const line = await Promise.race([lines.next(), timeout]);
      if (line.done) throw new Error(`relay bench: the consumer exited before ${what}`);
      return line.value;
    } finally {
      clearTimeout(timer);
    }
  };
  const stdin = child.stdin.getWriter();
  return {
    caughtUp: next("caught-up", 120_000),
    async arrivals(n: number): Promise<Arrival[]> {
      await stdin.write(new TextEncoder().encode(`expect ${n}\n`));
      return JSON.parse(await next("arrivals", 60_000));
    },
    async close() {
      try {
        child.kill("SIGTERM");
      } catch { /* exited */ }
      await child.status;
    },
  };
}

/** How many records the topics hold now (their partitions' high − low watermarks). */
async function recordsHeld(kafka: Kafka, topics: string[]): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let n = 0;
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) n += Number(p.high) - Number(p.low);
    }
    return n;
  } finally {
    await admin.disconnect();
  }
}

/** One timed statement as the consumer saw it. */
interface Arrival {
  /** Arrival (ms since the epoch, this machine's clock). */
  at: number;
  /** The statement's timestamp (the event's occurredAt), ms. */
  timestamp: number;
  holdId: string | null;
}

async function consumerMain(brokers: string): Promise<void> {
  quietKafkajs();
  const keySet = new Set((Deno.env.get("RELAY_BENCH_KEYS") ?? "").split(","));
  const arrivals: Arrival[] = [];
  let consumed = 0;
  let expected = Infinity;
  const out = (line: string) => Deno.stdout.write(new TextEncoder().encode(line + "\n"));
  let finished = false;
  const finish = async () => {
    if (finished || arrivals.length < expected) return;
    finished = true;
    await out(JSON.stringify(arrivals));
    Deno.exit(0);
  };
  const kafka = new Kafka({
    clientId: "relay-bench-consumer",
    brokers: brokers.split(","),
    logLevel: logLevel.NOTHING,
  });
  // Until it has read what the earlier runs left, a timed record would queue behind them here.
  const skip = await recordsHeld(kafka, Object.values(TOPICS));
  if (skip === 0) await out("caught-up");
  const consumer = kafka.consumer({ groupId: `relay-bench-${crypto.randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: Object.values(TOPICS), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const at = Date.now();
      if (++consumed === skip) await out("caught-up");
      if (keySet.has(message.key?.toString() ?? "")) {
        const statement = JSON.parse(message.value!.toString());
        const data = statement.context?.extensions?.[EXT.eventData];
        arrivals.push({
          at,
          timestamp: Date.parse(statement.timestamp),
          holdId: typeof data?.holdId === "string" ? data.holdId : null,
        });
        await finish();
      }
    },
  });
  for await (const line of linesOf(Deno.stdin.readable)) {
    const m = /^expect (\d+)$/.exec(line);
    if (m) {
      expected = Number(m[1]);
      await finish();
    }
  }
}

/** Runs the relay bench in `dir` (a temp dir the caller removes). */
export async function relayBench(dir: string, log: (msg: string) => void = () => {}): Promise<RelayBenchResult> {
  quietKafkajs();
  const broker = await startKafkaBroker({ log });
  log(`kafka up on ${broker.brokers[0]} in ${broker.startMs} ms`);
  const kv = await Deno.openKv(`${dir}/relay.kv`);
  const relays: EventRelay[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  try {
    const config = loadConfig({
      DENO_KV_PATH: `${dir}/relay.kv`,
      PORT: "0",
      SEED_DEMO: "0",
      KAFKA_BROKERS: broker.brokers.join(","),
    });
    const newRelay = (options: RelayOptions = {}) => {
      const r = createRelay(kv, config, { ...RELAY_OPTIONS, ...options, log });
      relays.push(r);
      return r;
    };
    const catalog = await createCatalog(kv);
    const sessions = await createSessions(kv, catalog, catalog.spreadCourse, SESSIONS, 10_000);
    const steadySessions = await createSessions(kv, catalog, catalog.spreadCourse, STEADY_SESSIONS, 10_000);
    const stamp = Date.now().toString(36);
    const users = await importUsers(
      kv,
      Array.from({ length: LEARNERS + STEADY_RATE * STEADY_MS / 1000 }, (_, i) => ({
        email: `relay-bench-${stamp}-${i}@example.com`,
        name: `Relay Bench Learner ${i}`,
        roles: ["learner" as const],
      })),
    );
    const learners = users.slice(0, LEARNERS);
    const steadyLearners = users.slice(LEARNERS);

    // The backlog: EVENTS events committed as the engine commits them.
    const tWrite = performance.now();
    for (let at = 0; at < EVENTS; at += DRAFT_EVENTS) {
      const draft = new Draft(kv);
      const now = new Date();
      for (let i = at; i < Math.min(EVENTS, at + DRAFT_EVENTS); i++) {
        const learner = learners[i % learners.length];
        const actor = { userId: learner.id, origin: "api" as const, correlationId: crypto.randomUUID() };
        addEvent(draft, actor, "hold.placed", sessions[i % sessions.length].id, learner.id, {
          holdId: newId(),
          expiresAt: new Date(now.getTime() + 15 * 60_000).toISOString(),
        }, now);
      }
      if (!await draft.commit()) throw new Error("relay bench: backlog commit refused");
    }
    log(`wrote ${EVENTS} events in ${Math.round(performance.now() - tWrite)} ms`);
    // Topics exist before anything is timed (the relay's connect checks them, creating none).
    const admin = new KafkaPublisher({ brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const rawTopics = Object.fromEntries(Object.values(TOPICS).map((t) => [t, `bench.raw.${t}`]));
    await admin.ensureTopics([...Object.values(TOPICS), ...Object.values(rawTopics)]);

    // The backlog's Kafka outbox entries, written back before each run (a run deletes them).
    const outbox = await Array.fromAsync(kv.list({ prefix: keys.outboxPrefix("kafka") }));
    const restoreOutbox = async () => {
      for (let i = 0; i < outbox.length; i += 500) {
        const op = kv.atomic();
        for (const e of outbox.slice(i, i + 500)) op.set(e.key, e.value);
        await op.commit();
      }
    };
    // Saturation: the relay from the start of the backlog until it delivered all of it.
    const saturate = async (options: RelayOptions) => {
      await restoreOutbox();
      const relay = newRelay(options);
      const t0 = performance.now();
      relay.start();
      await waitUntil("the first page", () => relay.status().delivered > 0, 60_000, 1);
      const firstPageMs = performance.now() - t0;
      await waitUntil(`${EVENTS} events delivered`, () => relay.status().delivered >= EVENTS, 300_000, 2);
      const ms = performance.now() - t0;
      await relay.stop();
      log(
        `relay ${JSON.stringify(options)}: ${EVENTS} events in ${Math.round(ms)} ms (first page ${
          Math.round(firstPageMs)
        } ms)`,
      );
      return { ms, firstPageMs, perSec: perSecond(EVENTS, ms) };
    };
    const saturation = await saturate({});
    const saturationBig = await saturate({ batchSize: TUNED_BATCH });

    // Breakdown: the same work, part by part.
    await restoreOutbox();
    const tList = performance.now();
    const backlog: CommittedEvent[] = [];
    let pages = 0;
    for (let resumeAfter: string | null = null; backlog.length < EVENTS;) {
      const page: { events: PendingEvent[]; resumeAfter: string | null } = await readOutbox(kv, "kafka", {
        resumeAfter,
        limit: BATCH,
      });
      if (!page.events.length) break;
      pages++;
      backlog.push(...page.events);
      resumeAfter = page.resumeAfter;
      if (resumeAfter === null) break;
    }
    const listEventsMs = performance.now() - tList;
    // The steady phase starts on an empty outbox, as after the saturation runs.
    for (let i = 0; i < outbox.length; i += 500) {
      const op = kv.atomic();
      for (const e of outbox.slice(i, i + 500)) op.delete(e.key);
      await op.commit();
    }
    const builder = newRelay();
    const tBuild = performance.now();
    const messages: OutboundMessage[] = [];
    for (const e of backlog) messages.push(await builder.buildMessage(e));
    const buildMessagesMs = performance.now() - tBuild;
    log(
      `breakdown: listEvents ${Math.round(listEventsMs)} ms (${pages} pages), build ${Math.round(buildMessagesMs)} ms`,
    );

    // The raw kafkajs baseline: the same messages, the same batches, the publisher's producer settings.
    const kafka = new Kafka({ clientId: "relay-bench-raw", brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    closers.push(() => producer.disconnect());
    const tRaw = performance.now();
    // The same requests the relay sends: pages of BATCH, split to stay under the broker's 1 MiB.
    const requests = [];
    for (let at = 0; at < messages.length; at += BATCH) requests.push(...bySize(messages.slice(at, at + BATCH)));
    for (const request of requests) {
      const byTopic = new Map<string, { key: string; value: string; headers: Record<string, string> }[]>();
      for (const m of request) {
        const list = byTopic.get(rawTopics[m.topic]) ?? [];
        list.push({ key: m.key, value: m.value, headers: m.headers });
        byTopic.set(rawTopics[m.topic], list);
      }
      await producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })),
      });
    }
    const rawMs = performance.now() - tRaw;
    log(`raw kafkajs: ${messages.length} messages in ${Math.round(rawMs)} ms`);

    // Steady: paced real commits, each waking the relay in process (as main.ts), and a consumer
    // in a process of its own timing each statement's arrival.
    const consumer = startConsumerProcess(broker.brokers, steadySessions.map((s) => s.id));
    closers.push(() => consumer.close());
    await consumer.caughtUp;
    const engine = new BookingEngine(kv, { holdMinutes: 15 });
    const steadyRelay = newRelay();
    steadyRelay.start();
    await waitUntil("the steady relay", () => steadyRelay.status().state === "running", 30_000);
    let launched = 0;
    let held = 0;
    const committedAt = new Map<string, number>();
    const holdCalls: number[] = [];
    const inFlight = new Set<Promise<void>>();
    const tSteady = performance.now();
    const total = STEADY_RATE * STEADY_MS / 1000;
    while (launched < total) {
      const due = Math.min(total, Math.floor((performance.now() - tSteady) * STEADY_RATE / 1000));
      for (; launched < due; launched++) {
        const learner = steadyLearners[launched];
        const sessionId = steadySessions[launched % steadySessions.length].id;
        const calledAt = Date.now();
        const p = engine.placeHold(sessionId, learner.id, {
          userId: learner.id,
          roles: ["learner"],
          origin: "api",
          correlationId: crypto.randomUUID(),
        }).then(({ hold }) => {
          held++;
          const at = Date.now();
          committedAt.set(hold.id, at);
          holdCalls.push(at - calledAt);
        }).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await sleep(2);
    }
    await Promise.all(inFlight);
    const steadyMs = performance.now() - tSteady;
    const arrivals = await consumer.arrivals(held);
    await steadyRelay.stop();
    const commitToConsumed = arrivals.flatMap((a) => {
      const at = a.holdId ? committedAt.get(a.holdId) : undefined;
      return at === undefined ? [] : [a.at - at];
    });
    if (commitToConsumed.length < held) {
      throw new Error(`relay bench: ${held - commitToConsumed.length} of ${held} statements name no hold of this run`);
    }
    const pct = (values: number[]) => {
      const sorted = Float64Array.from(values).sort();
      return (p: number) => round(percentile(sorted, p), 1);
    };
    const e2e = pct(commitToConsumed);
    const fromEvent = pct(arrivals.map((a) => a.at - a.timestamp));
    const call = pct(holdCalls);
    log(
      `steady: ${held} holds in ${Math.round(steadyMs)} ms (call p95 ${call(95)} ms); commit → consumed p50 ${
        e2e(50)
      } ms, p95 ${e2e(95)} ms; from the event's timestamp p95 ${fromEvent(95)} ms`,
    );

    const rawPerSec = perSecond(messages.length, rawMs);
    return {
      relay: {
        events: EVENTS,
        batchSize: RELAY_OPTIONS.batchSize ?? BATCH,
        options: RELAY_OPTIONS,
        saturationEventsPerSec: saturation.perSec,
        saturationMs: Math.round(saturation.ms),
        firstPageMs: Math.round(saturation.firstPageMs),
        saturationBatch2000EventsPerSec: saturationBig.perSec,
        breakdown: {
          listEventsMs: Math.round(listEventsMs),
          buildMessagesMs: Math.round(buildMessagesMs),
          rawProduceMs: Math.round(rawMs),
          pages,
        },
        steady: {
          targetPerSec: STEADY_RATE,
          achievedPerSec: perSecond(held, steadyMs),
          durationMs: Math.round(steadyMs),
          events: held,
          e2eP50Ms: e2e(50),
          e2eP95Ms: e2e(95),
          e2eP99Ms: e2e(99),
          e2eMaxMs: e2e(100),
          fromEventP50Ms: fromEvent(50),
          fromEventP95Ms: fromEvent(95),
          holdCallP50Ms: call(50),
          holdCallP95Ms: call(95),
        },
        e2eP50Ms: e2e(50),
        e2eP95Ms: e2e(95),
      },
      raw: { kafkaProduceMsgsPerSec: rawPerSec, kafkaProduceMs: Math.round(rawMs) },
      ratio: { relayToRawKafkaProduce: round(saturation.perSec / rawPerSec, 3) },
      targets: {
        relaySaturationAtLeast3000PerSec: saturation.perSec >= 3_000,
        relayE2eP95AtMost500Ms: e2e(95) <= 500,
      },
    };
  } finally {
    for (const r of relays) await r.stop().catch(() => {});
    kv.close();
    for (const c of closers.reverse()) await c().catch(() => {});
    await broker.close();
  }
}

if (import.meta.main && Deno.args[0] === "--consumer") {
  await consumerMain(Deno.args[1]);
} else if (import.meta.main) {
  const t0 = performance.now();
  const log = (msg: string) => console.error(`[relay bench ${((performance.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
  console.log = console.error;
  const dir = await Deno.makeTempDir({ prefix: "relay-bench-" });
  try {
    const result = await relayBench(dir, log);
    await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(result, null, 2) + "\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
