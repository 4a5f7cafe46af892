/**
 * The access matrix: who may use an API operation or a page. Every operation (`defineOperation`'s
 * `access`) and every page (`export const access` in its route module) declares a rule; the API
 * pipeline (lib/api/operation.ts) and the page hook (lib/app.ts → lib/fresh) enforce it in one
 * place each, and `deno task access-matrix` prints the README table from the same declarations.
 *
 * A rule says which audiences may come in and how far their right reaches. The reach beyond "any"
 * (own places, own sessions, own team, own dealer) is enforced per object by the handler through
 * lib/booking/access.ts; the matrix test walks both levels.
 */
import type { Role } from "../domain/user.ts";

/** Who is asking: nobody signed in, or a signed-in person in one of their roles. */
export const AUDIENCES = ["anonymous", "learner", "instructor", "manager", "dealer_admin", "admin"] as const;
export type Audience = typeof AUDIENCES[number];

/** How far a right reaches. */
export type Reach =
  /** Everything the operation or page offers. */
  | "any"
  /** The caller's own places (holds, bookings, waitlist entries) and profile. */
  | "own"
  /** Places in the sessions the caller teaches, and those sessions. */
  | "own_sessions"
  /** The people whose manager the caller is. */
  | "own_team"
  /** The people of the caller's dealer. */
  | "own_dealer"
  /** Pages only: a sign-in prompt, no data. */
  | "sign_in_prompt";

/** Audiences let in, each with its reach; an audience not named is refused. */
export type AccessRule = Readonly<Partial<Record<Audience, Reach>>>;

/**
 * An access declaration: a full rule, or a shorthand — `"public"` (everyone, anonymous included),
 * `"user"` (every signed-in person, for their own things; admins for everything), or a list of roles
 * (those roles, for everything).
 */
export type Access = "public" | "user" | readonly Role[] | AccessRule;

/** Every audience, everything: public pages and catalog reads. */
export const PUBLIC: AccessRule = {
  anonymous: "any",
  learner: "any",
  instructor: "any",
  manager: "any",
  dealer_admin: "any",
  admin: "any",
};

/** Any signed-in person for their own things; instructors also in the sessions they teach; admins anywhere. */
export const PLACE_OWNER: AccessRule = {
  learner: "own",
  instructor: "own_sessions",
  manager: "own",
  dealer_admin: "own",
  admin: "any",
};

/** Any signed-in person, for themself only (profile, own schedule). */
export const SELF: AccessRule = {
  learner: "own",
  instructor: "own",
  manager: "own",
  dealer_admin: "own",
  admin: "own",
};

/** Admins only. */
export const ADMIN_ONLY: AccessRule = { admin: "any" };

/** Admins, and instructors for the sessions they teach. */
export const SESSION_STAFF: AccessRule = { instructor: "own_sessions", admin: "any" };

/** The rule a declaration stands for. */
export function toRule(access: Access): AccessRule {
  if (access === "public") return PUBLIC;
  if (access === "user") {
    return { learner: "own", instructor: "own", manager: "own", dealer_admin: "own", admin: "any" };
  }
  if (Array.isArray(access)) {
    return Object.fromEntries((access as readonly Role[]).map((r) => [r, "any" as Reach]));
  }
  return access as AccessRule;
}

/**
 * The audiences of a caller: `anonymous` without one; otherwise their roles, plus `learner` (every
 * signed-in person may book for themself).
 */
export function audiencesOf(roles: readonly string[] | null): Audience[] {
  if (roles === null) return ["anonymous"];
  const out = new Set<Audience>(["learner"]);
  for (const r of roles) if ((AUDIENCES as readonly string[]).includes(r)) out.add(r as Audience);
  return [...out];
}

/** The outcome of checking a caller against a rule (before any per-object reach). */
export type Decision = "allow" | "unauthenticated" | "forbidden";

/** Whether a caller with these roles (null: not signed in) is let in by the rule. */
export function decide(access: Access, roles: readonly string[] | null): Decision {
  const rule = toRule(access);
  if (audiencesOf(roles).some((a) => rule[a] !== undefined)) return "allow";
  return roles === null ? "unauthenticated" : "forbidden";
}

/** The roles a rule lets in beyond anonymous (for error messages). */
export function rolesOf(access: Access): Audience[] {
  const rule = toRule(access);
  return AUDIENCES.filter((a) => a !== "anonymous" && rule[a] !== undefined);
}

const REACH_TEXT: Record<Reach, string> = {
  any: "yes",
  own: "own",
  own_sessions: "own sessions",
  own_team: "own team",
  own_dealer: "own dealer",
  sign_in_prompt: "sign-in prompt",
};

/** One row of the matrix. */
export interface MatrixRow {
  /** `GET /api/v1/sessions` or `GET /me/schedule`. */
  what: string;
  access: Access;
}

/** The matrix as a Markdown table (the README's copy is checked against it by a test). */
export function matrixTable(rows: readonly MatrixRow[]): string {
  const header = ["What", "anonymous", "learner", "instructor", "manager", "dealer admin", "admin"];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const row of rows) {
    const rule = toRule(row.access);
    lines.push(`| \`${row.what}\` | ${AUDIENCES.map((a) => rule[a] ? REACH_TEXT[rule[a]] : "—").join(" | ")} |`);
  }
  return lines.join("\n");
}
