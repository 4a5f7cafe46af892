import { type AccessRule, ADMIN_ONLY } from "../../lib/access/matrix.ts";
import {
  buttonClass,
  describedBy,
  Field,
  inputClass,
  linkClass,
  Notice,
  staffActor,
} from "../../components/admin/AdminUi.tsx";
import { Section, When } from "../../components/admin/CalcomOps.tsx";
import { sameOrigin } from "../../components/Journey.tsx";
import {
  formText,
  OVERRIDE_FIELDS,
  type OverrideField,
  parseOverridesForm,
  parseRulesForm,
  RULE_FIELDS,
  type RuleErrors,
  type RuleValues,
  valuesOfRules,
} from "../../lib/admin/rules_form.ts";
import type { PageState } from "../../lib/auth/page_user.ts";
import { DomainError } from "../../lib/booking/errors.ts";
import {
  type CourseRulesDoc,
  getRules,
  listCourseRules,
  listRulesAudit,
  ruleDefaultsOf,
  type RulesAuditEntry,
  saveCourseRules,
  saveRules,
} from "../../lib/booking/rules.ts";
import type { Course } from "../../lib/domain/mod.ts";
import { type FreshContext, type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { services } from "../../lib/services.ts";
import { getUsers, listCourses } from "../../lib/store/mod.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = ADMIN_ONLY;

const LABELS: Record<string, [string, string]> = {
  holdMinutes: ["Hold length (minutes)", "How long a held seat is kept before it is released."],
  maxLiveHolds: ["Live holds per learner", "Seats one learner may hold at once."],
  offerHours: ["Waitlist offer (hours)", "How long a learner has to take a seat offered from the waitlist."],
  offerHoursNearStart: ["Offer near the start (hours)", "The same when the session starts within 48 hours."],
  cancelCutoffHours: ["Late-cancel cut-off (hours)", "For courses that set none; each course can set its own."],
  checkInWindowMinutes: [
    "Check-in opens (minutes before)",
    "When learners may check in and instructors may mark attendance. Applies at once.",
  ],
  reminderHours: [
    "Reminders (hours before)",
    "Comma-separated, like 168, 24, 1. Bookings made after a change follow it; reminders already planned keep their times.",
  ],
};

type OverrideValues = Record<OverrideField, string> & { course: string };

interface Data {
  version: string | null;
  values: RuleValues;
  errors: RuleErrors;
  reason: string;
  courses: Course[];
  overrides: CourseRulesDoc[];
  overrideValues: OverrideValues;
  overrideErrors: Partial<Record<OverrideField | "course", string>>;
  audit: RulesAuditEntry[];
  /** Names of the people who changed rules, by id. */
  names: Record<string, string>;
  notice: string | null;
  problem: string | null;
}

type Ctx = FreshContext<PageState, Data>;

const NO_OVERRIDES: OverrideValues = {
  course: "",
  holdMinutes: "",
  offerHours: "",
  offerHoursNearStart: "",
  reminderHours: "",
};

async function render(ctx: Ctx, over: Partial<Data>, status = 200) {
  const { kv, config } = services();
  const [global, courses, overrides, audit] = await Promise.all([
    getRules(kv, ruleDefaultsOf(config)),
    listCourses(kv),
    listCourseRules(kv),
    listRulesAudit(kv, 30),
  ]);
  const users = await getUsers(kv, [...new Set(audit.flatMap((a) => a.actorId ? [a.actorId] : []))]);
  return ctx.render({
    names: Object.fromEntries([...users.values()].map((u) => [u.id, u.name])),
    version: global.version,
    values: valuesOfRules(global.rules),
    errors: {},
    reason: "",
    courses,
    overrides,
    overrideValues: NO_OVERRIDES,
    overrideErrors: {},
    audit,
    notice: ctx.url.searchParams.get("done") === "saved"
      ? "Saved. New holds, offers, check-ins and bookings' reminders follow the new rules."
      : null,
    problem: null,
    ...over,
  }, { status });
}

const saved = () => new Response(null, { status: 303, headers: { location: "/admin/rules?done=saved" } });

export const handler: Handlers<Data, PageState> = {
  GET(_req, ctx) {
    return render(ctx, {});
  },
  async POST(req, ctx) {
    if (!sameOrigin(req, ctx.url)) return new Response("Cross-site form refused.", { status: 403 });
    const { kv, engine, config } = services();
    const form = await req.formData().catch(() => new FormData());
    const reason = String(form.get("reason") ?? "").trim().slice(0, 500);
    const actor = staffActor(ctx.state.user!, reason || null);
    try {
      if (form.get("intent") === "course") {
        const v = { ...formText(form, OVERRIDE_FIELDS), course: String(form.get("course") ?? "") };
        const course = (await listCourses(kv)).find((c) => c.id === v.course);
        const parsed = parseOverridesForm(v);
        if (!course || !parsed.overrides) {
          const errors = { ...(parsed.errors ?? {}), ...(course ? {} : { course: "Choose a course." }) };
          return render(ctx, { overrideValues: v, overrideErrors: errors, problem: "Nothing was saved." }, 400);
        }
        await saveCourseRules(kv, course.id, parsed.overrides, actor, { now: engine.now() });
        return saved();
      }
      const values = formText(form, RULE_FIELDS);
      const parsed = parseRulesForm(values);
      if (!parsed.rules) {
        return render(ctx, { values, errors: parsed.errors, reason, problem: "Nothing was saved." }, 400);
      }
      const version = String(form.get("version") ?? "");
      await saveRules(kv, parsed.rules, actor, {
        ifVersion: version || null,
        now: engine.now(),
        defaults: ruleDefaultsOf(config),
      });
      return saved();
    } catch (err) {
      if (err instanceof DomainError && err.code === "stale_edit") return render(ctx, { problem: err.message }, 409);
      throw err;
    }
  },
};

function changesText(e: RulesAuditEntry): string {
  return Object.entries(e.changes).map(([k, c]) => `${k} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`)
    .join("; ");
}

/** Business rules: global values, per-course overrides, and who changed what. */
export default function RulesPage({ data }: PageProps<Data, PageState>) {
  const e = data.errors as Record<string, string>;
  const oe = data.overrideErrors as Record<string, string>;
  const byId = new Map(data.courses.map((c) => [c.id, c]));
  return (
    <>
      <Head>
        <title>Rules · Staff</title>
      </Head>
      <p class="text-sm">
        <a href="/admin" class={linkClass}>← Staff</a>
      </p>
      <h1 class="mb-3 text-2xl font-bold leading-tight">Rules</h1>
      <div class="space-y-8">
        <Notice notice={data.notice} problem={data.problem} />
        <p class="text-base">
          Changes apply to new actions only: seats held and offers made keep their time, reminders already planned keep
          theirs.
        </p>
        <Section id="global" title="For every course">
          <form method="post" action="/admin/rules" class="grid gap-4 rounded-xl bg-gray-50 p-4" novalidate>
            <input type="hidden" name="intent" value="global" />
            <input type="hidden" name="version" value={data.version ?? ""} />
            {RULE_FIELDS.map((f) => (
              <Field key={f} name={f} label={LABELS[f][0]} help={LABELS[f][1]} error={e[f]}>
                <input id={f} name={f} value={data.values[f]} class={inputClass} {...describedBy(f, e, true)} />
              </Field>
            ))}
            <Field name="reason" label="Why (kept with the change)">
              <input id="reason" name="reason" value={data.reason} class={inputClass} />
            </Field>
            <button type="submit" class={buttonClass}>Save rules</button>
          </form>
        </Section>
        <Section id="courses" title="Per course">
          {data.overrides.length
            ? (
              <ul class="space-y-1 text-base" data-testid="overrides">
                {data.overrides.map((o) => (
                  <li key={o.courseId}>
                    {byId.get(o.courseId)?.code ?? o.courseId}:{" "}
                    {Object.entries(o.overrides).map(([k, v]) =>
                      `${LABELS[k][0]} ${Array.isArray(v) ? (v.length ? v.join(", ") : "none") : v}`
                    ).join("; ")}
                  </li>
                ))}
              </ul>
            )
            : <p class="text-base">No course has its own rules.</p>}
          <form method="post" action="/admin/rules" class="grid gap-4 rounded-xl bg-gray-50 p-4" novalidate>
            <input type="hidden" name="intent" value="course" />
            <Field name="course" label="Course" error={oe.course}>
              <select id="course" name="course" class={inputClass} {...describedBy("course", oe)}>
                <option value="">Choose a course</option>
                {data.courses.map((c) => (
                  <option key={c.id} value={c.id} selected={data.overrideValues.course === c.id}>
                    {c.code} {c.title}
                  </option>
                ))}
              </select>
            </Field>
            {OVERRIDE_FIELDS.map((f) => (
              <Field
                key={f}
                name={`o-${f}`}
                label={`${LABELS[f][0]}, empty: as above${f === "reminderHours" ? ", none: no reminders" : ""}`}
                error={oe[f]}
              >
                <input
                  id={`o-${f}`}
                  name={f}
                  value={data.overrideValues[f]}
                  class={inputClass}
                  {...describedBy(`o-${f}`, oe[f] ? { [`o-${f}`]: oe[f] } : {})}
                />
              </Field>
            ))}
            <Field name="o-reason" label="Why (kept with the change)">
              <input id="o-reason" name="reason" class={inputClass} />
            </Field>
            <button type="submit" class={buttonClass}>Save course rules</button>
          </form>
        </Section>
        <Section id="changes" title="Changes, newest first">
          {data.audit.length
            ? (
              <ol class="space-y-2" data-testid="rules-audit">
                {data.audit.map((a) => (
                  <li key={a.key} class="rounded-xl border border-gray-200 p-3 text-sm">
                    <When at={a.at} /> ·{" "}
                    {a.scope.startsWith("course:") ? byId.get(a.scope.slice(7))?.code ?? a.scope : "every course"} · by
                    {" "}
                    {a.actorId ? data.names[a.actorId] ?? a.actorId : "the admin token"} · {a.origin}
                    <p class="break-words">{changesText(a)}</p>
                    {a.reason && <p>Why: {a.reason}</p>}
                  </li>
                ))}
              </ol>
            )
            : <p class="text-base">No change yet: the defaults apply.</p>}
        </Section>
      </div>
    </>
  );
}
