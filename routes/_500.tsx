import { Head, type PageProps } from "../lib/fresh/mod.ts";

/** Shown when something failed on our side. The error itself is logged, never shown. */
export default function ServerError(_props: PageProps) {
  return (
    <>
      <Head>
        <title>Something went wrong · Training sessions</title>
      </Head>
      <h1 class="text-2xl font-bold">Something went wrong on our side</h1>
      <p class="mt-2 text-base">Please try again in a moment. If it keeps happening, tell your training coordinator.</p>
      <p class="mt-4">
        <a href="/" class="font-semibold text-blue-800 underline">Back to all sessions</a>
      </p>
    </>
  );
}
