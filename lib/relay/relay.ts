/**
 * The event relay: delivers the outbox (`["events"]`, lib/booking/events.ts) to Kafka in commit
 * order, as xAPI statements, at least once.
 *
 * One loop per process, and one process at a time (a KV lease): read the next page of events
 * after the stored cursor, build each event's message, produce the page, then move the cursor and
 * the per-topic counters in one atomic op. Nothing moves until Kafka acknowledged (acks = all), so
 * a crash or an outage means the page is produced again (duplicates carry the same event id,
 * which consumers deduplicate by). Kafka down: the loop retries with capped exponential backoff
 * and catches up by itself. An event whose message cannot be built, or that Kafka refuses for
 * itself (not for an outage), goes to the dead-letter list with the reason and the rest flow on.
 * With no Kafka configured the loop does not run: events wait, counted as pending.
 */
import { type CommittedEvent, cursorOf, type DomainEvent, listEvents } from "../booking/events.ts";
import { keys } from "../store/keys.ts";
import { type OutboundMessage, toMessage } from "./publisher.ts";
import {
  cachedStoreReader,
  loadStatementContext,
  type StoreReader,
  type Topic,
  topicFor,
  TOPICS,
  toStatement,
} from "./xapi.ts";

/** What the relay needs from Kafka (KafkaPublisher in production). */
export interface EventPublisher {
  connect(): Promise<void>;
  publish(messages: readonly OutboundMessage[]): Promise<void>;
  close(): Promise<void>;
}

/** A failed event kept for an admin to look at and re-drive. */
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
  /** Idle wait when caught up (a queue wake-up cuts it short). */
  idleMs?: number;
  /** Pause after a partial page so the next one gathers more events (default 50 ms). */
  lingerMs?: number;
  /** Lease length; renewed every page. */
  leaseMs?: number;
  /** Identity of this process in the lease. */
  owner?: string;
  log?: (msg: string) => void;
}

/** Pages read in one scan of the outbox. */
const READ_AHEAD = 8;

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

function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) n += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1;
  }
  return n;
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

/** Delivers outbox events to Kafka. `start()` once; `wake()` when events were committed. */
export class EventRelay {
  readonly #kv: Deno.Kv;
  readonly #publisher: EventPublisher | null;
  readonly #opt: Required<Omit<RelayOptions, "log">> & { log: (msg: string) => void };
  readonly #reader: StoreReader;
  #status: RelayStatus;
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  /** A wake-up came while no wait was armed (events committed during a page). */
  #woken = false;
  /** Until when this process holds the relay lease (as last written). */
  #leaseUntil = 0;
  /** Ends a non-wakeable wait when the relay stops. */
  #stopWait: (() => void) | null = null;
  #connected = false;

  constructor(kv: Deno.Kv, publisher: EventPublisher | null, options: RelayOptions = {}) {
    this.#kv = kv;
    this.#publisher = publisher;
    this.#opt = {
      batchSize: options.batchSize ?? 1_000,
      minBackoffMs: options.minBackoffMs ?? 250,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      idleMs: options.idleMs ?? 1_000,
      lingerMs: options.lingerMs ?? 50,
      leaseMs: options.leaseMs ?? 15_000,
      owner: options.owner ?? crypto.randomUUID(),
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
  }

  /** Whether Kafka is configured at all. */
  get enabled(): boolean {
    return this.#publisher !== null;
  }

  status(): RelayStatus {
    return { ...this.#status };
  }

  /** Starts the delivery loop (no-op without a publisher). */
  start(): void {
    if (!this.#publisher || this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Cuts an idle wait or a backoff short: new events were committed. */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /** Stops the loop and disconnects from Kafka; pending events stay in KV. */
  async stop(): Promise<void> {
    this.#running = false;
    this.wake();
    this.#stopWait?.();
    await this.#loop;
    this.#loop = null;
    if (this.#connected) await this.#publisher?.close().catch(() => {});
    this.#connected = false;
    await this.#releaseLease();
    this.#status.state = this.#publisher ? "stopped" : "off";
  }

  /** Waits; a wake-up cuts it short only when `wakeable` (never a backoff: commits must not hammer a down Kafka). */
  #sleep(ms: number, wakeable = true): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.#wake === done) this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (wakeable) this.#wake = done;
      else this.#stopWait = done;
    });
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (this.#running) {
      try {
        if (!(await this.#holdLease())) {
          this.#status.state = "standby";
          await this.#sleep(this.#opt.leaseMs / 3);
          continue;
        }
        if (!this.#connected) {
          await this.#publisher!.connect();
          this.#connected = true;
        }
        this.#woken = false;
        const moved = await this.#deliverPage();
        failures = 0;
        this.#status.state = "running";
        this.#status.nextRetryInMs = null;
        // A wake-up during the page may announce events its read missed: look again at once.
        if (moved === 0 && !this.#woken) await this.#sleep(this.#opt.idleMs);
        // Under steady traffic every commit wakes the relay; lingering a moment gathers a bigger page
        // per rescan of the outbox (like Kafka's linger.ms) instead of spinning on a few events.
        else if (moved > 0 && moved < this.#opt.batchSize) await this.#sleep(this.#opt.lingerMs, false);
      } catch (err) {
        failures++;
        const backoff = Math.min(this.#opt.maxBackoffMs, this.#opt.minBackoffMs * 2 ** Math.min(failures - 1, 16));
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
        await this.#sleep(backoff, false);
      }
    }
  }

  async #holdLease(): Promise<boolean> {
    const now = Date.now();
    // Renew only in the second half of the lease: two KV round trips saved on most pages.
    if (this.#leaseUntil - now > this.#opt.leaseMs / 2) return true;
    const entry = await this.#kv.get<{ owner: string; until: number }>(keys.relayLease());
    if (entry.value && entry.value.owner !== this.#opt.owner && entry.value.until > now) return false;
    const until = now + this.#opt.leaseMs;
    const res = await this.#kv.atomic().check(entry).set(keys.relayLease(), { owner: this.#opt.owner, until }).commit();
    if (res.ok) this.#leaseUntil = until;
    return res.ok;
  }

  async #releaseLease(): Promise<void> {
    const entry = await this.#kv.get<{ owner: string }>(keys.relayLease());
    this.#leaseUntil = 0;
    if (entry.value?.owner === this.#opt.owner) await this.#kv.atomic().check(entry).delete(entry.key).commit();
  }

  async #recordError(message: string): Promise<void> {
    const at = new Date().toISOString();
    const op = this.#kv.atomic();
    for (const topic of Object.values(TOPICS)) op.set(keys.relayError(topic), { message, at });
    await op.commit();
  }

  /** Builds the Kafka message of an event, or says why it cannot be built. */
  async buildMessage(event: DomainEvent): Promise<OutboundMessage> {
    const ctx = await loadStatementContext(this.#kv, event, this.#reader);
    const message = toMessage(event, toStatement(event, ctx));
    if (message.value.length > 900_000) throw new Error(`statement is ${message.value.length} bytes, over 900 KB`);
    return message;
  }

  /**
   * Delivers what is pending: reads up to READ_AHEAD pages in one scan (each `listEvents` call
   * rescans a few seconds around the cursor, so reading page by page is quadratic in a backlog
   * committed within seconds), then builds (in parallel), produces and commits the cursor page by
   * page. Returns how many events the cursor moved past.
   */
  async #deliverPage(): Promise<number> {
    let cursorEntry = await this.#kv.get<{ cursor: string }>(keys.relayCursor());
    const { events } = await listEvents(this.#kv, {
      after: cursorEntry.value?.cursor ?? null,
      limit: this.#opt.batchSize * READ_AHEAD,
    });
    for (let i = 0; i < events.length && this.#running; i += this.#opt.batchSize) {
      const page = events.slice(i, i + this.#opt.batchSize);
      cursorEntry = await this.#deliver(cursorEntry, page);
    }
    return events.length;
  }

  async #deliver(
    cursorEntry: Deno.KvEntryMaybe<{ cursor: string }>,
    events: CommittedEvent[],
  ): Promise<Deno.KvEntryMaybe<{ cursor: string }>> {
    const built = await Promise.allSettled(events.map((e) => this.buildMessage(e)));
    const ready: { event: CommittedEvent; message: OutboundMessage }[] = [];
    const dead: DeadLetter[] = [];
    built.forEach((b, i) => {
      if (b.status === "fulfilled") ready.push({ event: events[i], message: b.value });
      else dead.push(deadLetter(events[i], null, `cannot build the message: ${describe(b.reason)}`));
    });
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
          dead.push(deadLetter(r.event, r.message.topic, `Kafka refused it: ${describe(e)}`));
        }
      }
      ready.length = 0;
      ready.push(...ok);
    }
    return await this.#advance(cursorEntry, cursorOf(events.at(-1)!), ready, dead);
  }

  async #advance(
    cursorEntry: Deno.KvEntryMaybe<{ cursor: string }>,
    cursor: string,
    delivered: { event: CommittedEvent; message: OutboundMessage }[],
    dead: DeadLetter[],
  ): Promise<Deno.KvEntryMaybe<{ cursor: string }>> {
    const at = new Date().toISOString();
    const op = this.#kv.atomic().check(cursorEntry).set(keys.relayCursor(), { cursor, at });
    const perTopic = new Map<string, { n: number; last: string }>();
    for (const { event, message } of delivered) {
      const t = perTopic.get(message.topic) ?? { n: 0, last: event.occurredAt };
      t.n++;
      if (event.occurredAt > t.last) t.last = event.occurredAt;
      perTopic.set(message.topic, t);
    }
    for (const [topic, t] of perTopic) {
      op.sum(keys.relayDelivered(topic), BigInt(t.n));
      op.set(keys.relayLastDelivered(topic), { at, eventOccurredAt: t.last });
      op.delete(keys.relayError(topic));
    }
    for (const d of dead) op.set(keys.deadLetter(d.eventKey), d);
    const res = await op.commit();
    if (!res.ok) throw new Error("the relay cursor moved under us (another relay?); re-reading");
    this.#status.delivered += delivered.length;
    if (delivered.length) this.#status.lastDeliveredAt = at;
    for (const d of dead) this.#opt.log(`relay: event ${d.eventId} (${d.eventType}) dead-lettered: ${d.reason}`);
    return { key: keys.relayCursor(), value: { cursor, at } as { cursor: string }, versionstamp: res.versionstamp };
  }

  /**
   * Publishes one dead letter again (after the data or Kafka was fixed). On success it leaves the
   * list and counts as delivered; on failure it stays with the new reason.
   */
  async redrive(eventKey: string): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (!this.#publisher) return { ok: false, reason: "Kafka is not configured (KAFKA_BROKERS is unset)." };
    const entry = await this.#kv.get<DeadLetter>(keys.deadLetter(eventKey));
    if (!entry.value) return { ok: false, reason: "not_found" };
    const d = entry.value;
    try {
      const message = await this.buildMessage(d.event);
      if (!this.#connected) {
        await this.#publisher.connect();
        this.#connected = true;
      }
      await this.#publisher.publish([message]);
      const at = new Date().toISOString();
      await this.#kv.atomic().check(entry).delete(entry.key)
        .sum(keys.relayDelivered(message.topic), 1n)
        .set(keys.relayLastDelivered(message.topic), { at, eventOccurredAt: d.event.occurredAt })
        .commit();
      return { ok: true };
    } catch (err) {
      const reason = describe(err);
      await this.#kv.atomic().check(entry).set(entry.key, {
        ...d,
        reason,
        attempts: d.attempts + 1,
        failedAt: new Date().toISOString(),
      }).commit();
      return { ok: false, reason };
    }
  }
}

function deadLetter(event: CommittedEvent | DomainEvent, topic: Topic | null, reason: string): DeadLetter {
  const { versionstamp: _v, ...plain } = event as CommittedEvent;
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
