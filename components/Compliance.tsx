/**
 * The compliance matrix pages (/team for managers, /dealer/compliance for dealer admins): people ×
 * required courses with state and date, filters, recommended sessions for each gap with one tap
 * to book for the person, and an assign form. Server-rendered; no JavaScript needed.
 */
import { asDomainError, sameOrigin, signInHref } from "./Journey.tsx";
import type { PageState } from "../lib/auth/page_user.ts";
import type { DomainError } from "../lib/booking/errors.ts";
import { formatDate } from "../lib/compliance/dates.ts";
import {
  type Acting,
  assignCourse,
  bookForPerson,
  type ComplianceMatrix,
  type ComplianceScope,
  getComplianceMatrix,
  type MatrixFilter,
  type MatrixRow,
} from "../lib/compliance/service.ts";
import { type ComplianceCell, STATE_LABELS } from "../lib/compliance/state.ts";
import { formatSessionWhen } from "../lib/catalog/format.ts";
import { ValidationError } from "../lib/domain/validation.ts";
import type { Course, Session, User } from "../lib/domain/mod.ts";
import type { FreshContext, Handlers } from "../lib/fresh/mod.ts";
import { services } from "../lib/services.ts";
import { getSessions, listCourses, listLocations } from "../lib/store/mod.ts";

/** What the page shows. */
export interface ComplianceData {
  here: string;
  title: string;
  /** A sentence instead of the matrix (admins must name whose). */
  prompt: string | null;
  matrix: ComplianceMatrix | null;
  sessions: Record<string, { when: string; where: string }>;
  courses: Pick<Course, "id" | "code" | "title">[];
  notice: string | null;
  problem: string | null;
  /** The assign form's input and its field errors, kept after a refusal. */
  assign: { learnerId: string; courseId: string; dueOn: string; note: string; errors: Record<string, string> };
  /** The scope's query string to keep (admins: whose). */
  keep: string;
  today: string;
}

/** How a page finds its scope for the signed-in person (null: a prompt instead). */
export type ScopeOf = (user: User, url: URL) => { scope: ComplianceScope; acting: Acting; keep: string } | string;

const FILTERS: MatrixFilter[] = ["all", "overdue", "expiring"];

/** People listed with their gaps and recommended sessions, most urgent first. */
const MAX_GAP_PEOPLE = 30;

function filterOf(url: URL): MatrixFilter {
  const f = url.searchParams.get("filter") as MatrixFilter | null;
  return f && FILTERS.includes(f) ? f : "all";
}

async function loadData(
  user: User,
  url: URL,
  here: string,
  title: string,
  scopeOf: ScopeOf,
  extra: Partial<ComplianceData> = {},
): Promise<ComplianceData> {
  const { kv, engine, config } = services();
  const now = engine.now();
  const today = new Intl.DateTimeFormat("en-CA", { timeZone: config.compliance.timeZone }).format(now);
  const base: ComplianceData = {
    here,
    title,
    prompt: null,
    matrix: null,
    sessions: {},
    courses: [],
    notice: null,
    problem: null,
    assign: { learnerId: "", courseId: "", dueOn: "", note: "", errors: {} },
    keep: "",
    today,
    ...extra,
  };
  const found = scopeOf(user, url);
  if (typeof found === "string") return { ...base, prompt: found };
  const [matrix, courses, locations] = await Promise.all([
    getComplianceMatrix(kv, found.scope, filterOf(url), now, config.compliance),
    listCourses(kv),
    listLocations(kv),
  ]);
  const ids = matrix.rows.flatMap((r) => (r.gaps ?? []).flatMap((g) => g.sessions.map((s) => s.sessionId)));
  const sessions: Map<string, Session> = await getSessions(kv, ids);
  const placeName = new Map(locations.map((l) => [l.id, `${l.name}, ${l.address.city}`]));
  const shown: ComplianceData["sessions"] = {};
  for (const s of sessions.values()) {
    shown[s.id] = {
      when: formatSessionWhen(s.startsAt, s.endsAt, s.timeZone),
      where: s.mode === "online" ? "Online" : placeName.get(s.locationId ?? "") ?? "In person",
    };
  }
  return {
    ...base,
    matrix,
    sessions: shown,
    courses: courses.map((c) => ({ id: c.id, code: c.code, title: c.title })),
    keep: found.keep,
  };
}

const DONE: Record<string, string> = {
  booked: "Booked. The seat is in their schedule now, and they can see it under My schedule.",
  assigned: "Assigned. They will see it in their required training.",
};

function bookSentence(e: DomainError): string {
  switch (e.code) {
    case "session_full":
      return "That session filled up just now. Pick another one.";
    case "already_booked":
    case "place_taken":
    case "already_holding":
    case "offer_pending":
    case "already_waitlisted":
      return "They already have a place in that session.";
    case "prerequisites_missing":
      return `They cannot take that session yet: ${e.message}`;
    case "session_started":
    case "session_cancelled":
      return "That session can no longer be booked. Pick another one.";
    case "forbidden":
      return "That person is not on your team, so you cannot book for them.";
    default:
      return "Sorry, that did not work and nothing changed. Please try again.";
  }
}

/** GET and POST handlers of a compliance page. */
export function complianceHandlers(here: string, title: string, scopeOf: ScopeOf): Handlers<ComplianceData, PageState> {
  return {
    async GET(_req, ctx) {
      const user = ctx.state.user!;
      const notice = DONE[ctx.url.searchParams.get("done") ?? ""] ?? null;
      return ctx.render(await loadData(user, ctx.url, here, title, scopeOf, { notice }));
    },
    async POST(req, ctx: FreshContext<PageState, ComplianceData>) {
      if (!sameOrigin(req, ctx.url)) return new Response("Cross-site form refused.", { status: 403 });
      const user = ctx.state.user;
      if (!user) return new Response(null, { status: 303, headers: { location: signInHref(here) } });
      const found = scopeOf(user, ctx.url);
      if (typeof found === "string") {
        return ctx.render(await loadData(user, ctx.url, here, title, scopeOf), { status: 400 });
      }
      const form = await req.formData().catch(() => new FormData());
      const field = (name: string) => String(form.get(name) ?? "").trim();
      const { kv, engine, config } = services();
      const back = (what: string) =>
        new Response(null, {
          status: 303,
          headers: { location: `${here}?${found.keep ? `${found.keep}&` : ""}done=${what}` },
        });
      if (field("intent") === "book") {
        try {
          await bookForPerson(engine, found.acting, field("learner"), field("session"), crypto.randomUUID());
          return back("booked");
        } catch (err) {
          const e = asDomainError(err);
          return ctx.render(
            await loadData(user, ctx.url, here, title, scopeOf, { problem: bookSentence(e) }),
            { status: e.status },
          );
        }
      }
      if (field("intent") === "assign") {
        const input = {
          learnerId: field("learnerId"),
          courseId: field("courseId"),
          dueOn: field("dueOn"),
          note: field("note"),
        };
        const errors: Record<string, string> = {};
        if (!input.learnerId) errors.learnerId = "Choose the person.";
        if (!input.courseId) errors.courseId = "Choose the course.";
        if (!input.dueOn) errors.dueOn = "Enter the date it is due by.";
        let status = 400;
        if (!Object.keys(errors).length) {
          try {
            await assignCourse(kv, found.acting, input, engine.now(), config.compliance);
            return back("assigned");
          } catch (err) {
            if (err instanceof ValidationError) {
              for (const i of err.issues) errors[i.path.split(".").pop() || "note"] = `This ${i.message}.`;
            } else {
              const e = asDomainError(err);
              status = e.status;
              if (e.code === "due_date_past") errors.dueOn = "The due date must be today or later.";
              else if (e.code === "forbidden") errors.learnerId = "That person is not on your team.";
              else if (e.code === "course_not_found") errors.courseId = "That course does not exist.";
              else errors.note = "Sorry, that did not work and nothing changed. Please try again.";
            }
          }
        }
        return ctx.render(
          await loadData(user, ctx.url, here, title, scopeOf, {
            assign: { ...input, errors },
            problem: "The course was not assigned. See the form below.",
          }),
          { status },
        );
      }
      return ctx.render(
        await loadData(user, ctx.url, here, title, scopeOf, { problem: "Sorry, we did not understand that request." }),
        { status: 400 },
      );
    },
  };
}

const STATE_CLASS: Record<ComplianceCell["state"], string> = {
  overdue: "bg-red-100 text-red-900 font-semibold",
  missing: "bg-amber-50 text-amber-900",
  expiring: "bg-yellow-100 text-yellow-900",
  booked: "bg-blue-50 text-blue-900",
  completed: "bg-green-50 text-green-900",
};

/** "Overdue · due 14 Jan 2027", "Expires 3 Feb 2027", "Booked 12 Jan 2027". */
export function cellText(c: ComplianceCell): string {
  const label = STATE_LABELS[c.state];
  if (c.state === "booked" && c.seat) {
    return `${label} ${formatDate(c.seat.startsAt.slice(0, 10))}${c.seat.late ? " (after the due date)" : ""}`;
  }
  if (c.state === "completed") return c.expiresOn ? `${label} · expires ${formatDate(c.expiresOn)}` : label;
  if (c.state === "expiring") return `${label} ${formatDate(c.expiresOn!)}`;
  return c.dueOn ? `${label} · due ${formatDate(c.dueOn)}` : label;
}

function MatrixTable({ id, caption, rows, courses }: {
  id: string;
  caption: string;
  rows: MatrixRow[];
  courses: ComplianceMatrix["courses"];
}) {
  return (
    <div role="region" aria-labelledby={`${id}-caption`} tabIndex={0} class="overflow-x-auto rounded-lg border">
      <table class="min-w-full border-collapse text-sm">
        <caption id={`${id}-caption`} class="p-2 text-left font-semibold">{caption}</caption>
        <thead>
          <tr>
            <th scope="col" class="sticky left-0 bg-white p-2 text-left">Person</th>
            {courses.map((c) => (
              <th key={c.id} scope="col" class="p-2 text-left">
                <abbr title={c.title}>{c.code}</abbr>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const byCourse = new Map(r.cells.map((c) => [c.courseId, c]));
            return (
              <tr key={r.person.id} class="border-t" data-testid="matrix-row">
                <th scope="row" class="sticky left-0 bg-white p-2 text-left font-semibold">{r.person.name}</th>
                {courses.map((c) => {
                  const cell = byCourse.get(c.id);
                  return (
                    <td key={c.id} class={`p-2 ${cell ? STATE_CLASS[cell.state] : ""}`}>
                      {cell ? cellText(cell) : <span class="text-gray-700">Not required</span>}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

const primary = "inline-block rounded-lg bg-blue-800 px-3 py-2 text-sm font-semibold text-white";
const secondary = "inline-block rounded-lg border border-gray-600 bg-white px-3 py-2 text-sm font-semibold";
const input = "mt-1 block w-full rounded-lg border border-gray-600 p-2 text-base";

function Gaps({ data }: { data: ComplianceData }) {
  const m = data.matrix!;
  const title = new Map(data.courses.map((c) => [c.id, c.title]));
  const urgency = (r: MatrixRow) =>
    (r.gaps ?? []).map((g) => `${g.state === "overdue" ? 0 : 1}${g.dueOn ?? "9"}`).sort()[0];
  const withGaps = m.rows.filter((r) => (r.gaps ?? []).length > 0).sort((a, b) => urgency(a) < urgency(b) ? -1 : 1);
  if (!withGaps.length) return <p class="text-base">No gaps with recommended sessions right now.</p>;
  // The most urgent people first; the rest are a filter away (a dealer can have hundreds).
  const rows = withGaps.slice(0, MAX_GAP_PEOPLE);
  return (
    <>
      {withGaps.length > rows.length && (
        <p class="text-sm" data-testid="more-gaps">
          Showing the {rows.length} most urgent of {withGaps.length}{" "}
          people with gaps. Use the filter above to narrow the list.
        </p>
      )}
      <ul class="space-y-4">
        {rows.map((r) => (
          <li key={r.person.id} class="space-y-2 rounded-xl border border-gray-200 p-3" data-testid="gap-person">
            <h3 class="text-base font-semibold">{r.person.name}</h3>
            <ul class="space-y-3">
              {r.gaps!.map((g) => (
                <li key={g.courseId}>
                  <p class="text-sm">
                    <span class="font-semibold">{title.get(g.courseId) ?? g.courseId}</span>: {STATE_LABELS[g.state]}
                    {g.dueOn ? `, due ${formatDate(g.dueOn)}` : ""}
                  </p>
                  {g.missingPrerequisites.length > 0 && (
                    <p class="text-sm">
                      Needs first: {g.missingPrerequisites.map((id) => title.get(id) ?? id).join(", ")}.
                    </p>
                  )}
                  {g.sessions.length === 0 && g.missingPrerequisites.length === 0 && (
                    <p class="text-sm">No open session of this course right now.</p>
                  )}
                  <ul class="mt-1 space-y-2">
                    {g.sessions.map((s) => (
                      <li key={s.sessionId} class="flex flex-wrap items-center gap-2" data-testid="recommended">
                        <span class="text-sm">
                          {data.sessions[s.sessionId]?.when ?? s.startsAt} · {data.sessions[s.sessionId]?.where ?? ""}
                          {" "}
                          ({s.reasons.join(" · ")}
                          {s.late ? " · after the due date" : ""})
                        </span>
                        <form method="post" action={`${data.here}${data.keep ? `?${data.keep}` : ""}`}>
                          <input type="hidden" name="intent" value="book" />
                          <input type="hidden" name="learner" value={r.person.id} />
                          <input type="hidden" name="session" value={s.sessionId} />
                          <button type="submit" class={primary}>
                            Book for {r.person.name.split(" ")[0]}
                          </button>
                        </form>
                      </li>
                    ))}
                  </ul>
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </>
  );
}

function AssignForm({ data }: { data: ComplianceData }) {
  const m = data.matrix!;
  const a = data.assign;
  const err = (name: string) =>
    a.errors[name]
      ? <p id={`${name}-error`} class="mt-1 text-sm font-semibold text-red-800">{a.errors[name]}</p>
      : null;
  const described = (name: string) => a.errors[name] ? `${name}-error` : undefined;
  return (
    <form method="post" action={`${data.here}${data.keep ? `?${data.keep}` : ""}`} class="space-y-3">
      <input type="hidden" name="intent" value="assign" />
      <label class="block text-sm font-semibold">
        Person
        <select name="learnerId" class={input} aria-describedby={described("learnerId")}>
          <option value="">Choose…</option>
          {m.rows.map((r) => (
            <option key={r.person.id} value={r.person.id} selected={a.learnerId === r.person.id}>
              {r.person.name}
            </option>
          ))}
        </select>
      </label>
      {err("learnerId")}
      <label class="block text-sm font-semibold">
        Course
        <select name="courseId" class={input} aria-describedby={described("courseId")}>
          <option value="">Choose…</option>
          {data.courses.map((c) => (
            <option key={c.id} value={c.id} selected={a.courseId === c.id}>{c.code} {c.title}</option>
          ))}
        </select>
      </label>
      {err("courseId")}
      <label class="block text-sm font-semibold">
        Due by
        <input
          type="date"
          name="dueOn"
          min={data.today}
          value={a.dueOn}
          class={input}
          aria-describedby={described("dueOn")}
        />
      </label>
      {err("dueOn")}
      <label class="block text-sm font-semibold">
        Note (optional)
        <textarea name="note" rows={2} maxLength={500} class={input} aria-describedby={described("note")}>
          {a.note}
        </textarea>
      </label>
      {err("note")}
      <button type="submit" class={primary}>Assign</button>
    </form>
  );
}

/** The page body. */
export function ComplianceView({ data, nested }: { data: ComplianceData; nested: boolean }) {
  const m = data.matrix;
  return (
    <>
      <h1 class="mb-3 text-2xl font-bold leading-tight">{data.title}</h1>
      {data.prompt && <p class="text-base">{data.prompt}</p>}
      {data.notice && <p role="status" class="mb-3 rounded-lg bg-green-100 p-3 text-base">{data.notice}</p>}
      {data.problem && (
        <p role="alert" class="mb-3 rounded-lg border-2 border-amber-600 p-3 text-base" data-testid="problem">
          {data.problem}
        </p>
      )}
      {m && (
        <div class="space-y-6">
          <form method="get" action={data.here} class="flex flex-wrap items-end gap-3" aria-label="Filter">
            {data.keep && data.keep.split("&").map((kv) => {
              const [k, v] = kv.split("=");
              return <input key={k} type="hidden" name={k} value={decodeURIComponent(v ?? "")} />;
            })}
            <label class="text-sm font-semibold">
              Show
              <select name="filter" class={input}>
                <option value="all" selected={m.filter === "all"}>Everyone</option>
                <option value="overdue" selected={m.filter === "overdue"}>Only people with overdue training</option>
                <option value="expiring" selected={m.filter === "expiring"}>Only people with expiring training</option>
              </select>
            </label>
            <button type="submit" class={secondary}>Apply</button>
          </form>
          <p class="text-sm" data-testid="counts">
            {m.counts.overdue} overdue · {m.counts.missing} not done · {m.counts.expiring} expiring · {m.counts.booked}
            {" "}
            booked · {m.counts.completed} done
          </p>
          {m.rows.length === 0 || m.courses.length === 0
            ? <p class="text-base">Nobody to show{m.filter === "all" ? "" : " with this filter"}.</p>
            : nested
            ? <NestedMatrix m={m} />
            : (
              <MatrixTable id="people" caption="People and their required training" rows={m.rows} courses={m.courses} />
            )}
          <section aria-labelledby="gaps" class="space-y-3">
            <h2 id="gaps" class="text-xl font-bold">Gaps and recommended sessions</h2>
            <p class="text-sm">
              Booking for someone makes a confirmed booking in their name; they see it in My schedule and can cancel it.
            </p>
            <Gaps data={data} />
          </section>
          <section aria-labelledby="assign" class="space-y-3">
            <h2 id="assign" class="text-xl font-bold">Assign a course</h2>
            <AssignForm data={data} />
          </section>
        </div>
      )}
    </>
  );
}

/** Direct reports in one table; each one's own reports below, collapsible. */
function NestedMatrix({ m }: { m: ComplianceMatrix }) {
  const direct = m.rows.filter((r) => r.level === 0);
  const below = (id: string) => m.rows.filter((r) => r.level === 1 && r.person.managerId === id);
  return (
    <div class="space-y-3">
      <MatrixTable id="direct" caption="Your direct reports" rows={direct} courses={m.courses} />
      {direct.filter((d) => below(d.person.id).length > 0).map((d) => {
        const rows = below(d.person.id);
        const overdue = rows.filter((r) => r.cells.some((c) => c.state === "overdue")).length;
        return (
          <details key={d.person.id} class="rounded-lg border border-gray-200 p-2" data-testid="sub-team">
            <summary class="cursor-pointer text-base font-semibold">
              {d.person.name}'s team ({rows.length} {rows.length === 1 ? "person" : "people"}
              {overdue ? `, ${overdue} with overdue training` : ""})
            </summary>
            <div class="mt-2">
              <MatrixTable
                id={`team-${d.person.id}`}
                caption={`${d.person.name}'s team`}
                rows={rows}
                courses={m.courses}
              />
            </div>
          </details>
        );
      })}
    </div>
  );
}
