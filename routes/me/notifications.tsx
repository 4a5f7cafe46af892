import { type AccessRule, SELF } from "../../lib/access/matrix.ts";
import { sameOrigin, signInHref } from "../../components/Journey.tsx";
import type { PageState } from "../../lib/auth/page_user.ts";
import { type FreshContext, type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { KIND_INFO, NOTIFICATION_KINDS, type NotificationKind } from "../../lib/notify/kinds.ts";
import {
  getNotificationPrefs,
  listInbox,
  type NotificationSummary,
  NotifyInputError,
  setNotificationPrefs,
} from "../../lib/notify/manage.ts";
import { services } from "../../lib/services.ts";

/** Signed-in people, for their own notifications; anonymous visitors are asked to sign in. */
export const access: AccessRule = { anonymous: "sign_in_prompt", ...SELF };

const HERE = "/me/notifications";

interface Data {
  off: NotificationKind[];
  managerDigest: boolean;
  timeZone: string;
  inbox: NotificationSummary[];
  saved: boolean;
  problem: { field: "kinds" | "timeZone"; text: string } | null;
}

type Ctx = FreshContext<PageState, Data>;

async function pageData(userId: string, over: Partial<Data> = {}): Promise<Data> {
  const { kv } = services();
  const [prefs, inbox] = await Promise.all([getNotificationPrefs(kv, userId), listInbox(kv, userId)]);
  return {
    off: prefs.off,
    managerDigest: prefs.managerDigest === true,
    timeZone: prefs.timeZone ?? "",
    inbox,
    saved: false,
    problem: null,
    ...over,
  };
}

/** Your notifications: which optional kinds you receive, the zone of times, and the last 50 messages. */
export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx: Ctx) {
    const user = ctx.state.user;
    if (!user) {
      return ctx.render({ off: [], managerDigest: false, timeZone: "", inbox: [], saved: false, problem: null });
    }
    return ctx.render(await pageData(user.id, { saved: ctx.url.searchParams.get("done") === "saved" }));
  },
  async POST(req, ctx: Ctx) {
    if (!sameOrigin(req, ctx.url)) return new Response("Cross-site form refused.", { status: 403 });
    const user = ctx.state.user;
    if (!user) return new Response(null, { status: 303, headers: { location: signInHref(HERE) } });
    const form = await req.formData().catch(() => new FormData());
    const on = new Set(form.getAll("on").map(String));
    const off = NOTIFICATION_KINDS.filter((k) => !KIND_INFO[k].transactional && !on.has(k));
    const timeZone = String(form.get("timeZone") ?? "").trim();
    const managerDigest = form.get("managerDigest") === "on";
    try {
      await setNotificationPrefs(services().kv, user.id, { off, timeZone: timeZone || null, managerDigest });
    } catch (err) {
      if (!(err instanceof NotifyInputError)) throw err;
      const field = err.code === "invalid_time_zone" ? "timeZone" : "kinds";
      return ctx.render(
        await pageData(user.id, { off, timeZone, managerDigest, problem: { field, text: err.message } }),
        {
          status: 422,
        },
      );
    }
    return new Response(null, { status: 303, headers: { location: `${HERE}?done=saved` } });
  },
};

const STATUS_TEXT: Record<string, string> = { pending: "Waiting to send", sent: "Sent", dead: "Could not be sent" };

export default function NotificationsPage({ data, state }: PageProps<Data, PageState>) {
  const problem = data.problem;
  return (
    <>
      <Head>
        <title>Notifications · Training sessions</title>
      </Head>
      <h1 class="mb-3 text-2xl font-bold leading-tight">Notifications</h1>
      {!state.user
        ? (
          <p class="text-base">
            <a href={signInHref(HERE)} class="font-semibold text-blue-800 underline">
              Sign in to see your notifications
            </a>
          </p>
        )
        : (
          <div class="space-y-6 text-base">
            {data.saved && <p role="status" class="rounded bg-green-100 p-3 text-green-900">Saved.</p>}
            <form method="post" action={HERE} class="space-y-4">
              <fieldset aria-describedby={problem?.field === "kinds" ? "kinds-problem" : undefined}>
                <legend class="mb-2 font-semibold">Email me about</legend>
                <ul class="space-y-2">
                  {NOTIFICATION_KINDS.map((kind) => {
                    const info = KIND_INFO[kind];
                    return (
                      <li key={kind}>
                        <label class="flex items-center gap-2">
                          <input
                            type="checkbox"
                            name="on"
                            value={kind}
                            checked={info.transactional || !data.off.includes(kind)}
                            disabled={info.transactional}
                            class="h-5 w-5"
                          />
                          <span>
                            {info.label.charAt(0).toUpperCase() + info.label.slice(1)}
                            {info.transactional && <span class="text-sm text-gray-700">(always sent)</span>}
                          </span>
                        </label>
                      </li>
                    );
                  })}
                </ul>
                {problem?.field === "kinds" && <p id="kinds-problem" class="mt-2 text-red-800">{problem.text}</p>}
              </fieldset>
              {state.user.roles.includes("manager") && (
                <label class="flex items-center gap-2">
                  <input type="checkbox" name="managerDigest" checked={data.managerDigest} class="h-5 w-5" />
                  <span>Send team booking notices as one daily digest (07:00 your time)</span>
                </label>
              )}
              <div>
                <label for="timeZone" class="block font-semibold">Time zone for times in emails</label>
                <p id="timeZone-hint" class="text-sm text-gray-700">
                  For example Europe/Berlin. Leave empty to use your preferred location's zone.
                </p>
                <input
                  id="timeZone"
                  name="timeZone"
                  value={data.timeZone}
                  aria-describedby={problem?.field === "timeZone" ? "timeZone-hint timeZone-problem" : "timeZone-hint"}
                  aria-invalid={problem?.field === "timeZone" ? "true" : undefined}
                  class="mt-1 w-full max-w-sm rounded border border-gray-600 px-3 py-2"
                />
                {problem?.field === "timeZone" && <p id="timeZone-problem" class="mt-1 text-red-800">{problem.text}</p>}
              </div>
              <button type="submit" class="rounded-lg bg-blue-800 px-4 py-2 font-semibold text-white">Save</button>
            </form>
            <section aria-labelledby="inbox-title">
              <h2 id="inbox-title" class="mb-2 text-xl font-bold">Your last messages</h2>
              {data.inbox.length === 0 ? <p>No messages yet.</p> : (
                <ul class="divide-y divide-gray-300">
                  {data.inbox.map((m) => (
                    <li key={m.id} class="py-2">
                      <p class="font-semibold">{m.subject ?? KIND_INFO[m.kind].label}</p>
                      <p class="text-sm text-gray-700">
                        {STATUS_TEXT[m.status] ?? m.status} · {(m.sentAt ?? m.dueAt).slice(0, 16).replace("T", " ")} UTC
                      </p>
                    </li>
                  ))}
                </ul>
              )}
            </section>
          </div>
        )}
    </>
  );
}
