/**
 * Per-session group commit. Operations on one session queue up in its lane; the lane applies a
 * batch of them in memory against one read of the session's state and commits the whole batch in
 * ONE atomic op guarded by versionstamp checks. A hot session thus costs one KV commit per batch
 * instead of one (conflicting) commit per request. A conflict with another process re-reads and
 * re-applies the batch; an op whose rule fails is rolled back alone and the rest still commit.
 */
import { kvLimits } from "../store/kv.ts";
import { Draft } from "./draft.ts";
import { DomainError } from "./errors.ts";
import type { Actor } from "./events.ts";
import { SessionTx } from "./session_tx.ts";

/** One operation on one session: pure over the draft, may throw DomainError. */
export type SessionOp<R> = (tx: SessionTx) => Promise<R>;

interface Pending {
  op: SessionOp<unknown>;
  actor: Actor;
  /** Keys the op will load: fetched for the whole batch in one parallel round before it runs. */
  prefetch: Deno.KvKey[];
  /** A read the caller started before queueing, which the op will await: the batch waits for it with its own load. */
  ready: Promise<unknown> | undefined;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Largest batch; the store's check/mutation limits split it further when needed. */
const MAX_BATCH = 64;

/**
 * Checks a batch may spend on its ops' keys: the store's check limit less the session's own two
 * keys and a margin for waitlist offers (84 of 100 locally, 6 of 10 over KV Connect).
 */
export function opCheckBudget(checksPerAtomic: number): number {
  return Math.max(1, checksPerAtomic - 2 - Math.ceil(checksPerAtomic * 0.14));
}
/** Keys assumed for an op that declares none. */
const DEFAULT_KEYS = 3;
/** Keys an op may load beyond its prefetch (a hold, a stale place's hold). */
const OP_EXTRA_KEYS = 1;
/**
 * Attempts before a batch answers 503 busy. With several instances on one hot session every
 * commit of one conflicts with the others' batches in flight; 12 attempts with backoff capped at
 * 50 ms (about 0.2 s in all) gave up while the other instance kept committing (503s in the bench's
 * 2-instance hot run on denokv). 40 attempts capped at 100 ms wait up to about 3 s.
 */
const MAX_ATTEMPTS = 40;

/** Routes operations into per-session lanes on one KV store. */
export class Lanes {
  readonly #kv: Deno.Kv;
  readonly #queues = new Map<string, Pending[]>();
  readonly #now: () => Date;
  readonly #settledWaiters: (() => void)[] = [];
  /** Commits made and operations they carried (for the bench and tests). */
  readonly stats = { commits: 0, ops: 0, conflicts: 0 };

  constructor(kv: Deno.Kv, now: () => Date = () => new Date()) {
    this.#kv = kv;
    this.#now = now;
  }

  /**
   * Runs `op` on `sessionId` in that session's lane; resolves after its batch committed.
   * `prefetch` names the keys the op will load, so a batch loads them all in one round. `ready`: a
   * read outside the atomic op that the caller started already and the op awaits (its outcome is the
   * op's to handle): the batch's load waits for it too, so the op never holds up the batch on it, and
   * the caller no longer waits for it before queueing.
   */
  run<R>(
    sessionId: string,
    actor: Actor,
    op: SessionOp<R>,
    prefetch: Deno.KvKey[] = [],
    ready?: Promise<unknown>,
  ): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const p: Pending = {
        op: op as SessionOp<unknown>,
        actor,
        prefetch,
        ready,
        resolve: resolve as (v: unknown) => void,
        reject,
      };
      const q = this.#queues.get(sessionId);
      if (q) {
        q.push(p);
        return;
      }
      this.#queues.set(sessionId, [p]);
      queueMicrotask(() => this.#drain(sessionId));
    });
  }

  /**
   * Resolves once no lane has work queued or running, including the waitlist passes that commits
   * queued on other sessions (tests await it after an op whose effects spread; shutdown may too).
   */
  settled(): Promise<void> {
    if (this.#queues.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#settledWaiters.push(resolve));
  }

  async #drain(sessionId: string): Promise<void> {
    const q = this.#queues.get(sessionId)!;
    const budget = opCheckBudget(kvLimits(this.#kv).checksPerAtomic);
    try {
      while (q.length) {
        // As many ops as fit one commit's checks, so a full batch rarely has to split.
        let n = 0;
        let keys = 0;
        while (n < q.length && n < MAX_BATCH) {
          const k = q[n].prefetch.length || DEFAULT_KEYS;
          if (n > 0 && keys + k > budget) break;
          keys += k;
          n++;
        }
        await this.#runBatch(sessionId, q.splice(0, n));
      }
    } finally {
      this.#queues.delete(sessionId);
      if (this.#queues.size === 0) { for (const resolve of this.#settledWaiters.splice(0)) resolve(); }
    }
  }

  async #runBatch(sessionId: string, batch: Pending[]): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let outcome;
      try {
        outcome = await this.#attempt(sessionId, batch);
      } catch (err) {
        // Loading the session failed for everyone (e.g. it does not exist).
        for (const p of batch) p.reject(err);
        return;
      }
      if (outcome === "split") {
        const half = Math.ceil(batch.length / 2);
        await this.#runBatch(sessionId, batch.slice(0, half));
        await this.#runBatch(sessionId, batch.slice(half));
        return;
      }
      if (outcome !== "conflict") return;
      this.stats.conflicts++;
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 2 ** attempt)));
    }
    const busy = new DomainError(503, "busy", "The session is very busy; please try again.");
    for (const p of batch) p.reject(busy);
  }

  async #attempt(sessionId: string, batch: Pending[]): Promise<"done" | "conflict" | "split"> {
    const draft = new Draft(this.#kv);
    const now = this.#now();
    const [base] = await Promise.all([
      SessionTx.load(draft, sessionId, now, batch[0].actor),
      draft.load(batch.flatMap((p) => p.prefetch)),
      ...batch.map((p) => p.ready?.catch(() => {})),
    ]);
    // Seats that freed without a write (holds past expiresAt, not cleaned up yet) go to the head
    // of the waitlist before anyone in this batch can take them.
    base.actor = { ...batch[0].actor, origin: "system", userId: null };
    // Keep room for at least the first op's keys, so it still fits alone after a split.
    await base.fillOffers((batch[0].prefetch.length || DEFAULT_KEYS) + OP_EXTRA_KEYS);
    const results: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    for (const p of batch) {
      const cp = draft.checkpoint();
      const saved = base.checkpoint();
      base.actor = p.actor;
      try {
        const value = await p.op(base);
        results.push({ ok: true, value });
      } catch (error) {
        draft.rollback(cp);
        base.rollback(saved);
        results.push({ ok: false, error });
      }
    }
    if (!draft.empty) {
      // Seats freed in this batch go to the waitlist in the same commit.
      base.actor = { ...batch[0].actor, origin: "system", userId: null };
      await base.fillOffers();
    }
    if (batch.length > 1 && !draft.fits()) return "split";
    if (!draft.empty) {
      let res;
      try {
        res = await draft.commit();
      } catch (err) {
        if (batch.length > 1) return "split";
        throw err;
      }
      if (!res) return "conflict";
      this.stats.commits++;
      this.stats.ops += batch.length;
      // A waitlist pass for the sessions this commit left offers to: this one when the check budget
      // deferred some (a pass stops when it has nothing to write), and those a course-wide offer
      // that ended here passed over. Queued while this lane still drains (before the batch answers),
      // so settled() includes them. base.actor is already the system actor of the final offer pass.
      // The batch committed: a failed read here must not fail its ops, so it only skips the passes.
      const wake = await base.sessionsToWake().catch((err) => {
        console.error(`lane ${sessionId}: waitlist passes skipped:`, err instanceof Error ? err.message : err);
        return [];
      });
      for (const id of wake) {
        this.run(id, base.actor, () => Promise.resolve()).catch((err) => {
          console.error(`lane ${id}: waitlist pass failed:`, err instanceof Error ? err.message : err);
        });
      }
    }
    batch.forEach((p, i) => {
      const r = results[i];
      if (r.ok) p.resolve(r.value);
      else p.reject(r.error);
    });
    return "done";
  }
}
