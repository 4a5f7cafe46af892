import { type AccessRule, PUBLIC } from "../lib/access/matrix.ts";
import { FilterForm, type NearChoice } from "../components/FilterForm.tsx";
import { SessionCard } from "../components/SessionCard.tsx";
import type { PageState } from "../lib/auth/page_user.ts";
import {
  type BrowseFilters,
  browseNearMe,
  type BrowseResult,
  browseSessions,
  isNearCursor,
  parseBrowseFilters,
} from "../lib/catalog/browse.ts";
import { type Handlers, Head, type PageProps } from "../lib/fresh/mod.ts";
import { services } from "../lib/services.ts";
import { getLocation } from "../lib/store/mod.ts";
import { loadRequiredForYou, type RequiredData, RequiredForYou } from "../components/RequiredForYou.tsx";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = PUBLIC;

interface Data {
  filters: BrowseFilters;
  problems: string[];
  /** A sentence about Near me when it was asked for but could not apply. */
  nearNote: string | null;
  near: NearChoice;
  result: BrowseResult;
  /** The signed-in person's required training (null: none, or signed out). */
  required: RequiredData | null;
}

const SIGNED_OUT = "Sign in to list in-person sessions by distance from your preferred location.";
const NO_LOCATION = "Near me needs a preferred location on your profile, and yours has none yet. " +
  "Pick a location above to see the sessions there.";

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const { kv, engine } = services();
    const now = engine.now();
    const { filters, problems } = parseBrowseFilters(ctx.url.searchParams, now);
    const user = ctx.state.user;
    const origin = user?.preferredLocationId ? await getLocation(kv, user.preferredLocationId) : null;
    const why = user ? NO_LOCATION : SIGNED_OUT;
    const near: NearChoice = origin ? { origin } : { unavailable: why };
    let nearNote: string | null = null;
    if (filters.near && filters.location === "online") {
      problems.push("Near me lists in-person sessions only, so it was ignored with Location: Online.");
      delete filters.near;
    } else if (filters.near && !origin) {
      nearNote = `${why} Showing all sessions, soonest first.`;
      delete filters.near;
    }
    // A page position from the other listing means nothing here: start from the first page.
    if (filters.cursor && isNearCursor(filters.cursor) !== !!filters.near) delete filters.cursor;
    const result = filters.near && origin
      ? await browseNearMe(kv, filters, origin, now)
      : await browseSessions(kv, filters, now);
    const required = user ? await loadRequiredForYou(user) : null;
    return ctx.render({ filters, problems, nearNote, near, result, required });
  },
};

function nextPageHref(url: URL, cursor: string): string {
  const next = new URL(url);
  next.searchParams.set("cursor", cursor);
  return `${next.pathname}${next.search}`;
}

/** Home: upcoming sessions with filters. */
export default function Home({ data, url }: PageProps<Data, PageState>) {
  const { filters, problems, nearNote, near, result, required } = data;
  const info = result.near;
  return (
    <>
      <Head>
        <title>Upcoming training sessions</title>
        <meta name="description" content="Find and book in-person and live-online training sessions." />
      </Head>
      <h1 class="mb-3 text-2xl font-bold">Upcoming sessions</h1>
      {required && (
        <div class="mb-4">
          <RequiredForYou data={required} />
        </div>
      )}
      <FilterForm filters={filters} locations={result.locations} near={near} />
      {problems.length > 0 && (
        <div role="alert" class="mt-3 rounded-lg border border-amber-400 bg-amber-50 p-3 text-sm text-amber-900">
          {problems.map((p) => <p key={p}>{p}</p>)}
        </div>
      )}
      {nearNote && (
        <p id="near-note" class="mt-3 rounded-lg border border-blue-300 bg-blue-50 p-3 text-sm text-blue-900">
          {nearNote}
        </p>
      )}
      {info && (
        <p id="near-summary" class="mt-3 text-sm text-gray-800">
          {info.total === 0
            ? `No in-person sessions within ${info.radiusKm} km of ${info.origin.name}, ${info.origin.address.city}.`
            : `${info.total} in-person ${info.total === 1 ? "session" : "sessions"} within ${info.radiusKm} km of ` +
              `${info.origin.name}, ${info.origin.address.city}, nearest first` +
              (info.total > result.rows.length
                ? ` (showing ${info.offset + 1}–${info.offset + result.rows.length}).`
                : ".")}
          {info.truncated && " Only the soonest sessions were searched; narrow the dates to see later ones."}
          {" Online sessions are not included."}
        </p>
      )}
      {result.rows.length === 0
        ? (
          <p class="mt-6 text-base text-gray-800">
            No sessions match these filters. Try a wider date range or{" "}
            <a href="/" class="font-semibold text-blue-800 underline">clear the filters</a>.
          </p>
        )
        : (
          <ul class="mt-4 space-y-3" aria-label="Sessions">
            {result.rows.map((row) => <SessionCard key={row.session.id} row={row} />)}
          </ul>
        )}
      {result.nextCursor && (
        <p class="mt-4 text-center">
          <a
            href={nextPageHref(url, result.nextCursor)}
            class="inline-block rounded-lg border border-gray-400 px-4 py-3 font-semibold text-blue-800 focus:outline-none focus:ring-4 focus:ring-blue-600"
          >
            More sessions
          </a>
        </p>
      )}
    </>
  );
}
