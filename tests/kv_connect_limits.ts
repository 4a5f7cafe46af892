/**
 * Holds a local store to KV Connect's check budget, as a remote `denokv` would: `kvLimits(kv)`
 * reports 10 checks and any commit carrying more fails as the server fails it. Fast unit tests of
 * code that must split by the budget; the multi-instance suite (tests/multi/) proves it on a real
 * `denokv`.
 */
import { KV_CONNECT_LIMITS, setKvLimits } from "../lib/store/kv.ts";

/** Checks seen in the largest commit attempted so far. */
export interface CheckSpy {
  most(): number;
  commits(): number;
}

/** Enforces KV Connect's 10-check limit on `kv` (in place) and records the checks per commit. */
export function enforceKvConnectLimits(kv: Deno.Kv): CheckSpy {
  setKvLimits(kv, KV_CONNECT_LIMITS);
  const atomic = kv.atomic.bind(kv);
  let most = 0;
  let commits = 0;
  kv.atomic = () => {
    const op = atomic();
    let checks = 0;
    const check = op.check.bind(op);
    op.check = (...c: Deno.AtomicCheck[]) => {
      checks += c.length;
      check(...c);
      return op;
    };
    const commit = op.commit.bind(op);
    op.commit = () => {
      most = Math.max(most, checks);
      commits++;
      if (checks > KV_CONNECT_LIMITS.checksPerAtomic) {
        return Promise.reject(new TypeError("Too many checks included in atomic write"));
      }
      return commit();
    };
    return op;
  };
  return { most: () => most, commits: () => commits };
}
