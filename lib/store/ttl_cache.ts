/**
 * A small in-process cache with a time-to-live, for reads that may be a few seconds stale (a
 * token's user, a course's prerequisites) on the hot path of a hold. Concurrent misses for one
 * key share one load.
 */
export class TtlCache<V> {
  readonly #entries = new Map<string, { value: Promise<V>; until: number }>();

  constructor(readonly ttlMs: number, readonly maxEntries = 10_000, readonly now: () => number = Date.now) {}

  /** The cached value for `key`, or the result of `load` (cached for `ttlMs`; failures are not cached). */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const t = this.now();
    const hit = this.#entries.get(key);
    if (hit && hit.until > t) return hit.value;
    if (this.#entries.size >= this.maxEntries) this.#evict(t);
    const value = load();
    this.#entries.set(key, { value, until: t + this.ttlMs });
    value.catch(() => this.#entries.delete(key));
    return value;
  }

  /** True when `key` holds a value that has not expired. */
  has(key: string): boolean {
    const hit = this.#entries.get(key);
    return !!hit && hit.until > this.now();
  }

  /** Stores a value loaded elsewhere (e.g. by one batched read for many keys). */
  set(key: string, value: V): void {
    const t = this.now();
    if (this.#entries.size >= this.maxEntries) this.#evict(t);
    this.#entries.set(key, { value: Promise.resolve(value), until: t + this.ttlMs });
  }

  /** Forgets one key (e.g. after a write this process made). */
  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Forgets every key. */
  clear(): void {
    this.#entries.clear();
  }

  #evict(t: number): void {
    for (const [k, e] of this.#entries) if (e.until <= t) this.#entries.delete(k);
    // Still full: drop the oldest quarter (Map keeps insertion order).
    if (this.#entries.size >= this.maxEntries) {
      let n = Math.ceil(this.maxEntries / 4);
      for (const k of this.#entries.keys()) {
        if (n-- <= 0) break;
        this.#entries.delete(k);
      }
    }
  }
}
