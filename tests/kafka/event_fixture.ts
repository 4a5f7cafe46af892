/** Test fixtures (not a test file itself): domain events and an empty xAPI context for publisher tests. */
import type { DomainEvent, EventType, Origin } from "../../lib/booking/events.ts";
import type { StatementContext } from "../../lib/relay/xapi.ts";

/** A committed-looking event of `type` on `sessionId`. */
export function testEvent(type: EventType, sessionId: string, origin: Origin): DomainEvent {
  return {
    id: crypto.randomUUID(),
    key: "01JKEY0000000000000000000",
    type,
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    origin,
    correlationId: crypto.randomUUID(),
    actor: { userId: null },
    sessionId,
    learnerId: type.startsWith("session.") ? null : "01JLEARNER0000000000000000",
    reason: null,
    data: {},
  };
}

/** No learner, session or course records: statements from the event alone. */
export const EMPTY_CONTEXT: StatementContext = {
  learner: null,
  actingUser: null,
  instructor: null,
  session: null,
  course: null,
  location: null,
};
