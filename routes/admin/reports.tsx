import type { AccessRule } from "../../lib/access/matrix.ts";
import { loadReportPage, type ReportPageData, ReportView } from "../../components/reports/ReportPage.tsx";
import type { PageState } from "../../lib/auth/page_user.ts";
import { type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { services } from "../../lib/services.ts";

/** Who may open this page: admins; dealer admins see their own dealer's slice only. */
export const access: AccessRule = { admin: "any", dealer_admin: "own_dealer" };

export const handler: Handlers<ReportPageData, PageState> = {
  async GET(_req, ctx) {
    const { status, data } = await loadReportPage(services().kv, "/admin/reports", ctx.url, ctx.state.user!);
    return ctx.render(data, { status });
  },
};

/** Reports: no-shows, late cancellations, funnel, alternatives, waitlist, completion and fill. */
export default function AdminReportsPage({ data }: PageProps<ReportPageData, PageState>) {
  return (
    <>
      <Head>
        <title>Reports · Training sessions</title>
      </Head>
      <ReportView data={data} />
    </>
  );
}
