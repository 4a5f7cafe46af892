/**
 * Test harness (not a test file itself): a Kafka dead letter as the relay stores it, of an event of
 * session `s1`, for the dead-letter page and API tests; a publisher that refuses until told otherwise.
 * @module
 */
import assert from "node:assert/strict";
import type { OutboundMessage } from "../../lib/relay/publisher.ts";
import type { DeadLetter, EventPublisher } from "../../lib/relay/relay.ts";

/** A dead letter of a `booking.confirmed` event of session `s1` with this key, failure time and reason. */
export function deadLetterOf(
  eventKey: string,
  failedAt: string,
  reason: string,
  topic: string | null = null,
): DeadLetter {
  const event = { id: `id-${eventKey}`, key: eventKey, type: "booking.confirmed", sessionId: "s1" };
  return {
    eventKey,
    eventId: event.id,
    eventType: event.type,
    sessionId: "s1",
    topic,
    reason,
    attempts: 1,
    failedAt,
    event,
  } as unknown as DeadLetter;
}

/**
 * A publisher for EventRelay that refuses every message (as Kafka refuses one for itself, so the
 * relay dead-letters it) until `refuse` is set to false, then records what it publishes.
 */
export function refusingPublisher(): { publisher: EventPublisher; published: OutboundMessage[]; refuse: boolean } {
  const out = {
    published: [] as OutboundMessage[],
    refuse: true,
    publisher: {
      connect: () => Promise.resolve(),
      publish: (messages: readonly OutboundMessage[]) => {
        if (out.refuse) return Promise.reject(new Error("MESSAGE_TOO_LARGE: the broker refused it"));
        out.published.push(...messages);
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    } satisfies EventPublisher,
  };
  return out;
}

/** Polls `ok` every 10 ms, at most 500 times; fails naming `what` if it never holds. */
export async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500 && !(await ok()); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(await ok(), `timed out waiting for ${what}`);
}
