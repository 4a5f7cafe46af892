import { placeText } from "./SessionCard.tsx";
import type { SessionDetail } from "../lib/catalog/browse.ts";
import { formatSessionWhen } from "../lib/catalog/format.ts";

/** What, when, where of a session in one box (hold and booking pages). */
export function SessionSummary({ detail }: { detail: SessionDetail }) {
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
      <dd>{placeText(detail)}</dd>
    </dl>
  );
}
