import { signInHref } from "../../../components/Journey.tsx";
import type { PageState } from "../../../lib/auth/page_user.ts";
import type { Handlers } from "../../../lib/fresh/mod.ts";
import { exportFileName, exportUserData } from "../../../lib/privacy/export.ts";
import { services } from "../../../lib/services.ts";
import { type AccessRule, SELF } from "../../../lib/access/matrix.ts";

/** Signed-in people, their own data only. */
export const access: AccessRule = SELF;
/** The signed-in person's data as one JSON download (GDPR access and portability). */
export const handler: Handlers<unknown, PageState> = {
  async GET(_req, ctx) {
    const user = ctx.state.user;
    if (!user) return new Response(null, { status: 303, headers: { location: signInHref("/me/privacy") } });
    const { kv, engine } = services();
    const now = engine.now();
    const data = await exportUserData(kv, user.id, now, engine.options.compliance);
    if (!data) return ctx.renderNotFound();
    return new Response(JSON.stringify(data, null, 2), {
      headers: {
        "content-type": "application/json; charset=utf-8",
        "content-disposition": `attachment; filename="${exportFileName(user.id, now)}"`,
        "cache-control": "private, no-store",
      },
    });
  },
};
