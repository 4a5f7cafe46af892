/** Default KV file when neither an argument nor `KV_PATH`/`DENO_KV_PATH` names one (and not on Deno Deploy). */
export const DEFAULT_KV_PATH = "./data/app.kv";

/** What one atomic op and one getMany may carry on a store. */
export interface KvLimits {
  /** Checks per atomic op. */
  checksPerAtomic: number;
  /** Mutations (sets, deletes, enqueues) per atomic op. */
  mutationsPerAtomic: number;
  /** Bytes per atomic op: the real limit is 800 KiB; keep a margin because sizes are estimated. */
  bytesPerAtomic: number;
  /** Keys per getMany (and per watch). */
  keysPerGetMany: number;
  /**
   * Commits a bulk writer (seed, imports) keeps in flight: over KV Connect each is an HTTP round
   * trip (about 50 ms for a few KB on loopback), so they overlap; a local file takes one at a time.
   */
  bulkCommitsInFlight: number;
}

/** Limits of a local SQLite file, `:memory:` and a Deno Deploy database. */
export const LOCAL_KV_LIMITS: Readonly<KvLimits> = Object.freeze({
  checksPerAtomic: 100,
  mutationsPerAtomic: 1000,
  bytesPerAtomic: 700 * 1024,
  keysPerGetMany: 10,
  bulkCommitsInFlight: 1,
});

/** Limits of KV Connect (`http(s)://` URL: a self-hosted `denokv`, or a Deploy database from outside). */
export const KV_CONNECT_LIMITS: Readonly<KvLimits> = Object.freeze({
  ...LOCAL_KV_LIMITS,
  checksPerAtomic: 10,
  bulkCommitsInFlight: 8,
});

const registered = new WeakMap<Deno.Kv, Readonly<KvLimits>>();

/** The limits `kv` was opened with ({@link openStore}), or the local limits for a store opened otherwise. */
export function kvLimits(kv: Deno.Kv): Readonly<KvLimits> {
  return registered.get(kv) ?? LOCAL_KV_LIMITS;
}

/** Records the limits of `kv` (tests use it to hold a local store to KV Connect's budget). */
export function setKvLimits(kv: Deno.Kv, limits: Readonly<KvLimits>): void {
  registered.set(kv, Object.freeze({ ...limits }));
}

/** Whether `path` names a KV Connect server rather than a file. */
export function isKvConnectUrl(path: string | null): boolean {
  return path !== null && /^https?:\/\//i.test(path);
}

/**
 * The limits of the store at `path` (null: the platform's default store): 10 checks over KV Connect,
 * 100 elsewhere; `maxChecks` (env `KV_MAX_CHECKS`) overrides the check budget, e.g. to hold a
 * local file to the remote budget, or when a provider's limit differs.
 */
export function kvLimitsFor(path: string | null, maxChecks?: number | null): Readonly<KvLimits> {
  const base = isKvConnectUrl(path) ? KV_CONNECT_LIMITS : LOCAL_KV_LIMITS;
  return maxChecks ? Object.freeze({ ...base, checksPerAtomic: maxChecks }) : base;
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no --allow-env: fall back to the default
  }
}

/** Whether this process runs on Deno Deploy (which sets `DENO_DEPLOY=true` and `DENO_DEPLOYMENT_ID`). */
export function onDenoDeploy(
  vars: Record<string, string | undefined> = {
    DENO_DEPLOY: env("DENO_DEPLOY"),
    DENO_DEPLOYMENT_ID: env("DENO_DEPLOYMENT_ID"),
  },
): boolean {
  return ["1", "true"].includes((vars.DENO_DEPLOY ?? "").toLowerCase()) || Boolean(vars.DENO_DEPLOYMENT_ID);
}

/**
 * The store a process opens when not told: `KV_PATH` (the name Deno Deploy allows), else
 * `DENO_KV_PATH`, else null on Deno Deploy (its attached database), else `./data/app.kv`.
 */
export function storePathFromEnv(vars: Record<string, string | undefined>): string | null {
  return vars.KV_PATH || vars.DENO_KV_PATH || (onDenoDeploy(vars) ? null : DEFAULT_KV_PATH);
}

/** Parses `KV_MAX_CHECKS` (10-100: the lanes keep room for one op and its waitlist offers); throws naming it. */
export function parseMaxChecks(value: string | undefined): number | null {
  if (!value) return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 10 || n > 100) throw new Error(`KV_MAX_CHECKS: must be a whole number 10-100`);
  return n;
}

/**
 * Opens the application's Deno KV store and records its limits ({@link kvLimits}).
 *
 * `path` undefined: from the environment ({@link storePathFromEnv}). null: `Deno.openKv()` with no
 * path, the database Deno Deploy attaches. The parent folder of a file path is created when
 * missing. `":memory:"` and `http(s)://` URLs (KV Connect, e.g. a `denokv` server) are passed
 * through unchanged. Deno reads a KV Connect token from `DENO_KV_ACCESS_TOKEN`, a name Deno Deploy
 * refuses: `accessToken` (env `KV_ACCESS_TOKEN`) is handed to it that way.
 */
export async function openStore(
  path?: string | null,
  options: { maxChecks?: number | null; accessToken?: string | null } = {},
): Promise<Deno.Kv> {
  const target = path === undefined
    ? storePathFromEnv({
      KV_PATH: env("KV_PATH"),
      DENO_KV_PATH: env("DENO_KV_PATH"),
      DENO_DEPLOY: env("DENO_DEPLOY"),
      DENO_DEPLOYMENT_ID: env("DENO_DEPLOYMENT_ID"),
    })
    : path;
  const maxChecks = options.maxChecks !== undefined ? options.maxChecks : parseMaxChecks(env("KV_MAX_CHECKS"));
  if (target !== null && target !== ":memory:" && !isKvConnectUrl(target)) {
    const slash = target.lastIndexOf("/");
    if (slash > 0) await Deno.mkdir(target.slice(0, slash), { recursive: true });
  }
  const token = options.accessToken !== undefined ? options.accessToken : env("KV_ACCESS_TOKEN") ?? null;
  if (token && isKvConnectUrl(target)) Deno.env.set("DENO_KV_ACCESS_TOKEN", token);
  const kv = target === null ? await Deno.openKv() : await Deno.openKv(target);
  setKvLimits(kv, kvLimitsFor(target, maxChecks));
  return kv;
}
