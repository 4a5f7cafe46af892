/**
 * Test harness (not a test file itself): a Kafka dead letter as the relay stores it, of an event of
 * session `s1`, for the dead-letter page and API tests.
 * @module
 */
import type { DeadLetter } from "../../lib/relay/relay.ts";

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
