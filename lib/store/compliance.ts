/** Storage of requirements, assignments, scan results and compliance events (keys: ./keys.ts). */
import { monotonicFactory } from "ulid";
import type { Assignment, Requirement } from "../domain/compliance.ts";
import { type AtomicUnit, commitInBatches, getManyChunked, listValues } from "./batch.ts";
import { ConflictError } from "./errors.ts";
import { keys } from "./keys.ts";

/** Writes a requirement (new or replaced). */
export async function saveRequirement(kv: Deno.Kv, requirement: Requirement): Promise<void> {
  await kv.set(keys.requirement(requirement.id), requirement);
}

/** Deletes a requirement; false when there was none. */
export async function deleteRequirement(kv: Deno.Kv, id: string): Promise<boolean> {
  const found = await kv.get(keys.requirement(id));
  if (!found.value) return false;
  await kv.delete(keys.requirement(id));
  return true;
}

/** Every requirement. */
export function listRequirements(kv: Deno.Kv): Promise<Requirement[]> {
  return listValues<Requirement>(kv, { prefix: keys.requirementsPrefix() });
}

/** Every assignment of every person. */
export function listAllAssignments(kv: Deno.Kv): Promise<Assignment[]> {
  return listValues<Assignment>(kv, { prefix: keys.assignmentsPrefix() });
}

/** One person's assignments. */
export function listAssignmentsOf(kv: Deno.Kv, learnerId: string): Promise<Assignment[]> {
  return listValues<Assignment>(kv, { prefix: keys.assignmentsByLearnerPrefix(learnerId) });
}

/** A compliance event for the notifications work (`["compliance_outbox", key]`). */
export interface ComplianceEvent {
  /** ULID: orders the outbox. */
  key: string;
  type:
    | "assignment.created"
    | "assignment.due_soon"
    | "assignment.overdue"
    | "assignment.escalated"
    | "certification.expiring"
    | "certification.expired"
    | "recommendations.updated";
  occurredAt: string;
  /** Whom it is about. */
  learnerId: string;
  courseId: string | null;
  /** Who should hear of it besides the learner (manager, their manager, dealer admins). */
  notify: string[];
  data: Record<string, unknown>;
}

const mint = monotonicFactory();

/** A new compliance event (not yet stored). */
export function complianceEvent(
  type: ComplianceEvent["type"],
  learnerId: string,
  courseId: string | null,
  notify: string[],
  data: Record<string, unknown>,
  now: Date,
): ComplianceEvent {
  return { key: mint(), type, occurredAt: now.toISOString(), learnerId, courseId, notify, data };
}

/** Writes an assignment (replacing the person's earlier one for the course) with its event, atomically. */
export async function saveAssignment(kv: Deno.Kv, assignment: Assignment, event: ComplianceEvent): Promise<void> {
  const res = await kv.atomic()
    .set(keys.assignment(assignment.learnerId, assignment.courseId), assignment)
    .set(keys.complianceOutbox(event.key), event)
    .commit();
  if (!res.ok) throw new Error("assignment write failed");
}

/** Pending compliance events, oldest first (the notifications work reads and deletes them). */
export async function readComplianceOutbox(kv: Deno.Kv, limit = 100): Promise<ComplianceEvent[]> {
  return await listValues<ComplianceEvent>(kv, { prefix: keys.complianceOutboxPrefix() }, { limit });
}

/** Removes delivered compliance events. */
export async function ackComplianceEvents(kv: Deno.Kv, eventKeys: readonly string[]): Promise<void> {
  await commitInBatches(
    kv,
    eventKeys.map((k): AtomicUnit => ({ checks: [], mutations: [{ type: "delete", key: keys.complianceOutbox(k) }] })),
  );
}

/** How long an alert identity is remembered (its event cannot recur after that: dates move on). */
const ALERT_MEMORY_MS = 400 * 86_400_000;

/**
 * Writes events: those with an identity (`["compliance_alerts", learnerId, alertId]`) only when it
 * was not emitted before, the identity with them; those without one always. Returns what was
 * written. Each identity is written under a check that it is still absent, so two scans at once
 * (the nightly one and a rescan) cannot both emit it: a batch that loses a race is written again
 * without the identities the other scan took. Batches stay within KV Connect's limits.
 */
export async function emitOnce(
  kv: Deno.Kv,
  alerts: ReadonlyArray<{ alertId: string | null; event: ComplianceEvent }>,
): Promise<ComplianceEvent[]> {
  const always = alerts.filter((a) => a.alertId === null);
  await commitInBatches(
    kv,
    always.map((a): AtomicUnit => ({
      mutations: [{ type: "set", key: keys.complianceOutbox(a.event.key), value: a.event }],
    })),
  );
  const emitted = always.map((a) => a.event);
  let pending = alerts.filter((a) => a.alertId !== null);
  for (let attempt = 0; pending.length; attempt++) {
    const alertKeys = pending.map((a) => keys.complianceAlert(a.event.learnerId, a.alertId!));
    const seen = await getManyChunked<{ eventKey?: string }>(kv, alertKeys);
    const fresh: typeof pending = [];
    pending.forEach((a, i) => {
      if (seen[i].versionstamp === null) fresh.push(a);
      // Written by this call's earlier attempt (a batch that committed before another one failed).
      else if (attempt > 0 && seen[i].value?.eventKey === a.event.key) emitted.push(a.event);
    });
    if (!fresh.length) break;
    try {
      await commitInBatches(
        kv,
        fresh.map((a): AtomicUnit => {
          const key = keys.complianceAlert(a.event.learnerId, a.alertId!);
          return {
            checks: [{ key, versionstamp: null }],
            mutations: [
              { type: "set", key: keys.complianceOutbox(a.event.key), value: a.event },
              {
                type: "set",
                key,
                value: { at: a.event.occurredAt, eventKey: a.event.key },
                expireIn: ALERT_MEMORY_MS,
              },
            ],
          };
        }),
      );
      emitted.push(...fresh.map((a) => a.event));
      break;
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= 5) throw err;
      pending = fresh;
    }
  }
  return emitted;
}

/**
 * Deletes a person's compliance records (privacy erasure): their assignments (notes are free
 * text), stored recommendations, alert identities, a pending rescan, and the compliance events
 * about them not yet delivered. Returns how many keys went.
 */
export async function deleteComplianceOf(kv: Deno.Kv, learnerId: string): Promise<number> {
  const doomed: Deno.KvKey[] = [keys.recommendations(learnerId), keys.complianceRescan(learnerId)];
  for (const prefix of [keys.assignmentsByLearnerPrefix(learnerId), ["compliance_alerts", learnerId]]) {
    for await (const e of kv.list({ prefix })) doomed.push(e.key);
  }
  for await (const e of kv.list<ComplianceEvent>({ prefix: keys.complianceOutboxPrefix() })) {
    if (e.value.learnerId === learnerId) doomed.push(e.key);
  }
  await commitInBatches(
    kv,
    doomed.map((key): AtomicUnit => ({ checks: [], mutations: [{ type: "delete", key }] })),
  );
  return doomed.length;
}
