import type { AccessRule } from "../../lib/access/matrix.ts";
import { PUBLIC } from "../../lib/access/matrix.ts";
import type { PageState } from "../../lib/auth/page_user.ts";
import { type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { NotifyInputError, unsubscribe, verifyUnsubscribe } from "../../lib/notify/manage.ts";
import { KIND_INFO } from "../../lib/notify/kinds.ts";
import { services } from "../../lib/services.ts";

/**
 * Anyone holding a signed link: the token is the authority. A mail client's one-click POST
 * (RFC 8058, `List-Unsubscribe=One-Click`) comes from the mail provider, so no same-origin check.
 */
export const access: AccessRule = PUBLIC;

interface Data {
  token: string;
  label: string | null;
  done: boolean;
  problem: string | null;
}

const INVALID = "This unsubscribe link is not valid. You can choose what you receive on your Notifications page.";

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const token = ctx.url.searchParams.get("t") ?? "";
    const found = token ? await verifyUnsubscribe(services().kv, token) : null;
    if (!found) return ctx.render({ token: "", label: null, done: false, problem: INVALID }, { status: 400 });
    return ctx.render({ token, label: KIND_INFO[found.kind].label, done: false, problem: null });
  },
  async POST(req, ctx) {
    const form = await req.formData().catch(() => new FormData());
    const token = ctx.url.searchParams.get("t") ?? String(form.get("t") ?? "");
    try {
      const { label } = await unsubscribe(services().kv, token);
      return ctx.render({ token: "", label, done: true, problem: null });
    } catch (err) {
      if (!(err instanceof NotifyInputError)) throw err;
      return ctx.render({ token: "", label: null, done: false, problem: INVALID }, { status: 400 });
    }
  },
};

export default function UnsubscribePage({ data }: PageProps<Data, PageState>) {
  return (
    <>
      <Head>
        <title>Unsubscribe · Training sessions</title>
      </Head>
      <h1 class="mb-3 text-2xl font-bold leading-tight">Unsubscribe</h1>
      {data.problem
        ? <p class="text-base text-red-800">{data.problem}</p>
        : data.done
        ? <p role="status" class="text-base">Done: you will no longer get {data.label} by email.</p>
        : (
          <form method="post" action={`/notifications/unsubscribe?t=${encodeURIComponent(data.token)}`}>
            <p class="mb-3 text-base">Stop emails about {data.label}?</p>
            <button type="submit" class="rounded-lg bg-blue-800 px-4 py-2 font-semibold text-white">
              Unsubscribe
            </button>
          </form>
        )}
      <p class="mt-4 text-base">
        <a href="/me/notifications" class="font-semibold text-blue-800 underline">All notification settings</a>
      </p>
    </>
  );
}
