import type { AccessRule } from "../../lib/access/matrix.ts";
import { type ComplianceData, complianceHandlers, ComplianceView, type ScopeOf } from "../../components/Compliance.tsx";
import type { PageState } from "../../lib/auth/page_user.ts";
import { Head, type PageProps } from "../../lib/fresh/mod.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts): dealer admins their dealer; admins any. */
export const access: AccessRule = { dealer_admin: "own_dealer", admin: "any" };

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** A dealer admin sees their own dealer; an admin names the dealer (`?dealerId=`). */
const scopeOf: ScopeOf = (user, url) => {
  const named = url.searchParams.get("dealerId");
  if (user.roles.includes("admin") && named && ULID.test(named)) {
    return {
      scope: { dealerId: named },
      acting: { userId: user.id, roles: ["dealer_admin"], dealerId: named },
      keep: `dealerId=${named}`,
    };
  }
  if (user.roles.includes("dealer_admin") && user.dealerId) {
    return {
      scope: { dealerId: user.dealerId },
      acting: { userId: user.id, roles: ["dealer_admin"], dealerId: user.dealerId },
      keep: "",
    };
  }
  return "Admins: add ?dealerId=<the dealer's id> to the address to see that dealer's people.";
};

export const handler = complianceHandlers("/dealer/compliance", "Dealer compliance", scopeOf);

/** The dealer's people × required training, gaps with recommended sessions, assign. */
export default function DealerCompliancePage({ data }: PageProps<ComplianceData, PageState>) {
  return (
    <>
      <Head>
        <title>Dealer compliance · Training sessions</title>
      </Head>
      <ComplianceView data={data} nested={false} />
    </>
  );
}
