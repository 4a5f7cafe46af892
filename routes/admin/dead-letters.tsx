import { type AccessRule, ADMIN_ONLY } from "../../lib/access/matrix.ts";
import { linkClass, Notice } from "../../components/admin/AdminUi.tsx";
import { Section } from "../../components/admin/CalcomOps.tsx";
import { sameOrigin } from "../../components/Journey.tsx";
import {
  DEAD_LETTER_HOMES,
  type DeadLetterListSummary,
  summariseDeadLetterLists,
} from "../../lib/admin/dead_letters.ts";
import type { PageState } from "../../lib/auth/page_user.ts";
import { type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { requeueDeadLetter } from "../../lib/relay/topics.ts";
import { services } from "../../lib/services.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = ADMIN_ONLY;

const HERE = "/admin/dead-letters";
/** Entries shown per list (the rest: the list's own page or API). */
const SHOWN = 10;

const DONE: Record<string, string> = {
  requeued: "Back in the relay's outbox: it is delivered with the other pending events, or dead-lettered again " +
    "with the new reason.",
};

/** The other lists' pages: what they offer, and the link's words. */
const ELSEWHERE: Record<string, [string, string]> = {
  calcom_review: ["Retry a booking that failed to sync, or mark an item resolved, there.", "Open the Cal.com page"],
  notifications: ["Send a message again there.", "Open the notifications page"],
};

interface Data {
  lists: DeadLetterListSummary[];
  notice: string | null;
  problem: string | null;
}

async function pageData(url: URL, problem: string | null): Promise<Data> {
  return {
    lists: await summariseDeadLetterLists(services().kv, { newest: SHOWN }),
    notice: problem ? null : DONE[url.searchParams.get("done") ?? ""] ?? null,
    problem,
  };
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    return ctx.render(await pageData(ctx.url, null));
  },
  async POST(req, ctx) {
    if (!sameOrigin(req, ctx.url) || req.headers.get("sec-fetch-site") === "cross-site") {
      return new Response("Cross-site form refused.", { status: 403 });
    }
    const form = await req.formData().catch(() => new FormData());
    const here = new URL(HERE, ctx.url);
    if (String(form.get("intent") ?? "") !== "requeue") {
      return ctx.render(await pageData(here, "Sorry, we did not understand that request. Nothing changed."), {
        status: 400,
      });
    }
    const outcome = await requeueDeadLetter(services().kv, String(form.get("id") ?? ""));
    if (outcome === "requeued") {
      return new Response(null, { status: 303, headers: { location: `${HERE}?done=requeued` } });
    }
    const text = outcome === "not_found"
      ? "That dead letter is no longer in the list (someone may have requeued it already). Nothing changed."
      : "That event is already waiting in the relay's outbox. Nothing changed.";
    return ctx.render(await pageData(here, text), { status: outcome === "not_found" ? 404 : 409 });
  },
};

const when = (at: string | null) => at === null ? "—" : `${at.slice(0, 16).replace("T", " ")} UTC`;

function ListSection({ summary }: { summary: DeadLetterListSummary }) {
  const home = DEAD_LETTER_HOMES[summary.list];
  const kafka = summary.list === "kafka";
  return (
    <Section id={summary.list} title={home.title}>
      <p class="text-base" data-testid={`count-${summary.list}`}>
        {summary.count === 0
          ? "Empty."
          : `${summary.count} ${summary.count === 1 ? "entry" : "entries"}; the oldest from ${when(summary.oldestAt)}.`}
      </p>
      {summary.newest.length > 0 && (
        <ul class="space-y-3" aria-label={`${home.title}, newest first`}>
          {summary.newest.map((e) => (
            <li key={e.id} class="rounded-xl border border-gray-200 p-3 text-base">
              <p class="font-semibold break-words">{e.what}</p>
              <p class="text-sm">{when(e.at)}</p>
              <p class="break-words">{e.reason}</p>
              {kafka && (
                <form method="post" action={HERE} class="mt-2">
                  <input type="hidden" name="intent" value="requeue" />
                  <input type="hidden" name="id" value={e.id} />
                  <button type="submit" class="rounded-lg bg-blue-800 px-4 py-2 font-semibold text-white">
                    Requeue<span class="sr-only">{` ${e.what}, event ${e.id}`}</span>
                  </button>
                </form>
              )}
            </li>
          ))}
        </ul>
      )}
      {kafka
        ? (
          <p class="text-base">
            Requeue puts the event back in the relay's outbox after the cause is fixed.
            {summary.count > summary.newest.length &&
              ` The ${summary.count - summary.newest.length} older ones: `}
            {summary.count > summary.newest.length && (
              <a href="/api/v1/admin/dead-letters?limit=1000" class={linkClass}>the full list (JSON)</a>
            )}
          </p>
        )
        : (
          <p class="text-base">
            <a href={home.page} class={linkClass} data-testid={`link-${summary.list}`}>
              {ELSEWHERE[summary.list][1]}
            </a>{" "}
            {ELSEWHERE[summary.list][0]}
          </p>
        )}
    </Section>
  );
}

/** Every dead-letter list on one page, with where each is retried. */
export default function DeadLettersPage({ data }: PageProps<Data, PageState>) {
  return (
    <>
      <Head>
        <title>Dead letters · Staff · Training sessions</title>
      </Head>
      <h1 class="mb-3 text-2xl font-bold leading-tight">Dead letters</h1>
      <div class="space-y-8">
        <Notice notice={data.notice} problem={data.problem} />
        <p class="text-base">
          What the system gave up on, newest first. <a href="/admin" class={linkClass}>Back to Staff</a>
        </p>
        {data.lists.map((l) => <ListSection key={l.list} summary={l} />)}
      </div>
    </>
  );
}
