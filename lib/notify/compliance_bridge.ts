/**
 * Compliance alerts become notifications: the compliance work (lib/compliance/) writes its events to
 * `["compliance_outbox", key]` (they are not learning events, so they never reach Kafka); the notify
 * job reads them there and turns each into the event shape {@link draftsForEvent} knows, under the
 * names agreed in {@link EXTERNAL_EVENT_KINDS}. The pending entry is deleted in the same commit as the
 * messages it makes, like the main outbox's.
 */
import type { PendingEvent } from "../booking/outbox.ts";
import { keys } from "../store/keys.ts";
import type { ComplianceEvent } from "../store/compliance.ts";

/** A calendar date at noon UTC: the same date in every zone from UTC−11 to UTC+11. */
function middayOf(date: unknown): string | null {
  return typeof date === "string" && /^\d{4}-\d{2}-\d{2}$/.test(date) ? `${date}T12:00:00.000Z` : null;
}

/**
 * The notify job's view of a compliance event: `assignment.created`, `assignment.due_soon`,
 * `assignment.overdue` and `assignment.escalated` carry `dueAt`, `certification.expiring` carries `expiresAt`, and `notify`
 * names the people told besides the learner (overdue: the manager; escalated: the manager's
 * manager or the dealer admins). Other types (expired, recommendations) make no message.
 */
export function complianceAsEvent(ce: ComplianceEvent): PendingEvent {
  const data: Record<string, unknown> = { ...ce.data, courseId: ce.courseId, notify: ce.notify };
  if (
    ce.type === "assignment.created" || ce.type === "assignment.due_soon" || ce.type === "assignment.overdue" ||
    ce.type === "assignment.escalated"
  ) {
    data.dueAt = middayOf(ce.data.dueOn);
  }
  if (ce.type === "certification.expiring") data.expiresAt = middayOf(ce.data.expiresOn);
  return {
    id: ce.key,
    key: ce.key,
    type: ce.type as unknown as PendingEvent["type"],
    schemaVersion: 1,
    occurredAt: ce.occurredAt,
    origin: "system",
    correlationId: ce.key,
    actor: { userId: null },
    sessionId: "_compliance",
    learnerId: ce.learnerId,
    reason: null,
    data,
    versionstamp: "",
    outboxKey: keys.complianceOutbox(ce.key),
  };
}
