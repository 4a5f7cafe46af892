/**
 * Every dead-letter list the system keeps, summarised for admins (/admin/dead-letters and
 * `GET /api/v1/admin/dead-letter-lists`):
 * - `kafka`: events the Kafka relay gave up on (`["dead_letters", eventKey]`, lib/relay/);
 * - `calcom_review`: open items of the Cal.com manual-review queue (`["calcom_review", id]`: bookings
 *   the sync could not mirror, Cal.com changes it could not apply);
 * - `notifications`: emails that failed for good (`["notify_dead", id]` → `["notify_messages", id]`).
 * Each with its size, its oldest entry's time and its newest few entries with the reason.
 */
import type { ReviewItem } from "../calcom/sync_store.ts";
import { KIND_INFO } from "../notify/kinds.ts";
import type { Notification } from "../notify/notifier.ts";
import type { DeadLetter } from "../relay/relay.ts";
import { getManyChunked, listValues } from "../store/batch.ts";
import { keys } from "../store/keys.ts";

/** The lists, in the order the page shows them. */
export const DEAD_LETTER_LISTS = ["kafka", "calcom_review", "notifications"] as const;
export type DeadLetterListId = typeof DEAD_LETTER_LISTS[number];

/** Where each list is read in full and retried: its page and its API operations. */
export const DEAD_LETTER_HOMES: Record<
  DeadLetterListId,
  { title: string; page: string; list: string; retry: string }
> = {
  kafka: {
    title: "Kafka relay dead letters",
    page: "/admin/dead-letters#kafka",
    list: "GET /api/v1/admin/dead-letters",
    retry: "POST /api/v1/admin/dead-letters/{id}/requeue",
  },
  calcom_review: {
    title: "Cal.com review queue",
    page: "/admin/calcom#review",
    list: "GET /api/v1/admin/calcom/review?status=open",
    retry: "POST /api/v1/admin/calcom/review/{id}/retry",
  },
  notifications: {
    title: "Notification dead letters",
    page: "/admin/notifications",
    list: "GET /api/v1/admin/notifications?status=dead",
    retry: "POST /api/v1/admin/notifications/{id}/retry",
  },
};

/** One entry as the summary shows it. */
export interface DeadLetterEntry {
  id: string;
  /** When it failed (Kafka), was flagged (Cal.com) or was last due (notifications). */
  at: string;
  /** What it is: event type, review code, kind of email. */
  what: string;
  /** Why it failed, cut to {@link REASON_CHARS} characters. */
  reason: string;
}

/** One list's summary. */
export interface DeadLetterListSummary {
  list: DeadLetterListId;
  count: number;
  oldestAt: string | null;
  /** Newest first. */
  newest: DeadLetterEntry[];
}

/** Reasons longer than this are cut (the full text is on the list's own page). */
export const REASON_CHARS = 300;

function cut(text: string): string {
  return text.length > REASON_CHARS ? `${text.slice(0, REASON_CHARS - 1)}…` : text;
}

function summaryOf(list: DeadLetterListId, entries: DeadLetterEntry[], newest: number): DeadLetterListSummary {
  const sorted = entries.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : a.id < b.id ? 1 : -1));
  return { list, count: sorted.length, oldestAt: sorted.at(-1)?.at ?? null, newest: sorted.slice(0, newest) };
}

async function kafkaEntries(kv: Deno.Kv): Promise<DeadLetterEntry[]> {
  const list = await listValues<DeadLetter>(kv, { prefix: keys.deadLettersPrefix() });
  return list.map((d) => ({
    id: d.eventKey,
    at: d.failedAt,
    what: `${d.eventType}${d.topic ? ` → ${d.topic}` : ""}`,
    reason: cut(d.reason),
  }));
}

async function reviewEntries(kv: Deno.Kv): Promise<DeadLetterEntry[]> {
  const list = await listValues<ReviewItem>(kv, { prefix: keys.calcomReviewPrefix() });
  return list.filter((i) => i.status === "open").map((i) => ({
    id: i.id,
    at: i.flaggedAt,
    what: `${i.kind === "sync_failed" ? "sync failed" : "Cal.com conflict"}: ${i.code}`,
    reason: cut(i.message),
  }));
}

async function notificationEntries(kv: Deno.Kv): Promise<DeadLetterEntry[]> {
  const ids: string[] = [];
  for await (const e of kv.list({ prefix: keys.notifyDeadPrefix() })) ids.push(String(e.key[1]));
  const found = await getManyChunked<Notification>(kv, ids.map((id) => keys.notifyMessage(id)));
  return found.flatMap((e) =>
    e.value && e.value.status === "dead"
      ? [{
        id: e.value.id,
        at: new Date(e.value.dueAtMs).toISOString(),
        what: KIND_INFO[e.value.kind]?.label ?? e.value.kind,
        reason: cut(e.value.lastError ?? "failed"),
      }]
      : []
  );
}

/** Summarises every dead-letter list (see the module comment), with the `newest` latest entries of each. */
export async function summariseDeadLetterLists(
  kv: Deno.Kv,
  options: { newest?: number } = {},
): Promise<DeadLetterListSummary[]> {
  const newest = options.newest ?? 3;
  const [kafka, review, notifications] = await Promise.all([
    kafkaEntries(kv),
    reviewEntries(kv),
    notificationEntries(kv),
  ]);
  return [
    summaryOf("kafka", kafka, newest),
    summaryOf("calcom_review", review, newest),
    summaryOf("notifications", notifications, newest),
  ];
}
