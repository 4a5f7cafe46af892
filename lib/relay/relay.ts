/**
 * The event relay: delivers the Kafka outbox (`["outbox", "kafka", …]`, lib/booking/outbox.ts) as
 * xAPI statements, at least once, each session's events in commit order.
 *
 * One leased loop (lib/worker/leased_loop.ts) across all processes: read a page of pending events
 * (whole sessions, sorted by versionstamp), build each event's message, produce the page, then
 * delete the page's pending entries and move the per-topic counters in atomic ops fenced by the
 * lease. Nothing is deleted until Kafka acknowledged (acks = all), so a crash, an outage or a lost
 * lease means the page is produced again (duplicates carry the same event id, which consumers
 * deduplicate by). Kafka down: the loop retries with capped exponential backoff and catches up by
 * itself. An event whose message cannot be built, or that Kafka refuses for itself (not for an
 * outage), goes to the dead-letter list with the reason and the rest flow on. With no Kafka
 * configured the loop does not run: events wait, counted as pending.
 */
import { type CommittedEvent, type DomainEvent, onEventsCommitted } from "../booking/events.ts";
import { keyId } from "../booking/draft.ts";
import { acknowledgeOutbox, type PendingEvent, readOutbox } from "../booking/outbox.ts";
import { keys } from "../store/keys.ts";
import { ERASURE_MARKER } from "../privacy/pseudonymise.ts";
import { LeasedLoop } from "../worker/leased_loop.ts";
import { type OutboundMessage, toErasureMessage, toMessage } from "./publisher.ts";
import {
  cachedStoreReader,
  loadStatementContext,
  type StoreReader,
  type Topic,
  topicFor,
  TOPICS,
  toStatement,
} from "./xapi.ts";
import { Buffer } from "node:buffer";

/** What the relay needs from Kafka (KafkaPublisher in production). */
export interface EventPublisher {
  connect(): Promise<void>;
  publish(messages: readonly OutboundMessage[]): Promise<void>;
  close(): Promise<void>;
}

/** A failed event kept for an admin to look at and requeue (requeueDeadLetter in topics.ts). */
export interface DeadLetter {
  eventKey: string;
  eventId: string;
  eventType: string;
  sessionId: string;
  topic: Topic | null;
  reason: string;
  attempts: number;
  failedAt: string;
  event: DomainEvent;
}

/** The relay's state for /health and /api/calcom/health. */
export interface RelayStatus {
  /** off: no KAFKA_BROKERS; standby: another process holds the lease. */
  state: "off" | "starting" | "running" | "retrying" | "standby" | "stopped";
  lastError: { message: string; at: string } | null;
  lastDeliveredAt: string | null;
  nextRetryInMs: number | null;
  delivered: number;
}

/** Relay settings. */
export interface RelayOptions {
  /** Events per page (one produce request). */
  batchSize?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Idle wait when caught up: how often other processes' commits are polled for (a commit in this process wakes the relay at once). */
  idleMs?: number;
  /**
   * Pause after a page so the next one gathers more events (default 100 ms: under a hot run of holds that halves the
   * relay's commits, which share KV's one writer with the holds, for at most 100 ms more delivery latency).
   */
  lingerMs?: number;
  /** Lease length; renewed every page. */
  leaseMs?: number;
  /** Identity of this process in the lease. */
  owner?: string;
  /** Clock of the lease (default `Date.now`). */
  clock?: () => number;
  log?: (msg: string) => void;
}

/** Kafka errors that mean "this message is wrong", not "Kafka is unavailable". */
const POISON = /MESSAGE_TOO_LARGE|INVALID_RECORD|CORRUPT_MESSAGE|RECORD_LIST_TOO_LARGE|INVALID_TIMESTAMP/i;

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error && cause.message !== err.message ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

/**
 * Bytes per produce request. The broker refuses a partition's record batch over `message.max.bytes`
 * (1 MiB by default) with MESSAGE_TOO_LARGE, and one session's events share a partition: a page of
 * ~400 statements of one busy session would be refused whole and fall back to one-by-one sends.
 */
const MAX_REQUEST_BYTES = 900_000;
/** How long one step keeps delivering pages before the loop gets control back (lease renewal, stop). */
const STEP_BUDGET_MS = 2_000;

/** UTF-8 bytes of a string, counted natively (a JS loop over every character was 7 % of a drain's CPU). */
function utf8Length(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** Splits messages, in order, into produce requests of at most MAX_REQUEST_BYTES (estimated). */
export function bySize(messages: OutboundMessage[]): OutboundMessage[][] {
  const out: OutboundMessage[][] = [];
  let chunk: OutboundMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    let size = 100 + utf8Length(m.key) + utf8Length(m.value);
    for (const [k, v] of Object.entries(m.headers)) size += k.length + utf8Length(v) + 4;
    if (chunk.length && bytes + size > MAX_REQUEST_BYTES) {
      out.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(m);
    bytes += size;
  }
  if (chunk.length) out.push(chunk);
  return out;
}

function isPoison(err: unknown): boolean {
  const e = err as { type?: string; name?: string; cause?: { type?: string } };
  return POISON.test(`${e?.type ?? ""} ${e?.name ?? ""} ${e?.cause?.type ?? ""} ${describe(err)}`);
}

/** Lease name of the relay. */
export const RELAY_JOB = "relay";

/** Delivers outbox events to Kafka. `start()` once; `wake()` when events were committed elsewhere. */
export class EventRelay {
  readonly #kv: Deno.Kv;
  readonly #publisher: EventPublisher | null;
  readonly #opt: Required<Omit<RelayOptions, "log" | "clock" | "owner">> & { log: (msg: string) => void };
  readonly #reader: StoreReader;
  readonly #loop: LeasedLoop | null;
  #status: RelayStatus;
  #connected = false;
  #resumeAfter: string | null = null;
  #erasureStamp: string | null = null;
  /** The last page's acknowledgement, committing while the next page is read and built (within one step). */
  #acking: Promise<void> | null = null;
  /** Outbox entries (by {@link keyId}) whose acknowledgement is in flight. */
  readonly #acked = new Set<string>();

  constructor(kv: Deno.Kv, publisher: EventPublisher | null, options: RelayOptions = {}) {
    this.#kv = kv;
    this.#publisher = publisher;
    this.#opt = {
      batchSize: options.batchSize ?? 1_000,
      minBackoffMs: options.minBackoffMs ?? 250,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      idleMs: options.idleMs ?? 500,
      lingerMs: options.lingerMs ?? 100,
      leaseMs: options.leaseMs ?? 15_000,
      log: options.log ?? ((m) => console.error(m)),
    };
    this.#reader = cachedStoreReader(kv);
    this.#status = {
      state: publisher ? "starting" : "off",
      lastError: null,
      lastDeliveredAt: null,
      nextRetryInMs: null,
      delivered: 0,
    };
    this.#loop = publisher
      ? new LeasedLoop(kv, RELAY_JOB, {
        step: ({ signal }) => this.#deliverPages(signal),
        idleMs: this.#opt.idleMs,
        lingerMs: this.#opt.lingerMs,
        leaseMs: this.#opt.leaseMs,
        owner: options.owner,
        clock: options.clock,
        minBackoffMs: this.#opt.minBackoffMs,
        maxBackoffMs: this.#opt.maxBackoffMs,
        onError: (err, failures, backoff) => this.#failed(err, failures, backoff),
        wakeOn: (wake) => onEventsCommitted(wake, "kafka"),
      })
      : null;
  }

  /** Whether Kafka is configured at all. */
  get enabled(): boolean {
    return this.#publisher !== null;
  }

  status(): RelayStatus {
    const loop = this.#loop?.status();
    if (loop?.state === "standby") return { ...this.#status, state: "standby" };
    if (loop?.state === "running" && this.#status.state === "retrying") {
      return { ...this.#status, state: "running", nextRetryInMs: null };
    }
    return { ...this.#status };
  }

  /** Starts the delivery loop (no-op without a publisher). */
  start(): void {
    this.#loop?.start();
  }

  /** Cuts an idle wait short: new events were committed (never a backoff). */
  wake(): void {
    this.#loop?.wake();
  }

  /** Stops the loop (after the in-flight page) and disconnects from Kafka; pending events stay in KV. */
  async stop(): Promise<void> {
    await this.#loop?.stop();
    if (this.#connected) await this.#publisher?.close().catch(() => {});
    this.#connected = false;
    this.#status.state = this.#publisher ? "stopped" : "off";
  }

  async #failed(err: unknown, failures: number, backoff: number): Promise<void> {
    const message = describe(err);
    this.#status = {
      ...this.#status,
      state: "retrying",
      lastError: { message, at: new Date().toISOString() },
      nextRetryInMs: backoff,
    };
    if (failures === 1 || failures % 10 === 0) {
      this.#opt.log(`relay: delivery failed (${failures}×), retrying in ${backoff} ms: ${message}`);
    }
    // A fresh connection after a failure: kafkajs's producer may hold a dead socket.
    if (this.#connected) await this.#publisher!.close().catch(() => {});
    this.#connected = false;
    await this.#recordError(message).catch(() => {});
  }

  async #recordError(message: string): Promise<void> {
    const at = new Date().toISOString();
    const op = this.#kv.atomic();
    for (const topic of Object.values(TOPICS)) op.set(keys.relayError(topic), { message, at });
    await op.commit();
  }

  /**
   * Clears the cached users when someone was erased since the last page. Read AFTER the page: an
   * erasure's tombstone commits before its cancellations, so a page holding those sees the change.
   */
  async #dropUsersAfterErasure(): Promise<void> {
    const marker = await this.#kv.get(keys.privacyMeta(ERASURE_MARKER));
    if (marker.versionstamp !== this.#erasureStamp) this.#reader.forgetUsers?.();
    this.#erasureStamp = marker.versionstamp;
  }

  /** Builds the Kafka message of an event, or says why it cannot be built. */
  async buildMessage(event: DomainEvent): Promise<OutboundMessage> {
    if (event.type === "user.erased") return toErasureMessage(event);
    const ctx = await loadStatementContext(this.#kv, event, this.#reader);
    const message = toMessage(event, toStatement(event, ctx));
    if (message.value.length > 900_000) throw new Error(`statement is ${message.value.length} bytes, over 900 KB`);
    return message;
  }

  /**
   * Delivers pending events page by page until the outbox is empty, the step's budget is spent or
   * the loop stops: builds each page (in parallel), produces it, then deletes its pending entries
   * under the lease. A page's acknowledgement commits while the next page is read and built (that
   * read skips its entries), and always before the next page is sent; the step ends only once its
   * last acknowledgement committed, so a lease renewal between steps never races one.
   * Returns how many events it delivered or dead-lettered.
   */
  async #deliverPages(signal: AbortSignal): Promise<number> {
    if (!this.#connected) {
      await this.#publisher!.connect();
      this.#connected = true;
    }
    const deadline = performance.now() + STEP_BUDGET_MS;
    let total = 0;
    try {
      while (!signal.aborted) {
        let events = await this.#readPage();
        if (events.length === 0 && this.#acking) {
          // All that is visible is the previous page, still being acknowledged.
          await this.#settleAck();
          events = await this.#readPage();
        }
        this.#status.state = "running";
        this.#status.nextRetryInMs = null;
        if (events.length === 0 || signal.aborted) break;
        await this.#deliverPage(events);
        total += events.length;
        if (performance.now() >= deadline) break;
      }
    } finally {
      await this.#settleAck();
    }
    return total;
  }

  /** Builds and produces one page, then starts its acknowledgement (see {@link #deliverPages}). */
  async #deliverPage(events: PendingEvent[]): Promise<void> {
    await this.#dropUsersAfterErasure();
    await Promise.all([
      this.#reader.primeUsers?.(events.flatMap((e) => [e.learnerId, e.actor.userId].filter((id) => id !== null))),
      this.#reader.primeSessions?.(events.map((e) => e.sessionId)),
    ]);
    const built = await Promise.allSettled(events.map((e) => this.buildMessage(e)));
    const ready: { event: PendingEvent; message: OutboundMessage }[] = [];
    const dead = new Map<PendingEvent, DeadLetter>();
    built.forEach((b, i) => {
      if (b.status === "fulfilled") ready.push({ event: events[i], message: b.value });
      else dead.set(events[i], deadLetter(events[i], null, `cannot build the message: ${describe(b.reason)}`));
    });
    // The previous page must be acknowledged (the lease still ours) before anything more is sent.
    await this.#settleAck();
    try {
      for (const chunk of bySize(ready.map((r) => r.message))) await this.#publisher!.publish(chunk);
    } catch (err) {
      if (!isPoison(err)) throw err;
      // One message poisons the batch: send one by one; outages still stop the page.
      const ok: typeof ready = [];
      for (const r of ready) {
        try {
          await this.#publisher!.publish([r.message]);
          ok.push(r);
        } catch (e) {
          if (!isPoison(e)) throw e;
          dead.set(r.event, deadLetter(r.event, r.message.topic, `Kafka refused it: ${describe(e)}`));
        }
      }
      ready.length = 0;
      ready.push(...ok);
    }
    const ids = events.map((e) => keyId(e.outboxKey));
    for (const id of ids) this.#acked.add(id);
    const acking = this.#acknowledge(events, ready, dead).finally(() => {
      for (const id of ids) this.#acked.delete(id);
    });
    acking.catch(() => {}); // surfaced by #settleAck
    this.#acking = acking;
  }

  /** The next page's events, less those whose acknowledgement is in flight. */
  async #readPage(): Promise<PendingEvent[]> {
    // The entries whose acknowledgement is in flight as the read STARTS: the read's snapshot may still
    // hold them even if the acknowledgement commits (and forgets them) before the read returns.
    const skip = this.#acked.size ? new Set(this.#acked) : null;
    const page = await readOutbox(this.#kv, "kafka", { limit: this.#opt.batchSize, resumeAfter: this.#resumeAfter });
    this.#resumeAfter = page.resumeAfter;
    return skip ? page.events.filter((e) => !skip.has(keyId(e.outboxKey))) : page.events;
  }

  /** Waits for the in-flight acknowledgement; rethrows its failure (the step then fails and retries). */
  async #settleAck(): Promise<void> {
    const acking = this.#acking;
    this.#acking = null;
    await acking;
  }

  /** Deletes the page's pending entries and records the figures, fenced by the lease. */
  async #acknowledge(
    events: PendingEvent[],
    delivered: { event: PendingEvent; message: OutboundMessage }[],
    dead: Map<PendingEvent, DeadLetter>,
  ): Promise<void> {
    const at = new Date().toISOString();
    const topicOf = new Map(delivered.map((d) => [d.event, d.message.topic]));
    const ok = await acknowledgeOutbox(this.#kv, events, this.#loop!.lease.guard, (op, chunk) => {
      const perTopic = new Map<string, { n: number; last: string }>();
      for (const event of chunk) {
        const d = dead.get(event);
        if (d) {
          op.set(keys.deadLetter(d.eventKey), d);
          continue;
        }
        const topic = topicOf.get(event)!;
        const t = perTopic.get(topic) ?? { n: 0, last: event.occurredAt };
        t.n++;
        if (event.occurredAt > t.last) t.last = event.occurredAt;
        perTopic.set(topic, t);
      }
      for (const [topic, t] of perTopic) {
        op.sum(keys.relayDelivered(topic), BigInt(t.n));
        op.set(keys.relayLastDelivered(topic), { at, eventOccurredAt: t.last });
        op.delete(keys.relayError(topic));
      }
    });
    if (!ok) {
      await this.#loop!.lease.verify();
      throw new Error("the relay's outbox acknowledgement did not commit; re-reading");
    }
    this.#status.delivered += delivered.length;
    if (delivered.length) this.#status.lastDeliveredAt = at;
    for (const d of dead.values()) {
      this.#opt.log(`relay: event ${d.eventId} (${d.eventType}) dead-lettered: ${d.reason}`);
    }
  }
}

function deadLetter(event: CommittedEvent | DomainEvent, topic: Topic | null, reason: string): DeadLetter {
  const { versionstamp: _v, outboxKey: _k, ...plain } = event as PendingEvent;
  let safeTopic = topic;
  try {
    safeTopic ??= topicFor(event);
  } catch {
    safeTopic = null;
  }
  return {
    eventKey: event.key,
    eventId: event.id,
    eventType: event.type,
    sessionId: event.sessionId,
    topic: safeTopic,
    reason,
    attempts: 1,
    failedAt: new Date().toISOString(),
    event: plain as DomainEvent,
  };
}
