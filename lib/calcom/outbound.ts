/**
 * Outbound sync (us → Cal.com): one leased loop across all workers (lib/worker/leased_loop.ts).
 * Each step:
 *
 * 1. **Consumer** (lib/calcom/outbound_consumer.ts). Reads the Cal.com outbox
 *    (`["outbox", "calcom", …]`, lib/booking/outbox.ts): whole sessions, in commit order, however
 *    late a commit landed. Marks the work each event asks for, then deletes the entries under the
 *    lease's fence. A crash between the two marks again (harmless: see 2).
 * 2. **Runner.** Due session jobs (lib/calcom/outbound_sessions.ts), then due bookings
 *    (lib/calcom/outbound_bookings.ts): each brings Cal.com to OUR CURRENT state, so a repeat
 *    sends nothing twice; a seat POST is announced first (`sendingUntil`), so a worker that takes
 *    the lease over mid-send never posts it again.
 * 3. **Retries** follow `decideRetry` (1 s, 5 s, 30 s; 429 honours Retry-After; other 4xx are
 *    final); failures are stored and logged with secrets redacted.
 *
 * Wake-ups: a commit of this process (`onEventsCommitted`), `wake()`, and a poll every `pollMs`
 * (1 s), or sooner when a retry is due sooner.
 */
import type { Config } from "../config.ts";
import { type CommittedEvent, onEventsCommitted } from "../booking/events.ts";
import { acknowledgeOutbox, readOutbox } from "../booking/outbox.ts";
import { LeasedLoop } from "../worker/leased_loop.ts";
import { type CalcomClient, createCalcomClient } from "./client.ts";
import { markEvent } from "./outbound_consumer.ts";
import { runBooking } from "./outbound_bookings.ts";
import {
  type ApiTenant,
  iso,
  type OutboundContext,
  type OutboundLogLevel,
  type OutboundStatus,
  tenantSecrets,
} from "./outbound_context.ts";
import { classifyFailure, DEFAULT_RETRY_DELAYS_MS } from "./outbound_retry.ts";
import { runSessionJob } from "./outbound_sessions.ts";
import { listDueSessionJobs, nextSessionJobDueAt } from "./outbound_store.ts";
import { listDueSyncs, nextDueAt } from "./sync_store.ts";

export {
  type ApiTenant,
  NOTE_FROM_CALCOM,
  NOTE_NO_TENANT,
  NOTE_NOTHING_ON_CALCOM,
  NOTE_SESSION_OVER,
  type OutboundLogLevel,
  type OutboundStatus,
} from "./outbound_context.ts";

/** Lease name of the outbound sync. */
export const OUTBOUND_JOB = "calcom-outbound";

/** What the worker needs. */
export interface OutboundSyncDeps {
  kv: Deno.Kv;
  config: Config;
  /** The Cal.com client of a tenant (default: {@link createCalcomClient} with its URL and key). */
  clientFor?: (tenant: ApiTenant) => CalcomClient;
  /** Clock of sync states and due times (ms; default `Date.now`). */
  now?: () => number;
  /** Waits before the 2nd, 3rd, 4th attempt (default 1 s, 5 s, 30 s). */
  retryDelaysMs?: readonly number[];
  /** Longest idle wait between looks at the outbox and the due list (default 1 000 ms). */
  pollMs?: number;
  /** Per-request time limit of the default client (default 10 000 ms); a send's bound. */
  requestTimeoutMs?: number;
  /** Lease length (default 15 000 ms; extended past every send). */
  leaseMs?: number;
  /** Identity of this worker in the lease (default random). */
  owner?: string;
  /**
   * Largest clock difference tolerated between workers (default 10 000 ms): added to a send's
   * announced deadline (`sendingUntil`), which another worker reads with its own clock.
   */
  maxClockSkewMs?: number;
  /** Where messages go (default console); they never contain keys or secrets. */
  log?: (level: OutboundLogLevel, message: string) => void;
  /** Called for each outbox event once its work is marked (metrics, tests). */
  onEvent?: (event: CommittedEvent) => void;
}

function defaultLog(level: OutboundLogLevel, message: string): void {
  if (level === "error") console.error(message);
  else if (level === "warn") console.warn(message);
  else console.log(message);
}

/** The outbound sync worker. `start()` once; `wake()` after queuing work; `stop()` to end. */
export class OutboundSync {
  readonly #ctx: OutboundContext;
  readonly #loop: LeasedLoop;
  readonly #pollMs: number;
  readonly #onEvent: ((event: CommittedEvent) => void) | undefined;
  #resumeAfter: string | null = null;

  constructor(deps: OutboundSyncDeps) {
    const timeoutMs = deps.requestTimeoutMs ?? 10_000;
    this.#pollMs = deps.pollMs ?? 1_000;
    this.#onEvent = deps.onEvent;
    this.#loop = new LeasedLoop(deps.kv, OUTBOUND_JOB, {
      step: ({ signal }) => this.#step(signal),
      idleMs: () => this.#idleMs(),
      // After a pass that did work, gather the next page for a moment instead of spinning on the
      // few events each commit adds (every commit of this process wakes the loop).
      lingerMs: Math.min(100, this.#pollMs),
      leaseMs: deps.leaseMs ?? 15_000,
      owner: deps.owner,
      minBackoffMs: this.#pollMs,
      maxBackoffMs: this.#pollMs,
      onError: async (err) => {
        const message = classifyFailure(err, await tenantSecrets(this.#ctx).catch(() => [])).message;
        this.#ctx.status.lastError = { message, at: iso(Date.now()) };
        this.#ctx.log("error", `calcom outbound: pass failed: ${message}`);
      },
      wakeOn: (wake) => onEventsCommitted(wake, "calcom"),
    });
    this.#ctx = {
      kv: deps.kv,
      config: deps.config,
      clientFor: deps.clientFor ??
        ((t) => createCalcomClient({ baseUrl: t.baseUrl, apiKey: t.apiKey, timeoutMs })),
      now: deps.now ?? Date.now,
      delays: deps.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
      log: deps.log ?? defaultLog,
      status: { state: "idle", cursor: null, lastRunAt: null, lastError: null, synced: 0, failures: 0, flagged: 0 },
      lease: this.#loop.lease,
      sendBoundMs: timeoutMs + 1_000,
      maxClockSkewMs: deps.maxClockSkewMs ?? 10_000,
    };
  }

  /** A copy of the worker's state. */
  status(): OutboundStatus {
    const s = this.#ctx.status;
    const loop = this.#loop.status().state;
    const state = loop === "standby" ? "standby" : loop === "stopped" ? "stopped" : s.state;
    return { ...s, state, lastError: s.lastError && { ...s.lastError } };
  }

  /** Starts the loop (idempotent). */
  start(): void {
    this.#loop.start();
  }

  /** Cuts the idle wait short: events were committed or work was queued. */
  wake(): void {
    this.#loop.wake();
  }

  /** Stops the loop after the current step and gives the lease up. */
  async stop(): Promise<void> {
    await this.#loop.stop();
    this.#ctx.status.state = "stopped";
  }

  /**
   * One pass without the loop (same lease): marks what the outbox holds, then runs what is due.
   * Returns how many events were read and jobs run (zeros when another worker holds the lease).
   */
  async syncOnce(): Promise<{ events: number; jobs: number }> {
    if (!(await this.#ctx.lease.acquire())) return { events: 0, jobs: 0 };
    const events = await this.consumeEvents();
    const jobs = await this.runDue();
    return { events, jobs };
  }

  async #step(signal: AbortSignal): Promise<number> {
    const worked = await this.consumeEvents() + await this.runDue(signal);
    this.#ctx.status.state = "running";
    this.#ctx.status.lastRunAt = iso(Date.now());
    return worked;
  }

  async #idleMs(): Promise<number> {
    const [a, b] = await Promise.all([nextDueAt(this.#ctx.kv), nextSessionJobDueAt(this.#ctx.kv)]);
    const due = a === null ? b : b === null ? a : Math.min(a, b);
    if (due === null) return this.#pollMs;
    return Math.max(5, Math.min(this.#pollMs, due - this.#ctx.now()));
  }

  /** Marks the work of a page of the Cal.com outbox, then deletes its entries. Returns events read. */
  async consumeEvents(limit = 200): Promise<number> {
    const { kv, lease } = this.#ctx;
    const page = await readOutbox(kv, "calcom", { limit, resumeAfter: this.#resumeAfter });
    this.#resumeAfter = page.resumeAfter;
    for (const event of page.events) {
      await markEvent(this.#ctx, event);
      this.#onEvent?.(event);
    }
    if (!(await acknowledgeOutbox(kv, page.events, lease.guard))) {
      await lease.verify();
      throw new Error("the Cal.com outbox acknowledgement did not commit; re-reading");
    }
    return page.events.length;
  }

  /**
   * Runs due session jobs, then due bookings (up to 100). Returns how many ran. With `signal`
   * aborted (the worker stopping) it ends after the item in flight: the rest stays due.
   */
  async runDue(signal?: AbortSignal): Promise<number> {
    let n = 0;
    for (const job of await listDueSessionJobs(this.#ctx.kv, this.#ctx.now())) {
      if (signal?.aborted) return n;
      await runSessionJob(this.#ctx, job);
      n++;
    }
    for (const bookingId of await listDueSyncs(this.#ctx.kv, this.#ctx.now(), 100)) {
      if (signal?.aborted) return n;
      await runBooking(this.#ctx, bookingId);
      n++;
    }
    return n;
  }
}

/**
 * Creates and starts the outbound worker. With no tenant that can call Cal.com, every booking
 * simply ends `skipped` ("no Cal.com tenant for this session").
 */
export function startOutboundSync(deps: OutboundSyncDeps): OutboundSync {
  const sync = new OutboundSync(deps);
  sync.start();
  return sync;
}
