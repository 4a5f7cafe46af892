/**
 * Work that runs beside requests: the KV queue listener (hold expiry on time; outbox events
 * wait in `["events"]` for the relay), the cron backstop that expires overdue holds, and the
 * resumer of session cancels a crash cut short.
 */
import type { BookingEngine } from "./booking/engine.ts";
import { HOLD_EXPIRE_MESSAGE } from "./booking/session_tx.ts";
import { EVENTS_MESSAGE } from "./booking/events.ts";
import type { EventRelay } from "./relay/relay.ts";

/** Hold ids in a `hold.expire` message (`{items}`; `{holdId}` from before messages were merged). */
export function holdIdsToExpire(m: unknown): string[] {
  if (typeof m !== "object" || m === null || (m as { kind?: unknown }).kind !== HOLD_EXPIRE_MESSAGE) return [];
  const { items, holdId } = m as { items?: unknown; holdId?: unknown };
  if (Array.isArray(items)) return items.filter((i): i is string => typeof i === "string");
  return typeof holdId === "string" ? [holdId] : [];
}

/**
 * Starts the queue listener for this process. An events message wakes the relay and, when given,
 * the Cal.com outbound sync (which also polls, so a lost wake-up only delays it).
 */
export function startQueueListener(
  kv: Deno.Kv,
  engine: BookingEngine,
  relay?: EventRelay,
  outbound?: { wake(): void },
): Promise<void> {
  return kv.listenQueue(async (message: unknown) => {
    await Promise.all(holdIdsToExpire(message).map((id) => engine.expireHold(id)));
    // An events message only announces a commit; the relay reads the events themselves from KV.
    if ((message as { kind?: string } | null)?.kind === EVENTS_MESSAGE) {
      relay?.wake();
      outbound?.wake();
    }
  });
}

/** Registers the once-a-minute sweep that expires holds whose queue message was late or lost. */
export function startHoldSweep(engine: BookingEngine): void {
  Deno.cron("expire overdue holds", "* * * * *", async () => {
    const n = await engine.sweepExpiredHolds();
    if (n) console.log(`hold sweep: expired ${n} overdue hold(s)`);
  });
}

/**
 * Finishes session cancels a crash (or a failure midway) left pending: once now, for what the
 * last process left behind, and then every minute for cancels pending a minute or more.
 */
export function startCancelResume(engine: BookingEngine): void {
  const run = async (options: { minAgeMs?: number }) => {
    const { finished, failed } = await engine.resumeSessionCancels(options);
    if (finished.length) console.log(`cancel resume: finished ${finished.length} pending session cancel(s)`);
    for (const f of failed) {
      console.error(
        `cancel resume: session ${f.sessionId} failed, will retry: ${(f.error as Error)?.message ?? f.error}`,
      );
    }
  };
  run({}).catch((err) => console.error(`cancel resume at startup failed: ${err?.message ?? err}`));
  Deno.cron("resume pending session cancels", "* * * * *", () => run({ minAgeMs: 60_000 }));
}
