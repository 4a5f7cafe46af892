/**
 * Several "instances" on one store in one test process: each gets its own store handle (a proxy
 * of the same Deno.Kv) with its own wall clock for event keys, and can hold one of its commits
 * for real before it reaches the store (a remote KV retrying, a GC pause between mint and commit).
 */
import { useEventClock } from "../../lib/booking/events.ts";

/** One instance's view of the store. */
export interface Instance {
  kv: Deno.Kv;
  /** This instance's wall clock (skewed by `skewMs`). */
  clock: () => number;
  /**
   * Holds this instance's next atomic commit for `ms` (real time) before sending it. `entered`
   * resolves when that commit is being held, `landed` once it reached the store.
   */
  holdNextCommit(ms: number): { entered: Promise<void>; landed: Promise<void> };
}

/** A handle on `kv` whose event keys come from a clock skewed by `skewMs`. */
export function instance(kv: Deno.Kv, skewMs: number): Instance {
  let armed: { ms: number; entered: () => void; landed: () => void } | null = null;
  const handle = new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          return new Proxy(op, {
            get(o, p) {
              if (p === "commit") {
                return async () => {
                  const hold = armed;
                  if (hold) {
                    armed = null;
                    hold.entered();
                    await new Promise((r) => setTimeout(r, hold.ms));
                    try {
                      return await o.commit();
                    } finally {
                      hold.landed();
                    }
                  }
                  return await o.commit();
                };
              }
              const v = Reflect.get(o, p);
              return typeof v === "function" ? v.bind(o) : v;
            },
          });
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const clock = () => Date.now() + skewMs;
  useEventClock(handle, clock);
  return {
    kv: handle,
    clock,
    holdNextCommit(ms) {
      const entered = Promise.withResolvers<void>();
      const landed = Promise.withResolvers<void>();
      armed = { ms, entered: entered.resolve, landed: landed.resolve };
      return { entered: entered.promise, landed: landed.promise };
    },
  };
}
