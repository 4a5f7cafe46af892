import { signInHref } from "../../components/Journey.tsx";
import type { PageState } from "../../lib/auth/page_user.ts";
import { type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { type AccessRule, SELF } from "../../lib/access/matrix.ts";

const HERE = "/me/privacy";

/** Signed-in people, for their own data; anonymous visitors are asked to sign in. */
export const access: AccessRule = { anonymous: "sign_in_prompt", ...SELF };
/** Your data: a download of everything held about you (the export itself is /me/privacy/export.json). */
export const handler: Handlers<null, PageState> = {
  GET(_req, ctx) {
    return ctx.render(null);
  },
};

export default function PrivacyPage({ state }: PageProps<null, PageState>) {
  return (
    <>
      <Head>
        <title>Your data · Training sessions</title>
      </Head>
      <h1 class="mb-3 text-2xl font-bold leading-tight">Your data</h1>
      {!state.user
        ? (
          <p class="text-base">
            <a href={signInHref(HERE)} class="font-semibold text-blue-800 underline">Sign in to download your data</a>
          </p>
        )
        : (
          <div class="space-y-4 text-base">
            <p>
              Download everything we hold about you as one JSON file: your profile and preferences, bookings with their
              history, attendance and its audit trail, online joins, RSVPs, recordings watched, held seats, waitlist
              places (also "any date that suits me"), the emails we sent you, your assignments and certifications,
              Cal.com sync state and the events about you.
            </p>
            <form method="get" action="/me/privacy/export.json">
              <button
                type="submit"
                class="rounded-lg bg-blue-800 px-4 py-2 font-semibold text-white"
                data-testid="download-data"
              >
                Download my data
              </button>
            </form>
            <p class="text-sm">
              To have your data erased, ask an administrator: erasure cancels your future bookings and removes your name
              and email everywhere we hold them.
            </p>
          </div>
        )}
    </>
  );
}
