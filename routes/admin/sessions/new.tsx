import { type AccessRule, ADMIN_ONLY } from "../../../lib/access/matrix.ts";
import { linkClass, Notice, staffActor } from "../../../components/admin/AdminUi.tsx";
import { SessionForm } from "../../../components/admin/SessionForm.tsx";
import { sameOrigin } from "../../../components/Journey.tsx";
import { scheduleSessionFromForm, type SessionFormChoices, sessionFormChoices } from "../../../lib/admin/sessions.ts";
import { type SessionFormErrors, type SessionFormValues, sessionFormValues } from "../../../lib/admin/session_form.ts";
import type { PageState } from "../../../lib/auth/page_user.ts";
import { type Handlers, Head, type PageProps } from "../../../lib/fresh/mod.ts";
import { services } from "../../../lib/services.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = ADMIN_ONLY;

interface Data {
  values: SessionFormValues;
  errors: SessionFormErrors;
  problem: string | null;
  choices: SessionFormChoices;
}

const BLANK: SessionFormValues = {
  course: "",
  mode: "in_person",
  location: "",
  timeZone: "",
  date: "",
  start: "09:00",
  end: "12:00",
  capacity: "12",
  instructor: "",
  waitlist: "on",
  joinUrl: "",
  holdMinutes: "",
  cutoffHours: "",
  reason: "",
};

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const choices = await sessionFormChoices(services().kv);
    return ctx.render({ values: BLANK, errors: {}, problem: null, choices });
  },
  async POST(req, ctx) {
    if (!sameOrigin(req, ctx.url)) return new Response("Cross-site form refused.", { status: 403 });
    const values = sessionFormValues(await req.formData().catch(() => new FormData()));
    const actor = staffActor(ctx.state.user!, values.reason || null);
    const out = await scheduleSessionFromForm(services().engine, values, actor);
    if (out.ok) {
      return new Response(null, {
        status: 303,
        headers: { location: `/admin/sessions/${out.session.id}?done=created` },
      });
    }
    const choices = await sessionFormChoices(services().kv);
    return ctx.render({ values, errors: out.errors, problem: out.problem, choices }, { status: 400 });
  },
};

/** Schedule a session. */
export default function NewSession({ data }: PageProps<Data, PageState>) {
  const failed = Object.keys(data.errors).length > 0;
  return (
    <>
      <Head>
        <title>Schedule a session · Staff</title>
      </Head>
      <p class="text-sm">
        <a href="/admin/sessions" class={linkClass}>← Sessions</a>
      </p>
      <h1 class="mb-3 text-2xl font-bold leading-tight">Schedule a session</h1>
      <div class="space-y-4">
        <Notice
          problem={data.problem ?? (failed ? "Nothing was saved. Please correct the fields marked below." : null)}
        />
        <SessionForm
          action="/admin/sessions/new"
          values={data.values}
          errors={data.errors}
          choices={data.choices}
          submitLabel="Schedule"
        />
      </div>
    </>
  );
}
