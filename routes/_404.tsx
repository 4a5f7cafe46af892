import { Head, type PageProps } from "../lib/fresh/mod.ts";

/** Shown for any URL or record that does not exist. */
export default function NotFound({ url }: PageProps) {
  return (
    <>
      <Head>
        <title>Not found · Training sessions</title>
      </Head>
      <h1 class="text-2xl font-bold">We couldn't find that page</h1>
      <p class="mt-2 text-base">
        Nothing lives at{" "}
        <code class="break-all">{url.pathname}</code>. The session may have been removed, or the link may be mistyped.
      </p>
      <p class="mt-4">
        <a href="/" class="font-semibold text-blue-800 underline">See all upcoming sessions</a>
      </p>
    </>
  );
}
