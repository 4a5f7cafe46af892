import { type AccessRule, PLACE_OWNER } from "../../../lib/access/matrix.ts";
import RecordingPlayer from "../../../islands/RecordingPlayer.tsx";
import { openRecording, type Recording, type RecordingView } from "../../../lib/attendance/recording.ts";
import type { PageState } from "../../../lib/auth/page_user.ts";
import { DomainError } from "../../../lib/booking/errors.ts";
import { formatSessionWhen } from "../../../lib/catalog/format.ts";
import type { Session } from "../../../lib/domain/session.ts";
import { type Handlers, Head, type PageProps } from "../../../lib/fresh/mod.ts";
import { services } from "../../../lib/services.ts";
import { getCourse } from "../../../lib/store/courses.ts";
import { getSession } from "../../../lib/store/sessions.ts";

/** Who may open this page: learners booked in the session (others: 404). */
export const access: AccessRule = PLACE_OWNER;

interface Data {
  session: Session;
  title: string;
  recording: Recording;
  view: RecordingView;
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const { kv, engine } = services();
    const user = ctx.state.user!;
    const session = await getSession(kv, ctx.params.id);
    if (!session) return ctx.renderNotFound();
    try {
      const { recording, view } = await openRecording(kv, session.id, user.id, engine.now());
      const title = (await getCourse(kv, session.courseId))?.title ?? "Training session";
      return ctx.render({ session: { ...session, joinUrl: null }, title, recording, view });
    } catch (err) {
      // No recording, or not booked: as good as missing.
      if (err instanceof DomainError && (err.status === 404 || err.status === 403)) return ctx.renderNotFound();
      throw err;
    }
  },
};

/** The recording player: watching 90 % completes the course. */
export default function RecordingPage({ data }: PageProps<Data, PageState>) {
  const { session, recording, view } = data;
  return (
    <>
      <Head>
        <title>Recording · {data.title}</title>
      </Head>
      <h1 class="mb-1 text-2xl font-bold leading-tight">Recording: {data.title}</h1>
      <p class="mb-4 text-base">
        <a href={`/sessions/${session.id}`} class="text-blue-800 underline">
          <time dateTime={session.startsAt}>
            {formatSessionWhen(session.startsAt, session.endsAt, session.timeZone)}
          </time>
        </a>
      </p>
      <RecordingPlayer
        sessionId={session.id}
        url={recording.url}
        durationSeconds={recording.durationSeconds}
        watchedSeconds={view.watchedSeconds}
        completed={view.completedAt !== null}
      />
    </>
  );
}
