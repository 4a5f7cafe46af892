/**
 * Dev live reload. `/_frsh/alive` is a Server-Sent Events stream that sends
 * this process's revision id. The inline page snippet remembers the first
 * id; when the server restarts (`deno run --watch`), EventSource reconnects,
 * receives a different id and the page reloads.
 * @module
 */

/** Path of the live reload event stream. */
export const ALIVE_PATH = "/_frsh/alive";

/** Changes every time the server process starts. */
export const REVISION: string = crypto.randomUUID();

/** The SSE response for `/_frsh/alive`. */
export function aliveResponse(revision: string = REVISION): Response {
  let timer: ReturnType<typeof setInterval> | undefined;
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`retry: 500\ndata: ${revision}\n\n`));
      // Keep proxies from closing an idle connection.
      timer = setInterval(() => {
        try {
          controller.enqueue(encoder.encode(": ping\n\n"));
        } catch {
          clearInterval(timer);
        }
      }, 20_000);
    },
    cancel() {
      clearInterval(timer);
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream",
      "cache-control": "no-store",
    },
  });
}

/** Inline JavaScript that reloads the page when the revision changes. */
export const LIVE_RELOAD_SCRIPT = `(()=>{let r;const c=()=>{const s=new EventSource(${
  JSON.stringify(ALIVE_PATH)
});s.onmessage=(e)=>{if(r&&r!==e.data)location.reload();r=e.data};s.onerror=()=>{if(s.readyState===2){s.close();setTimeout(c,1000)}}};c()})();`;
