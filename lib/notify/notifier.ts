/**
 * The notifier: one job (`notify`) in the worker's leased loop (lib/worker/leased_loop.ts), never
 * a KV queue. Each step:
 *
 * 1. **Ingest**: reads the `notify` outbox (lib/booking/outbox.ts) and turns each event into its
 *    messages (./produce.ts). A message's KV id is the SHA-256 of its identity; it is written with
 *    a check that the id is new, in the same atomic op (fenced by the lease) that deletes the
 *    event's outbox entry. So an event read twice (a crash, a lost lease) never makes a second
 *    message, and a committed message is never lost. Reminders are messages whose due time lies
 *    ahead: `["notify_due", dueAtMs, id]` is the due-time index.
 * 2. **Deliver**: takes the due messages (none while paused or without `SMTP_URL`: they wait,
 *    visible), skips what no longer applies (a reminder of a booking cancelled or moved, a kind
 *    the recipient turned off), paces each recipient (./policy.ts; a message over the limit waits
 *    for the next window), renders it (./templates.ts) and sends it. Then the **sent marker** (the
 *    message's status `sent`) is committed with a check of the message's versionstamp and the lease.
 *
 * At most once per identity: a message leaves `pending` only by that checked commit, and only the
 * lease holder sends; before each send the lease is extended past the longest a send may take, so
 * a second worker cannot take over while a send is in flight. **The one crash window** is between
 * the SMTP server's "250 accepted" and the marker's commit (one KV write, milliseconds): a crash
 * there sends that message again after restart, with the same Message-ID. A crash anywhere else
 * (before the send, after the marker) never duplicates. At least once overall: a failed send is
 * retried with backoff (./policy.ts); a permanent failure (5xx, refused or invalid address, a
 * template error) goes to the dead-letter list `["notify_dead", id]`, which admins can retry.
 */
import { onEventsCommitted } from "../booking/events.ts";
import { acknowledgeOutbox, type PendingEvent, readOutbox } from "../booking/outbox.ts";
import { invitationIcs } from "../calendar/ics.ts";
import type { Booking } from "../domain/booking.ts";
import type { Session } from "../domain/session.ts";
import { EmailSchema } from "../domain/user.ts";
import { sha256Hex } from "../hash.ts";
import { keys } from "../store/keys.ts";
import { LeasedLoop } from "../worker/leased_loop.ts";
import type { Lease } from "../worker/lease.ts";
import { isOptional, KIND_INFO, type NotificationKind } from "./kinds.ts";
import type { MailCalendar, Mailer } from "./mailer.ts";
import {
  decideRetry,
  DEFAULT_RATE_LIMIT,
  DEFAULT_RETRY,
  paceRecipient,
  type RateLimit,
  type RateState,
  type RetryPolicy,
} from "./policy.ts";
import { draftsForEvent, type MessageDraft, type ProduceDeps } from "./produce.ts";
import { complianceAsEvent } from "./compliance_bridge.ts";
import { readComplianceOutbox } from "../store/compliance.ts";
import { escapeHtml, TemplateError, TemplateSet, type TemplateVars } from "./templates.ts";
import { DEFAULT_REMINDER_OFFSETS_MIN } from "./kinds.ts";

/** Lease name of the notifier. */
export const NOTIFY_JOB = "notify";

/** Where a message stands. */
export type NotificationStatus = "pending" | "sent" | "dead" | "skipped";

/** One message (`["notify_messages", id]`). */
export interface Notification {
  id: string;
  identity: string;
  kind: NotificationKind;
  userId: string;
  to: { address: string; name: string };
  status: NotificationStatus;
  dueAtMs: number;
  createdAtMs: number;
  attempts: number;
  lastError: string | null;
  sentAt: string | null;
  /** Why it was not sent (status skipped). */
  skippedReason: string | null;
  /** Placeholder values; rendered when sent, so a fixed template applies to a retried dead letter. */
  vars: TemplateVars;
  calendar: MailCalendar | null;
  guard: MessageDraft["guard"] | null;
  /** Part of the recipient's daily digest (manager notices): sent together with the others due with it. */
  digest?: boolean;
  /** Set once sent (what the inbox shows). */
  subject: string | null;
}

/** The admins' switch (`["notify_settings"]`). */
export interface NotifySettings {
  paused: boolean;
}

/** A recipient's choices (`["notify_prefs", userId]`). */
export interface NotificationPrefs {
  /** Optional kinds turned off. */
  off: NotificationKind[];
  /** Zone to show times in; null: the preferred location's, else the session's. */
  timeZone: string | null;
  /** Managers: team notices as one email a day (07:00 their time) instead of one each. */
  managerDigest?: boolean;
}

/** Settings of the notifier. */
export interface NotifierOptions {
  kv: Deno.Kv;
  /** Null without SMTP_URL: messages are produced and wait. */
  mailer: Mailer | null;
  /** `MAIL_FROM` (the invitation's organizer). */
  from: { name: string; email: string };
  siteUrl: string;
  /** The business clock (the engine's): due times, pacing, retries. */
  now: () => Date;
  /** Reminder schedule until an admin saves the rules (`REMINDER_OFFSETS`); then the rule `reminderHours` decides. */
  reminderOffsetsMin?: readonly number[];
  retry?: RetryPolicy;
  rate?: RateLimit;
  /** Events read per step (default 200) and messages sent per step (default 100). */
  ingestBatch?: number;
  sendBatch?: number;
  /** Sends in flight at once (default 4, the SMTP pool's connections). */
  concurrency?: number;
  /** One-click unsubscribe link of an optional kind (null: none). */
  unsubscribeUrl?: (userId: string, kind: NotificationKind) => Promise<string | null>;
  templates?: TemplateSet;
  owner?: string;
  leaseMs?: number;
  /** Clock of the lease (default `Date.now`). */
  leaseClock?: () => number;
  /** Longest idle wait (default 1 000 ms): a due message goes out at most this late. */
  maxIdleMs?: number;
  log?: (message: string) => void;
  /** Test hooks: right after the SMTP server accepted a message (the crash window), and after its marker. */
  hooks?: {
    afterAccepted?: (n: Notification) => void | Promise<void>;
    afterMarked?: (n: Notification) => void | Promise<void>;
  };
}

/** Placeholders of a digest email: its lines as text and as an HTML list (escaped here). Pure. */
export function digestVars(n: Notification, entries: readonly { value: Notification }[]): TemplateVars {
  const lines = entries.map((e) => String(e.value.vars.line ?? ""));
  return {
    recipientName: n.vars.recipientName ?? "",
    teamUrl: n.vars.teamUrl ?? "",
    count: String(lines.length),
    itemsText: lines.map((l) => `- ${l}`).join("\n"),
    itemsHtml: lines.map((l) => `<li>${escapeHtml(l)}</li>`).join(""),
  };
}

/** The stored record of a new message (its invitation built now, with the SEQUENCE it carries). */
export function toNotification(
  d: MessageDraft,
  id: string,
  to: { address: string; name: string },
  createdAtMs: number,
  from: { name: string; email: string },
): Notification {
  return {
    id,
    identity: d.identity,
    kind: d.kind,
    userId: d.userId,
    to,
    status: "pending",
    dueAtMs: d.dueAtMs,
    createdAtMs,
    attempts: 0,
    lastError: null,
    sentAt: null,
    skippedReason: null,
    vars: d.vars,
    calendar: d.calendar
      ? {
        method: d.calendar.method,
        filename: d.calendar.method === "CANCEL" ? "cancelled.ics" : "invite.ics",
        content: invitationIcs(d.calendar.event, {
          method: d.calendar.method,
          sequence: d.calendar.state.sequence,
          organizer: from,
          attendee: { name: to.name, email: to.address },
        }),
      }
      : null,
    guard: d.guard ?? null,
    ...(d.digest ? { digest: true } : {}),
    subject: null,
  };
}

/** Id of a message: SHA-256 of its identity (32 hex characters). */
export async function notificationId(identity: string): Promise<string> {
  return (await sha256Hex(identity)).slice(0, 32);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Delivers notifications; see the module documentation. */
export class Notifier {
  readonly loop: LeasedLoop;
  readonly #o: NotifierOptions;
  readonly #templates: TemplateSet;
  readonly #produce: ProduceDeps;
  #resumeAfter: string | null = null;

  constructor(options: NotifierOptions) {
    this.#o = options;
    this.#templates = options.templates ?? new TemplateSet();
    this.#produce = {
      kv: options.kv,
      siteUrl: options.siteUrl,
      reminderOffsetsMin: options.reminderOffsetsMin ?? DEFAULT_REMINDER_OFFSETS_MIN,
    };
    const maxIdle = options.maxIdleMs ?? 1_000;
    this.loop = new LeasedLoop(options.kv, NOTIFY_JOB, {
      step: ({ lease, signal }) => this.#step(lease, signal),
      idleMs: async () => {
        const next = await this.nextDueMs();
        if (next === null) return maxIdle;
        return Math.min(maxIdle, Math.max(50, next - options.now().getTime() + 1));
      },
      leaseMs: options.leaseMs,
      owner: options.owner,
      clock: options.leaseClock,
      minBackoffMs: 500,
      onError: (err, failures, backoff) => {
        if (failures === 1 || failures % 10 === 0) {
          (options.log ?? console.error)(
            `notify: step failed (${failures}×), retrying in ${backoff} ms: ${describe(err)}`,
          );
        }
      },
      wakeOn: (wake) => onEventsCommitted(wake, "notify"),
    });
  }

  /** Whether mail can go out (SMTP_URL set). */
  get enabled(): boolean {
    return this.#o.mailer !== null;
  }

  start(): void {
    this.loop.start();
  }

  wake(): void {
    this.loop.wake();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.#o.mailer?.close();
  }

  /**
   * Runs one step now if this worker can hold the lease (tests drive the notifier this way with a
   * moved clock). Returns the work done, or null when another worker holds the lease.
   */
  async tick(): Promise<number | null> {
    if (this.loop.status().state !== "idle" && this.loop.status().state !== "stopped") {
      throw new Error("tick() is for a notifier whose loop is not started");
    }
    if (!(await this.loop.lease.acquire())) return null;
    return await this.#step(this.loop.lease, new AbortController().signal);
  }

  /** When the next pending message is due (ms), or null. */
  async nextDueMs(): Promise<number | null> {
    for await (const e of this.#o.kv.list({ prefix: keys.notifyDuePrefix() }, { limit: 1 })) return Number(e.key[1]);
    return null;
  }

  async #step(lease: Lease, signal: AbortSignal): Promise<number> {
    const ingested = await this.#ingest(lease);
    if (signal.aborted) return ingested;
    return ingested + await this.#deliver(lease, signal);
  }

  // ── ingest ────────────────────────────────────────────────────────────

  async #ingest(lease: Lease): Promise<number> {
    const kv = this.#o.kv;
    const page = await readOutbox(kv, "notify", { limit: this.#o.ingestBatch ?? 200, resumeAfter: this.#resumeAfter });
    this.#resumeAfter = page.resumeAfter;
    const quiet: PendingEvent[] = [];
    const produce = { ...this.#produce, sessionCache: new Map() };
    // Compliance alerts wait in an outbox of their own (lib/notify/compliance_bridge.ts).
    const compliance = (await readComplianceOutbox(kv, this.#o.ingestBatch ?? 200)).map(complianceAsEvent);
    for (const event of [...page.events, ...compliance]) {
      const drafts = await draftsForEvent(produce, event);
      if (drafts.length === 0) {
        quiet.push(event);
        continue;
      }
      await this.#writeDrafts(lease, event, drafts);
    }
    if (quiet.length && !(await acknowledgeOutbox(kv, quiet, lease.guard))) {
      await lease.verify();
      throw new Error("the notify outbox acknowledgement did not commit; re-reading");
    }
    return page.events.length + compliance.length;
  }

  async #writeDrafts(lease: Lease, event: PendingEvent, drafts: MessageDraft[]): Promise<void> {
    const kv = this.#o.kv;
    const nowMs = Date.parse(event.occurredAt);
    const withIds = await Promise.all(drafts.map(async (d) => ({ d, id: await notificationId(d.identity) })));
    const fresh: { d: MessageDraft; id: string }[] = [];
    for (let i = 0; i < withIds.length; i += 10) {
      const chunk = withIds.slice(i, i + 10);
      const found = await kv.getMany(chunk.map((x) => keys.notifyMessage(x.id)));
      chunk.forEach((x, j) => found[j].versionstamp === null && fresh.push(x));
    }
    const users = new Map<string, { address: string; name: string } | null>();
    for (const { d } of fresh) {
      if (users.has(d.userId)) continue;
      const u = (await kv.get<{ email: string; name: string }>(keys.user(d.userId))).value;
      users.set(d.userId, u ? { address: u.email, name: u.name } : null);
    }
    // 1 lease check + up to 8 "still new" checks per commit (KV Connect allows 10).
    const CHUNK = 8;
    for (let i = 0; i === 0 || i < fresh.length; i += CHUNK) {
      const chunk = fresh.slice(i, i + CHUNK);
      const op = lease.guard(kv.atomic());
      for (const { d, id } of chunk) {
        const to = users.get(d.userId);
        if (!to) continue;
        const n = toNotification(d, id, to, nowMs, this.#o.from);
        op.check({ key: keys.notifyMessage(id), versionstamp: null });
        op.set(keys.notifyMessage(id), n);
        op.set(keys.notifyDue(n.dueAtMs, id), null);
        op.set(keys.notifyByUser(n.userId, n.createdAtMs, id), null);
        if (d.calendar) op.set(keys.notifyCalendar(d.calendar.bookingId), d.calendar.state);
      }
      if (i + CHUNK >= fresh.length) op.delete(event.outboxKey);
      if (!(await op.commit()).ok) {
        await lease.verify();
        throw new Error("a notification write did not commit; re-reading");
      }
    }
  }

  // ── deliver ───────────────────────────────────────────────────────────

  async #deliver(lease: Lease, signal: AbortSignal): Promise<number> {
    const mailer = this.#o.mailer;
    if (!mailer) return 0;
    const kv = this.#o.kv;
    if ((await kv.get<NotifySettings>(keys.notifySettings())).value?.paused) return 0;
    const nowMs = this.#o.now().getTime();
    const due: { dueAtMs: number; id: string }[] = [];
    const selector = { start: keys.notifyDuePrefix() as Deno.KvKey, end: [...keys.notifyDuePrefix(), nowMs + 1] };
    for await (const e of kv.list(selector, { limit: this.#o.sendBatch ?? 100 })) {
      due.push({ dueAtMs: Number(e.key[1]), id: String(e.key[2]) });
    }
    const concurrency = this.#o.concurrency ?? 4;
    // Each recipient's pacing state, read once per step and updated before each send (sends run in parallel).
    const rates = new Map<string, { ready: Promise<void>; state: RateState | null }>();
    // Digests already taken by a send of this step (recipient and due time).
    const digests = new Set<string>();
    let done = 0;
    for (let i = 0; i < due.length && !signal.aborted; i += concurrency) {
      // No other worker may take the lease while these sends are in flight.
      await lease.ensure(mailer.maxSendMs + 10_000);
      const results = await Promise.all(
        due.slice(i, i + concurrency).map((d) => this.#deliverOne(lease, d, nowMs, rates, digests)),
      );
      done += results.length;
      // The server is unreachable: stop here, the loop backs off, the rest keep their turn.
      if (results.includes("outage")) break;
    }
    return done;
  }

  async #deliverOne(
    lease: Lease,
    due: { dueAtMs: number; id: string },
    nowMs: number,
    rates: Map<string, { ready: Promise<void>; state: RateState | null }>,
    digests: Set<string>,
  ): Promise<"sent" | "skipped" | "deferred" | "retry" | "dead" | "outage" | "none"> {
    const kv = this.#o.kv;
    const entry = await kv.get<Notification>(keys.notifyMessage(due.id));
    const n = entry.value;
    const dueKey = keys.notifyDue(due.dueAtMs, due.id);
    const commit = async (op: Deno.AtomicOperation) => {
      if (!(await lease.guard(op).commit()).ok) await lease.verify();
    };
    if (!n || n.status !== "pending" || n.dueAtMs !== due.dueAtMs) {
      await commit(kv.atomic().delete(dueKey));
      return "none";
    }
    const settle = async (patch: Partial<Notification>, extra?: (op: Deno.AtomicOperation) => void) => {
      const next = { ...n, ...patch };
      const op = kv.atomic().check(entry).set(entry.key, next).delete(dueKey);
      if (next.status === "pending") op.set(keys.notifyDue(next.dueAtMs, n.id), null);
      if (next.status === "dead") op.set(keys.notifyDead(n.id), null);
      extra?.(op);
      await commit(op);
      return next;
    };
    let digest: Deno.KvEntry<Notification>[] = [];
    if (n.digest) {
      const claim = `${n.userId}:${n.dueAtMs}`;
      if (digests.has(claim)) return "none";
      digests.add(claim);
      digest = await this.#digestEntries(n);
    }
    const skip = await this.#skipReason(n, nowMs);
    if (skip) {
      await settle({ status: "skipped", skippedReason: skip });
      return "skipped";
    }
    const rateKey = keys.notifyRate(n.userId);
    let rate = rates.get(n.userId);
    if (!rate) {
      const holder: { ready: Promise<void>; state: RateState | null } = { ready: Promise.resolve(), state: null };
      holder.ready = kv.get<RateState>(rateKey).then((e) => void (holder.state = e.value));
      rates.set(n.userId, rate = holder);
    }
    await rate.ready;
    // From here to the update, nothing awaits: parallel sends to one recipient see each other's count.
    const pace = paceRecipient(rate.state, nowMs, this.#o.rate ?? DEFAULT_RATE_LIMIT);
    if (pace.send) rate.state = pace.next;
    if (!pace.send) {
      await settle({ dueAtMs: pace.atMs });
      return "deferred";
    }
    const address = EmailSchema.safeParse(n.to.address);
    const unsubscribe = isOptional(n.kind) ? await this.#o.unsubscribeUrl?.(n.userId, n.kind) ?? null : null;
    let rendered;
    try {
      if (!address.success) throw new TemplateError("the recipient's address is not a valid email address");
      rendered = digest.length
        ? await this.#templates.render(KIND_INFO[n.kind].digestTemplate ?? KIND_INFO[n.kind].template, {
          ...this.#varsFor(n, unsubscribe),
          ...digestVars(n, digest),
        })
        : await this.#templates.render(KIND_INFO[n.kind].template, this.#varsFor(n, unsubscribe));
    } catch (err) {
      await settle({ status: "dead", attempts: n.attempts + 1, lastError: describe(err) });
      return "dead";
    }
    const headers: Record<string, string> = { "X-Notification-Kind": n.kind, "Auto-Submitted": "auto-generated" };
    if (unsubscribe) {
      headers["List-Unsubscribe"] = `<${unsubscribe}>`;
      headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click";
    }
    const outcome = await this.#o.mailer!.send({
      to: n.to,
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      messageId: `<${n.id}@training-booking>`,
      headers,
      calendar: n.calendar ?? undefined,
    });
    if (outcome.ok) {
      // ── the crash window: accepted by the server, marker not yet committed ──
      await this.#o.hooks?.afterAccepted?.(n);
      const sentAt = new Date(nowMs).toISOString();
      const sent = await settle(
        { status: "sent", sentAt, attempts: n.attempts + 1, subject: rendered.subject },
        (op) => {
          op.set(rateKey, rate.state);
          // The digest's other notices went in the same email: marked in the same commit.
          for (const e of digest) {
            if (e.value.id === n.id) continue;
            op.set(e.key, {
              ...e.value,
              status: "sent",
              sentAt,
              attempts: e.value.attempts + 1,
              subject: rendered.subject,
            });
            op.delete(keys.notifyDue(e.value.dueAtMs, e.value.id));
          }
        },
      );
      await this.#o.hooks?.afterMarked?.(sent);
      return "sent";
    }
    const attempts = n.attempts + 1;
    const decision = decideRetry(attempts, outcome.permanent, nowMs, this.#o.retry ?? DEFAULT_RETRY);
    if (decision.action === "dead") {
      await settle({ status: "dead", attempts, lastError: outcome.reason });
      return "dead";
    }
    await settle({ attempts, lastError: outcome.reason, dueAtMs: decision.atMs });
    return outcome.permanent ? "retry" : "outage";
  }

  /** Every pending digest notice of this recipient due with `n` (n included), oldest first. */
  async #digestEntries(n: Notification): Promise<Deno.KvEntry<Notification>[]> {
    const kv = this.#o.kv;
    const ids: string[] = [];
    for await (const e of kv.list({ prefix: keys.notifyDueAtPrefix(n.dueAtMs) })) ids.push(String(e.key[2]));
    const out: Deno.KvEntry<Notification>[] = [];
    // At most 200 notices in one digest (one commit marks them); more go in the next one.
    for (let i = 0; i < ids.length && out.length < 200; i += 10) {
      const found = await kv.getMany<Notification[]>(ids.slice(i, i + 10).map((id) => keys.notifyMessage(id)));
      for (const e of found) {
        const v = e.value;
        if (v && v.userId === n.userId && v.digest && v.status === "pending" && v.kind === n.kind) {
          out.push(e as Deno.KvEntry<Notification>);
        }
      }
    }
    return out.sort((a, b) => a.value.createdAtMs - b.value.createdAtMs);
  }

  #varsFor(n: Notification, unsubscribe: string | null): TemplateVars {
    return {
      ...n.vars,
      kindLabel: KIND_INFO[n.kind].label,
      preferencesUrl: `${this.#o.siteUrl}/me/notifications`,
      unsubscribeUrl: unsubscribe,
    };
  }

  /** Why a due message no longer applies, or null. */
  async #skipReason(n: Notification, nowMs: number): Promise<string | null> {
    const kv = this.#o.kv;
    const user = (await kv.get<{ erasedAt?: string; active?: boolean }>(keys.user(n.userId))).value;
    if (!user || user.erasedAt || user.active === false) return "the recipient's account is erased or deactivated";
    if (isOptional(n.kind)) {
      const prefs = (await kv.get<NotificationPrefs>(keys.notifyPrefs(n.userId))).value;
      if (prefs?.off.includes(n.kind)) return "the recipient turned this kind off";
    }
    if (!n.guard) return null;
    const [b, s] = await kv.getMany<[Booking, Session]>([
      keys.booking(n.guard.bookingId),
      keys.session(n.guard.sessionId),
    ]);
    const booking = b.value;
    const session = s.value;
    if (!booking || booking.status !== "confirmed" || booking.sessionId !== n.guard.sessionId) {
      return "the booking was cancelled or moved";
    }
    if (!session || session.status === "cancelled" || session.startsAt !== n.guard.startsAt) {
      return "the session was cancelled or moved";
    }
    // A reminder that could not go before the start (an outage, a pause) is no longer useful.
    const startMs = Date.parse(session.startsAt);
    if (nowMs >= startMs + (n.kind === "session_live" ? 15 * 60_000 : 0)) return "the session has started";
    const at = n.guard.remindAtMs;
    if (at !== undefined && nowMs > at + (startMs - at) / 2) return "too late for this reminder (a later one follows)";
    return null;
  }
}
