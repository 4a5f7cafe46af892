import { SESSION_STAFF } from "../../../lib/access/matrix.ts";
import { asDomainError, sameOrigin, webActor } from "../../../components/Journey.tsx";
import { QrCode } from "../../../components/QrCode.tsx";
import { ATTENDANCE_WORDS, attendanceSentence, PHASE_WORDS, Pill, windowText } from "../../../components/Teach.tsx";
import LiveRoster from "../../../islands/LiveRoster.tsx";
import { closeAttendance } from "../../../lib/attendance/close.ts";
import { addRecording, getRecording, type Recording } from "../../../lib/attendance/recording.ts";
import { type Mark, markAllPresent, markAttendance, MARKS } from "../../../lib/attendance/marks.ts";
import { getRoster, type Roster } from "../../../lib/attendance/roster.ts";
import { rosterSnapshot } from "../../../lib/attendance/roster_stream.ts";
import { attendanceSettingsOf } from "../../../lib/attendance/windows.ts";
import type { PageState } from "../../../lib/auth/page_user.ts";
import { DomainError } from "../../../lib/booking/errors.ts";
import { formatSessionWhen } from "../../../lib/catalog/format.ts";
import type { User } from "../../../lib/domain/user.ts";
import { type FreshContext, type Handlers, Head, type PageProps } from "../../../lib/fresh/mod.ts";
import { services } from "../../../lib/services.ts";

/** Who may open this page (the access matrix): the session's instructor and admins; others see 404. */
export const access = SESSION_STAFF;

const DONE: Record<string, string> = {
  recording: "The recording is added; booked learners can watch it now.",
  marked: "Saved.",
  all_present: "Everyone without a mark is now marked present.",
  closed: "Attendance is closed. Completions and no-shows are recorded.",
};

interface Data {
  roster: Roster;
  recording: Recording | null;
  /** The recording form's problem and the URL typed, kept. */
  recordingForm: { url: string; problem: string | null };
  checkInUrl: string;
  notice: string | null;
  problem: string | null;
}

type Ctx = FreshContext<PageState, Data>;

async function load(user: User, id: string): Promise<Roster | null> {
  const { kv, engine, config } = services();
  try {
    return await getRoster(kv, id, { userId: user.id, roles: user.roles }, engine.now(), attendanceSettingsOf(config));
  } catch (err) {
    // Unknown session, or one this instructor does not teach: as good as missing.
    if (err instanceof DomainError && (err.status === 404 || err.status === 403)) return null;
    throw err;
  }
}

async function pageData(
  roster: Roster,
  url: URL,
  problem: string | null,
  recordingForm: Data["recordingForm"] = { url: "", problem: null },
): Promise<Data> {
  const done = url.searchParams.get("done") ?? "";
  return {
    roster,
    recording: await getRecording(services().kv, roster.session.id),
    recordingForm,
    checkInUrl: `${url.origin}/sessions/${roster.session.id}/check-in?code=${roster.checkInCode}`,
    notice: problem ? null : DONE[done] ?? null,
    problem,
  };
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const user = ctx.state.user!;
    const roster = await load(user, ctx.params.id);
    if (!roster) return ctx.renderNotFound();
    return ctx.render(await pageData(roster, ctx.url, null));
  },
  async POST(req, ctx: Ctx) {
    if (!sameOrigin(req, ctx.url)) return new Response("Cross-site form refused.", { status: 403 });
    const user = ctx.state.user!;
    const before = await load(user, ctx.params.id);
    if (!before) return ctx.renderNotFound();
    const form = await req.formData().catch(() => new FormData());
    const field = (name: string) => String(form.get(name) ?? "");
    const { kv, engine, config } = services();
    const settings = attendanceSettingsOf(config);
    const id = before.session.id;
    const actor = webActor(user, "on the roster page");
    const here = `/teach/sessions/${id}`;
    try {
      const intent = field("intent");
      if (intent === "mark") {
        const checkout = field("checkout");
        const mark = (checkout || field("mark")) as Mark;
        const revision = Number(field("revision"));
        if (!(MARKS as readonly string[]).includes(mark) || !Number.isInteger(revision) || revision < 0) {
          throw new DomainError(400, "invalid_request", "Choose present, late, absent or excused.");
        }
        await markAttendance(
          kv,
          { sessionId: id, learnerId: field("learner"), mark, expectedRevision: revision, checkOut: !!checkout },
          actor,
          engine.now(),
          settings,
        );
        return new Response(null, { status: 303, headers: { location: `${here}?done=marked` } });
      }
      if (intent === "all_present") {
        await markAllPresent(kv, id, before.rows.map((r) => r.learnerId), actor, engine.now(), settings);
        return new Response(null, { status: 303, headers: { location: `${here}?done=all_present` } });
      }
      if (intent === "recording") {
        const url = field("url").trim();
        const problem = !/^https?:\/\/\S+$/.test(url) || url.length > 2000
          ? "Enter the recording's web address, starting with https://."
          : null;
        if (problem) {
          return ctx.render(await pageData(before, new URL(here, ctx.url), null, { url, problem }), { status: 400 });
        }
        await addRecording(kv, { sessionId: id, url }, actor, engine.now());
        return new Response(null, { status: 303, headers: { location: `${here}?done=recording` } });
      }
      if (intent === "close") {
        await closeAttendance(kv, id, actor, engine.now());
        return new Response(null, { status: 303, headers: { location: `${here}?done=closed` } });
      }
      throw new DomainError(400, "invalid_request", "Sorry, we did not understand that request. Nothing changed.");
    } catch (err) {
      const e = asDomainError(err);
      const now = (await load(user, id)) ?? before;
      return ctx.render(await pageData(now, new URL(here, ctx.url), attendanceSentence(e, before.session.timeZone)), {
        status: e.status,
      });
    }
  },
};

const primary = "rounded-lg bg-blue-800 px-4 py-2 text-base font-semibold text-white";

/** The roster of one session: check-in code and QR, live learner list with marks, close. */
export default function RosterPage({ data }: PageProps<Data, PageState>) {
  const { roster, notice, problem } = data;
  const { session, attendance } = roster;
  const here = `/teach/sessions/${session.id}`;
  const canClose = (roster.phase === "ended") && attendance.state !== "closed";
  return (
    <>
      <Head>
        <title>Roster · {roster.course.title}</title>
      </Head>
      <p class="mb-2 text-sm">
        <a href="/teach" class="text-blue-800 underline">My sessions</a>
      </p>
      <h1 class="mb-1 text-2xl font-bold leading-tight">{roster.course.title}</h1>
      <p class="mb-2 text-base">
        <time dateTime={session.startsAt}>{formatSessionWhen(session.startsAt, session.endsAt, session.timeZone)}</time>
        {" · "}
        {session.mode === "online" ? "Online" : session.mode === "hybrid" ? "Hybrid" : "In person"}
      </p>
      <p class="mb-4 flex flex-wrap gap-2">
        <Pill text={PHASE_WORDS[roster.phase]} tone={roster.phase === "live" ? "green" : "gray"} />
        <Pill text={ATTENDANCE_WORDS[attendance.state]} tone={attendance.state === "open" ? "blue" : "gray"} />
      </p>
      {notice && <p class="mb-4 rounded-lg bg-green-50 p-3 text-base" role="status">{notice}</p>}
      {problem && (
        <p class="mb-4 rounded-xl border-2 border-amber-600 p-3 text-base" role="alert" data-testid="problem">
          {problem}
        </p>
      )}
      <div class="space-y-6">
        {attendance.state !== "closed" && (
          <section aria-labelledby="checkin" class="space-y-2">
            <h2 id="checkin" class="text-xl font-bold">Self check-in</h2>
            <p class="text-base">
              Learners scan the QR code with their phone, or open the session and type the code. It works from{" "}
              {windowText(attendance.checkIn, session.timeZone)}.
            </p>
            <p class="font-mono text-3xl font-bold tracking-widest" data-testid="checkin-code">{roster.checkInCode}</p>
            <QrCode text={data.checkInUrl} label={`QR code to check in, code ${roster.checkInCode}`} />
          </section>
        )}
        <section aria-labelledby="learners" class="space-y-3">
          <h2 id="learners" class="text-xl font-bold">Learners</h2>
          <p class="text-sm text-gray-700">
            Marks and corrections are accepted from {windowText(attendance.marks, session.timeZone)}.{" "}
            {roster.completionRule}
          </p>
          {attendance.state === "open" && roster.rows.length > 0 && (
            <form method="post" action={here}>
              <input type="hidden" name="intent" value="all_present" />
              <button type="submit" class={primary}>Mark everyone else present</button>
            </form>
          )}
          <LiveRoster
            sessionId={session.id}
            timeZone={session.timeZone}
            online={session.mode !== "in_person"}
            initial={rosterSnapshot(roster)}
          />
        </section>
        {roster.phase === "ended" && (
          <section aria-labelledby="recording" class="space-y-2">
            <h2 id="recording" class="text-xl font-bold">Recording</h2>
            {data.recording && (
              <p class="text-base" data-testid="recording-url">
                Learners can watch{" "}
                <a href={data.recording.url} class="break-all text-blue-800 underline">the recording</a>.
              </p>
            )}
            <form method="post" action={here} class="space-y-2" novalidate>
              <input type="hidden" name="intent" value="recording" />
              <label for="url" class="block text-base font-semibold">
                {data.recording ? "Replace the recording's address" : "The recording's address"}
              </label>
              <input
                id="url"
                name="url"
                type="url"
                value={data.recordingForm.url}
                aria-invalid={data.recordingForm.problem ? "true" : undefined}
                aria-describedby={data.recordingForm.problem ? "url-problem" : undefined}
                class="w-full rounded-lg border border-gray-600 px-3 py-2 text-base"
              />
              {data.recordingForm.problem && (
                <p id="url-problem" class="text-base font-semibold text-red-800" role="alert">
                  {data.recordingForm.problem}
                </p>
              )}
              <button type="submit" class={primary}>Save the recording</button>
            </form>
          </section>
        )}
        <section aria-labelledby="close" class="space-y-2">
          <h2 id="close" class="text-xl font-bold">Close attendance</h2>
          {attendance.closed
            ? (
              <p class="text-base" data-testid="closed">
                Closed. {attendance.closed.counts.completed} completed, {attendance.closed.counts.attended}{" "}
                attended without completing, {attendance.closed.counts.no_show} no-shows,{" "}
                {attendance.closed.counts.excused} excused.
              </p>
            )
            : canClose
            ? (
              <form method="post" action={here} class="space-y-2">
                <input type="hidden" name="intent" value="close" />
                <p class="text-base">
                  Closing makes the marks final: learners never marked become no-shows, and completions unlock the
                  courses that require this one. Otherwise it closes by itself at the end of the correction window.
                </p>
                <button type="submit" class={primary}>Close attendance</button>
              </form>
            )
            : <p class="text-base">You can close attendance once the session has ended.</p>}
        </section>
      </div>
    </>
  );
}
