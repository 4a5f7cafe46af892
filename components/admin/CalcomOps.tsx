/** Pieces of the Cal.com operations page: sync figures, tenant health, review items with their forms. */
import type { ComponentChildren } from "preact";
import type { TenantHealth } from "../../lib/calcom/health.ts";
import type { ReviewItem, SyncFigures, SyncState } from "../../lib/calcom/sync_store.ts";

/** A review item with its booking's current sync state (null: none or not a booking). */
export interface ReviewRow {
  item: ReviewItem;
  sync: SyncState | null;
}

const button = "inline-block rounded-lg bg-blue-800 px-4 py-2 text-base font-semibold text-white " +
  "focus:outline-none focus-visible:ring-4 focus-visible:ring-blue-300";
const secondary = "inline-block rounded-lg border border-gray-600 bg-white px-4 py-2 text-base font-semibold " +
  "text-gray-900 focus:outline-none focus-visible:ring-4 focus-visible:ring-blue-300";
const card = "space-y-2 rounded-xl border border-gray-200 p-4";

/** An instant as `2026-11-21 08:07 UTC` inside a `<time>`, or a dash. */
export function When({ at }: { at: string | null }) {
  if (!at) return <span>—</span>;
  return <time dateTime={at}>{at.slice(0, 16).replace("T", " ")} UTC</time>;
}

/** A section with a heading that labels it. */
export function Section({ id, title, children }: { id: string; title: string; children: ComponentChildren }) {
  return (
    <section aria-labelledby={id} class="space-y-3">
      <h2 id={id} class="text-xl font-bold">{title}</h2>
      {children}
    </section>
  );
}

const ms = (v: number | null) => v === null ? "—" : v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`;

/** Counts of the sync and its latency. */
export function Figures({ figures }: { figures: SyncFigures }) {
  const items: [string, string, string][] = [
    ["synced", "Synced", String(figures.synced)],
    ["failed", "Failed", String(figures.failed)],
    ["flagged", "Flagged for review", String(figures.flagged)],
    ["pending", "Pending", String(figures.pending)],
    ["skipped", "Skipped", String(figures.skipped)],
    ["open", "Open review items", String(figures.openReviewItems)],
    ["p50", "Sync latency p50", ms(figures.latencyMs.p50)],
    ["p95", "Sync latency p95", ms(figures.latencyMs.p95)],
  ];
  return (
    <dl class="grid grid-cols-2 gap-3 sm:grid-cols-4">
      {items.map(([key, label, value]) => (
        <div key={key} class="rounded-xl border border-gray-200 p-3" data-testid={`figure-${key}`}>
          <dt class="text-sm text-gray-700">{label}</dt>
          <dd class="text-2xl font-bold">{value}</dd>
        </div>
      ))}
    </dl>
  );
}

const yesNo = (v: boolean | null, unknown = "unknown") => v === null ? unknown : v ? "yes" : "no";

/** Each tenant: configured, reachable, key accepted, last webhook. Words, not colours alone. */
export function TenantTable({ tenants }: { tenants: TenantHealth[] }) {
  return (
    <div class="overflow-x-auto">
      <table class="w-full border-collapse text-left text-sm">
        <caption class="sr-only">Cal.com tenants and their health</caption>
        <thead>
          <tr class="border-b border-gray-600">
            <th scope="col" class="py-2 pr-3">Tenant</th>
            <th scope="col" class="py-2 pr-3">Configured</th>
            <th scope="col" class="py-2 pr-3">Reachable</th>
            <th scope="col" class="py-2 pr-3">Key accepted</th>
            <th scope="col" class="py-2 pr-3">Last webhook</th>
            <th scope="col" class="py-2">Problem</th>
          </tr>
        </thead>
        <tbody>
          {tenants.map((t) => (
            <tr key={t.slug} class="border-b border-gray-200" data-testid="tenant">
              <th scope="row" class="py-2 pr-3 font-semibold">{t.slug}</th>
              <td class="py-2 pr-3">{t.configured ? "yes" : "no (URL or key missing)"}</td>
              <td class="py-2 pr-3">{yesNo(t.reachable, "not checked")}</td>
              <td class="py-2 pr-3">{yesNo(t.authOk, t.configured ? "unknown" : "not checked")}</td>
              <td class="py-2 pr-3">
                <When at={t.lastWebhookAt} />
                {t.lastWebhookTrigger ? ` (${t.lastWebhookTrigger})` : ""}
              </td>
              <td class="py-2 font-mono">{t.error ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** One open review item: what failed, and Retry (sync failures) and Resolve forms posting to `action`. */
export function ReviewCard({ row, action }: { row: ReviewRow; action: string }) {
  const { item, sync } = row;
  const headingId = `item-${item.id}`;
  const commentId = `comment-${item.id}`;
  const retryable = item.kind === "sync_failed" && item.bookingId !== null;
  return (
    <li class={card} data-testid="review-item" data-item-id={item.id}>
      <h3 id={headingId} class="text-lg font-semibold">
        {item.kind === "sync_failed" ? "Booking not mirrored to Cal.com" : "Cal.com change not applied"}
        {item.tenant ? ` · ${item.tenant}` : ""}
      </h3>
      <p class="text-base">
        <span class="font-mono">{item.code}</span>: {item.message}
      </p>
      <dl class="grid grid-cols-1 gap-x-4 text-sm sm:grid-cols-2">
        <div>
          <dt class="inline font-semibold">Flagged:</dt>{" "}
          <dd class="inline">
            <When at={item.flaggedAt} />
          </dd>
        </div>
        {item.bookingId && (
          <div>
            <dt class="inline font-semibold">Booking:</dt> <dd class="inline font-mono">{item.bookingId}</dd>
          </div>
        )}
        {item.calBookingUid && (
          <div>
            <dt class="inline font-semibold">Cal.com booking:</dt>{" "}
            <dd class="inline font-mono">{item.calBookingUid}</dd>
          </div>
        )}
        {item.email && (
          <div>
            <dt class="inline font-semibold">Attendee:</dt> <dd class="inline">{item.email}</dd>
          </div>
        )}
        {sync && (
          <div>
            <dt class="inline font-semibold">Sync now:</dt>{" "}
            <dd class="inline" data-testid="sync-status">
              {sync.status}, {sync.attempts} {sync.attempts === 1 ? "attempt" : "attempts"}
            </dd>
          </div>
        )}
      </dl>
      <div class="flex flex-wrap items-end gap-4 pt-2">
        {retryable && (
          <form method="post" action={action}>
            <input type="hidden" name="intent" value="retry" />
            <input type="hidden" name="id" value={item.id} />
            <button type="submit" class={button} aria-describedby={headingId}>Retry sync</button>
          </form>
        )}
        <form method="post" action={action} class="flex-1 space-y-2">
          <input type="hidden" name="intent" value="resolve" />
          <input type="hidden" name="id" value={item.id} />
          <label for={commentId} class="block text-sm font-semibold">
            Resolution comment (required)
          </label>
          <textarea
            id={commentId}
            name="comment"
            required
            maxLength={500}
            rows={2}
            class="block w-full rounded-lg border border-gray-600 p-2 text-base"
          />
          <button type="submit" class={secondary} aria-describedby={headingId}>Mark resolved</button>
        </form>
      </div>
    </li>
  );
}
