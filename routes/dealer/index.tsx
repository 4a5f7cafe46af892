import type { AccessRule } from "../../lib/access/matrix.ts";
import { linkClass } from "../../components/admin/AdminUi.tsx";
import { Section } from "../../components/admin/CalcomOps.tsx";
import type { PageState } from "../../lib/auth/page_user.ts";
import type { Dealer, User } from "../../lib/domain/mod.ts";
import { type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { services } from "../../lib/services.ts";
import { getDealer, listUsersByDealer } from "../../lib/store/mod.ts";

/** Who may open this page: dealer admins, for their own dealer. */
export const access: AccessRule = { dealer_admin: "own_dealer" };

interface Data {
  dealer: Dealer | null;
  people: User[];
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const { kv } = services();
    const dealerId = ctx.state.user!.dealerId;
    const dealer = dealerId ? await getDealer(kv, dealerId) : null;
    const people = dealer ? await listUsersByDealer(kv, dealer.id) : [];
    return ctx.render({ dealer, people });
  },
};

/** The dealer admin's home: their dealer's people and reports. */
export default function DealerHome({ data }: PageProps<Data, PageState>) {
  const { dealer, people } = data;
  return (
    <>
      <Head>
        <title>{dealer ? dealer.name : "Dealer"} · Training sessions</title>
      </Head>
      <h1 class="mb-3 text-2xl font-bold leading-tight">{dealer ? dealer.name : "No dealer"}</h1>
      {!dealer && <p class="text-base">Your account belongs to no dealer. Ask an administrator to set it.</p>}
      {dealer && (
        <div class="space-y-8">
          <p class="text-base">
            <a href="/dealer/reports" class={linkClass} data-testid="link-dealer-reports">Your dealer's reports</a>
          </p>
          <Section id="people" title={`People (${people.length})`}>
            <ul class="space-y-2" data-testid="dealer-people">
              {people.map((p) => (
                <li key={p.id} class="rounded-xl border border-gray-200 p-3 text-base">
                  <span class="font-semibold">{p.name}</span> <span class="break-all">{p.email}</span>
                  {p.active === false && <span>(deactivated)</span>}
                </li>
              ))}
            </ul>
          </Section>
        </div>
      )}
    </>
  );
}
