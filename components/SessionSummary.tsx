import { placeText } from "./SessionCard.tsx";
import type { SessionDetail } from "../lib/catalog/browse.ts";
import { formatSessionWhen } from "../lib/catalog/format.ts";

/** The join link of an online or hybrid session (only rendered for those who may see it). */
export function JoinLink({ url }: { url: string | null }) {
  if (!url) return null;
  return (
    <p class="text-sm" data-testid="join-link">
      Join online: <a href={url} class="break-all font-semibold text-blue-800 underline" rel="noopener">{url}</a>
    </p>
  );
}

/** What, when, where of a session in one box (hold and booking pages); `joinUrl` only for the booked. */
export function SessionSummary({ detail, joinUrl = null }: { detail: SessionDetail; joinUrl?: string | null }) {
  const { session, course } = detail;
  return (
    <dl class="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 rounded-xl border border-gray-200 p-4 text-base">
      <dt class="font-semibold">What</dt>
      <dd>
        <a href={`/sessions/${session.id}`} class="text-blue-800 underline">{course.title}</a> ({course.code})
      </dd>
      <dt class="font-semibold">When</dt>
      <dd>
        <time dateTime={session.startsAt}>{formatSessionWhen(session.startsAt, session.endsAt, session.timeZone)}</time>
      </dd>
      <dt class="font-semibold">Where</dt>
      <dd>
        {placeText(detail)}
        <JoinLink url={joinUrl} />
      </dd>
    </dl>
  );
}
