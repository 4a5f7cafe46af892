import { SESSION_STAFF } from "../../../../lib/access/matrix.ts";
import { rosterEventStream } from "../../../../lib/attendance/roster_stream.ts";
import { attendanceSettingsOf } from "../../../../lib/attendance/windows.ts";
import type { PageState } from "../../../../lib/auth/page_user.ts";
import { mayManageSession } from "../../../../lib/booking/access.ts";
import type { Handlers } from "../../../../lib/fresh/mod.ts";
import { services } from "../../../../lib/services.ts";
import { getSession } from "../../../../lib/store/sessions.ts";

/** Who may open this stream: the session's instructor and admins (others: 404). */
export const access = SESSION_STAFF;

/**
 * The roster of one session, live: `text/event-stream` of `event: roster` (the roster without
 * e-mail addresses), first the current picture, then on every booking, cancellation, mark,
 * check-in and close; a heartbeat comment every 15 s.
 */
export const handler: Handlers<unknown, PageState> = {
  async GET(_req, ctx) {
    const { kv, config } = services();
    const user = ctx.state.user!;
    const who = { userId: user.id, roles: user.roles };
    const session = await getSession(kv, ctx.params.id);
    if (!session || !mayManageSession(who, session)) return ctx.renderNotFound();
    return new Response(rosterEventStream(kv, session.id, who, attendanceSettingsOf(config)), {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  },
};
