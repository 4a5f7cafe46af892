import { type AccessRule, PUBLIC } from "../../lib/access/matrix.ts";
import { WAITLIST_RULE } from "../../lib/booking/waitlist_order.ts";
import {
  CourseWaitlistForm,
  type CourseWaitlistFormState,
  readCourseWaitlistForm,
} from "../../components/CourseWaitlist.tsx";
import { joinCourseWaitlist } from "../../lib/booking/course_waitlist.ts";
import {
  ActionForm,
  AlternativesList,
  alternativesOf,
  asDomainError,
  ButtonLink,
  formIdempotency,
  newFormKey,
  problemSentence,
  sameOrigin,
  signInHref,
  webActor,
} from "../../components/Journey.tsx";
import { placeText } from "../../components/SessionCard.tsx";
import { JoinLink } from "../../components/SessionSummary.tsx";
import LiveSeats from "../../islands/LiveSeats.tsx";
import LocalTime from "../../islands/LocalTime.tsx";
import { joinLinkFor } from "../../lib/booking/join_link.ts";
import OnlinePresence from "../../islands/OnlinePresence.tsx";
import { windowText } from "../../components/Teach.tsx";
import { completionRuleOf, describeCompletionRule } from "../../lib/attendance/completion.ts";
import { countParticipants, getPresence, joinWindow, presenceSeconds } from "../../lib/attendance/online.ts";
import { attendanceSettingsOf, inWindow, type TimeWindow } from "../../lib/attendance/windows.ts";
import { mayManageSession } from "../../lib/booking/access.ts";
import { sessionsWithRecording } from "../../lib/attendance/recording.ts";
import { answerRsvp, getRsvp, RSVP_STATUSES, type RsvpStatus } from "../../lib/attendance/rsvp.ts";
import { getSessionDetail, type SessionDetail } from "../../lib/catalog/browse.ts";
import { formatDay, formatDuration, formatSessionWhen } from "../../lib/catalog/format.ts";
import { type CourseDuplicate, findCourseDuplicate } from "../../lib/booking/duplicates.ts";
import { PROGRAM_TYPE_LABELS, TOPIC_LABELS } from "../../lib/domain/mod.ts";
import { type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { services } from "../../lib/services.ts";
import { recordSessionView } from "../../lib/reports/record.ts";
import type { PageState } from "../../lib/auth/page_user.ts";
import { type Alternative, offerAlternatives } from "../../lib/booking/alternatives.ts";
import type { User } from "../../lib/domain/user.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = PUBLIC;

/** What a POST led to, when it did not redirect. */
interface Outcome {
  sentence: string;
  alternatives?: Alternative[];
  waitlistOpen?: boolean;
  /** Set when the hold was refused as a repeat of the course: the page offers "Hold a seat anyway". */
  duplicate?: CourseDuplicate;
  /** Prerequisite courses still to complete, with their codes for a catalog search. */
  missing?: { title: string; code: string | null }[];
  /** The "any date that suits me" form as typed, with a sentence per field. */
  courseWaitlist?: CourseWaitlistFormState;
}

/** The learner's own place in this session, if any. */
interface MyPlace {
  text: string;
  href?: string;
  linkText?: string;
}

/** Online and hybrid sessions, for those who may join: the join button, the rule, the meeting. */
interface OnlineInfo {
  joinOpen: boolean;
  window: TimeWindow;
  participants: number;
  minutes: number;
  rule: string;
  /** A learner (not staff): the page sends heartbeats while it is open. */
  learner: boolean;
  /** The learner's RSVP answer (null: none yet). */
  rsvp: RsvpStatus | null;
}

interface Data extends SessionDetail {
  online: OnlineInfo | null;
  /** Booked learners, once the session has a recording: its player page. */
  recordingHref: string | null;
  /** The join link, only for learners booked here and the session's staff. */
  joinUrl: string | null;
  formKey: string;
  altKeys: string[];
  outcome: Outcome | null;
  place: MyPlace | null;
  /** A full session's alternatives, shown (and recorded as offered) before any attempt to hold. */
  offered: Alternative[];
  /** Why holding here would repeat the course (shown before the hold button, which then says "anyway"). */
  duplicate: CourseDuplicate | null;
  /** The alternative offer this page was reached from, kept through a "book anyway" form. */
  alt: string | null;
}

async function myPlace(user: User | null, sessionId: string): Promise<MyPlace | null> {
  if (!user) return null;
  const places = await services().engine.listLearnerPlaces(user.id);
  const hold = places.holds.find((h) => h.sessionId === sessionId);
  if (hold) {
    return {
      text: hold.kind === "offer" ? "A seat in this session is offered to you." : "You are holding a seat here.",
      href: `/holds/${hold.id}`,
      linkText: "Continue to book it",
    };
  }
  const booking = places.bookings.find((b) => b.sessionId === sessionId && b.status === "confirmed");
  if (booking) {
    return { text: "You are booked in this session.", href: `/bookings/${booking.id}`, linkText: "See booking" };
  }
  const waiting = places.waitlist.find((w) => w.entry.sessionId === sessionId);
  if (waiting) return { text: `You are number ${waiting.position} on this session's waitlist.` };
  return null;
}

/** Alternatives for a signed-in learner without a place in this full, still bookable session. */
async function offeredAlternatives(detail: SessionDetail, user: User | null, place: MyPlace | null) {
  const { availability, session } = detail;
  if (!user || place || availability.seatsLeft > 0 || availability.state === "cancelled") return [];
  if (availability.state === "started") return [];
  const { kv, engine } = services();
  const actor = webActor(user, "opened a full session");
  return await offerAlternatives(kv, session, user.id, engine.now(), actor, "session_page");
}

async function onlineInfo(detail: SessionDetail, user: User | null, mayJoin: boolean): Promise<OnlineInfo | null> {
  if (!user || !mayJoin || detail.session.mode === "in_person") return null;
  const { kv, engine, config } = services();
  const now = engine.now();
  const window = joinWindow(detail.session, attendanceSettingsOf(config));
  const presence = await getPresence(kv, detail.session.id, user.id);
  const scheduled = (Date.parse(detail.session.endsAt) - Date.parse(detail.session.startsAt)) / 1000;
  return {
    joinOpen: inWindow(window, now),
    window,
    participants: await countParticipants(kv, detail.session.id, now),
    minutes: Math.round(presenceSeconds(presence, detail.session) / 60),
    rule: describeCompletionRule(completionRuleOf(detail.course), scheduled),
    learner: !mayManageSession({ userId: user.id, roles: user.roles }, detail.session),
    rsvp: (await getRsvp(kv, detail.session.id, user.id))?.status ?? null,
  };
}

async function pageData(
  detail: SessionDetail,
  user: User | null,
  outcome: Outcome | null,
  alt: string | null = null,
): Promise<Data> {
  const who = user ? { userId: user.id, roles: user.roles } : null;
  const place = await myPlace(user, detail.session.id);
  const { kv, engine } = services();
  const duplicate = user && !place
    ? await findCourseDuplicate(
      kv,
      user,
      detail.session,
      detail.course,
      engine.now(),
      engine.options.compliance?.timeZone,
    )
    : null;
  const joinUrl = await joinLinkFor(kv, who, detail.session);
  const booked = !!place?.href?.startsWith("/bookings/");
  const hasRecording = booked && (await sessionsWithRecording(kv, [detail.session.id])).size > 0;
  return {
    ...detail,
    online: await onlineInfo(detail, user, joinUrl !== null),
    recordingHref: hasRecording ? `/sessions/${detail.session.id}/recording` : null,
    // The page never prints the session's own field: only what joinLinkFor allows.
    session: { ...detail.session, joinUrl: null },
    joinUrl,
    formKey: newFormKey(),
    altKeys: [newFormKey(), newFormKey(), newFormKey()],
    outcome,
    place,
    offered: outcome ? [] : await offeredAlternatives(detail, user, place),
    duplicate,
    alt,
  };
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const detail = await getSessionDetail(services().kv, ctx.params.id);
    if (!detail) return ctx.renderNotFound();
    // The registration funnel's first step (reports); counted for the viewer's dealer too.
    await recordSessionView(
      services().kv,
      detail.session.id,
      ctx.state.user?.dealerId ?? null,
      services().engine.now(),
    );
    const released = ctx.url.searchParams.get("rsvp") === "released";
    const notice: Outcome | null = released
      ? { sentence: "Your seat is released; the next learner on the waitlist is offered it." }
      : null;
    return ctx.render(await pageData(detail, ctx.state.user, notice));
  },
  async POST(req, ctx) {
    const id = ctx.params.id;
    const user = ctx.state.user;
    if (!sameOrigin(req, ctx.url)) return new Response("Cross-site form refused.", { status: 403 });
    const detail = await getSessionDetail(services().kv, id);
    if (!detail) return ctx.renderNotFound();
    if (!user) {
      if (!ctx.state.devLogin && !ctx.state.sso) return ctx.render(await pageData(detail, null, null), { status: 401 });
      return new Response(null, { status: 303, headers: { location: signInHref(`/sessions/${id}`) } });
    }
    const form = await req.formData().catch(() => new FormData());
    const intent = String(form.get("intent") ?? "");
    const key = String(form.get("key") ?? "");
    const altField = String(form.get("alt") ?? "");
    const alt = /^[0-9A-HJKMNP-TV-Z]{26}$/i.test(altField) ? altField : null;
    const { engine } = services();
    try {
      if (intent === "waitlist") {
        await engine.joinWaitlist(id, user.id, webActor(user, "joined the waitlist on the session page"));
        return new Response(null, { status: 303, headers: { location: `/sessions/${id}` } });
      }
      if (intent === "rsvp" || intent === "release") {
        const status = intent === "release" ? "declined" : String(form.get("rsvp") ?? "");
        if (!(RSVP_STATUSES as readonly string[]).includes(status)) {
          const outcome: Outcome = { sentence: "Choose whether you will attend: yes, maybe or no." };
          return ctx.render(await pageData(detail, user, outcome), { status: 400 });
        }
        const out = await answerRsvp(
          services().kv,
          { sessionId: id, learnerId: user.id, status: status as RsvpStatus, release: intent === "release" },
          webActor(user, "answered the RSVP on the session page"),
          engine.now(),
          (bookingId, actor) => engine.cancelBooking(bookingId, actor),
        );
        const done = out.released ? "released" : status;
        return new Response(null, { status: 303, headers: { location: `/sessions/${id}?rsvp=${done}` } });
      }
      if (intent === "course_waitlist") {
        const read = readCourseWaitlistForm(form, detail.session.courseId);
        if ("state" in read) {
          const outcome = { sentence: "Please check the dates and distance.", courseWaitlist: read.state };
          return ctx.render(await pageData(detail, user, outcome), { status: 400 });
        }
        const actor = webActor(user, "joined the course-wide waitlist on the session page");
        await joinCourseWaitlist(engine, user.id, read.input, actor);
        return new Response(null, { status: 303, headers: { location: "/me/schedule?done=course_waitlist" } });
      }
      const idem = await formIdempotency(user, key, ["POST", `/sessions/${id}`, "hold"]);
      const { hold } = await engine.placeHold(id, user.id, webActor(user, "held a seat on the session page"), idem, {
        learner: user,
        alternativeOf: alt,
        warnDuplicate: form.get("confirmDuplicate") !== "1",
      });
      return new Response(null, { status: 303, headers: { location: `/holds/${hold.id}` } });
    } catch (err) {
      const e = asDomainError(err);
      if (e.status === 404) return ctx.renderNotFound();
      const outcome: Outcome = { sentence: problemSentence(e) };
      // The engine recorded the offer of these alternatives with the refusal.
      if (e.code === "session_full") Object.assign(outcome, alternativesOf(e));
      if (e.code === "prerequisites_missing") {
        const missing = ((e.details ?? {}) as { missing?: { courseId: string; title: string }[] }).missing ?? [];
        outcome.sentence = "This course builds on other courses. Complete these first, then come back to book:";
        outcome.missing = missing.map((m) => ({
          title: m.title,
          code: detail.prerequisites.find((p) => p.id === m.courseId)?.code ?? null,
        }));
      }
      if (e.code === "duplicate_course") outcome.duplicate = e.details as CourseDuplicate;
      if (intent === "course_waitlist") {
        outcome.sentence = e.message;
        const read = readCourseWaitlistForm(form, detail.session.courseId);
        outcome.courseWaitlist = "state" in read ? read.state : {
          values: {
            from: read.input.from ?? "",
            to: read.input.to ?? "",
            maxKm: read.input.maxKm === undefined ? "" : String(read.input.maxKm),
          },
          errors: e.code === "no_preferred_location" ? { maxKm: e.message } : {},
        };
      }
      const fresh = await getSessionDetail(services().kv, id) ?? detail;
      return ctx.render(await pageData(fresh, user, outcome, alt), { status: e.status });
    }
  },
};

/** The one primary action: hold, join the waitlist, or sign in first. */
function PrimaryAction({ data, state }: { data: Data; state: PageState }) {
  const { session, availability, place } = data;
  const here = `/sessions/${session.id}`;
  if (place) {
    return (
      <div class="space-y-2" data-testid="my-place">
        <p class="text-base font-semibold">{place.text}</p>
        {place.href && <ButtonLink href={place.href} label={place.linkText ?? "Continue"} />}
      </div>
    );
  }
  if (availability.state === "cancelled" || availability.state === "started") {
    return <p class="text-base">This session can no longer be booked.</p>;
  }
  const seats = availability.seatsLeft > 0;
  const waitlist = !seats && session.waitlistEnabled;
  if (!seats && !waitlist) return <p class="text-base">This session is full and has no waitlist.</p>;
  if (!state.user) {
    return state.devLogin || state.sso
      ? <ButtonLink href={signInHref(here)} label={seats ? "Sign in to hold a seat" : "Sign in to join the waitlist"} />
      : <p class="text-base">Sign in to book this session.</p>;
  }
  if (seats && data.duplicate) {
    return (
      <div class="space-y-2">
        <HoldAnyway data={data} duplicate={data.duplicate} />
      </div>
    );
  }
  if (seats) return <ActionForm action={here} intent="hold" formKey={data.formKey} label="Hold my seat" />;
  const rule = <p class="text-sm" data-testid="waitlist-rule">{WAITLIST_RULE}</p>;
  const anyDate = <CourseWaitlistForm action={here} state={data.outcome?.courseWaitlist ?? null} />;
  if (!data.offered.length) {
    return (
      <div class="space-y-2">
        <ActionForm action={here} intent="waitlist" formKey={data.formKey} label="Join waitlist" />
        {rule}
        {anyDate}
      </div>
    );
  }
  return (
    <section aria-labelledby="alternatives" class="space-y-3" data-testid="full-alternatives">
      <h2 id="alternatives" class="text-base font-semibold">
        This session is full. These similar sessions have seats:
      </h2>
      <AlternativesList alternatives={data.offered} keys={data.altKeys} alternativeOf={session.id} />
      <div class="space-y-1">
        <p class="text-sm">Or wait for a seat in this session:</p>
        <ActionForm action={here} intent="waitlist" formKey={data.formKey} label="Join waitlist" secondary />
        {rule}
        {anyDate}
      </div>
    </section>
  );
}

/** The warning before repeating a course, in words, with a link to the existing booking. */
function DuplicateWarning({ duplicate }: { duplicate: CourseDuplicate }) {
  return (
    <p class="rounded-lg border-2 border-amber-600 p-3 text-base" data-testid="duplicate-warning">
      {duplicate.reason === "booked"
        ? (
          <>
            You are already booked on this course on{" "}
            <a href={`/bookings/${duplicate.bookingId}`} class="font-semibold text-blue-800 underline">
              {formatDay(duplicate.startsAt, duplicate.timeZone)}
            </a>. Book this date too only if you mean to attend twice.
          </>
        )
        : (
          <>
            You completed this course on {formatDay(duplicate.completedAt, "UTC")}{" "}
            and it is still valid. Book it again only if you want a refresher.
          </>
        )}
    </p>
  );
}

/** The warning, then the explicit "book anyway" hold form (keeps the alternative it came from). */
function HoldAnyway({ data, duplicate }: { data: Data; duplicate: CourseDuplicate }) {
  return (
    <>
      <DuplicateWarning duplicate={duplicate} />
      <ActionForm
        action={`/sessions/${data.session.id}`}
        intent="hold"
        formKey={data.formKey}
        label="Hold a seat anyway"
        hidden={{ confirmDuplicate: "1", ...(data.alt ? { alt: data.alt } : {}) }}
      />
    </>
  );
}

function OutcomeBox({ data }: { data: Data }) {
  const o = data.outcome;
  if (!o) return null;
  const here = `/sessions/${data.session.id}`;
  return (
    <section aria-labelledby="outcome" class="space-y-3 rounded-xl border-2 border-amber-600 p-4" role="alert">
      <h2 id="outcome" class="text-base font-semibold">{o.sentence}</h2>
      {o.missing && (
        <ul class="list-disc pl-5 text-base">
          {o.missing.map((m) => (
            <li key={m.title}>
              {m.code
                ? <a href={`/?q=${encodeURIComponent(m.code)}`} class="text-blue-800 underline">{m.title} sessions</a>
                : m.title}
            </li>
          ))}
        </ul>
      )}
      {o.duplicate && <HoldAnyway data={data} duplicate={o.duplicate} />}
      {o.alternatives && (
        <AlternativesList alternatives={o.alternatives} keys={data.altKeys} alternativeOf={data.session.id} />
      )}
      {o.alternatives && o.waitlistOpen && !data.place && (
        <div class="space-y-1">
          <p class="text-sm">Or wait for a seat in this session:</p>
          <ActionForm action={here} intent="waitlist" formKey={data.formKey} label="Join waitlist" secondary />
        </div>
      )}
    </section>
  );
}

function mapLink(d: SessionDetail): string | null {
  if (!d.location) return null;
  const a = d.location.address;
  const q = encodeURIComponent(`${a.line1}, ${a.city}, ${a.region} ${a.postalCode}`);
  return `https://www.google.com/maps/search/?api=1&query=${q}`;
}

/** One session: what, when, where, seats. */
export default function SessionPage({ data, state }: PageProps<Data, PageState>) {
  const { session, course, location, availability, prerequisites } = data;
  const map = mapLink(data);
  return (
    <>
      <Head>
        <title>{course.title} · Training sessions</title>
      </Head>
      <p class="mb-2 text-sm">
        <a href="/" class="font-semibold text-blue-800 underline">← All sessions</a>
      </p>
      <article class="space-y-4">
        <header>
          <p class="text-sm font-medium text-gray-700">
            {course.code} · {TOPIC_LABELS[course.topic]} · {PROGRAM_TYPE_LABELS[course.programType]}
          </p>
          <h1 class="text-2xl font-bold leading-tight">{course.title}</h1>
          <div class="mt-2">
            <LiveSeats
              sessionId={session.id}
              initial={{
                left: availability.seatsLeft,
                capacity: availability.capacity,
                state: availability.state,
                waiting: availability.waiting,
              }}
            />
          </div>
        </header>
        <OutcomeBox data={data} />
        {!data.outcome?.alternatives && !data.outcome?.duplicate && <PrimaryAction data={data} state={state} />}
        <section aria-labelledby="when" class="rounded-xl border border-gray-200 p-4">
          <h2 id="when" class="text-base font-semibold">When</h2>
          <p class="text-base">
            <time dateTime={session.startsAt}>
              {formatSessionWhen(session.startsAt, session.endsAt, session.timeZone)}
            </time>
          </p>
          <p class="text-sm text-gray-700">{formatDuration(course.durationMinutes)}</p>
          <LocalTime startsAt={session.startsAt} sessionTimeZone={session.timeZone} />
        </section>
        <section aria-labelledby="where" class="rounded-xl border border-gray-200 p-4">
          <h2 id="where" class="text-base font-semibold">Where</h2>
          <p class="text-base">{placeText(data)}</p>
          {location && (
            <p class="text-sm text-gray-700">
              {location.address.line1}, {location.address.city}, {location.address.region} {location.address.postalCode}
              {map && (
                <>
                  {" · "}
                  <a href={map} class="font-semibold text-blue-800 underline" rel="noopener">Map</a>
                </>
              )}
            </p>
          )}
          {session.mode !== "in_person" && (data.joinUrl
            ? <JoinLink url={data.joinUrl} />
            : <p class="text-sm text-gray-700">You get the join link after booking.</p>)}
          {data.recordingHref && (
            <p class="mt-2 text-base">
              <a href={data.recordingHref} class="font-semibold text-blue-800 underline">Watch the recording</a>
            </p>
          )}
          {data.online && <OnlineSection sessionId={session.id} timeZone={session.timeZone} online={data.online} />}
          {data.instructor && <p class="mt-1 text-sm text-gray-700">Instructor: {data.instructor.name}</p>}
        </section>
        <section aria-labelledby="about" class="rounded-xl border border-gray-200 p-4">
          <h2 id="about" class="text-base font-semibold">About this course</h2>
          <p class="text-base">{course.summary}</p>
          {prerequisites.length > 0 && (
            <>
              <h3 class="mt-3 text-sm font-semibold">Before you book, complete</h3>
              <ul class="list-disc space-y-1 pl-5 text-sm" data-testid="prerequisites">
                {prerequisites.map((p) => {
                  const done = state.user?.completedCourses.some((c) => c.courseId === p.id);
                  return (
                    <li key={p.id}>
                      <a href={`/?q=${encodeURIComponent(p.code)}`} class="font-semibold text-blue-800 underline">
                        {p.code} · {p.title}
                      </a>
                      {state.user && (done
                        ? <span class="ml-1 text-green-800">: completed</span>
                        : <span class="ml-1 text-red-800">: not completed yet</span>)}
                    </li>
                  );
                })}
              </ul>
            </>
          )}
        </section>
      </article>
    </>
  );
}

/** Join button (through /sessions/{id}/join), the completion rule and who is in the meeting. */
function OnlineSection({ sessionId, timeZone, online }: { sessionId: string; timeZone: string; online: OnlineInfo }) {
  return (
    <div class="mt-3 space-y-2" data-testid="online">
      {online.joinOpen
        ? (
          <a
            href={`/sessions/${sessionId}/join`}
            target="_blank"
            rel="noopener"
            class="inline-block rounded-lg bg-blue-800 px-4 py-2 text-base font-semibold text-white"
          >
            Join the meeting now
          </a>
        )
        : <p class="text-sm">The meeting can be joined from {windowText(online.window, timeZone)}.</p>}
      <p class="text-sm text-gray-700">{online.rule}</p>
      {online.learner && <RsvpForm sessionId={sessionId} current={online.rsvp} />}
      {online.learner && online.joinOpen
        ? (
          <OnlinePresence
            sessionId={sessionId}
            open={online.joinOpen}
            participants={online.participants}
            minutes={online.minutes}
          />
        )
        : <p class="text-sm">{online.participants} in the meeting now.</p>}
    </div>
  );
}

const RSVP_CHOICES: { value: RsvpStatus; label: string }[] = [
  { value: "confirmed", label: "Yes, I will attend" },
  { value: "tentative", label: "Maybe" },
  { value: "declined", label: "No, I cannot attend" },
];

/** Will you attend? A declined answer offers to release the seat to the waitlist. */
function RsvpForm({ sessionId, current }: { sessionId: string; current: RsvpStatus | null }) {
  const here = `/sessions/${sessionId}`;
  return (
    <div class="space-y-2" data-testid="rsvp">
      <form method="post" action={here} class="space-y-2">
        <input type="hidden" name="intent" value="rsvp" />
        <fieldset class="space-y-1">
          <legend class="text-base font-semibold">Will you attend?</legend>
          {RSVP_CHOICES.map((c) => (
            <label key={c.value} class="flex items-center gap-2 text-base">
              <input type="radio" name="rsvp" value={c.value} checked={current === c.value} />
              {c.label}
            </label>
          ))}
        </fieldset>
        <button type="submit" class="rounded-lg border border-gray-600 bg-white px-4 py-2 text-base font-semibold">
          Save my answer
        </button>
      </form>
      {current === "declined" && (
        <form method="post" action={here} class="space-y-2 rounded-xl border-2 border-amber-600 p-3">
          <input type="hidden" name="intent" value="release" />
          <p class="text-base">
            You said you cannot attend. Release your seat so the next learner on the waitlist gets it?
          </p>
          <button type="submit" class="rounded-lg bg-blue-800 px-4 py-2 text-base font-semibold text-white">
            Release my seat
          </button>
        </form>
      )}
    </div>
  );
}
