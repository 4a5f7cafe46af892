import { PROGRAM_TYPE_LABELS, PROGRAM_TYPES, TOPIC_LABELS, TOPICS } from "../lib/domain/mod.ts";
import type { Location } from "../lib/domain/mod.ts";
import { type BrowseFilters, NEAR_RADIUS_KM } from "../lib/catalog/browse.ts";

/** Whether the learner can use "Near me": their preferred location, or why not (a sentence). */
export type NearChoice = { origin: Location } | { unavailable: string };

const field = "mt-1 block w-full rounded-lg border border-gray-400 bg-white px-3 py-2 text-base text-gray-900 " +
  "focus:outline-none focus:ring-4 focus:ring-blue-600";
const label = "block text-sm font-medium text-gray-800";

/** The catalog filters: a plain GET form, so it works without JavaScript. */
export function FilterForm(
  { filters, locations, near }: { filters: BrowseFilters; locations: Location[]; near: NearChoice },
) {
  return (
    <form method="get" action="/" class="grid grid-cols-2 gap-3 rounded-xl bg-gray-50 p-4" aria-label="Filter sessions">
      <div class="col-span-2">
        <label for="q" class={label}>Search</label>
        <input
          id="q"
          name="q"
          type="search"
          value={filters.q ?? ""}
          placeholder="Course, code or topic"
          class={field}
        />
      </div>
      <div>
        <label for="from" class={label}>From</label>
        <input id="from" name="from" type="date" value={filters.from ?? ""} class={field} />
      </div>
      <div>
        <label for="to" class={label}>To</label>
        <input id="to" name="to" type="date" value={filters.to ?? ""} class={field} />
      </div>
      <div class="col-span-2">
        <label for="location" class={label}>Location</label>
        <select id="location" name="location" class={field}>
          <option value="">Any location</option>
          <option value="online" selected={filters.location === "online"}>Online</option>
          {locations.map((l) => (
            <option key={l.id} value={l.id} selected={filters.location === l.id}>{l.name} ({l.address.city})</option>
          ))}
        </select>
      </div>
      <div>
        <label for="topic" class={label}>Topic</label>
        <select id="topic" name="topic" class={field}>
          <option value="">Any topic</option>
          {TOPICS.map((t) => <option key={t} value={t} selected={filters.topic === t}>{TOPIC_LABELS[t]}</option>)}
        </select>
      </div>
      <div>
        <label for="program" class={label}>Program</label>
        <select id="program" name="program" class={field}>
          <option value="">Any program</option>
          {PROGRAM_TYPES.map((p) => (
            <option key={p} value={p} selected={filters.program === p}>{PROGRAM_TYPE_LABELS[p]}</option>
          ))}
        </select>
      </div>
      <div class="col-span-2">
        <div class="flex items-center gap-2">
          <input
            id="near"
            name="near"
            type="checkbox"
            value="1"
            checked={"origin" in near && filters.near === "1"}
            disabled={!("origin" in near)}
            aria-describedby="near-help"
            class="h-5 w-5 rounded border-gray-400 focus:outline-none focus:ring-4 focus:ring-blue-600"
          />
          <label for="near" class="text-base font-medium text-gray-900">Near me</label>
        </div>
        <p id="near-help" class="mt-1 text-sm text-gray-700">
          {"origin" in near
            ? `In-person sessions within ${NEAR_RADIUS_KM} km of ${near.origin.name}, ${near.origin.address.city}, ` +
              "nearest first (soonest first at the same distance). Online sessions are left out."
            : near.unavailable}
        </p>
      </div>
      <div class="col-span-2 flex gap-3">
        <button
          type="submit"
          class="flex-1 rounded-lg bg-blue-700 px-4 py-3 text-base font-semibold text-white hover:bg-blue-800 focus:outline-none focus:ring-4 focus:ring-blue-300"
        >
          Show sessions
        </button>
        <a
          href="/"
          class="rounded-lg border border-gray-400 px-4 py-3 text-base font-semibold text-gray-900 focus:outline-none focus:ring-4 focus:ring-blue-600"
        >
          Clear
        </a>
      </div>
    </form>
  );
}
