/**
 * Fenced leases for background work: one record per job at `["worker_leases", name]`,
 * `{owner, token, until}`. Taking a lease another owner held (or that was released) raises the
 * token by one; renewing keeps it. Every state change a job makes under the lease goes through
 * {@link Lease.guard}, which adds a check of the record's versionstamp as this holder last wrote
 * it: once another worker took over (a new versionstamp), the old holder's commits fail, even if
 * it is still running (a GC pause, a slow send). `until` only decides when another owner MAY take
 * over; the fence never depends on clocks agreeing.
 */
import { keys } from "../store/keys.ts";

/** Value of `["worker_leases", name]`. */
export interface LeaseRecord {
  /** Holder, or null once released. */
  owner: string | null;
  /** Fencing token: raised by one at every change of holder. */
  token: number;
  /** Until when (ms, holder's clock) nobody else may take it. */
  until: number;
}

/** Thrown when a job finds that its lease changed hands: it must stop without committing. */
export class LeaseLostError extends Error {
  constructor(name: string) {
    super(`the ${name} lease was taken over by another worker`);
    this.name = "LeaseLostError";
  }
}

/** What a job's writes need from its lease: the guard, and a check after a failed guarded commit. */
export interface Fence {
  guard(op: Deno.AtomicOperation): Deno.AtomicOperation;
  verify(): Promise<void>;
}

/** Options of a lease. */
export interface LeaseOptions {
  /** Lease length (ms); renewed in its second half. */
  leaseMs: number;
  /** Identity of this worker (default: a random UUID). */
  owner?: string;
  /** Clock of `until` (default `Date.now`). */
  clock?: () => number;
}

/** One worker's handle on a named lease. */
export class Lease implements Fence {
  readonly key: Deno.KvKey;
  readonly owner: string;
  readonly #kv: Deno.Kv;
  readonly #leaseMs: number;
  readonly #clock: () => number;
  #versionstamp: string | null = null;
  #until = 0;
  #token = 0;

  constructor(kv: Deno.Kv, readonly name: string, options: LeaseOptions) {
    this.#kv = kv;
    this.key = keys.workerLease(name);
    this.owner = options.owner ?? crypto.randomUUID();
    this.#leaseMs = options.leaseMs;
    this.#clock = options.clock ?? Date.now;
  }

  /** Whether this worker holds the lease as far as it knows (a guarded commit is the proof). */
  get held(): boolean {
    return this.#versionstamp !== null;
  }

  /** The fencing token of the current holding (0 when not held). */
  get token(): number {
    return this.held ? this.#token : 0;
  }

  /** Adds the fence to an atomic op: it commits only while this worker still holds the lease. */
  readonly guard = (op: Deno.AtomicOperation): Deno.AtomicOperation => {
    if (this.#versionstamp === null) throw new LeaseLostError(this.name);
    return op.check({ key: this.key, versionstamp: this.#versionstamp });
  };

  /** Takes the lease, or renews it in its second half. False while another live owner holds it. */
  async acquire(): Promise<boolean> {
    const now = this.#clock();
    if (this.held && this.#until - now > this.#leaseMs / 2) return true;
    const entry = await this.#kv.get<LeaseRecord>(this.key);
    const rec = entry.value;
    const mine = this.held && entry.versionstamp === this.#versionstamp;
    if (!mine) this.#versionstamp = null;
    if (!mine && rec?.owner && rec.owner !== this.owner && rec.until > now) return false;
    const token = mine ? rec!.token : (rec?.token ?? 0) + 1;
    return await this.#write(entry, { owner: this.owner, token, until: now + this.#leaseMs });
  }

  /**
   * Makes sure the lease lasts at least `ms` more (before a send that may take that long), renewing
   * it if needed. Throws {@link LeaseLostError} when it changed hands.
   */
  async ensure(ms: number): Promise<void> {
    if (!this.held) throw new LeaseLostError(this.name);
    const now = this.#clock();
    if (this.#until - now >= ms) return;
    const entry = await this.#kv.get<LeaseRecord>(this.key);
    if (entry.versionstamp !== this.#versionstamp) {
      this.#versionstamp = null;
      throw new LeaseLostError(this.name);
    }
    const ok = await this.#write(entry, {
      owner: this.owner,
      token: this.#token,
      until: now + Math.max(ms, this.#leaseMs),
    });
    if (!ok) throw new LeaseLostError(this.name);
  }

  /** Throws {@link LeaseLostError} when another worker took the lease (after a failed guarded commit). */
  async verify(): Promise<void> {
    const entry = await this.#kv.get<LeaseRecord>(this.key);
    if (this.#versionstamp === null || entry.versionstamp !== this.#versionstamp) {
      this.#versionstamp = null;
      throw new LeaseLostError(this.name);
    }
  }

  /** Gives the lease up (keeping the token, so the next holder's is higher). */
  async release(): Promise<void> {
    if (this.#versionstamp === null) return;
    const check = { key: this.key, versionstamp: this.#versionstamp };
    this.#versionstamp = null;
    this.#until = 0;
    await this.#kv.atomic().check(check).set(this.key, { owner: null, token: this.#token, until: 0 }).commit()
      .catch(() => {});
  }

  async #write(entry: Deno.KvEntryMaybe<LeaseRecord>, rec: LeaseRecord): Promise<boolean> {
    let res: Deno.KvCommitResult | Deno.KvCommitError = { ok: false };
    for (let attempt = 0;; attempt++) {
      try {
        res = await this.#kv.atomic().check(entry).set(this.key, rec).commit();
        break;
      } catch (err) {
        // A local file briefly locked by another connection wrote nothing: try again.
        if (attempt >= 10 || !(err instanceof Error) || !/database is locked|SQLITE_BUSY/i.test(err.message)) throw err;
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
      }
    }
    if (!res.ok) {
      this.#versionstamp = null;
      return false;
    }
    this.#versionstamp = res.versionstamp;
    this.#until = rec.until;
    this.#token = rec.token;
    return true;
  }
}

/**
 * Runs `fn` only if this worker can take the lease `name` right now (a cron body: N instances
 * register the same cron; one runs it, the others skip). Releases the lease afterwards. Returns
 * whether `fn` ran.
 */
export async function runExclusive(
  kv: Deno.Kv,
  name: string,
  fn: (lease: Lease) => Promise<void>,
  options: Partial<LeaseOptions> = {},
): Promise<boolean> {
  const lease = new Lease(kv, name, { leaseMs: options.leaseMs ?? 10 * 60_000, ...options });
  if (!(await lease.acquire())) return false;
  try {
    await fn(lease);
  } finally {
    await lease.release();
  }
  return true;
}
