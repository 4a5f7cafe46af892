/**
 * The reports page (admins at /admin/reports, dealer admins at /dealer/reports or /admin/reports,
 * always their own dealer's slice): a GET filter form, KPI figures beside their targets, and each
 * report as an SVG chart with its table and a CSV link. No JavaScript.
 */
import { formatZodIssues } from "../../lib/domain/validation.ts";
import type { User } from "../../lib/domain/user.ts";
import { ReportFiltersSchema, withoutEmpty } from "../../lib/reports/model.ts";
import { buildReport, KPI_TARGETS, type Report } from "../../lib/reports/query.ts";
import { scopeReportFilters } from "../../lib/reports/scope.ts";
import { percent, reportTables, type Section, SECTIONS, tableCsv } from "../../lib/reports/tables.ts";
import { BarChart, DataTable } from "./Charts.tsx";

/** What the page shows. */
export interface ReportPageData {
  /** The page's own path (form action, CSV links). */
  base: string;
  /** What was typed (kept on errors). */
  input: Record<string, string>;
  /** Field errors by filter name. */
  errors: Record<string, string>;
  report: Report | null;
  /** The dealer is fixed by the viewer's role (dealer admins). */
  fixedDealer: boolean;
  /** A refusal sentence (403). */
  refused: string | null;
}

const FIELDS = ["from", "to", "courseId", "topic", "locationId", "instructorId", "dealerId"] as const;

/** The query's filters, kept as typed. */
function inputOf(url: URL): Record<string, string> {
  return Object.fromEntries(FIELDS.map((f) => [f, url.searchParams.get(f) ?? ""]));
}

/** Parses, scopes and runs the report; the page renders the result with its status. */
export async function loadReportPage(
  kv: Deno.Kv,
  base: string,
  url: URL,
  user: User,
): Promise<{ status: number; data: ReportPageData }> {
  const input = inputOf(url);
  const data: ReportPageData = { base, input, errors: {}, report: null, fixedDealer: false, refused: null };
  const parsed = ReportFiltersSchema.safeParse(withoutEmpty(input));
  if (!parsed.success) {
    for (const i of formatZodIssues(parsed.error.issues)) data.errors[i.path || "from"] ??= i.message;
    return { status: 400, data };
  }
  const scoped = scopeReportFilters(user, parsed.data);
  if (!scoped.ok) return { status: 403, data: { ...data, refused: scoped.message } };
  data.fixedDealer = scoped.fixedDealer;
  data.report = await buildReport(kv, scoped.filters);
  return { status: 200, data };
}

/** The CSV of one section for the same query, or the reason it cannot be made. */
export async function loadReportCsv(
  kv: Deno.Kv,
  url: URL,
  user: User,
): Promise<Response> {
  const section = url.searchParams.get("section") ?? "";
  if (!(SECTIONS as readonly string[]).includes(section)) {
    return new Response(`Choose a section: ${SECTIONS.join(", ")}.`, { status: 400 });
  }
  const parsed = ReportFiltersSchema.safeParse(withoutEmpty(inputOf(url)));
  if (!parsed.success) {
    const text = formatZodIssues(parsed.error.issues).map((i) => `${i.path}: ${i.message}`).join("; ");
    return new Response(`Invalid filters: ${text}`, { status: 400 });
  }
  const scoped = scopeReportFilters(user, parsed.data);
  if (!scoped.ok) return new Response(scoped.message, { status: 403 });
  const report = await buildReport(kv, scoped.filters);
  const csv = tableCsv(reportTables(report)[section as Section]);
  return new Response(csv, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="report-${section}.csv"`,
      "cache-control": "private, no-store",
    },
  });
}

const field = "mt-1 block w-full rounded-lg border border-gray-400 bg-white px-3 py-2 text-base text-gray-900 " +
  "focus:outline-none focus:ring-4 focus:ring-blue-600";
const label = "block text-sm font-medium text-gray-800";
const link =
  "font-semibold text-blue-800 underline focus:outline-none focus-visible:ring-4 focus-visible:ring-blue-600";

function Select(
  { name, text, any, options, data }: {
    name: string;
    text: string;
    any: string;
    options: { id: string; label: string }[];
    data: ReportPageData;
  },
) {
  const value = data.input[name];
  const err = data.errors[name];
  // A chosen value not among this period's options stays selectable (the form keeps what was typed).
  const all = value && !options.some((o) => o.id === value) ? [...options, { id: value, label: value }] : options;
  return (
    <div>
      <label for={`f-${name}`} class={label}>{text}</label>
      <select
        id={`f-${name}`}
        name={name}
        class={field}
        aria-invalid={err ? "true" : undefined}
        aria-describedby={err ? `f-${name}-error` : undefined}
      >
        <option value="">{any}</option>
        {all.map((o) => <option key={o.id} value={o.id} selected={o.id === value}>{o.label}</option>)}
      </select>
      {err && <p id={`f-${name}-error`} class="mt-1 text-sm font-semibold text-red-800">{err}</p>}
    </div>
  );
}

function DateField({ name, text, data }: { name: "from" | "to"; text: string; data: ReportPageData }) {
  const err = data.errors[name];
  return (
    <div>
      <label for={`f-${name}`} class={label}>{text}</label>
      <input
        id={`f-${name}`}
        name={name}
        type="date"
        value={data.input[name]}
        class={field}
        aria-invalid={err ? "true" : undefined}
        aria-describedby={err ? `f-${name}-error` : undefined}
      />
      {err && <p id={`f-${name}-error`} class="mt-1 text-sm font-semibold text-red-800">{err}</p>}
    </div>
  );
}

function Filters({ data }: { data: ReportPageData }) {
  const o = data.report?.options;
  return (
    <form
      method="get"
      action={data.base}
      class="grid grid-cols-2 gap-3 rounded-xl bg-gray-50 p-4"
      aria-label="Report filters"
    >
      <DateField name="from" text="Sessions from" data={data} />
      <DateField name="to" text="Sessions to" data={data} />
      <div class="col-span-2">
        <Select name="courseId" text="Course" any="Any course" options={o?.courses ?? []} data={data} />
      </div>
      <Select name="topic" text="Topic" any="Any topic" options={o?.topics ?? []} data={data} />
      <Select name="locationId" text="Location" any="Any location" options={o?.locations ?? []} data={data} />
      <div class="col-span-2">
        <Select name="instructorId" text="Instructor" any="Any instructor" options={o?.instructors ?? []} data={data} />
      </div>
      {!data.fixedDealer && (
        <div class="col-span-2">
          <Select name="dealerId" text="Dealer" any="All dealers" options={o?.dealers ?? []} data={data} />
        </div>
      )}
      <div class="col-span-2">
        <button
          type="submit"
          class="rounded-lg bg-blue-800 px-4 py-2 text-base font-semibold text-white focus:outline-none focus-visible:ring-4 focus-visible:ring-blue-300"
        >
          Show reports
        </button>
      </div>
    </form>
  );
}

/** One KPI: the figure, its target, and whether it is met (in words, not only colour). */
function Kpi({ name, value, target, met }: { name: string; value: string; target: string; met: boolean | null }) {
  return (
    <div class="rounded-xl border border-gray-300 p-3">
      <dt class="text-sm text-gray-800">{name}</dt>
      <dd class="text-2xl font-bold tabular-nums">{value}</dd>
      <dd class="text-sm text-gray-800">
        Target {target}:{" "}
        <span
          class={met === null
            ? "font-semibold text-gray-800"
            : met
            ? "font-semibold text-green-800"
            : "font-semibold text-red-800"}
        >
          {met === null ? "no data yet" : met ? "met" : "not met"}
        </span>
      </dd>
    </div>
  );
}

function csvHref(data: ReportPageData, section: Section): string {
  const q = new URLSearchParams(Object.entries(data.input).filter(([, v]) => v));
  q.set("section", section);
  return `${data.base}.csv?${q}`;
}

function ReportSection(
  { id, title, data, section, children }: {
    id: string;
    title: string;
    data: ReportPageData;
    section: Section;
    children: preact.ComponentChildren;
  },
) {
  const table = reportTables(data.report!)[section];
  return (
    <section aria-labelledby={id} class="space-y-3 border-t border-gray-200 pt-4">
      <h2 id={id} class="text-xl font-bold">{title}</h2>
      {children}
      <DataTable table={table} />
      <p>
        <a href={csvHref(data, section)} class={link}>Download “{title}” as CSV</a>
      </p>
    </section>
  );
}

const rateBar = (label: string, r: number | null) => ({ label, value: r ?? 0, text: percent(r) });
const countBar = (label: string, n: number) => ({ label, value: n, text: String(n) });

/** The page body. */
export function ReportView({ data, dealerName }: { data: ReportPageData; dealerName?: string | null }) {
  const r = data.report;
  return (
    <div class="space-y-6">
      <h1 class="text-2xl font-bold">Reports{dealerName ? `: ${dealerName}` : ""}</h1>
      {data.refused && <p class="rounded-lg bg-red-50 p-3 font-semibold text-red-800">{data.refused}</p>}
      {!data.refused && <Filters data={data} />}
      {Object.keys(data.errors).length > 0 && (
        <p class="font-semibold text-red-800" role="alert">Please correct the filters marked above.</p>
      )}
      {r && (
        <>
          <p class="text-sm text-gray-800">
            {r.sessions} session{r.sessions === 1 ? "" : "s"} in these filters, {r.totals.bookings}{" "}
            bookings. Figures follow each session's start day (UTC). Built in {r.tookMs}{" "}
            ms{r.cached ? " (from cache)" : ""}.
          </p>
          <dl class="grid grid-cols-1 gap-3 sm:grid-cols-2">
            <Kpi
              name="Registration completion (holds booked per hold)"
              value={percent(r.funnel.completionRate)}
              target={KPI_TARGETS.registrationCompletion.label}
              met={r.funnel.completionRate === null
                ? null
                : KPI_TARGETS.registrationCompletion.ok(r.funnel.completionRate)}
            />
            <Kpi
              name="Alternative acceptance"
              value={percent(r.alternatives.rate)}
              target={KPI_TARGETS.alternativeAcceptance.label}
              met={r.alternatives.rate === null ? null : KPI_TARGETS.alternativeAcceptance.ok(r.alternatives.rate)}
            />
            <Kpi
              name="No-show rate"
              value={percent(r.noShows.rate)}
              target={KPI_TARGETS.noShowRate.label}
              met={r.noShows.rate === null ? null : KPI_TARGETS.noShowRate.ok(r.noShows.rate)}
            />
            <Kpi
              name="Report generation"
              value={`${r.tookMs} ms`}
              target={KPI_TARGETS.reportGeneration.label}
              met={KPI_TARGETS.reportGeneration.ok(r.tookMs)}
            />
          </dl>
          <ReportSection id="no-shows" title="No-shows" data={data} section="no-shows">
            <BarChart
              id="chart-no-shows"
              title="Attendance recorded"
              bars={[
                countBar("Attended", r.totals.attended),
                countBar("No-shows", r.totals.noShows),
                countBar("Excused", r.totals.excused),
              ]}
            />
          </ReportSection>
          <ReportSection id="late-cancellations" title="Late cancellations" data={data} section="late-cancellations">
            <BarChart
              id="chart-late"
              title="Bookings and cancellations"
              bars={[
                countBar("Bookings", r.totals.bookings),
                countBar("Cancellations", r.totals.cancels),
                countBar("Late cancellations", r.totals.lateCancels),
              ]}
            />
          </ReportSection>
          <ReportSection id="funnel" title="Registration funnel" data={data} section="funnel">
            <BarChart
              id="chart-funnel"
              title="Registration funnel"
              bars={[
                countBar("Session views", r.funnel.views),
                countBar("Holds", r.funnel.holds),
                countBar("Holds booked", r.funnel.holdsConfirmed),
                countBar("Expired holds", r.funnel.holdsExpired),
                countBar("Released holds", r.funnel.holdsReleased),
              ]}
            />
          </ReportSection>
          <ReportSection id="alternatives" title="Alternative acceptance" data={data} section="alternatives">
            <BarChart
              id="chart-alternatives"
              title="Alternative acceptance rate"
              max={1}
              target={{ value: 0.6, label: KPI_TARGETS.alternativeAcceptance.label }}
              bars={[rateBar("Booked an alternative within 24 h", r.alternatives.rate)]}
            />
          </ReportSection>
          <ReportSection id="waitlist" title="Waitlist" data={data} section="waitlist">
            <BarChart
              id="chart-waitlist"
              title="Waitlist"
              bars={[
                countBar("Joins", r.waitlist.joins),
                countBar("Offers", r.waitlist.offers),
                countBar("Accepted offers", r.waitlist.accepted),
                countBar("Lapsed offers", r.waitlist.lapsed),
                countBar("Declined offers", r.waitlist.declined),
              ]}
            />
          </ReportSection>
          <ReportSection id="courses" title="Completion and fill rate per course" data={data} section="courses">
            <BarChart
              id="chart-course-completion"
              title="Completion rate per course"
              max={1}
              bars={r.byCourse.map((l) => rateBar(l.label, l.completionRate))}
            />
            <BarChart
              id="chart-course-fill"
              title="Fill rate per course"
              max={1}
              bars={r.byCourse.map((l) => rateBar(l.label, l.fillRate))}
            />
          </ReportSection>
          <ReportSection id="locations" title="Completion and fill rate per location" data={data} section="locations">
            <BarChart
              id="chart-location-completion"
              title="Completion rate per location"
              max={1}
              bars={r.byLocation.map((l) => rateBar(l.label, l.completionRate))}
            />
            <BarChart
              id="chart-location-fill"
              title="Fill rate per location"
              max={1}
              bars={r.byLocation.map((l) => rateBar(l.label, l.fillRate))}
            />
          </ReportSection>
        </>
      )}
    </div>
  );
}
