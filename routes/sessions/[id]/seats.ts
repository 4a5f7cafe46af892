import { type AccessRule, PUBLIC } from "../../../lib/access/matrix.ts";
import type { PageState } from "../../../lib/auth/page_user.ts";
import { seatEventStream } from "../../../lib/catalog/seat_stream.ts";
import type { Handlers } from "../../../lib/fresh/mod.ts";
import { getSession } from "../../../lib/store/sessions.ts";
import { services } from "../../../lib/services.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = PUBLIC;

/**
 * Seats left of one session, live: `text/event-stream` of `event: seats` with JSON
 * `{left, taken, capacity, waiting, state}` (sent first, then on each change), a `retry:` hint and a
 * heartbeat comment every 15 s. Ends when the client goes away: Deno cancels the response body then,
 * which releases the watcher and timers (`req.signal` is not used: in Deno 2 it also fires on
 * successful responses, with a legacy-behaviour warning).
 */
export const handler: Handlers<unknown, PageState> = {
  async GET(_req, ctx) {
    const { kv } = services();
    if (!await getSession(kv, ctx.params.id)) return ctx.renderNotFound();
    return new Response(seatEventStream(kv, ctx.params.id), {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  },
};
