import { type AccessRule, ADMIN_ONLY } from "../../lib/access/matrix.ts";
import {
  AuditList,
  buttonClass,
  CourseSelect,
  DateRange,
  describedBy,
  Field,
  type FieldErrors,
  inputClass,
  linkClass,
  Notice,
  peopleIdsOf,
  secondaryClass,
} from "../../components/admin/AdminUi.tsx";
import type { AuditPage } from "../../lib/admin/audit.ts";
import { AuditQuerySchema, runAuditQuery } from "../../lib/api/v1/audit.ts";
import { ApiError } from "../../lib/api/errors.ts";
import type { PageState } from "../../lib/auth/page_user.ts";
import { type Course, ORIGINS } from "../../lib/domain/mod.ts";
import { formatZodIssues, readableErrors } from "../../lib/domain/validation.ts";
import { type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { services } from "../../lib/services.ts";
import { getUserByEmail, getUsers, listCourses } from "../../lib/store/mod.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = ADMIN_ONLY;

const FIELDS = ["learner", "session", "course", "booking", "origin", "actor", "from", "to"] as const;
type Values = Record<typeof FIELDS[number], string>;

interface Data {
  values: Values;
  errors: FieldErrors;
  page: AuditPage | null;
  names: Record<string, string>;
  courses: Course[];
}

/** A person named by email or id: their id, or an error sentence. */
async function personId(kv: Deno.Kv, value: string): Promise<{ id?: string; error?: string }> {
  if (!value.includes("@")) return { id: value };
  const user = await getUserByEmail(kv, value);
  return user ? { id: user.id } : { error: `Nobody has the email ${value}.` };
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const { kv } = services();
    const values = Object.fromEntries(
      FIELDS.map((f) => [f, (ctx.url.searchParams.get(f) ?? "").trim()]),
    ) as Values;
    const errors: FieldErrors = {};
    const query: Record<string, string> = {};
    for (const f of FIELDS) {
      if (!values[f]) continue;
      if (f === "learner" || f === "actor") {
        const found = await personId(kv, values[f]);
        if (found.error) errors[f] = found.error;
        else query[f] = found.id!;
      } else query[f] = values[f];
    }
    const courses = await listCourses(kv, { includeInactive: true });
    let page: AuditPage | null = null;
    const parsed = AuditQuerySchema.safeParse(query, { error: readableErrors });
    if (!parsed.success) {
      for (const i of formatZodIssues(parsed.error.issues)) errors[i.path] ??= `This ${i.message}.`;
    }
    if (parsed.success && !Object.keys(errors).length) {
      try {
        page = await runAuditQuery(kv, parsed.data);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        errors.to = "The end date is before the start date.";
      }
    }
    const users = await getUsers(kv, page ? peopleIdsOf(page.entries) : []);
    const names = Object.fromEntries([...users.values()].map((u) => [u.id, u.name]));
    const status = Object.keys(errors).length ? 400 : 200;
    return ctx.render({ values, errors, page, names, courses }, { status });
  },
};

/** Search every booking change: by learner, session, course, booking, origin, actor and dates. */
export default function AuditPageView({ data }: PageProps<Data, PageState>) {
  const { values, errors, page } = data;
  const text = (name: keyof Values, label: string, help?: string) => (
    <Field name={name} label={label} error={errors[name]} help={help}>
      <input id={name} name={name} value={values[name]} class={inputClass} {...describedBy(name, errors, !!help)} />
    </Field>
  );
  return (
    <>
      <Head>
        <title>Audit trail · Staff</title>
      </Head>
      <p class="text-sm">
        <a href="/admin" class={linkClass}>← Staff</a>
      </p>
      <h1 class="mb-3 text-2xl font-bold leading-tight">Audit trail</h1>
      <div class="space-y-6">
        <Notice problem={Object.keys(errors).length ? "Please correct the fields marked below." : null} />
        <form method="get" action="/admin/audit" class="grid gap-3 rounded-xl bg-gray-50 p-4" aria-label="Search">
          {text("learner", "Learner (email or id)")}
          {text("actor", "Done by (email or id)")}
          {text("session", "Session id")}
          {text("booking", "Booking id")}
          <CourseSelect courses={data.courses} value={values.course} errors={errors} />
          <Field name="origin" label="From where" error={errors.origin}>
            <select id="origin" name="origin" class={inputClass} {...describedBy("origin", errors)}>
              <option value="">Anywhere</option>
              {ORIGINS.map((o) => <option key={o} value={o} selected={values.origin === o}>{o}</option>)}
            </select>
          </Field>
          <DateRange from={values.from} to={values.to} errors={errors} />
          <div class="flex gap-3">
            <button type="submit" class={`flex-1 ${buttonClass}`}>Search</button>
            <a href="/admin/audit" class={secondaryClass}>Clear</a>
          </div>
        </form>
        {page && (
          <section aria-labelledby="results" class="space-y-3">
            <h2 id="results" class="text-xl font-bold">
              {page.entries.length} change{page.entries.length === 1 ? "" : "s"}, newest first
            </h2>
            {page.truncated && (
              <p class="text-base">The search stopped after 5,000 events: narrow the dates or name a learner.</p>
            )}
            {!page.entries.length && !Object.values(values).some(Boolean) && (
              <p class="text-base">
                Nothing was changed here yet: bookings brought in from the earlier system carry their import on the
                booking's own page. Holds, bookings, cancellations and session changes made from now on show here.
              </p>
            )}
            <AuditList entries={page.entries} names={data.names} />
          </section>
        )}
      </div>
    </>
  );
}
