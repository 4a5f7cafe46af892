/** Per-topic delivery figures for admins: delivered, pending, last delivery, last error; dead letters. */
import { countOutbox } from "../booking/outbox.ts";
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
