/**
 * A unit of work over Deno KV: load entries, decide in memory, then commit every write in ONE
 * atomic operation that checks every loaded entry is unchanged. Read-your-writes inside the draft.
 */
import { type KvLimits, kvLimits } from "../store/kv.ts";

type Write =
  | { key: Deno.KvKey; value: unknown; expireIn?: number; keyAtCommit?: () => Deno.KvKey }
  | { key: Deno.KvKey; delete: true };

/** Stable map key for a KV key (hot: called for every load and write of every draft). */
export function keyId(key: Deno.KvKey): string {
  let id = "";
  for (const part of key) {
    switch (typeof part) {
      case "string":
        id += `s${part.length}:${part}`;
        break;
      case "number":
        id += `n${part};`;
        break;
      case "bigint":
        id += `b${part};`;
        break;
      case "boolean":
        id += part ? "t;" : "f;";
        break;
      default:
        id += `u${(part as Uint8Array).join(",")};`;
    }
  }
  return id;
}

/** A point in a draft's pending writes, to roll back one failed step (positions in its undo log and hooks). */
export interface Checkpoint {
  undo: number;
  before: number;
  after: number;
}

/**
 * Collects loads and writes for one atomic commit. It never enqueues: KV queues are optional
 * (KV Connect refuses an atomic op carrying an enqueue; Deno Deploy has no queues), so background
 * work finds its due items through indexes (`holds_by_expiry`, `outbox`).
 */
export class Draft {
  readonly #kv: Deno.Kv;
  readonly #loaded = new Map<string, Deno.KvEntryMaybe<unknown>>();
  readonly #writes = new Map<string, Write>();
  /** Each write's key and what it replaced (undefined: nothing): a checkpoint costs nothing, a rollback undoes. */
  #undo: [string, Write | undefined][] = [];
  #beforeCommit: (() => void)[] = [];
  #afterCommit: (() => void)[] = [];

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /** The store this draft reads (for range reads whose keys a loaded entry guards). */
  get kv(): Deno.Kv {
    return this.#kv;
  }

  /** What one commit may carry on this store (10 checks over KV Connect, 100 locally). */
  get limits(): Readonly<KvLimits> {
    return kvLimits(this.#kv);
  }

  /** Whether the commit fits the store's check and mutation limits. */
  fits(): boolean {
    const size = this.size();
    return size.checks <= this.limits.checksPerAtomic && size.mutations <= this.limits.mutationsPerAtomic;
  }

  /** Loads keys not loaded yet (getMany in chunks of 10, in parallel). */
  async load(keys: Deno.KvKey[]): Promise<void> {
    const todo = dedupe(keys.filter((k) => !this.#loaded.has(keyId(k))));
    const chunks: Deno.KvKey[][] = [];
    for (let i = 0; i < todo.length; i += 10) chunks.push(todo.slice(i, i + 10));
    const results = await Promise.all(chunks.map((c) => this.#kv.getMany(c)));
    for (const entries of results) for (const e of entries) this.#loaded.set(keyId(e.key), e);
  }

  /** Marks an entry read outside `load` (e.g. from a list) so the commit checks it. */
  track(entry: Deno.KvEntryMaybe<unknown>): void {
    if (!this.#loaded.has(keyId(entry.key))) this.#loaded.set(keyId(entry.key), entry);
  }

  /** Current value of a loaded key, including this draft's own writes. */
  get<T>(key: Deno.KvKey): T | null {
    const id = keyId(key);
    const w = this.#writes.get(id);
    if (w) return "delete" in w ? null : w.value as T;
    const e = this.#loaded.get(id);
    if (!e) throw new Error(`draft: key ${id} read before load`);
    return e.value as T | null;
  }

  /** Whether a key is loaded or written in this draft. */
  has(key: Deno.KvKey): boolean {
    const id = keyId(key);
    return this.#loaded.has(id) || this.#writes.has(id);
  }

  /**
   * Writes `value` under a key made only when the commit is sent (`makeKey` runs once per commit
   * attempt, after the `beforeCommit` hooks). Events use it: their keys then trail their commit by
   * the commit call alone (history order; delivery does not depend on it).
   */
  setAtCommit(makeKey: () => Deno.KvKey, value: unknown): void {
    const placeholder: Deno.KvKey = ["__at_commit__", crypto.randomUUID()];
    this.#write(keyId(placeholder), { key: placeholder, value, keyAtCommit: makeKey });
  }

  set(key: Deno.KvKey, value: unknown, options?: { expireIn?: number }): void {
    this.#write(keyId(key), { key, value, expireIn: options?.expireIn });
  }

  delete(key: Deno.KvKey): void {
    this.#write(keyId(key), { key, delete: true });
  }

  #write(id: string, w: Write): void {
    this.#undo.push([id, this.#writes.get(id)]);
    this.#writes.set(id, w);
  }

  /** Values this draft sets (not deletes) under `prefix`, e.g. waitlist entries it added. */
  pendingSets<T>(prefix: Deno.KvKey): { key: Deno.KvKey; value: T }[] {
    const out: { key: Deno.KvKey; value: T }[] = [];
    for (const w of this.#writes.values()) {
      if ("delete" in w || w.key.length <= prefix.length) continue;
      if (prefix.every((part, i) => part === w.key[i])) out.push({ key: w.key, value: w.value as T });
    }
    return out;
  }

  /**
   * Runs at the start of every commit attempt, before the writes are built: event keys are minted
   * here, so `setAtCommit` writes of one event share the key minted for that attempt.
   */
  beforeCommit(fn: () => void): void {
    this.#beforeCommit.push(fn);
  }

  /** Runs after a successful commit (e.g. to schedule in-process work). */
  afterCommit(fn: () => void): void {
    this.#afterCommit.push(fn);
  }

  checkpoint(): Checkpoint {
    return {
      undo: this.#undo.length,
      before: this.#beforeCommit.length,
      after: this.#afterCommit.length,
    };
  }

  rollback(cp: Checkpoint): void {
    while (this.#undo.length > cp.undo) {
      const [id, prev] = this.#undo.pop()!;
      if (prev) this.#writes.set(id, prev);
      else this.#writes.delete(id);
    }
    this.#beforeCommit.length = cp.before;
    this.#afterCommit.length = cp.after;
  }

  /** Number of checks and mutations the commit would carry. */
  size(): { checks: number; mutations: number } {
    return {
      checks: this.#loaded.size,
      mutations: this.#writes.size,
    };
  }

  /** True when nothing would be written. */
  get empty(): boolean {
    return this.#writes.size === 0;
  }

  /**
   * Commits; returns null when a loaded entry changed meanwhile, or when the store was briefly
   * locked by another connection (SQLite "database is locked": nothing was written); the caller
   * retries from scratch either way.
   */
  async commit(): Promise<Deno.KvCommitResult | null> {
    for (const fn of this.#beforeCommit) fn();
    const op = this.#kv.atomic();
    for (const e of this.#loaded.values()) op.check({ key: e.key, versionstamp: e.versionstamp });
    for (const w of this.#writes.values()) {
      if ("delete" in w) op.delete(w.key);
      else if (w.keyAtCommit) op.set(w.keyAtCommit(), w.value);
      else op.set(w.key, w.value, w.expireIn ? { expireIn: w.expireIn } : undefined);
    }
    let res;
    try {
      res = await op.commit();
    } catch (err) {
      if (isTransient(err)) return null;
      throw err;
    }
    if (!res.ok) return null;
    for (const fn of this.#afterCommit) fn();
    return res;
  }
}

/** A commit error that says "try again", not "this op is wrong" (e.g. too many mutations). */
function isTransient(err: unknown): boolean {
  return err instanceof Error && /database is locked|SQLITE_BUSY/i.test(err.message);
}

function dedupe(keys: Deno.KvKey[]): Deno.KvKey[] {
  const seen = new Map<string, Deno.KvKey>();
  for (const k of keys) seen.set(keyId(k), k);
  return [...seen.values()];
}
