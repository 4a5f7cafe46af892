import { type AccessRule, ADMIN_ONLY } from "../../lib/access/matrix.ts";
import { adminRefusal } from "../../components/admin/refusal.ts";
import type { PageState } from "../../lib/auth/page_user.ts";
import { type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { KIND_INFO } from "../../lib/notify/kinds.ts";
import {
  countNotifications,
  getNotifySettings,
  listNotifications,
  type NotificationSummary,
  retryDeadNotification,
  setNotifyPaused,
} from "../../lib/notify/manage.ts";
import type { NotificationStatus } from "../../lib/notify/notifier.ts";
import { services } from "../../lib/services.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = ADMIN_ONLY;

const HERE = "/admin/notifications";

const DONE: Record<string, string> = {
  paused: "Sending is paused. Messages keep being produced and wait.",
  resumed: "Sending resumed.",
  retried: "The message is queued again and goes out at the next step.",
};

interface Data {
  allowed: boolean;
  paused: boolean;
  smtpConfigured: boolean;
  counts: Record<NotificationStatus, number>;
  dead: NotificationSummary[];
  recent: NotificationSummary[];
  notice: string | null;
  problem: string | null;
}

const EMPTY: Data = {
  allowed: false,
  paused: false,
  smtpConfigured: false,
  counts: { pending: 0, sent: 0, dead: 0, skipped: 0 },
  dead: [],
  recent: [],
  notice: null,
  problem: null,
};

async function pageData(url: URL, problem: string | null): Promise<Data> {
  const { kv, config } = services();
  const [settings, counts, dead, recent] = await Promise.all([
    getNotifySettings(kv),
    countNotifications(kv),
    listNotifications(kv, { status: "dead", limit: 100 }),
    listNotifications(kv, { limit: 50 }),
  ]);
  return {
    allowed: true,
    paused: settings.paused,
    smtpConfigured: config.smtpUrl !== null,
    counts,
    dead,
    recent,
    notice: problem ? null : DONE[url.searchParams.get("done") ?? ""] ?? null,
    problem,
  };
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    return adminRefusal(ctx, HERE, EMPTY) ?? ctx.render(await pageData(ctx.url, null));
  },
  async POST(req, ctx) {
    const refused = adminRefusal(ctx, HERE, EMPTY, req);
    if (refused) return refused;
    const form = await req.formData().catch(() => new FormData());
    const intent = String(form.get("intent") ?? "");
    const { kv, engine } = services();
    const done = (what: string) => new Response(null, { status: 303, headers: { location: `${HERE}?done=${what}` } });
    if (intent === "pause" || intent === "resume") {
      await setNotifyPaused(kv, intent === "pause");
      return done(intent === "pause" ? "paused" : "resumed");
    }
    if (intent === "retry") {
      const retried = await retryDeadNotification(kv, String(form.get("id") ?? ""), engine.now());
      if (retried) return done("retried");
      return ctx.render(await pageData(new URL(HERE, ctx.url), "That message is no longer in the dead-letter list."), {
        status: 404,
      });
    }
    return ctx.render(await pageData(new URL(HERE, ctx.url), "Sorry, we did not understand that request."), {
      status: 400,
    });
  },
};

function Row({ m, retry }: { m: NotificationSummary; retry: boolean }) {
  return (
    <tr class="border-t border-gray-300 align-top">
      <td class="py-2 pr-3">{KIND_INFO[m.kind].label}</td>
      <td class="py-2 pr-3">{m.status}</td>
      <td class="py-2 pr-3">{m.dueAt.slice(0, 16).replace("T", " ")}</td>
      <td class="py-2 pr-3">{m.attempts}</td>
      <td class="py-2 pr-3 break-words">{m.lastError ?? m.skippedReason ?? ""}</td>
      {retry && (
        <td class="py-2">
          <form method="post" action={HERE}>
            <input type="hidden" name="intent" value="retry" />
            <input type="hidden" name="id" value={m.id} />
            <button type="submit" class="rounded bg-blue-800 px-3 py-1 font-semibold text-white">
              Retry<span class="sr-only">{` ${KIND_INFO[m.kind].label} message ${m.id.slice(0, 8)}`}</span>
            </button>
          </form>
        </td>
      )}
    </tr>
  );
}

function Table({ caption, rows, retry }: { caption: string; rows: NotificationSummary[]; retry: boolean }) {
  return (
    // Scrolls sideways on narrow screens: focusable, so keyboard users can scroll it too.
    <div class="overflow-x-auto" tabIndex={0} role="region" aria-label={caption}>
      <table class="w-full text-left text-sm">
        <caption class="mb-2 text-left text-lg font-bold">{caption}</caption>
        <thead>
          <tr>
            <th scope="col" class="pr-3">Kind</th>
            <th scope="col" class="pr-3">Status</th>
            <th scope="col" class="pr-3">Due (UTC)</th>
            <th scope="col" class="pr-3">Tries</th>
            <th scope="col" class="pr-3">Why</th>
            {retry && <th scope="col">Action</th>}
          </tr>
        </thead>
        <tbody>{rows.map((m) => <Row key={m.id} m={m} retry={retry} />)}</tbody>
      </table>
    </div>
  );
}

export default function AdminNotificationsPage({ data }: PageProps<Data, PageState>) {
  return (
    <>
      <Head>
        <title>Notifications · Admin · Training sessions</title>
      </Head>
      <h1 class="mb-3 text-2xl font-bold leading-tight">Notifications</h1>
      {!data.allowed
        ? <p class="text-base">Your account does not have access to this page.</p>
        : (
          <div class="space-y-6 text-base">
            {data.notice && <p role="status" class="rounded bg-green-100 p-3 text-green-900">{data.notice}</p>}
            {data.problem && <p role="alert" class="rounded bg-red-100 p-3 text-red-900">{data.problem}</p>}
            <p>
              {data.smtpConfigured
                ? "Email goes out through the configured SMTP server."
                : "SMTP_URL is not set: messages are produced and kept here, and go out once it is configured."}
            </p>
            <p>
              Pending {data.counts.pending} · sent {data.counts.sent} · dead {data.counts.dead} · skipped{" "}
              {data.counts.skipped}
            </p>
            <form method="post" action={HERE}>
              <input type="hidden" name="intent" value={data.paused ? "resume" : "pause"} />
              <p class="mb-2">{data.paused ? "Sending is paused." : "Sending is on."}</p>
              <button type="submit" class="rounded-lg bg-blue-800 px-4 py-2 font-semibold text-white">
                {data.paused ? "Resume sending" : "Pause all sending"}
              </button>
            </form>
            <Table caption="Could not be sent (dead letters)" rows={data.dead} retry />
            <Table caption="Latest messages" rows={data.recent} retry={false} />
          </div>
        )}
    </>
  );
}
