import { ConflictError } from "./errors.ts";
import { kvLimits } from "./kv.ts";

/** Checks and mutations that must commit together. */
export interface AtomicUnit {
  checks?: Deno.AtomicCheck[];
  mutations: Deno.KvMutation[];
}

const encoder = new TextEncoder();

function estimateBytes(value: unknown): number {
  if (value instanceof Deno.KvU64) return 8;
  if (value instanceof Uint8Array) return value.byteLength;
  return encoder.encode(JSON.stringify(value) ?? "").byteLength + 16;
}

/** Rough serialized size of a unit (keys plus values), in bytes. */
export function unitBytes(unit: AtomicUnit): number {
  let n = 0;
  for (const c of unit.checks ?? []) n += estimateBytes(c.key);
  for (const m of unit.mutations) {
    n += estimateBytes(m.key);
    if (m.type !== "delete") n += estimateBytes(m.value);
  }
  return n;
}

/**
 * Commits `units` in as few atomic operations as the store's limits ({@link kvLimits}) allow, never
 * splitting a unit; over KV Connect several operations are in flight at once. Throws
 * {@link ConflictError} when a check fails (the operations committed before stay committed).
 *
 * @returns the number of atomic operations committed.
 */
export async function commitInBatches(
  kv: Deno.Kv,
  units: Iterable<AtomicUnit>,
): Promise<number> {
  const limits = kvLimits(kv);
  let checks: Deno.AtomicCheck[] = [];
  let mutations: Deno.KvMutation[] = [];
  let bytes = 0;
  let commits = 0;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;

  const send = (batchChecks: Deno.AtomicCheck[], batchMutations: Deno.KvMutation[]) => {
    const sent: Promise<void> = kv.atomic().check(...batchChecks).mutate(...batchMutations).commit()
      .then((res) => {
        if (!res.ok) {
          throw new ConflictError(
            "concurrent_update",
            "a batched write found data changed or already present; nothing in this batch was written",
          );
        }
        commits++;
      })
      .catch((err) => {
        failure ??= err;
      })
      .finally(() => inFlight.delete(sent));
    inFlight.add(sent);
  };

  const flush = async () => {
    if (checks.length || mutations.length) send(checks, mutations);
    checks = [];
    mutations = [];
    bytes = 0;
    while (inFlight.size >= limits.bulkCommitsInFlight) await Promise.race(inFlight);
    if (failure) throw failure;
  };

  try {
    for (const unit of units) {
      const unitChecks = unit.checks ?? [];
      const size = unitBytes(unit);
      if (
        unitChecks.length > limits.checksPerAtomic ||
        unit.mutations.length > limits.mutationsPerAtomic ||
        size > limits.bytesPerAtomic
      ) {
        throw new RangeError(
          `an atomic unit exceeds KV limits (${unitChecks.length} checks, ${unit.mutations.length} mutations, ~${size} bytes)`,
        );
      }
      if (
        checks.length + unitChecks.length > limits.checksPerAtomic ||
        mutations.length + unit.mutations.length > limits.mutationsPerAtomic ||
        bytes + size > limits.bytesPerAtomic
      ) {
        await flush();
      }
      checks.push(...unitChecks);
      mutations.push(...unit.mutations);
      bytes += size;
    }
    await flush();
  } finally {
    await Promise.all(inFlight);
  }
  if (failure) throw failure;
  return commits;
}

/**
 * `kv.getMany` for any number of keys: issues calls of at most 10 keys (the
 * KV limit) in parallel and returns entries in the order of `keys`.
 */
export async function getManyChunked<T>(
  kv: Deno.Kv,
  keys: ReadonlyArray<Deno.KvKey>,
): Promise<Deno.KvEntryMaybe<T>[]> {
  const size = kvLimits(kv).keysPerGetMany;
  const chunks: Deno.KvKey[][] = [];
  for (let i = 0; i < keys.length; i += size) {
    chunks.push(keys.slice(i, i + size));
  }
  const results = await Promise.all(
    chunks.map((chunk) => kv.getMany<T[]>(chunk)),
  );
  return results.flat() as Deno.KvEntryMaybe<T>[];
}

/** The values of many keys (see {@link getManyChunked}) in key order, missing ones left out. */
export async function getExistingValues<T>(kv: Deno.Kv, keys: ReadonlyArray<Deno.KvKey>): Promise<T[]> {
  return (await getManyChunked<T>(kv, keys)).flatMap((e) => e.value === null ? [] : [e.value]);
}

/**
 * Longest id a record can have. Ids are ULIDs (26 characters) or short derived names; a longer
 * string names nothing, and one of a few thousand characters would not even fit in a Deno KV key
 * (2 KiB), so reads treat it as not found instead of failing.
 */
export const MAX_ID_CHARS = 100;

/** True when `id` could name a stored record (see {@link MAX_ID_CHARS}). */
export function isPossibleId(id: string): boolean {
  return id.length > 0 && id.length <= MAX_ID_CHARS;
}

/** The value stored at `keyOf(id)`, or null; an id no record can have (too long, empty) is not found. */
export async function getValueById<T>(
  kv: Deno.Kv,
  id: string,
  keyOf: (id: string) => Deno.KvKey,
): Promise<T | null> {
  if (!isPossibleId(id)) return null;
  return (await kv.get<T>(keyOf(id))).value;
}

/**
 * Reads the values stored at `keyOf(id)` for each id into a Map keyed by id;
 * missing keys (and ids no record can have) are left out.
 */
export async function getValuesById<T>(
  kv: Deno.Kv,
  ids: ReadonlyArray<string>,
  keyOf: (id: string) => Deno.KvKey,
): Promise<Map<string, T>> {
  const unique = [...new Set(ids)].filter(isPossibleId);
  const entries = await getManyChunked<T>(kv, unique.map(keyOf));
  const out = new Map<string, T>();
  entries.forEach((e, i) => {
    if (e.value !== null) out.set(unique[i], e.value);
  });
  return out;
}

/** Collects the values under a list selector, in key order. */
export async function listValues<T>(
  kv: Deno.Kv,
  selector: Deno.KvListSelector,
  options?: Deno.KvListOptions,
): Promise<T[]> {
  const out: T[] = [];
  for await (const entry of kv.list<T>(selector, options)) out.push(entry.value);
  return out;
}
