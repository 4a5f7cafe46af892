import type { AccessRule } from "../lib/access/matrix.ts";
import { type ComplianceData, complianceHandlers, ComplianceView, type ScopeOf } from "../components/Compliance.tsx";
import type { PageState } from "../lib/auth/page_user.ts";
import { Head, type PageProps } from "../lib/fresh/mod.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts): managers their team; admins any manager's. */
export const access: AccessRule = { manager: "own_team", admin: "any" };

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** A manager sees their own team; an admin names the manager (`?managerId=`). */
const scopeOf: ScopeOf = (user, url) => {
  const named = url.searchParams.get("managerId");
  if (user.roles.includes("admin") && named && ULID.test(named)) {
    return { scope: { managerId: named }, acting: { userId: user.id, roles: ["admin"] }, keep: `managerId=${named}` };
  }
  if (user.roles.includes("manager")) {
    return { scope: { managerId: user.id }, acting: { userId: user.id, roles: ["manager"] }, keep: "" };
  }
  return "Admins: add ?managerId=<the manager's id> to the address to see that manager's team.";
};

export const handler = complianceHandlers("/team", "My team's training", scopeOf);

/** The manager's team × required training, gaps with recommended sessions, assign. */
export default function TeamPage({ data }: PageProps<ComplianceData, PageState>) {
  return (
    <>
      <Head>
        <title>My team's training · Training sessions</title>
      </Head>
      <ComplianceView data={data} nested />
    </>
  );
}
