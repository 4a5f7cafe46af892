/**
 * Work that runs beside requests: the KV queue listener (hold expiry on time; outbox events
 * wait in `["events"]` for the relay) and the cron backstop that expires overdue holds.
 */
import type { BookingEngine } from "./booking/engine.ts";

interface HoldExpireMessage {
  kind: "hold.expire";
  holdId: string;
}

function isHoldExpire(m: unknown): m is HoldExpireMessage {
  return typeof m === "object" && m !== null && (m as HoldExpireMessage).kind === "hold.expire" &&
    typeof (m as HoldExpireMessage).holdId === "string";
}

/** Starts the queue listener for this process. */
export function startQueueListener(kv: Deno.Kv, engine: BookingEngine): Promise<void> {
  return kv.listenQueue(async (message: unknown) => {
    if (isHoldExpire(message)) await engine.expireHold(message.holdId);
    // Event messages are the outbox: the events themselves stay in ["events"] for the relay.
  });
}

/** Registers the once-a-minute sweep that expires holds whose queue message was late or lost. */
export function startHoldSweep(engine: BookingEngine): void {
  Deno.cron("expire overdue holds", "* * * * *", async () => {
    const n = await engine.sweepExpiredHolds();
    if (n) console.log(`hold sweep: expired ${n} overdue hold(s)`);
  });
}
