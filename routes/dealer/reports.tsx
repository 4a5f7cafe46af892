import type { AccessRule } from "../../lib/access/matrix.ts";
import { loadReportPage, type ReportPageData, ReportView } from "../../components/reports/ReportPage.tsx";
import type { PageState } from "../../lib/auth/page_user.ts";
import { getDealer } from "../../lib/store/dealers.ts";
import { type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { services } from "../../lib/services.ts";

/** Who may open this page: dealer admins (their own dealer only) and admins. */
export const access: AccessRule = { admin: "any", dealer_admin: "own_dealer" };

interface Data {
  page: ReportPageData;
  dealerName: string | null;
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const user = ctx.state.user!;
    const { kv } = services();
    const { status, data } = await loadReportPage(kv, "/dealer/reports", ctx.url, user);
    const dealerId = data.report?.filters.dealerId ?? null;
    const dealerName = dealerId ? (await getDealer(kv, dealerId))?.name ?? null : null;
    return ctx.render({ page: data, dealerName }, { status });
  },
};

/** The dealer's reports: the same reports, counting only the dealer's own learners. */
export default function DealerReportsPage({ data }: PageProps<Data, PageState>) {
  return (
    <>
      <Head>
        <title>Dealer reports · Training sessions</title>
      </Head>
      <ReportView data={data.page} dealerName={data.dealerName} />
    </>
  );
}
