import { FilterForm } from "../components/FilterForm.tsx";
import { SessionCard } from "../components/SessionCard.tsx";
import { type BrowseFilters, type BrowseResult, browseSessions, parseBrowseFilters } from "../lib/catalog/browse.ts";
import { type Handlers, Head, type PageProps } from "../lib/fresh/mod.ts";
import { services } from "../lib/services.ts";

interface Data {
  filters: BrowseFilters;
  problems: string[];
  result: BrowseResult;
}

export const handler: Handlers<Data> = {
  async GET(_req, ctx) {
    const { filters, problems } = parseBrowseFilters(ctx.url.searchParams);
    const result = await browseSessions(services().kv, filters);
    return ctx.render({ filters, problems, result });
  },
};

function nextPageHref(url: URL, cursor: string): string {
  const next = new URL(url);
  next.searchParams.set("cursor", cursor);
  return `${next.pathname}${next.search}`;
}

/** Home: upcoming sessions with filters. */
export default function Home({ data, url }: PageProps<Data>) {
  const { filters, problems, result } = data;
  return (
    <>
      <Head>
        <title>Upcoming training sessions</title>
        <meta name="description" content="Find and book in-person and live-online training sessions." />
      </Head>
      <h1 class="mb-3 text-2xl font-bold">Upcoming sessions</h1>
      <FilterForm filters={filters} locations={result.locations} />
      {problems.length > 0 && (
        <div role="alert" class="mt-3 rounded-lg border border-amber-400 bg-amber-50 p-3 text-sm text-amber-900">
          {problems.map((p) => <p key={p}>{p}</p>)}
        </div>
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
