import { SeatBadge } from "../../components/SeatBadge.tsx";
import { placeText } from "../../components/SessionCard.tsx";
import LocalTime from "../../islands/LocalTime.tsx";
import { getSessionDetail, type SessionDetail } from "../../lib/catalog/browse.ts";
import { formatDuration, formatSessionWhen } from "../../lib/catalog/format.ts";
import { PROGRAM_TYPE_LABELS, TOPIC_LABELS } from "../../lib/domain/mod.ts";
import { type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { services } from "../../lib/services.ts";

export const handler: Handlers<SessionDetail> = {
  async GET(_req, ctx) {
    const detail = await getSessionDetail(services().kv, ctx.params.id);
    if (!detail) return ctx.renderNotFound();
    return ctx.render(detail);
  },
};

function mapLink(d: SessionDetail): string | null {
  if (!d.location) return null;
  const a = d.location.address;
  const q = encodeURIComponent(`${a.line1}, ${a.city}, ${a.region} ${a.postalCode}`);
  return `https://www.google.com/maps/search/?api=1&query=${q}`;
}

/** One session: what, when, where, seats. */
export default function SessionPage({ data }: PageProps<SessionDetail>) {
  const { session, course, location, availability, prerequisites } = data;
  const map = mapLink(data);
  return (
    <>
      <Head>
        <title>{course.title} · Training sessions</title>
      </Head>
      <p class="mb-2 text-sm">
        <a href="/" class="font-semibold text-blue-800 underline">← All sessions</a>
      </p>
      <article class="space-y-4">
        <header>
          <p class="text-sm font-medium text-gray-700">
            {course.code} · {TOPIC_LABELS[course.topic]} · {PROGRAM_TYPE_LABELS[course.programType]}
          </p>
          <h1 class="text-2xl font-bold leading-tight">{course.title}</h1>
          <div class="mt-2">
            <SeatBadge availability={availability} />
          </div>
        </header>
        <section aria-labelledby="when" class="rounded-xl border border-gray-200 p-4">
          <h2 id="when" class="text-base font-semibold">When</h2>
          <p class="text-base">
            <time dateTime={session.startsAt}>
              {formatSessionWhen(session.startsAt, session.endsAt, session.timeZone)}
            </time>
          </p>
          <p class="text-sm text-gray-700">{formatDuration(course.durationMinutes)}</p>
          <LocalTime startsAt={session.startsAt} sessionTimeZone={session.timeZone} />
        </section>
        <section aria-labelledby="where" class="rounded-xl border border-gray-200 p-4">
          <h2 id="where" class="text-base font-semibold">Where</h2>
          <p class="text-base">{placeText(data)}</p>
          {location && (
            <p class="text-sm text-gray-700">
              {location.address.line1}, {location.address.city}, {location.address.region} {location.address.postalCode}
              {map && (
                <>
                  {" · "}
                  <a href={map} class="font-semibold text-blue-800 underline" rel="noopener">Map</a>
                </>
              )}
            </p>
          )}
          {session.mode !== "in_person" && <p class="text-sm text-gray-700">You get the join link after booking.</p>}
        </section>
        <section aria-labelledby="about" class="rounded-xl border border-gray-200 p-4">
          <h2 id="about" class="text-base font-semibold">About this course</h2>
          <p class="text-base">{course.summary}</p>
          {prerequisites.length > 0 && (
            <>
              <h3 class="mt-3 text-sm font-semibold">Before you book, complete</h3>
              <ul class="list-disc pl-5 text-sm">
                {prerequisites.map((p) => <li key={p.id}>{p.code} · {p.title}</li>)}
              </ul>
            </>
          )}
        </section>
      </article>
    </>
  );
}
