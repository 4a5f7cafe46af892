import { type AccessRule, ADMIN_ONLY } from "../../lib/access/matrix.ts";
import { Figures, ReviewCard, type ReviewRow, Section, TenantTable } from "../../components/admin/CalcomOps.tsx";
import { adminRefusal } from "../../components/admin/refusal.ts";
import { resolveItem, retryReviewItem } from "../../lib/api/v1/calcom.ts";
import { ApiError } from "../../lib/api/errors.ts";
import type { PageState } from "../../lib/auth/page_user.ts";
import { type CalcomHealth, calcomHealth } from "../../lib/calcom/health.ts";
import { getSyncState, listReviewItems } from "../../lib/calcom/sync_store.ts";
import { type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { services } from "../../lib/services.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = ADMIN_ONLY;

const HERE = "/admin/calcom";

/** Sentences shown after a successful action (`?done=`). */
const DONE: Record<string, string> = {
  retried: "Queued again. The sync sends it at once; the item stays open until it succeeds or you resolve it.",
  resolved: "Marked resolved. Your comment is kept with the item.",
};

interface Data {
  /** Null when the visitor may not see the page. */
  health: CalcomHealth | null;
  items: ReviewRow[];
  notice: string | null;
  problem: string | null;
}

/** What a signed-in visitor without the admin role sees (403). */
const FORBIDDEN: Data = { health: null, items: [], notice: null, problem: null };

async function pageData(url: URL, problem: string | null): Promise<Data> {
  const { kv, config } = services();
  const [health, open] = await Promise.all([calcomHealth(kv, config), listReviewItems(kv, "open")]);
  const items = await Promise.all(
    open.map(async (item) => ({ item, sync: item.bookingId ? await getSyncState(kv, item.bookingId) : null })),
  );
  return {
    health,
    items,
    notice: problem ? null : DONE[url.searchParams.get("done") ?? ""] ?? null,
    problem,
  };
}

/** A refusal of the sync as a sentence for the page. */
function sentence(e: ApiError): string {
  switch (e.code) {
    case "review_item_not_found":
      return "That review item no longer exists.";
    case "review_item_resolved":
      return "That item was already resolved, so nothing changed.";
    case "not_retryable":
      return "A Cal.com conflict cannot be retried: fix the booking or Cal.com by hand, then mark it resolved.";
    case "no_sync_state":
      return "That booking has no sync state to retry. Mark the item resolved once it is handled.";
    default:
      return "Sorry, that did not work and nothing changed. Please try again.";
  }
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    return adminRefusal(ctx, HERE, FORBIDDEN) ?? ctx.render(await pageData(ctx.url, null));
  },
  async POST(req, ctx) {
    const refused = adminRefusal(ctx, HERE, FORBIDDEN, req);
    if (refused) return refused;
    const user = ctx.state.user!;
    const form = await req.formData().catch(() => new FormData());
    const field = (name: string) => String(form.get(name) ?? "");
    const { kv } = services();
    const here = new URL(HERE, ctx.url);
    const refuse = async (text: string, status: number) => ctx.render(await pageData(here, text), { status });
    const id = field("id");
    try {
      if (field("intent") === "retry") {
        await retryReviewItem(kv, id);
        return new Response(null, { status: 303, headers: { location: `${HERE}?done=retried` } });
      }
      if (field("intent") === "resolve") {
        const comment = field("comment").trim();
        if (!comment) return await refuse("Write a comment saying what was done before marking it resolved.", 400);
        if (comment.length > 500) return await refuse("Keep the comment to 500 characters or fewer.", 400);
        await resolveItem(kv, id, comment, user.id);
        return new Response(null, { status: 303, headers: { location: `${HERE}?done=resolved` } });
      }
      return await refuse("Sorry, we did not understand that request. Nothing changed.", 400);
    } catch (err) {
      if (err instanceof ApiError) return await refuse(sentence(err), err.status);
      throw err;
    }
  },
};

/** Cal.com operations for admins: sync figures, tenant health, the manual-review queue. */
export default function CalcomAdminPage({ data }: PageProps<Data, PageState>) {
  const { health, items, notice, problem } = data;
  if (!health) {
    return (
      <>
        <Head>
          <title>Not allowed · Training sessions</title>
        </Head>
        <h1 class="text-2xl font-bold">You can't see this page</h1>
        <p class="mt-2 text-base">Cal.com operations are for administrators. Sign in with an admin account.</p>
        <p class="mt-4">
          <a href="/" class="font-semibold text-blue-800 underline">See all upcoming sessions</a>
        </p>
      </>
    );
  }
  return (
    <>
      <Head>
        <title>Cal.com sync · Training sessions</title>
      </Head>
      <h1 class="mb-3 text-2xl font-bold leading-tight">Cal.com sync</h1>
      <div class="space-y-8">
        {notice && <p role="status" class="rounded-lg bg-green-100 p-3 text-base" data-testid="notice">{notice}</p>}
        {problem && (
          <p role="alert" class="rounded-lg border-2 border-amber-600 p-3 text-base" data-testid="problem">
            {problem}
          </p>
        )}
        <Section id="figures" title="Sync figures">
          <Figures figures={health.sync} />
        </Section>
        <Section id="tenants" title="Tenants">
          <p class="text-base">
            {!health.tenants.some((t) => t.configured)
              ? "No tenant can call Cal.com yet: set CALCOM_API_URL and CALCOM_API_KEY, or add one with " +
                "deno task calcom:tenant."
              : health.ok
              ? "Every configured tenant answers and accepts its key."
              : "At least one configured tenant is unreachable or refuses its key."} Checks are reused for 30 seconds.
          </p>
          <TenantTable tenants={health.tenants} />
        </Section>
        <Section id="review" title={`Open review items (${items.length})`}>
          {items.length
            ? (
              <ul class="space-y-4">
                {items.map((row) => <ReviewCard key={row.item.id} row={row} action={HERE} />)}
              </ul>
            )
            : <p class="text-base">Nothing waits for review.</p>}
        </Section>
      </div>
    </>
  );
}
