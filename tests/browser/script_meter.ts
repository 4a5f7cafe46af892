/** JavaScript weight of pages in the browser tests: gzip bytes of the scripts each navigation loads. */
import type { Page, Response as PwResponse } from "playwright-core";

/** Each page's JS budget (gzip). */
export const JS_BUDGET_GZIP = 15 * 1024;

/** gzip size of a byte array. */
export async function gzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/**
 * Records the script responses of a page; `take()` returns their gzip bytes since the last call.
 * It does not wait for the network to idle: pages with an event stream never do.
 */
export function scriptMeter(page: Page): { take(): Promise<number> } {
  let pending: Promise<number>[] = [];
  page.on("response", (r: PwResponse) => {
    if (r.request().resourceType() !== "script") return;
    pending.push(r.body().then((b) => gzipSize(b), () => 0));
  });
  return {
    async take(): Promise<number> {
      const sizes = await Promise.all(pending);
      pending = [];
      return sizes.reduce((a, b) => a + b, 0);
    },
  };
}
