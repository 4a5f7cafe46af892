/**
 * The one loop every background job runs in (Kafka relay, Cal.com outbound sync, hold sweep, and
 * later notification jobs): take or renew the job's fenced {@link Lease}, run one step, then wait
 * — not at all after a wake-up or when the step did work, `idleMs` when it did none, a capped
 * exponential backoff after a failure (a wake-up never cuts a backoff short: commits must not
 * hammer a down dependency). A worker without the lease stands by and retries.
 *
 * The step gets the lease: every state change it commits must carry `lease.guard`, so a worker
 * that lost the lease mid-step cannot commit. `stop()` lets the in-flight step finish (it sees
 * `signal.aborted` and may abandon early), then releases the lease.
 */
import { Lease, LeaseLostError } from "./lease.ts";

/** What a step gets. */
export interface StepContext {
  lease: Lease;
  /** Aborted when the loop stops: a long step should end early (nothing it did not commit is lost). */
  signal: AbortSignal;
}

/** The loop's state for health pages. */
export interface LoopStatus {
  /** standby: another worker holds the lease; retrying: the last step failed. */
  state: "idle" | "running" | "standby" | "retrying" | "stopped";
  failures: number;
  lastError: { message: string; at: string } | null;
  /** Fencing token of the current holding (0 when not held). */
  token: number;
}

/** Settings of a loop. */
export interface LeasedLoopOptions {
  /** The job: returns how much work it did (0: nothing to do). */
  step: (ctx: StepContext) => Promise<number>;
  /** Wait when a step found nothing (ms, or computed, e.g. until the next due item). Default 500. */
  idleMs?: number | (() => number | Promise<number>);
  /**
   * Pause after a step that did work (gathers a bigger next batch; not cut short). Default 0. As a function of the
   * work done, a job can go on at once after a full batch (a backlog is waiting) and linger only after a small one.
   */
  lingerMs?: number | ((worked: number) => number);
  leaseMs?: number;
  owner?: string;
  /** Clock of the lease (default `Date.now`). */
  clock?: () => number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called after each failed step (before the backoff). */
  onError?: (err: unknown, failures: number, backoffMs: number) => void | Promise<void>;
  /** Subscribes the loop's `wake` to a signal (e.g. `onEventsCommitted`); returns an unsubscribe. */
  wakeOn?: (wake: () => void) => () => void;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A leased loop for one job name. `start()` once; `wake()` when work may be waiting. */
export class LeasedLoop {
  readonly lease: Lease;
  readonly #opt: LeasedLoopOptions;
  readonly #leaseMs: number;
  #running = false;
  #loop: Promise<void> | null = null;
  #abort = new AbortController();
  #wake: (() => void) | null = null;
  #stopWait: (() => void) | null = null;
  #woken = false;
  #unsubscribe: (() => void) | null = null;
  #status: LoopStatus = { state: "idle", failures: 0, lastError: null, token: 0 };

  constructor(kv: Deno.Kv, readonly name: string, options: LeasedLoopOptions) {
    this.#opt = options;
    this.#leaseMs = options.leaseMs ?? 15_000;
    this.lease = new Lease(kv, name, { leaseMs: this.#leaseMs, owner: options.owner, clock: options.clock });
  }

  /** A copy of the loop's state. */
  status(): LoopStatus {
    return { ...this.#status, token: this.lease.token };
  }

  /** Starts the loop (idempotent). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#abort = new AbortController();
    this.#unsubscribe = this.#opt.wakeOn?.(() => this.wake()) ?? null;
    this.#loop = this.#run();
  }

  /** Cuts an idle wait short: work may be waiting. */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /** Stops after the in-flight step (which sees its signal aborted), then releases the lease. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#abort.abort();
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#wake?.();
    this.#stopWait?.();
    await this.#loop;
    this.#loop = null;
    await this.lease.release();
    this.#status.state = "stopped";
  }

  #sleep(ms: number, wakeable: boolean): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.#wake === done) this.#wake = null;
        if (this.#stopWait === done) this.#stopWait = null;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      if (wakeable) this.#wake = done;
      this.#stopWait = done;
    });
  }

  async #idleMs(): Promise<number> {
    const idle = this.#opt.idleMs ?? 500;
    return typeof idle === "number" ? idle : await idle();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        if (!(await this.lease.acquire())) {
          this.#status.state = "standby";
          await this.#sleep(Math.min(this.#leaseMs / 3, 5_000), true);
          continue;
        }
        this.#woken = false;
        const worked = await this.#opt.step({ lease: this.lease, signal: this.#abort.signal });
        this.#status.state = "running";
        this.#status.failures = 0;
        if (!this.#running) break;
        if (worked === 0 && !this.#woken) await this.#sleep(await this.#idleMs(), true);
        else if (worked > 0) {
          const linger = this.#opt.lingerMs;
          const ms = typeof linger === "function" ? linger(worked) : linger ?? 0;
          if (ms > 0) await this.#sleep(ms, false);
        }
      } catch (err) {
        if (err instanceof LeaseLostError) {
          // Another worker took over mid-step: nothing this step did after that was committed.
          this.#status.state = "standby";
          await this.#sleep(Math.min(this.#leaseMs / 3, 5_000), true);
          continue;
        }
        const failures = ++this.#status.failures;
        const min = this.#opt.minBackoffMs ?? 250;
        const backoff = Math.min(this.#opt.maxBackoffMs ?? 30_000, min * 2 ** Math.min(failures - 1, 16));
        this.#status.state = "retrying";
        this.#status.lastError = { message: describe(err), at: new Date().toISOString() };
        await Promise.resolve(this.#opt.onError?.(err, failures, backoff)).catch(() => {});
        await this.#sleep(backoff, false);
      }
    }
  }
}
