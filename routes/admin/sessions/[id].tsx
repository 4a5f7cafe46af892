import { type AccessRule, ADMIN_ONLY } from "../../../lib/access/matrix.ts";
import {
  AuditList,
  buttonClass,
  describedBy,
  Field,
  inputClass,
  linkClass,
  Notice,
  staffActor,
} from "../../../components/admin/AdminUi.tsx";
import { Section } from "../../../components/admin/CalcomOps.tsx";
import { SessionForm } from "../../../components/admin/SessionForm.tsx";
import { sameOrigin } from "../../../components/Journey.tsx";
import {
  cancelSessionFromForm,
  findSession,
  type SessionFormChoices,
  sessionFormChoices,
  type StaffSessionView,
  staffSessionView,
  updateSessionFromForm,
} from "../../../lib/admin/sessions.ts";
import {
  type SessionFormErrors,
  type SessionFormValues,
  sessionFormValues,
  valuesOfSession,
} from "../../../lib/admin/session_form.ts";
import type { PageState } from "../../../lib/auth/page_user.ts";
import { formatSessionWhen } from "../../../lib/catalog/format.ts";
import type { Session } from "../../../lib/domain/mod.ts";
import { type FreshContext, type Handlers, Head, type PageProps } from "../../../lib/fresh/mod.ts";
import { services } from "../../../lib/services.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = ADMIN_ONLY;

const DONE: Record<string, string> = {
  created: "Session scheduled.",
  saved: "Changes saved.",
  cancelled: "Session cancelled. Everyone booked, holding a seat or waiting was cancelled and notified.",
};

interface Data {
  view: StaffSessionView;
  choices: SessionFormChoices;
  values: SessionFormValues;
  errors: SessionFormErrors;
  /** The version the edit form carries (the session's updatedAt as shown). */
  version: string;
  notice: string | null;
  problem: string | null;
  cancelReason: string;
  cancelProblem: string | null;
}

type Ctx = FreshContext<PageState, Data>;

async function render(ctx: Ctx, session: Session, over: Partial<Data>, status = 200): Promise<Response> {
  const { kv, engine } = services();
  const [view, choices] = await Promise.all([staffSessionView(kv, session, engine.now()), sessionFormChoices(kv)]);
  return ctx.render({
    view,
    choices,
    values: valuesOfSession(session),
    errors: {},
    version: session.updatedAt,
    notice: null,
    problem: null,
    cancelReason: "",
    cancelProblem: null,
    ...over,
  }, { status });
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const session = await findSession(services().kv, ctx.params.id);
    if (!session) return ctx.renderNotFound();
    return render(ctx, session, { notice: DONE[ctx.url.searchParams.get("done") ?? ""] ?? null });
  },
  async POST(req, ctx) {
    if (!sameOrigin(req, ctx.url)) return new Response("Cross-site form refused.", { status: 403 });
    const { kv, engine } = services();
    const session = await findSession(kv, ctx.params.id);
    if (!session) return ctx.renderNotFound();
    const form = await req.formData().catch(() => new FormData());
    const user = ctx.state.user!;
    const here = `/admin/sessions/${session.id}`;
    if (form.get("intent") === "cancel") {
      const reason = String(form.get("cancelReason") ?? "").trim();
      const out = await cancelSessionFromForm(engine, session, reason, staffActor(user, reason));
      if (out.ok) return new Response(null, { status: 303, headers: { location: `${here}?done=cancelled` } });
      const latest = await findSession(kv, session.id) ?? session;
      return render(ctx, latest, { cancelReason: reason, cancelProblem: out.problem }, 400);
    }
    const values = sessionFormValues(form);
    const version = String(form.get("version") ?? "");
    const out = await updateSessionFromForm(engine, session, values, version, staffActor(user, values.reason || null));
    if (out.ok) return new Response(null, { status: 303, headers: { location: `${here}?done=saved` } });
    if (out.current) {
      // Stale: show what the session is now; the edit must be made again on top of it.
      return render(ctx, out.current, { problem: out.problem }, 409);
    }
    const failed = Object.keys(out.errors).length > 0;
    return render(ctx, session, {
      values,
      errors: out.errors,
      problem: out.problem ?? (failed ? "Nothing was saved. Please correct the fields marked below." : null),
    }, failed && out.errors.capacity ? 409 : 400);
  },
};

/** One session for staff: seats, change, cancel, bookings and its audit trail. */
export default function StaffSession({ data }: PageProps<Data, PageState>) {
  const { view, values, errors } = data;
  const { session: s, course, location, availability: a } = view.row;
  const title = course ? `${course.code} ${course.title}` : s.courseId;
  const here = `/admin/sessions/${s.id}`;
  const live = s.status === "scheduled";
  return (
    <>
      <Head>
        <title>{title} · Staff</title>
      </Head>
      <p class="text-sm">
        <a href="/admin/sessions" class={linkClass}>← Sessions</a>
      </p>
      <h1 class="mb-3 text-2xl font-bold leading-tight">{title}</h1>
      <div class="space-y-8">
        <Notice notice={data.notice} problem={data.problem} />
        <section aria-labelledby="summary" class="space-y-1 text-base" data-testid="summary">
          <h2 id="summary" class="sr-only">Summary</h2>
          <p>{formatSessionWhen(s.startsAt, s.endsAt, s.timeZone)}</p>
          <p>{location ? `${location.name}, ${location.address.city}` : "Online"}</p>
          <p data-testid="seats">
            {live ? `${a.taken} of ${s.capacity} seats taken, ${a.waiting} waiting` : <strong>Cancelled</strong>}
          </p>
          <p>
            <a href={`/sessions/${s.id}`} class={linkClass}>Public page</a>
          </p>
        </section>
        {live && (
          <Section id="change" title="Change">
            <SessionForm
              action={here}
              values={values}
              errors={errors}
              choices={data.choices}
              version={data.version}
              courseLocked={title}
              submitLabel="Save changes"
            />
          </Section>
        )}
        {live && (
          <Section id="cancel" title="Cancel this session">
            <form method="post" action={here} class="grid gap-3 rounded-xl border-2 border-red-700 p-4">
              <input type="hidden" name="intent" value="cancel" />
              <p class="text-base">
                Every booking, hold, offer and waitlist place is cancelled; each learner is notified.
              </p>
              <Field name="cancelReason" label="Reason (learners are told)" error={data.cancelProblem ?? undefined}>
                <input
                  id="cancelReason"
                  name="cancelReason"
                  value={data.cancelReason}
                  class={inputClass}
                  {...describedBy("cancelReason", data.cancelProblem ? { cancelReason: data.cancelProblem } : {})}
                />
              </Field>
              <button type="submit" class={`bg-red-800 ${buttonClass.replace("bg-blue-800", "")}`}>
                Cancel the session
              </button>
            </form>
          </Section>
        )}
        <Section id="bookings" title={`Bookings (${view.bookings.length})`}>
          {view.bookings.length
            ? (
              <ul class="space-y-2" data-testid="bookings">
                {view.bookings.map((b) => (
                  <li key={b.id} class="text-base">
                    <a href={`/bookings/${b.id}`} class={linkClass}>{view.names[b.learnerId] ?? b.learnerId}</a>{" "}
                    {b.status}
                  </li>
                ))}
              </ul>
            )
            : <p class="text-base">No bookings yet.</p>}
        </Section>
        <Section id="history" title="History, newest first">
          <AuditList entries={view.history} names={view.names} />
        </Section>
      </div>
    </>
  );
}
