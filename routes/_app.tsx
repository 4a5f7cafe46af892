import type { PageState } from "../lib/auth/page_user.ts";
import type { AppProps } from "../lib/fresh/mod.ts";
import type { User } from "../lib/domain/user.ts";

/** The staff home of a signed-in user: admins get /admin, dealer admins /dealer; others none. */
function staffHome(user: User | null): { href: string; label: string } | null {
  if (user?.roles.includes("admin")) return { href: "/admin", label: "Staff" };
  if (user?.roles.includes("dealer_admin")) return { href: "/dealer", label: "Dealer" };
  return null;
}

/** The document shell every page shares: header, main landmark, footer. */
export default function App({ Component, state }: AppProps<unknown, PageState>) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="theme-color" content="#1d4ed8" />
        <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
        <title>Training sessions</title>
      </head>
      <body class="min-h-screen bg-white text-gray-900 antialiased">
        <a
          href="#main"
          class="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-10 focus:rounded focus:bg-white focus:p-2"
        >
          Skip to content
        </a>
        <header class="bg-blue-800 text-white">
          <nav class="mx-auto flex max-w-3xl items-center justify-between gap-x-3 px-4 py-3" aria-label="Main">
            <a href="/" class="text-lg font-bold focus:outline-none focus-visible:ring-4 focus-visible:ring-white">
              Training sessions
            </a>
            <span class="flex flex-wrap items-center justify-end gap-x-4 gap-y-1">
              {state.user && (state.user.roles.includes("instructor") || state.user.roles.includes("admin")) && (
                <a
                  href="/teach"
                  class="whitespace-nowrap text-sm font-semibold underline focus:outline-none focus-visible:ring-4 focus-visible:ring-white"
                >
                  Teach
                </a>
              )}
              {state.user && (
                <a
                  href="/me/schedule"
                  class="whitespace-nowrap text-sm font-semibold underline focus:outline-none focus-visible:ring-4 focus-visible:ring-white"
                >
                  My schedule
                </a>
              )}
              {state.user && (
                <a
                  href="/me/notifications"
                  class="whitespace-nowrap text-sm font-semibold underline focus:outline-none focus-visible:ring-4 focus-visible:ring-white"
                  data-testid="notifications-link"
                >
                  Notifications
                </a>
              )}
              {staffHome(state.user) && (
                <a
                  href={staffHome(state.user)!.href}
                  class="whitespace-nowrap text-sm font-semibold underline focus:outline-none focus-visible:ring-4 focus-visible:ring-white"
                  data-testid="staff-link"
                >
                  {staffHome(state.user)!.label}
                </a>
              )}
              {state.user && (state.devLogin
                ? (
                  <a
                    href="/dev/sign-in"
                    class="text-sm underline focus:outline-none focus-visible:ring-4 focus-visible:ring-white"
                  >
                    {state.user.name}
                  </a>
                )
                : (
                  <a
                    href="/me/profile"
                    class="text-sm underline focus:outline-none focus-visible:ring-4 focus-visible:ring-white"
                  >
                    {state.user.name}
                  </a>
                ))}
              {state.user && (
                <form method="post" action="/auth/sign-out">
                  <button
                    type="submit"
                    class="text-sm underline focus:outline-none focus-visible:ring-4 focus-visible:ring-white"
                  >
                    Sign out
                  </button>
                </form>
              )}
              {!state.user && (state.sso || state.devLogin) && (
                <a
                  href={state.sso ? "/auth/sign-in" : "/dev/sign-in"}
                  class="text-sm underline focus:outline-none focus-visible:ring-4 focus-visible:ring-white"
                >
                  Sign in
                </a>
              )}
            </span>
          </nav>
        </header>
        <main id="main" class="mx-auto max-w-3xl px-4 pb-12 pt-4">
          <Component />
        </main>
      </body>
    </html>
  );
}
