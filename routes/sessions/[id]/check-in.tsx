import { type AccessRule, SELF } from "../../../lib/access/matrix.ts";
import { asDomainError, sameOrigin, signInHref, webActor } from "../../../components/Journey.tsx";
import { attendanceSentence } from "../../../components/Teach.tsx";
import { selfCheckIn } from "../../../lib/attendance/marks.ts";
import { attendanceSettingsOf } from "../../../lib/attendance/windows.ts";
import type { PageState } from "../../../lib/auth/page_user.ts";
import { formatSessionWhen, formatTime, formatZone } from "../../../lib/catalog/format.ts";
import type { Session } from "../../../lib/domain/session.ts";
import { type FreshContext, type Handlers, Head, type PageProps } from "../../../lib/fresh/mod.ts";
import { services } from "../../../lib/services.ts";
import { getCourse } from "../../../lib/store/courses.ts";
import { getSession } from "../../../lib/store/sessions.ts";

/** Who may open this page: any signed-in learner (the check-in itself needs their booking). */
export const access: AccessRule = { anonymous: "sign_in_prompt", ...SELF };

interface Data {
  session: Session;
  title: string;
  code: string;
  problem: string | null;
  done: { mark: string; at: string } | null;
  /** Signed out: a sign-in link back here (with the code) instead of the form. */
  signIn: string | null;
}

type Ctx = FreshContext<PageState, Data>;

async function base(ctx: Ctx): Promise<Omit<Data, "code" | "problem" | "done" | "signIn"> | null> {
  const { kv } = services();
  const session = await getSession(kv, ctx.params.id);
  if (!session) return null;
  const course = await getCourse(kv, session.courseId);
  return { session, title: course?.title ?? "Training session" };
}

function toSignIn(ctx: Ctx): Response {
  return new Response(null, { status: 303, headers: { location: signInHref(ctx.url.pathname) } });
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const found = await base(ctx);
    if (!found) return ctx.renderNotFound();
    const code = (ctx.url.searchParams.get("code") ?? "").slice(0, 40);
    const signIn = ctx.state.user ? null : signInHref(ctx.url.pathname + ctx.url.search);
    return ctx.render({ ...found, code, problem: null, done: null, signIn });
  },
  async POST(req, ctx) {
    if (!sameOrigin(req, ctx.url)) return new Response("Cross-site form refused.", { status: 403 });
    const found = await base(ctx);
    if (!found) return ctx.renderNotFound();
    const user = ctx.state.user;
    if (!user) return toSignIn(ctx);
    const form = await req.formData().catch(() => new FormData());
    const code = String(form.get("code") ?? "").slice(0, 40);
    const { kv, engine, config } = services();
    if (!code.trim()) {
      return ctx.render({ ...found, code, problem: "Type the code your instructor shows.", done: null, signIn: null }, {
        status: 400,
      });
    }
    try {
      const record = await selfCheckIn(
        kv,
        { sessionId: found.session.id, learnerId: user.id, code },
        webActor(user, "self check-in"),
        engine.now(),
        attendanceSettingsOf(config),
      );
      return ctx.render({
        ...found,
        code: "",
        problem: null,
        done: { mark: record.mark ?? "present", at: record.checkInAt! },
        signIn: null,
      });
    } catch (err) {
      const e = asDomainError(err);
      const problem = e.code === "not_booked"
        ? "You are not booked in this session, so you cannot check in."
        : attendanceSentence(e, found.session.timeZone);
      return ctx.render({ ...found, code, problem, done: null, signIn: null }, { status: e.status });
    }
  },
};

/** Learner self check-in: type (or scan) the session's code. */
export default function CheckInPage({ data }: PageProps<Data, PageState>) {
  const { session, problem, done } = data;
  const here = `/sessions/${session.id}/check-in`;
  return (
    <>
      <Head>
        <title>Check in · {data.title}</title>
      </Head>
      <h1 class="mb-1 text-2xl font-bold leading-tight">Check in</h1>
      <p class="mb-4 text-base">
        <a href={`/sessions/${session.id}`} class="text-blue-800 underline">{data.title}</a>,{" "}
        <time dateTime={session.startsAt}>{formatSessionWhen(session.startsAt, session.endsAt, session.timeZone)}</time>
      </p>
      {data.signIn && (
        <p class="text-base">
          <a href={data.signIn} class="font-semibold text-blue-800 underline">Sign in to check in</a>
        </p>
      )}
      {data.signIn ? null : done
        ? (
          <p class="rounded-lg bg-green-50 p-3 text-base" role="status" data-testid="checked-in">
            You are checked in ({done.mark}) at {formatTime(done.at, session.timeZone)}{" "}
            {formatZone(done.at, session.timeZone)}.
          </p>
        )
        : (
          <form method="post" action={here} class="space-y-3" novalidate>
            <div class="space-y-1">
              <label for="code" class="block text-base font-semibold">Check-in code</label>
              <p id="code-help" class="text-sm text-gray-700">The 6 characters your instructor shows.</p>
              <input
                id="code"
                name="code"
                value={data.code}
                autocomplete="off"
                autocapitalize="characters"
                spellcheck={false}
                maxLength={40}
                aria-describedby={problem ? "code-help code-problem" : "code-help"}
                aria-invalid={problem ? "true" : undefined}
                class="w-full max-w-xs rounded-lg border border-gray-600 px-3 py-2 font-mono text-xl uppercase tracking-widest"
              />
              {problem && (
                <p id="code-problem" class="text-base font-semibold text-red-800" role="alert" data-testid="problem">
                  {problem}
                </p>
              )}
            </div>
            <button type="submit" class="rounded-lg bg-blue-800 px-4 py-2 text-base font-semibold text-white">
              Check in
            </button>
          </form>
        )}
    </>
  );
}
