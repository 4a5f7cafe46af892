import { type AccessRule, SELF } from "../../lib/access/matrix.ts";
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
import { SessionSummary } from "../../components/SessionSummary.tsx";
import HoldCountdown from "../../islands/HoldCountdown.tsx";
import type { PageState } from "../../lib/auth/page_user.ts";
import type { Alternative } from "../../lib/booking/alternatives.ts";
import { getSessionDetail, type SessionDetail } from "../../lib/catalog/browse.ts";
import { formatTime, formatZone } from "../../lib/catalog/format.ts";
import type { Hold } from "../../lib/domain/hold.ts";
import type { User } from "../../lib/domain/user.ts";
import { type FreshContext, type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { services } from "../../lib/services.ts";
import { getHold } from "../../lib/store/holds.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = SELF;

interface Data {
  hold: Hold;
  detail: SessionDetail;
  serverTime: string;
  live: boolean;
  bookKey: string;
  bookingId: string | null;
  problem: { sentence: string; alternatives?: Alternative[]; waitlistOpen?: boolean } | null;
}

type Ctx = FreshContext<PageState, Data>;

/** The hold if the signed-in user owns it; otherwise a response to send instead. */
async function ownHold(ctx: Ctx): Promise<{ user: User; hold: Hold; detail: SessionDetail } | Response> {
  const user = ctx.state.user;
  if (!user) {
    return ctx.state.devLogin || ctx.state.sso
      ? new Response(null, { status: 303, headers: { location: signInHref(ctx.url.pathname) } })
      : ctx.renderNotFound();
  }
  const hold = await getHold(services().kv, ctx.params.id);
  // Someone else's hold is as good as missing: no hint that it exists.
  if (!hold || hold.learnerId !== user.id) return ctx.renderNotFound();
  const detail = await getSessionDetail(services().kv, hold.sessionId);
  if (!detail) return ctx.renderNotFound();
  return { user, hold, detail };
}

async function pageData(user: User, hold: Hold, detail: SessionDetail, problem: Data["problem"]): Promise<Data> {
  const { engine } = services();
  const now = engine.now();
  const live = hold.status === "active" && Date.parse(hold.expiresAt) > now.getTime();
  let bookingId: string | null = null;
  if (hold.status === "confirmed") {
    const places = await engine.listLearnerPlaces(user.id);
    bookingId = places.bookings.find((b) => b.holdId === hold.id)?.id ?? null;
  }
  return { hold, detail, serverTime: now.toISOString(), live, bookKey: newFormKey(), bookingId, problem };
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const found = await ownHold(ctx);
    if (found instanceof Response) return found;
    return ctx.render(await pageData(found.user, found.hold, found.detail, null));
  },
  async POST(req, ctx) {
    if (!sameOrigin(req, ctx.url)) return new Response("Cross-site form refused.", { status: 403 });
    const found = await ownHold(ctx);
    if (found instanceof Response) return found;
    const { user, hold, detail } = found;
    const form = await req.formData().catch(() => new FormData());
    const intent = String(form.get("intent") ?? "");
    const { engine } = services();
    try {
      if (intent === "release") {
        await engine.releaseHold(hold.id, webActor(user, "released the hold on the hold page"));
        return new Response(null, { status: 303, headers: { location: `/sessions/${hold.sessionId}` } });
      }
      const idem = await formIdempotency(user, String(form.get("key") ?? ""), ["POST", `/holds/${hold.id}`, "book"]);
      const { booking } = await engine.confirmHold(hold.id, webActor(user, "booked on the hold page"), idem);
      return new Response(null, { status: 303, headers: { location: `/bookings/${booking.id}` } });
    } catch (err) {
      const e = asDomainError(err);
      const latest = await getHold(services().kv, hold.id) ?? hold;
      if (e.code === "hold_already_confirmed") {
        const data = await pageData(user, latest, detail, null);
        if (data.bookingId) {
          return new Response(null, { status: 303, headers: { location: `/bookings/${data.bookingId}` } });
        }
      }
      const problem: Data["problem"] = { sentence: problemSentence(e) };
      // The engine recorded the offer of these alternatives with the refusal.
      if (e.code === "hold_expired") Object.assign(problem, alternativesOf(e));
      return ctx.render(await pageData(user, latest, detail, problem), { status: e.status });
    }
  },
};

/** A held seat: summary, time left, Book and Release. */
export default function HoldPage({ data }: PageProps<Data, PageState>) {
  const { hold, detail, live, problem } = data;
  const { session } = detail;
  const here = `/holds/${hold.id}`;
  const sessionHref = `/sessions/${session.id}`;
  const until = `${formatTime(hold.expiresAt, session.timeZone)} ${formatZone(hold.expiresAt, session.timeZone)}`;
  return (
    <>
      <Head>
        <title>Your held seat · {detail.course.title}</title>
      </Head>
      <h1 class="mb-3 text-2xl font-bold leading-tight">
        {live ? "Your seat is held" : hold.status === "confirmed" ? "This seat is booked" : "This hold has ended"}
      </h1>
      <div class="space-y-4">
        <SessionSummary detail={detail} />
        {problem && (
          <section aria-labelledby="problem" class="space-y-3 rounded-xl border-2 border-amber-600 p-4" role="alert">
            <h2 id="problem" class="text-base font-semibold">{problem.sentence}</h2>
            {problem.alternatives && (
              <AlternativesList
                alternatives={problem.alternatives}
                keys={problem.alternatives.map(() => newFormKey())}
                alternativeOf={session.id}
              />
            )}
          </section>
        )}
        {live && (
          <>
            <p class="text-base" data-testid="hold-until">
              We keep this seat for you until <time dateTime={hold.expiresAt}>{until}</time>. Book it before then.
            </p>
            <HoldCountdown expiresAt={hold.expiresAt} serverTime={data.serverTime} sessionHref={sessionHref} />
            <ActionForm action={here} intent="book" formKey={data.bookKey} label="Book this seat" />
            <ActionForm action={here} intent="release" label="Release the seat" secondary />
          </>
        )}
        {!live && hold.status === "confirmed" && data.bookingId && (
          <ButtonLink href={`/bookings/${data.bookingId}`} label="See your booking" />
        )}
        {!live && hold.status !== "confirmed" && !problem && (
          <p class="text-base">
            {hold.status === "released" ? "You released this seat." : "Your hold expired and the seat was released."}
            {" "}
            <a href={sessionHref} class="font-semibold text-blue-800 underline">See this session and other dates</a>
          </p>
        )}
      </div>
    </>
  );
}
