/** Ownership rules the API applies before calling the engine. */
import type { Principal } from "../../auth/principal.ts";
import { ApiError } from "../errors.ts";

/** Admins and instructors may act on other learners' places. */
export function isStaff(principal: Principal): boolean {
  return principal.roles.includes("admin") || principal.roles.includes("instructor");
}

/**
 * The learner an operation acts for: the caller, or (staff only) the `learnerId` they name.
 * The bootstrap admin credential has no user of its own, so it must name one.
 */
export function learnerFor(principal: Principal, learnerId: string | undefined): string {
  if (learnerId && learnerId !== principal.userId) {
    if (!isStaff(principal)) {
      throw new ApiError(403, "forbidden", "Only admins and instructors can act for another learner.");
    }
    return learnerId;
  }
  if (!principal.userId) {
    throw new ApiError(400, "learner_required", "Name the learner with learnerId when using the admin token.");
  }
  return principal.userId;
}

/** 403 unless the caller is the owner or staff. 404 is not used: ids are not secrets here. */
export function assertOwnerOrStaff(principal: Principal, learnerId: string): void {
  if (principal.userId !== learnerId && !isStaff(principal)) {
    throw new ApiError(403, "forbidden", "You can only see your own holds and bookings.");
  }
}
