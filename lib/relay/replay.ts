/** Replaying history: re-publish the events committed in a time window, in commit order. */
import { cursorAtTime, listEvents } from "../booking/events.ts";
import type { OutboundMessage } from "./publisher.ts";
import { type EventPublisher, EventRelay } from "./relay.ts";

/** What a replay did. */
export interface ReplayResult {
  /** Events in the window. */
  events: number;
  published: number;
  /** Events whose message could not be built (listed in the log). */
  failed: number;
}

/**
 * Publishes every event with `sinceMs <= occurredAt < untilMs`, in commit order, in pages. With a
 * null publisher it only counts (dry run). Events that cannot be built are reported, not skipped
 * silently.
 */
export async function replayEvents(
  kv: Deno.Kv,
  publisher: EventPublisher | null,
  options: { sinceMs: number; untilMs?: number; pageSize?: number; log?: (m: string) => void },
): Promise<ReplayResult> {
  const untilMs = options.untilMs ?? Infinity;
  const log = options.log ?? (() => {});
  // The relay builds messages exactly as live delivery does; it is never started here.
  const builder = new EventRelay(kv, null);
  if (publisher) await publisher.connect();
  const out: ReplayResult = { events: 0, published: 0, failed: 0 };
  let cursor: string | null = cursorAtTime(options.sinceMs);
  while (true) {
    const page = await listEvents(kv, { after: cursor, limit: options.pageSize ?? 500 });
    if (!page.events.length) break;
    cursor = page.nextCursor;
    const messages: OutboundMessage[] = [];
    let pastEnd = false;
    for (const e of page.events) {
      const t = Date.parse(e.occurredAt);
      if (t < options.sinceMs) continue;
      if (t >= untilMs) {
        pastEnd = true;
        continue;
      }
      out.events++;
      try {
        messages.push(await builder.buildMessage(e));
      } catch (err) {
        out.failed++;
        log(`replay: event ${e.id} (${e.type}) cannot be built: ${(err as Error).message}`);
      }
    }
    if (publisher && messages.length) {
      await publisher.publish(messages);
      out.published += messages.length;
    }
    log(`replay: ${out.events} events so far`);
    if (pastEnd) break;
  }
  return out;
}
