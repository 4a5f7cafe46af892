import type { SessionRow } from "../lib/catalog/browse.ts";
import { formatDay, formatTime, formatZone } from "../lib/catalog/format.ts";
import { SeatBadge } from "./SeatBadge.tsx";

/** Where a session happens, in words. */
export function placeText(row: Pick<SessionRow, "session" | "location">): string {
  const { session, location } = row;
  if (session.mode === "online") return "Online";
  const name = location
    ? `${location.name}, ${location.address.city}, ${location.address.region}`
    : "Location to be announced";
  return session.mode === "hybrid" ? `${name} or online` : name;
}

/** One session in the catalog list: title, local date and time, place (and distance on near-me results), seats. */
export function SessionCard({ row }: { row: SessionRow }) {
  const { session, course, availability } = row;
  const tz = session.timeZone;
  return (
    <li class="rounded-xl border border-gray-200 bg-white shadow-sm">
      <a
        href={`/sessions/${session.id}`}
        class="block p-4 rounded-xl focus:outline-none focus-visible:ring-4 focus-visible:ring-blue-600"
      >
        <div class="flex items-start justify-between gap-3">
          <h2 class="text-base font-semibold text-gray-900 leading-snug">{course.title}</h2>
          <SeatBadge availability={availability} />
        </div>
        <p class="mt-1 text-sm text-gray-700">
          <time dateTime={session.startsAt}>
            {formatDay(session.startsAt, tz)} · {formatTime(session.startsAt, tz)}–{formatTime(session.endsAt, tz)}{" "}
            {formatZone(session.startsAt, tz)}
          </time>
        </p>
        <p class="mt-0.5 text-sm text-gray-700">
          {placeText(row)}
          {row.distanceKm !== undefined && (
            <>
              {" · "}
              <span class="font-semibold text-gray-900" data-distance-km={row.distanceKm}>
                {row.distanceKm < 1 ? "under 1 km away" : `${row.distanceKm} km away`}
              </span>
            </>
          )}
        </p>
      </a>
    </li>
  );
}
