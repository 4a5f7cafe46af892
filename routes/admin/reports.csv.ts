import type { AccessRule } from "../../lib/access/matrix.ts";
import { loadReportCsv } from "../../components/reports/ReportPage.tsx";
import type { PageState } from "../../lib/auth/page_user.ts";
import type { Handlers } from "../../lib/fresh/mod.ts";
import { services } from "../../lib/services.ts";

/** Who may download: as the reports page. */
export const access: AccessRule = { admin: "any", dealer_admin: "own_dealer" };

/** One report section as CSV, for the same filters as the page (`?section=…`). */
export const handler: Handlers<unknown, PageState> = {
  GET(_req, ctx) {
    return loadReportCsv(services().kv, ctx.url, ctx.state.user!);
  },
};
