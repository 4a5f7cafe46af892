import { type AccessRule, SELF } from "../../lib/access/matrix.ts";
import {
  asDomainError,
  formIdempotency,
  newFormKey,
  sameOrigin,
  signInHref,
  webActor,
} from "../../components/Journey.tsx";
import {
  type BookingRow,
  isLateCancel,
  loadSchedule,
  PlaceSummary,
  rescheduleTargets,
  type SchedulePlaces,
  sessionsWithPlace,
  whenText,
} from "../../components/Schedule.tsx";
import { JoinLink } from "../../components/SessionSummary.tsx";
import type { PageState } from "../../lib/auth/page_user.ts";
import type { DomainError } from "../../lib/booking/errors.ts";
import type { SessionRow } from "../../lib/catalog/browse.ts";
import { formatTime, formatZone } from "../../lib/catalog/format.ts";
import type { User } from "../../lib/domain/user.ts";
import { type FreshContext, type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { services } from "../../lib/services.ts";
import { CourseWaitlistList } from "../../components/CourseWaitlist.tsx";
import {
  type CourseWaitlistView,
  leaveCourseWaitlist,
  listCourseWaitlists,
} from "../../lib/booking/course_waitlist.ts";
import { loadRequiredForYou, type RequiredData, RequiredForYou } from "../../components/RequiredForYou.tsx";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = { anonymous: "sign_in_prompt", ...SELF };

const HERE = "/me/schedule";

/** Sentences shown after a successful action (`?done=`). */
const DONE: Record<string, string> = {
  cancelled: "Cancelled. Your seat is free for someone else.",
  cancelled_late:
    "Cancelled. It was inside the course's cancellation cut-off, so it is recorded as a late cancellation.",
  rescheduled: "Moved. Your booking is now on the new date below.",
  left: "You left the waitlist.",
  released: "Released. The seat is free for someone else.",
  course_waitlist: "You are on the waitlist of every date that suits you. The first seat freed is offered to you.",
  course_left: "You left that course's waitlist.",
};

interface Data {
  places: SchedulePlaces | null;
  now: string;
  notice: string | null;
  problem: string | null;
  /** Step two of a cancel: the booking, and whether it would be late. */
  confirm: { item: BookingRow; late: boolean; cutoffHours: number } | null;
  /** Step one of a reschedule: the booking and the dates it can move to. */
  change: { item: BookingRow; targets: SessionRow[]; key: string } | null;
  /** Required training and certification expiry (null: none). */
  required?: RequiredData | null;
  /** Course-wide waitlist entries ("any date that suits me"). */
  courseWaitlists?: CourseWaitlistView[];
}

type Ctx = FreshContext<PageState, Data>;

async function pageData(user: User | null, url: URL, problem: string | null, showChange?: string): Promise<Data> {
  const now = services().engine.now();
  const base: Data = { places: null, now: now.toISOString(), notice: null, problem, confirm: null, change: null };
  if (!user) return base;
  const [places, required, courseWaitlists] = await Promise.all([
    loadSchedule(user.id, now),
    loadRequiredForYou(user),
    listCourseWaitlists(services().kv, user.id),
  ]);
  const q = url.searchParams;
  const find = (id: string | null) => places.upcoming.find((b) => b.booking.id === id) ?? null;
  const confirmItem = q.get("confirm") === "cancel" ? find(q.get("booking")) : null;
  const changeItem = find(showChange ?? q.get("change"));
  return {
    ...base,
    places,
    required,
    courseWaitlists,
    notice: problem ? null : DONE[q.get("done") ?? ""] ?? null,
    confirm: confirmItem && Date.parse(confirmItem.row.session.startsAt) > now.getTime()
      ? {
        item: confirmItem,
        late: isLateCancel(confirmItem.row, now),
        cutoffHours: confirmItem.row.course.lateCancelCutoffHours ?? 24,
      }
      : null,
    change: changeItem
      ? {
        item: changeItem,
        targets: await rescheduleTargets(changeItem.row, now, sessionsWithPlace(places)),
        key: newFormKey(),
      }
      : null,
    problem: problem ??
      ((q.get("confirm") && !confirmItem) || (q.get("change") && !changeItem)
        ? "That booking is not on your schedule any more."
        : null),
  };
}

function done(what: keyof typeof DONE): Response {
  return new Response(null, { status: 303, headers: { location: `${HERE}?done=${what}` } });
}

/** A refusal on this page as a sentence. */
function sentence(e: DomainError): string {
  switch (e.code) {
    case "session_full":
      return "Sorry, that date filled up just now, so your booking stays where it was. Pick another date below.";
    case "session_started":
      return "That session has already started, so it can no longer be changed here.";
    case "session_cancelled":
      return "That session was cancelled, so your booking cannot move there.";
    case "already_booked":
    case "place_taken":
    case "already_holding":
    case "offer_pending":
    case "already_waitlisted":
      return "You already have a place in that session, so your booking stays where it was.";
    case "not_on_course_waitlist":
      return "You are not on that course's waitlist any more.";
    case "idempotency_key_reused":
      return "That form was already used for something else. Please try again.";
    case "forbidden":
    case "not_found":
    case "booking_not_found":
      return "That booking is not on your schedule.";
    default:
      return "Sorry, that did not work and nothing changed. Please try again.";
  }
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    return ctx.render(await pageData(ctx.state.user, ctx.url, null));
  },
  async POST(req, ctx: Ctx) {
    if (!sameOrigin(req, ctx.url)) return new Response("Cross-site form refused.", { status: 403 });
    const user = ctx.state.user;
    if (!user) return new Response(null, { status: 303, headers: { location: signInHref(HERE) } });
    const form = await req.formData().catch(() => new FormData());
    const field = (name: string) => String(form.get(name) ?? "");
    const intent = field("intent");
    const { engine } = services();
    const places = await engine.listLearnerPlaces(user.id);
    const refuse = async (text: string, status: number) =>
      ctx.render(await pageData(user, new URL(HERE, ctx.url), text), { status });
    try {
      if (intent === "cancel" || intent === "reschedule") {
        const booking = places.bookings.find((b) => b.id === field("booking") && b.status === "confirmed");
        if (!booking) return await refuse("That booking is not on your schedule.", 404);
        if (intent === "cancel") {
          const cancelled = await engine.cancelBooking(booking.id, webActor(user, "cancelled on My schedule"));
          return done(cancelled.lateCancel ? "cancelled_late" : "cancelled");
        }
        const target = field("session");
        const idem = await formIdempotency(user, field("key"), ["POST", HERE, "reschedule", booking.id, target]);
        try {
          await engine.rescheduleBooking(booking.id, target, webActor(user, "rescheduled on My schedule"), idem);
        } catch (err) {
          const e = asDomainError(err);
          return ctx.render(await pageData(user, new URL(HERE, ctx.url), sentence(e), booking.id), {
            status: e.status,
          });
        }
        return done("rescheduled");
      }
      if (intent === "leave") {
        const entry = places.waitlist.find((w) => w.entry.sessionId === field("session"));
        if (!entry) return await refuse("You are not on that waitlist any more.", 404);
        await engine.leaveWaitlist(entry.entry.sessionId, user.id, webActor(user, "left the waitlist on My schedule"));
        return done("left");
      }
      if (intent === "leave_course") {
        const actor = webActor(user, "left the course-wide waitlist on My schedule");
        await leaveCourseWaitlist(engine, user.id, field("course"), actor);
        return done("course_left");
      }
      if (intent === "release") {
        const hold = places.holds.find((h) => h.id === field("hold"));
        if (!hold) return await refuse("That hold has already ended.", 404);
        await engine.releaseHold(hold.id, webActor(user, "released the hold on My schedule"));
        return done("released");
      }
      return await refuse("Sorry, we did not understand that request. Nothing changed.", 400);
    } catch (err) {
      const e = asDomainError(err);
      return await refuse(sentence(e), e.status);
    }
  },
};

const primary = "inline-block rounded-lg bg-blue-800 px-4 py-2 text-base font-semibold text-white";
const secondary =
  "inline-block rounded-lg border border-gray-600 bg-white px-4 py-2 text-base font-semibold text-gray-900";
const card = "space-y-1 rounded-xl border border-gray-200 p-4";

function PostButton(
  { intent, fields, label, kind }: { intent: string; fields: Record<string, string>; label: string; kind?: "primary" },
) {
  return (
    <form method="post" action={HERE} class="inline-block">
      <input type="hidden" name="intent" value={intent} />
      {Object.entries(fields).map(([k, v]) => <input key={k} type="hidden" name={k} value={v} />)}
      <button type="submit" class={kind === "primary" ? primary : secondary}>{label}</button>
    </form>
  );
}

function Section({ id, title, children }: { id: string; title: string; children: preact.ComponentChildren }) {
  return (
    <section aria-labelledby={id} class="space-y-3">
      <h2 id={id} class="text-xl font-bold">{title}</h2>
      {children}
    </section>
  );
}

function ConfirmCancel({ confirm }: { confirm: NonNullable<Data["confirm"]> }) {
  const { item, late, cutoffHours } = confirm;
  return (
    <section aria-labelledby="confirm" class="space-y-3 rounded-xl border-2 border-amber-600 p-4" role="alert">
      <h2 id="confirm" class="text-lg font-semibold">Cancel {item.row.course.title}?</h2>
      <p class="text-base">{whenText(item.row)}</p>
      {late
        ? (
          <p class="text-base font-semibold" data-testid="late-warning">
            This session starts within {cutoffHours} hours, so this counts as a late cancellation.
          </p>
        )
        : <p class="text-base">You can cancel free of charge: it is more than {cutoffHours} hours before the start.</p>}
      <div class="flex flex-wrap gap-3">
        <PostButton
          intent="cancel"
          fields={{ booking: item.booking.id }}
          label="Yes, cancel my booking"
          kind="primary"
        />
        <a href={HERE} class={secondary}>Keep my booking</a>
      </div>
    </section>
  );
}

function ChangeDate({ change }: { change: NonNullable<Data["change"]> }) {
  const { item, targets, key } = change;
  return (
    <section aria-labelledby="change" class="space-y-3 rounded-xl border-2 border-blue-800 p-4">
      <h2 id="change" class="text-lg font-semibold">Change the date of {item.row.course.title}</h2>
      <p class="text-base">
        Now: {whenText(item.row)}. Pick a new date; your current seat is freed at the same moment.
      </p>
      {targets.length
        ? (
          <ul class="grid gap-3 sm:grid-cols-2" aria-label="Other dates with seats">
            {targets.map((t) => (
              <li key={t.session.id} class={card} data-testid="reschedule-target">
                <PlaceSummary row={t} />
                <p class="text-sm">
                  {t.availability.seatsLeft} {t.availability.seatsLeft === 1 ? "seat" : "seats"} left
                </p>
                <PostButton
                  intent="reschedule"
                  fields={{ booking: item.booking.id, session: t.session.id, key }}
                  label="Move to this date"
                  kind="primary"
                />
              </li>
            ))}
          </ul>
        )
        : <p class="text-base">No other date of this course has seats right now.</p>}
      <a href={HERE} class={secondary}>Keep the current date</a>
    </section>
  );
}

function Upcoming({ items, now }: { items: BookingRow[]; now: number }) {
  return (
    <ul class="space-y-3">
      {items.map((b) => (
        <li key={b.booking.id} class={card} data-testid="upcoming-booking">
          <PlaceSummary row={b.row} keep />
          {/* The learner's own confirmed booking: the join link is theirs to see. */}
          <JoinLink url={b.row.session.mode === "in_person" ? null : b.row.session.joinUrl} />
          <p class="text-sm">
            <a href={`/bookings/${b.booking.id}`} class="text-blue-800 underline" data-offline-keep="">
              Booking details
            </a>
          </p>
          {Date.parse(b.row.session.startsAt) > now && (
            <div class="flex flex-wrap gap-3 pt-2">
              <a href={`${HERE}?change=${b.booking.id}#change`} class={secondary}>Change date</a>
              <a href={`${HERE}?confirm=cancel&booking=${b.booking.id}#confirm`} class={secondary}>Cancel</a>
            </div>
          )}
        </li>
      ))}
    </ul>
  );
}

/** Registered after `load`, so installing the worker never competes with the page's first render. */
const REGISTER_SW = `if("serviceWorker"in navigator)addEventListener("load",function(){` +
  `navigator.serviceWorker.register("/sw.js",{scope:"/"});` +
  `navigator.serviceWorker.ready.then(function(r){var k=[].map.call(document.querySelectorAll("[data-offline-keep]"),` +
  `function(a){return a.getAttribute("href")});k.push(location.pathname);r.active&&r.active.postMessage({keep:k})})})`;

/** Signed out: saved pages of whoever used this browser before are dropped. */
const FORGET_SAVED = "navigator.serviceWorker&&navigator.serviceWorker.controller&&" +
  "navigator.serviceWorker.controller.postMessage({clear:true})";

/** The learner's bookings, holds and waitlist places, with cancel, change date, leave and release. */
export default function SchedulePage({ data, state }: PageProps<Data, PageState>) {
  const { places, notice, problem, confirm, change } = data;
  const now = Date.parse(data.now);
  const empty = places &&
    !places.upcoming.length && !places.past.length && !places.holds.length && !places.waitlist.length &&
    !places.cancelled.length && !data.courseWaitlists?.length;
  return (
    <>
      <Head>
        <title>My schedule · Training sessions</title>
      </Head>
      <h1 class="mb-3 text-2xl font-bold leading-tight">My schedule</h1>
      {state.user && (
        <p class="mb-3 text-sm">
          <a href="/me/profile" class="font-semibold text-blue-800 underline">Your preferred location and times</a>
        </p>
      )}
      {!state.user && (
        <p class="text-base">
          <a href={signInHref(HERE)} class="font-semibold text-blue-800 underline">Sign in to see your schedule</a>
        </p>
      )}
      {places && (
        <div class="space-y-6">
          {notice && <p role="status" class="rounded-lg bg-green-100 p-3 text-base" data-testid="notice">{notice}</p>}
          {problem && (
            <p role="alert" class="rounded-lg border-2 border-amber-600 p-3 text-base" data-testid="problem">
              {problem}
            </p>
          )}
          {confirm && <ConfirmCancel confirm={confirm} />}
          {data.required && <RequiredForYou data={data.required} />}
          {change && <ChangeDate change={change} />}
          {empty && (
            <p class="text-base">
              Nothing booked yet. <a href="/" class="font-semibold text-blue-800 underline">Browse upcoming sessions</a>
              {" "}
              and hold a seat to see it here.
            </p>
          )}
          {places.holds.length > 0 && (
            <Section id="holds" title="Held seats">
              <ul class="space-y-3">
                {places.holds.map(({ hold, row }) => (
                  <li key={hold.id} class={card} data-testid="hold">
                    <PlaceSummary row={row} />
                    <p class="text-sm">
                      {hold.kind === "offer" ? "Offered to you from the waitlist" : "Held"} until{" "}
                      <time dateTime={hold.expiresAt}>
                        {formatTime(hold.expiresAt, row.session.timeZone)}{" "}
                        {formatZone(hold.expiresAt, row.session.timeZone)}
                      </time>{" "}
                      ({Math.max(1, Math.ceil((Date.parse(hold.expiresAt) - now) / 60_000))} min left)
                    </p>
                    <div class="flex flex-wrap gap-3 pt-2">
                      <a href={`/holds/${hold.id}`} class={primary}>Book this seat</a>
                      <PostButton intent="release" fields={{ hold: hold.id }} label="Release" />
                    </div>
                  </li>
                ))}
              </ul>
            </Section>
          )}
          {places.upcoming.length > 0 && (
            <Section id="upcoming" title="Upcoming">
              <Upcoming items={places.upcoming} now={now} />
            </Section>
          )}
          {places.waitlist.length > 0 && (
            <Section id="waitlist" title="Waitlists">
              <ul class="space-y-3">
                {places.waitlist.map(({ entry, position, row }) => (
                  <li key={entry.sessionId} class={card} data-testid="waitlist">
                    <PlaceSummary row={row} />
                    <p class="text-sm">You are number {position} on the waitlist.</p>
                    <div class="pt-2">
                      <PostButton intent="leave" fields={{ session: entry.sessionId }} label="Leave the waitlist" />
                    </div>
                  </li>
                ))}
              </ul>
            </Section>
          )}
          {(data.courseWaitlists?.length ?? 0) > 0 && (
            <Section id="course-waitlist" title="Any date that suits me">
              <CourseWaitlistList
                views={data.courseWaitlists!}
                leave={(courseId) => (
                  <PostButton
                    intent="leave_course"
                    fields={{ course: courseId }}
                    label="Leave this course's waitlist"
                  />
                )}
              />
            </Section>
          )}
          {places.past.length > 0 && (
            <Section id="past" title="Past">
              <ul class="space-y-3">
                {places.past.map((b) => (
                  <li key={b.booking.id} class={card} data-testid="past-booking">
                    <PlaceSummary row={b.row} />
                    {places.recordings.has(b.booking.sessionId) && (
                      <a href={`/sessions/${b.booking.sessionId}/recording`} class="text-base text-blue-800 underline">
                        Watch the recording
                      </a>
                    )}
                  </li>
                ))}
              </ul>
            </Section>
          )}
          {places.cancelled.length > 0 && (
            <details class="rounded-xl border border-gray-200 p-4">
              <summary class="cursor-pointer text-base font-semibold">Cancelled ({places.cancelled.length})</summary>
              <ul class="mt-3 space-y-3">
                {places.cancelled.map((b) => (
                  <li key={b.booking.id} class="space-y-1" data-testid="cancelled-booking">
                    <PlaceSummary row={b.row} />
                    <p class="text-sm">
                      {b.booking.rescheduledToBookingId
                        ? "Moved to another date."
                        : b.booking.lateCancel
                        ? "Cancelled late."
                        : "Cancelled."}
                    </p>
                  </li>
                ))}
              </ul>
            </details>
          )}
        </div>
      )}
      {state.user && (
        <form method="post" action="/auth/sign-out" class="mt-8">
          <input type="hidden" name="everywhere" value="1" />
          <button type="submit" class="rounded-lg border border-gray-500 px-4 py-3 font-semibold">
            Sign out on every device
          </button>
        </form>
      )}
      <script dangerouslySetInnerHTML={{ __html: state.user ? REGISTER_SW : FORGET_SAVED }} />
    </>
  );
}
