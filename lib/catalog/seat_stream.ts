/**
 * Seats left of one session as a server-sent-events stream (`GET /sessions/{id}/seats`).
 *
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

/**
 * The event stream of one session's seats. The first event is the current picture; later ones
 * follow changes. Everything (watcher, timers) is released when `signal` aborts, the consumer
 * cancels, KV closes, or `maxLifetimeMs` passes.
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
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let lifetime: ReturnType<typeof setTimeout> | undefined;
  let watcher: ReadableStreamDefaultReader<Deno.KvEntryMaybe<unknown>[]> | null = null;
  let controller: ReadableStreamDefaultController<Uint8Array>;
  let queue: Promise<void> = Promise.resolve();
  let following: Promise<void> = Promise.resolve();
  const onAbort = () => finish();

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
    clearTimeout(refreshTimer);
    clearInterval(heartbeat);
    clearTimeout(lifetime);
    options.signal?.removeEventListener("abort", onAbort);
    watcher?.cancel().catch(() => {});
    watcher = null;
    try {
      controller.close();
    } catch {
      // already closed or errored by the consumer
    }
    // Counted as open until its last KV read and the watcher have settled.
    Promise.allSettled([queue, following]).then(() => active--);
  }

  /** Recomputes and sends when changed; runs one at a time. */
  function refresh(): Promise<void> {
    queue = queue.then(async () => {
      if (closed) return;
      const now = new Date();
      const seats = await readSeats(kv, sessionId, now);
      if (closed) return;
      if (!seats) return finish();
      const json = JSON.stringify(seats.snapshot);
      if (json !== last) {
        last = json;
        send(seatEvent(seats.snapshot));
      }
      clearTimeout(refreshTimer);
      const untilExpiry = seats.nextExpiry === null ? Infinity : seats.nextExpiry - now.getTime() + EXPIRY_SLACK_MS;
      refreshTimer = setTimeout(refresh, Math.max(0, Math.min(refreshMs, untilExpiry)));
    }).catch(() => finish()); // KV closed or failing: end the stream; the browser reconnects.
    return queue;
  }

  async function follow() {
    const stream = kv.watch([keys.seats(sessionId), keys.session(sessionId)]);
    watcher = stream.getReader();
    if (closed) return void watcher.cancel().catch(() => {});
    try {
      // The first report is the state at the start; every later one means a write landed.
      while (!closed) {
        const { done } = await watcher.read();
        if (done) break;
        await refresh();
      }
    } catch {
      // the watch failed (KV closed): fall through and end the stream
    }
    finish();
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
      following = follow();
    },
    cancel() {
      finish();
    },
  });
}
