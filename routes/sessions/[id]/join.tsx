import { type AccessRule, PLACE_OWNER } from "../../../lib/access/matrix.ts";
import { asDomainError, signInHref } from "../../../components/Journey.tsx";
import { windowText } from "../../../components/Teach.tsx";
import { recordJoin } from "../../../lib/attendance/online.ts";
import { attendanceSettingsOf, type TimeWindow } from "../../../lib/attendance/windows.ts";
import type { PageState } from "../../../lib/auth/page_user.ts";
import { formatSessionWhen } from "../../../lib/catalog/format.ts";
import type { Session } from "../../../lib/domain/session.ts";
import { type Handlers, Head, type PageProps } from "../../../lib/fresh/mod.ts";
import { services } from "../../../lib/services.ts";
import { getCourse } from "../../../lib/store/courses.ts";
import { getSession } from "../../../lib/store/sessions.ts";

/** Who may open this page: booked learners (their own seat), the session's instructor, admins (others: 403). */
export const access: AccessRule = PLACE_OWNER;

interface Data {
  session: Session;
  title: string;
  kind: "sign_in" | "not_booked" | "outside_window" | "not_online";
  window: TimeWindow | null;
  signIn: string | null;
  ended: boolean;
}

/**
 * `/sessions/{id}/join`: the only way to the meeting. Inside the window (10 min before the start
 * until the end) a booked learner's join is recorded and the browser is sent to the meeting;
 * otherwise a page says why (and when it opens).
 */
export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const { kv, engine, config } = services();
    const session = await getSession(kv, ctx.params.id);
    if (!session) return ctx.renderNotFound();
    const title = (await getCourse(kv, session.courseId))?.title ?? "Training session";
    const ended = engine.now().getTime() >= Date.parse(session.endsAt);
    const base = { session: { ...session, joinUrl: null }, title, window: null, signIn: null, ended };
    const user = ctx.state.user;
    if (!user) return ctx.render({ ...base, kind: "sign_in", signIn: signInHref(ctx.url.pathname) });
    try {
      const r = await recordJoin(kv, session.id, { userId: user.id, roles: user.roles }, engine.now(), {
        ...attendanceSettingsOf(config),
      });
      return new Response(null, { status: 303, headers: { location: r.url, "cache-control": "no-store" } });
    } catch (err) {
      const e = asDomainError(err);
      const kind = e.code === "not_booked"
        ? "not_booked"
        : e.code === "outside_window"
        ? "outside_window"
        : "not_online";
      const window = (e.details as { window?: TimeWindow } | undefined)?.window ?? null;
      return ctx.render({ ...base, kind, window }, { status: e.status });
    }
  },
};

/** Why the meeting cannot be joined now. */
export default function JoinPage({ data }: PageProps<Data, PageState>) {
  const { session, kind, window } = data;
  const sessionHref = `/sessions/${session.id}`;
  return (
    <>
      <Head>
        <title>Join · {data.title}</title>
      </Head>
      <h1 class="mb-1 text-2xl font-bold leading-tight">Join {data.title}</h1>
      <p class="mb-4 text-base">
        <time dateTime={session.startsAt}>{formatSessionWhen(session.startsAt, session.endsAt, session.timeZone)}</time>
      </p>
      <div class="space-y-3 text-base" data-testid="join-refusal" data-kind={kind}>
        {kind === "sign_in" && data.signIn && (
          <p>
            <a href={data.signIn} class="font-semibold text-blue-800 underline">Sign in to join</a>
          </p>
        )}
        {kind === "not_booked" && (
          <p>
            You have not booked this session, so you cannot join it.{" "}
            <a href={sessionHref} class="font-semibold text-blue-800 underline">Book a seat</a>
          </p>
        )}
        {kind === "outside_window" && window && (
          <p>
            {data.ended ? "This session has ended; the meeting is closed." : "The meeting is not open yet."}{" "}
            It can be joined from {windowText(window, session.timeZone)}.
          </p>
        )}
        {kind === "not_online" && <p>This session has no online meeting to join.</p>}
        <p>
          <a href={sessionHref} class="text-blue-800 underline">Back to the session</a>
        </p>
      </div>
    </>
  );
}
