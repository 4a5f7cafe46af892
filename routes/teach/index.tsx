import { SESSION_STAFF } from "../../lib/access/matrix.ts";
import { ATTENDANCE_WORDS, PHASE_WORDS, Pill } from "../../components/Teach.tsx";
import { listTeachSessions, type TeachSessionRow } from "../../lib/attendance/roster.ts";
import { attendanceSettingsOf } from "../../lib/attendance/windows.ts";
import type { PageState } from "../../lib/auth/page_user.ts";
import { formatSessionWhen } from "../../lib/catalog/format.ts";
import { type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { services } from "../../lib/services.ts";

/** Who may open this page: instructors (their own sessions) and admins (the sessions they teach). */
export const access = SESSION_STAFF;

interface Data {
  upcoming: TeachSessionRow[];
  recent: TeachSessionRow[];
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const { kv, engine, config } = services();
    const user = ctx.state.user!;
    return ctx.render(await listTeachSessions(kv, user.id, engine.now(), attendanceSettingsOf(config)));
  },
};

function SessionItem({ row }: { row: TeachSessionRow }) {
  return (
    <li class="space-y-1 rounded-xl border border-gray-200 p-4" data-session={row.id}>
      <h3 class="text-lg font-semibold">
        <a href={`/teach/sessions/${row.id}`} class="text-blue-800 underline">{row.courseTitle}</a>
      </h3>
      <p class="text-base">
        <time dateTime={row.startsAt}>{formatSessionWhen(row.startsAt, row.endsAt, row.timeZone)}</time>
        {" · "}
        {row.mode === "online" ? "Online" : row.mode === "hybrid" ? "Hybrid" : "In person"}
      </p>
      <p class="text-base" data-testid="seats">
        {row.taken} of {row.capacity} seats taken{row.waiting ? ` · ${row.waiting} on the waitlist` : ""}
      </p>
      <p class="flex flex-wrap gap-2">
        <Pill text={PHASE_WORDS[row.phase]} tone={row.phase === "live" ? "green" : "gray"} />
        <Pill text={ATTENDANCE_WORDS[row.attendance]} tone={row.attendance === "open" ? "blue" : "gray"} />
      </p>
    </li>
  );
}

/** The instructor's home: upcoming and recent sessions with seats, waitlist and states. */
export default function TeachPage({ data }: PageProps<Data, PageState>) {
  return (
    <>
      <Head>
        <title>My sessions · Teaching</title>
      </Head>
      <h1 class="mb-4 text-2xl font-bold leading-tight">My sessions</h1>
      <div class="space-y-6">
        <section aria-labelledby="upcoming" class="space-y-3">
          <h2 id="upcoming" class="text-xl font-bold">Live and upcoming</h2>
          {data.upcoming.length
            ? <ul class="space-y-3">{data.upcoming.map((r) => <SessionItem key={r.id} row={r} />)}</ul>
            : <p class="text-base">You have no sessions in the next 60 days.</p>}
        </section>
        <section aria-labelledby="recent" class="space-y-3">
          <h2 id="recent" class="text-xl font-bold">Recent</h2>
          {data.recent.length
            ? <ul class="space-y-3">{data.recent.map((r) => <SessionItem key={r.id} row={r} />)}</ul>
            : <p class="text-base">No sessions in the last 30 days.</p>}
        </section>
      </div>
    </>
  );
}
