/**
 * Seats left of one session as a server-sent-events stream (`GET /sessions/{id}/seats`).
 *
 * Every open stream of one session in this process shares one feed (one watcher, one recount loop:
 * {@link SeatFeed}), so the cost grows with the sessions watched, not with the learners watching.
 * Fed by `kv.watch` on the session's `["seats", id]` counters (every seat-affecting write touches
 * them) and its `["sessions", id]` record (capacity, status). A hold that expires changes nothing in
 * KV until it is swept, so the availability is also recomputed on a timer: just after the session's
 * next hold expiry, and at least every `refreshMs`. An event goes out only when the picture changed.
 * `kv.watch` reports the latest state (not every change) and, on a local KV file, does not see other
 * processes' writes; the timer bounds how stale that can leave a page.
 *
 * @module
 */
import { type Availability, getAvailability } from "../booking/availability.ts";
import { keys } from "../store/keys.ts";
import { getSession } from "../store/sessions.ts";

/** What each `event: seats` carries as JSON. */
export interface SeatSnapshot {
  left: number;
  taken: number;
  capacity: number;
  waiting: number;
  state: Availability["state"];
}

/** Timings of a stream (tests shorten them). */
export interface SeatStreamOptions {
  /** Ends the stream (the request's signal: the client went away). */
  signal?: AbortSignal;
  /** Comment line that keeps proxies from closing an idle stream. Default 15 s. */
  heartbeatMs?: number;
  /** Longest wait between two recomputations. Default 15 s. */
  refreshMs?: number;
  /** Reconnect delay suggested to the browser (`retry:`). Default 5 s. */
  retryMs?: number;
  /** Closes the stream after this long (the browser reconnects), so shutdowns are not held up. Default 10 min. */
  maxLifetimeMs?: number;
}

/** Milliseconds after a hold's expiry at which it is recounted (it stops counting at `expiresAt`). */
const EXPIRY_SLACK_MS = 50;

let active = 0;
let openFeeds = 0;

/** Session feeds (watchers) open right now in this process: one per watched session. */
export function activeSeatFeeds(): number {
  return openFeeds;
}

/** Streams open right now in this process (for tests: 0 once every client went away). */
export function activeSeatStreams(): number {
  return active;
}

/** The snapshot of an availability. */
export function seatSnapshot(a: Availability): SeatSnapshot {
  return { left: a.seatsLeft, taken: a.taken, capacity: a.capacity, waiting: a.waiting, state: a.state };
}

/** The session's seats now, and when its next live hold expires (epoch ms), or null when it is gone. */
export async function readSeats(
  kv: Deno.Kv,
  sessionId: string,
  now = new Date(),
): Promise<{ snapshot: SeatSnapshot; nextExpiry: number | null } | null> {
  const session = await getSession(kv, sessionId);
  if (!session) return null;
  const availability = (await getAvailability(kv, [session], now)).get(sessionId)!;
  const prefix = keys.holdsBySessionPrefix(sessionId);
  let nextExpiry: number | null = null;
  for await (const e of kv.list({ prefix, start: [...prefix, now.getTime() + 1] }, { limit: 1 })) {
    nextExpiry = e.key[2] as number;
  }
  return { snapshot: seatSnapshot(availability), nextExpiry };
}

/** One SSE event block. */
export function seatEvent(snapshot: SeatSnapshot): string {
  return `event: seats\ndata: ${JSON.stringify(snapshot)}\n\n`;
}

/** What a stream gets from its session's feed. */
interface FeedListener {
  /** A new picture (JSON of the snapshot); only sent when it changed. */
  seats(json: string, snapshot: SeatSnapshot): void;
  /** The session is gone, or KV failed: the stream ends. */
  end(): void;
}

/**
 * One session's seats, shared by every open stream of it in this process: ONE `kv.watch` and ONE
 * recount loop however many learners watch, so 2,000 open streams over 100 sessions cost 100
 * watchers and recounts, not 2,000. A stream that joins gets the last picture at once.
 */
class SeatFeed {
  readonly listeners = new Set<FeedListener>();
  #last: { json: string; snapshot: SeatSnapshot } | null = null;
  #closed = false;
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  #watcher: ReadableStreamDefaultReader<Deno.KvEntryMaybe<unknown>[]> | null = null;
  #queue: Promise<void> = Promise.resolve();
  #following: Promise<void> = Promise.resolve();

  constructor(
    readonly kv: Deno.Kv,
    readonly sessionId: string,
    readonly refreshMs: number,
    readonly onClose: (feed: SeatFeed) => void,
  ) {}

  /** Settles once the feed's last KV read and its watcher are done. */
  get settled(): Promise<unknown> {
    return Promise.allSettled([this.#queue, this.#following]);
  }

  start(): void {
    openFeeds++;
    this.#following = this.#follow();
  }

  add(listener: FeedListener): void {
    this.listeners.add(listener);
    if (this.#last) listener.seats(this.#last.json, this.#last.snapshot);
  }

  /** Removes a listener; the last one out closes the feed. */
  remove(listener: FeedListener): void {
    this.listeners.delete(listener);
    if (this.listeners.size === 0) this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    openFeeds--;
    clearTimeout(this.#refreshTimer);
    this.#watcher?.cancel().catch(() => {});
    this.#watcher = null;
    this.onClose(this);
    for (const l of [...this.listeners]) l.end();
  }

  /** Recomputes and tells the listeners when changed; runs one at a time. */
  #refresh(): Promise<void> {
    this.#queue = this.#queue.then(async () => {
      if (this.#closed) return;
      const now = new Date();
      const seats = await readSeats(this.kv, this.sessionId, now);
      if (this.#closed) return;
      if (!seats) return this.close();
      const json = JSON.stringify(seats.snapshot);
      if (json !== this.#last?.json) {
        this.#last = { json, snapshot: seats.snapshot };
        for (const l of [...this.listeners]) l.seats(json, seats.snapshot);
      }
      clearTimeout(this.#refreshTimer);
      const untilExpiry = seats.nextExpiry === null ? Infinity : seats.nextExpiry - now.getTime() + EXPIRY_SLACK_MS;
      this.#refreshTimer = setTimeout(() => this.#refresh(), Math.max(0, Math.min(this.refreshMs, untilExpiry)));
    }).catch(() => this.close()); // KV closed or failing: end the streams; browsers reconnect.
    return this.#queue;
  }

  async #follow(): Promise<void> {
    const stream = this.kv.watch([keys.seats(this.sessionId), keys.session(this.sessionId)]);
    this.#watcher = stream.getReader();
    if (this.#closed) return void this.#watcher.cancel().catch(() => {});
    try {
      // The first report is the state at the start; every later one means a write landed.
      while (!this.#closed) {
        const { done } = await this.#watcher.read();
        if (done) break;
        await this.#refresh();
      }
    } catch {
      // the watch failed (KV closed): fall through and end the streams
    }
    this.close();
  }
}

/** Open feeds by KV handle and session id. */
const feeds = new WeakMap<Deno.Kv, Map<string, SeatFeed>>();

function joinFeed(kv: Deno.Kv, sessionId: string, refreshMs: number, listener: FeedListener): SeatFeed {
  let byId = feeds.get(kv);
  if (!byId) feeds.set(kv, byId = new Map());
  let feed = byId.get(sessionId);
  // A feed recounts at least as often as the stream that asks most often.
  if (!feed || feed.refreshMs > refreshMs) {
    feed = new SeatFeed(kv, sessionId, refreshMs, (f) => {
      if (byId!.get(sessionId) === f) byId!.delete(sessionId);
    });
    const old = byId.get(sessionId);
    byId.set(sessionId, feed);
    feed.start();
    // Streams of a slower feed move to this one.
    if (old) {
      for (const l of [...old.listeners]) {
        old.listeners.delete(l);
        feed.add(l);
      }
      old.close();
    }
  }
  feed.add(listener);
  return feed;
}

/**
 * The event stream of one session's seats. The first event is the current picture; later ones
 * follow changes (from the session's shared {@link SeatFeed}). Everything (its place in the feed,
 * timers) is released when `signal` aborts, the consumer cancels, KV closes, or `maxLifetimeMs`
 * passes.
 */
export function seatEventStream(kv: Deno.Kv, sessionId: string, options: SeatStreamOptions = {}): ReadableStream<
  Uint8Array
> {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const refreshMs = options.refreshMs ?? 15_000;
  const retryMs = options.retryMs ?? 5_000;
  const maxLifetimeMs = options.maxLifetimeMs ?? 600_000;
  const encoder = new TextEncoder();
  let closed = false;
  let last = "";
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let lifetime: ReturnType<typeof setTimeout> | undefined;
  let controller: ReadableStreamDefaultController<Uint8Array>;
  let feed: SeatFeed | null = null;
  const onAbort = () => finish();
  const listener: FeedListener = {
    seats(json, snapshot) {
      if (json === last) return;
      last = json;
      send(seatEvent(snapshot));
    },
    end: () => finish(),
  };

  function send(text: string) {
    if (closed) return;
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      finish();
    }
  }

  function finish() {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    clearTimeout(lifetime);
    options.signal?.removeEventListener("abort", onAbort);
    // The feed this stream is in now (it may have moved to a faster one).
    const current = feeds.get(kv)?.get(sessionId);
    const from = current?.listeners.has(listener) ? current : feed;
    from?.remove(listener);
    try {
      controller.close();
    } catch {
      // already closed or errored by the consumer
    }
    // Counted as open until the feed it leaves has settled when it was the last one out.
    const settled = from && from.listeners.size === 0 ? from.settled : Promise.resolve();
    settled.then(() => active--);
  }

  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      active++;
      if (options.signal?.aborted) return finish();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      send(`retry: ${retryMs}\n\n`);
      heartbeat = setInterval(() => send(": heartbeat\n\n"), heartbeatMs);
      lifetime = setTimeout(finish, maxLifetimeMs);
      feed = joinFeed(kv, sessionId, refreshMs, listener);
    },
    cancel() {
      finish();
    },
  });
}
