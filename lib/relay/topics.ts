/**
 * Per-topic delivery figures for admins: delivered, pending, last delivery, last error; dead letters
 * and their requeue through the outbox.
 */
import type { DomainEvent } from "../booking/events.ts";
import { countOutbox } from "../booking/outbox.ts";
import { isPossibleId } from "../store/batch.ts";
import { keys } from "../store/keys.ts";
import type { DeadLetter } from "./relay.ts";
import { topicFor, TOPICS } from "./xapi.ts";

/** One topic's figures. */
export interface TopicStats {
  topic: string;
  delivered: number;
  /** Events committed but not yet delivered: the Kafka outbox (counted up to PENDING_SCAN_LIMIT in all). */
  pending: number;
  lastDeliveredAt: string | null;
  lastDeliveredEventAt: string | null;
  lastError: { message: string; at: string } | null;
  deadLetters: number;
}

/** Pending events are counted by scanning; past this many the count says "at least". */
export const PENDING_SCAN_LIMIT = 50_000;

/** Figures for every topic, plus whether the pending count hit the scan limit. */
export async function getTopicStats(kv: Deno.Kv): Promise<{ topics: TopicStats[]; pendingCapped: boolean }> {
  const names = Object.values(TOPICS) as string[];
  const { counts: pending, capped } = await countOutbox(kv, "kafka", (e) => {
    try {
      return topicFor(e);
    } catch {
      return "unknown";
    }
  }, PENDING_SCAN_LIMIT);
  const dead = new Map<string, number>();
  for await (const e of kv.list<DeadLetter>({ prefix: keys.deadLettersPrefix() })) {
    const t = e.value.topic ?? "unknown";
    dead.set(t, (dead.get(t) ?? 0) + 1);
  }
  const topics = await Promise.all(names.map(async (topic): Promise<TopicStats> => {
    const [count, last, error] = await kv.getMany<[Deno.KvU64, { at: string; eventOccurredAt: string }, {
      message: string;
      at: string;
    }]>([keys.relayDelivered(topic), keys.relayLastDelivered(topic), keys.relayError(topic)]);
    return {
      topic,
      delivered: count.value ? Number(count.value.value) : 0,
      pending: pending.get(topic) ?? 0,
      lastDeliveredAt: last.value?.at ?? null,
      lastDeliveredEventAt: last.value?.eventOccurredAt ?? null,
      lastError: error.value ?? null,
      deadLetters: dead.get(topic) ?? 0,
    };
  }));
  return { topics, pendingCapped: capped };
}

/** Dead letters, oldest event first. */
export async function listDeadLetters(kv: Deno.Kv, limit = 100): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
  for await (const e of kv.list<DeadLetter>({ prefix: keys.deadLettersPrefix() }, { limit })) out.push(e.value);
  return out;
}

/** What {@link requeueDeadLetter} did. */
export type RequeueOutcome = "requeued" | "not_found" | "already_pending";

/**
 * Puts a dead letter back in the Kafka outbox (`["outbox", "kafka", sessionId, eventKey]`) and
 * removes it from the list, in one commit checked against both: of two requeues at once one wins,
 * and the relay then delivers the entry like any other pending event (once, under its lease; if it
 * fails again it is dead-lettered again). The history's copy of the event is used when it is still
 * there (pseudonymised if the person was erased), keeping its commit position; else the dead
 * letter's copy. Nothing is published here, so this works on any instance, relay running or not.
 */
export async function requeueDeadLetter(kv: Deno.Kv, eventKey: string): Promise<RequeueOutcome> {
  if (!isPossibleId(eventKey)) return "not_found";
  for (let attempt = 0; attempt < 5; attempt++) {
    const dead = await kv.get<DeadLetter>(keys.deadLetter(eventKey));
    if (!dead.value) return "not_found";
    const d = dead.value;
    const pendingKey = keys.outboxEntry("kafka", d.sessionId, d.eventKey);
    // One snapshot of the dead letter and the outbox entry: read apart, a requeue finishing in
    // between would look like "already pending" although its dead letter is gone.
    const [current, pending, history] = await kv.getMany<[DeadLetter, unknown, DomainEvent]>([
      dead.key,
      pendingKey,
      keys.event(d.eventKey),
    ]);
    if (!current.value) return "not_found";
    if (pending.versionstamp) return "already_pending";
    const event: DomainEvent = history.value
      ? { ...history.value, commitVersionstamp: history.value.commitVersionstamp ?? history.versionstamp! }
      : current.value.event;
    const res = await kv.atomic()
      .check(current)
      .check({ key: pendingKey, versionstamp: null })
      .delete(dead.key)
      .set(pendingKey, event)
      .commit();
    if (res.ok) return "requeued";
  }
  throw new Error("the dead letter kept changing; try again");
}
