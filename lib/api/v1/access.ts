/**
 * Ownership as the API applies it. The rule itself (own places; instructors in the sessions they
 * teach; admins anywhere) lives in lib/booking/access.ts; the engine enforces it on every change,
 * and reads go through {@link assertMayReadPlace}.
 */
import type { Principal } from "../../auth/principal.ts";
import { assertMayActOnPlace, mayActOnPlace } from "../../booking/access.ts";
import { getSession } from "../../store/mod.ts";
import { ApiError } from "../errors.ts";

/**
 * The learner an operation acts for: the caller, or the `learnerId` they name (whether they may
 * act for that learner in the session is the engine's call: 403 otherwise). The bootstrap admin
 * credential has no user of its own, so it must name one.
 */
export function learnerFor(principal: Principal, learnerId: string | undefined): string {
  if (learnerId) return learnerId;
  if (!principal.userId) {
    throw new ApiError(400, "learner_required", "Name the learner with learnerId when using the admin token.");
  }
  return principal.userId;
}

/** The caller's own user id for things only a person has (`what`: "profile"); the admin token has none: 400. */
export function callerUserId(principal: Principal, what: string): string {
  if (!principal.userId) throw new ApiError(400, "learner_required", `The admin token has no ${what} of its own.`);
  return principal.userId;
}

/** 403 unless the caller may see this learner's place in this session. 404 is not used: ids are not secrets here. */
export async function assertMayReadPlace(
  kv: Deno.Kv,
  principal: Principal,
  place: { learnerId: string; sessionId: string },
): Promise<void> {
  // The learner themself and admins need no session to decide; instructors do.
  if (mayActOnPlace(principal, place.learnerId, null)) return;
  assertMayActOnPlace(principal, place.learnerId, await getSession(kv, place.sessionId));
}
