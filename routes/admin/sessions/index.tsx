import { type AccessRule, ADMIN_ONLY } from "../../../lib/access/matrix.ts";
import {
  buttonClass,
  Checkbox,
  CourseSelect,
  DateRange,
  describedBy,
  Field,
  type FieldErrors,
  inputClass,
  linkClass,
  Notice,
  secondaryClass,
} from "../../../components/admin/AdminUi.tsx";
import { searchSessionsForStaff, type StaffSessionRow } from "../../../lib/admin/sessions.ts";
import type { PageState } from "../../../lib/auth/page_user.ts";
import { formatSessionWhen } from "../../../lib/catalog/format.ts";
import { CalendarDateSchema, type Course, type Location } from "../../../lib/domain/mod.ts";
import { type Handlers, Head, type PageProps } from "../../../lib/fresh/mod.ts";
import { services } from "../../../lib/services.ts";
import { isSessionCursor, listCourses, listLocations } from "../../../lib/store/mod.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = ADMIN_ONLY;

const FIELDS = ["q", "from", "to", "location", "course", "cancelled", "cursor"] as const;
type Values = Record<typeof FIELDS[number], string>;

interface Data {
  values: Values;
  errors: FieldErrors;
  rows: StaffSessionRow[];
  nextCursor: string | null;
  courses: Course[];
  locations: Location[];
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const { kv, engine } = services();
    const v = Object.fromEntries(FIELDS.map((f) => [f, (ctx.url.searchParams.get(f) ?? "").trim()])) as Values;
    const errors: FieldErrors = {};
    if (v.from && !CalendarDateSchema.safeParse(v.from).success) errors.from = "Give a date like 2026-12-01.";
    if (v.to && !CalendarDateSchema.safeParse(v.to).success) errors.to = "Give a date like 2026-12-01.";
    if (!errors.from && !errors.to && v.from && v.to && v.to < v.from) errors.to = "The end is before the start.";
    if (v.q.length > 100) errors.q = "Keep the search to 100 characters.";
    const [courses, locations] = await Promise.all([
      listCourses(kv, { includeInactive: true }),
      listLocations(kv, { includeInactive: true }),
    ]);
    if (v.course && !courses.some((c) => c.id === v.course)) errors.course = "Choose a course from the list.";
    if (v.location && v.location !== "online" && !locations.some((l) => l.id === v.location)) {
      errors.location = "Choose a training center from the list.";
    }
    const cursor = v.cursor && isSessionCursor(v.cursor) ? v.cursor : null;
    const page = Object.keys(errors).length ? { rows: [], nextCursor: null } : await searchSessionsForStaff(kv, {
      q: v.q,
      from: v.from,
      to: v.to,
      locationId: v.location && v.location !== "online" ? v.location : undefined,
      online: v.location === "online" ? true : undefined,
      courseId: v.course || undefined,
      includeCancelled: v.cancelled === "on",
      cursor,
    }, engine.now());
    return ctx.render(
      { values: v, errors, rows: page.rows, nextCursor: page.nextCursor, courses, locations },
      { status: Object.keys(errors).length ? 400 : 200 },
    );
  },
};

function Row({ row }: { row: StaffSessionRow }) {
  const { session: s, course, location, availability: a } = row;
  return (
    <li class="rounded-xl border border-gray-200 p-3 text-base" data-testid="session-row">
      <a href={`/admin/sessions/${s.id}`} class={linkClass}>
        {course ? `${course.code} ${course.title}` : s.courseId}
      </a>
      <p>{formatSessionWhen(s.startsAt, s.endsAt, s.timeZone)}</p>
      <p>{location ? `${location.name}, ${location.address.city}` : "Online"} · {s.mode.replace("_", " ")}</p>
      <p>
        {s.status === "cancelled"
          ? <strong>Cancelled</strong>
          : `${a.taken} of ${s.capacity} seats taken, ${a.waiting} waiting`}
      </p>
    </li>
  );
}

/** Sessions for staff: search, then open one to change or cancel it. */
export default function StaffSessions({ data, url }: PageProps<Data, PageState>) {
  const { values: v, errors } = data;
  const more = new URL(url);
  if (data.nextCursor) more.searchParams.set("cursor", data.nextCursor);
  return (
    <>
      <Head>
        <title>Sessions · Staff</title>
      </Head>
      <p class="text-sm">
        <a href="/admin" class={linkClass}>← Staff</a>
      </p>
      <h1 class="mb-3 text-2xl font-bold leading-tight">Sessions</h1>
      <div class="space-y-6">
        <p>
          <a href="/admin/sessions/new" class={`inline-block ${buttonClass}`} data-testid="new-session">
            Schedule a session
          </a>
        </p>
        <Notice problem={Object.keys(errors).length ? "Please correct the fields marked below." : null} />
        <form method="get" action="/admin/sessions" class="grid gap-3 rounded-xl bg-gray-50 p-4" aria-label="Search">
          <Field name="q" label="Course title or code" error={errors.q}>
            <input id="q" name="q" type="search" value={v.q} class={inputClass} {...describedBy("q", errors)} />
          </Field>
          <DateRange from={v.from} to={v.to} errors={errors} />
          <Field name="location" label="Where" error={errors.location}>
            <select id="location" name="location" class={inputClass} {...describedBy("location", errors)}>
              <option value="">Anywhere</option>
              <option value="online" selected={v.location === "online"}>Online</option>
              {data.locations.map((l) => (
                <option key={l.id} value={l.id} selected={v.location === l.id}>{l.name}</option>
              ))}
            </select>
          </Field>
          <CourseSelect courses={data.courses} value={v.course} errors={errors} />
          <Checkbox name="cancelled" label="Include cancelled sessions" checked={v.cancelled === "on"} />
          <div class="flex gap-3">
            <button type="submit" class={`flex-1 ${buttonClass}`}>Search</button>
            <a href="/admin/sessions" class={secondaryClass}>Clear</a>
          </div>
        </form>
        <section aria-labelledby="found" class="space-y-3">
          <h2 id="found" class="text-xl font-bold">Sessions found</h2>
          {data.rows.length
            ? <ul class="space-y-3">{data.rows.map((r) => <Row key={r.session.id} row={r} />)}</ul>
            : <p class="text-base">No session matches.</p>}
          {data.nextCursor && <a href={more.pathname + more.search} class={linkClass}>More sessions</a>}
        </section>
      </div>
    </>
  );
}
