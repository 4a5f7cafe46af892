/**
 * Who may act where: the one rule for a learner's place (hold, offer, booking, waitlist entry) in a
 * session and for managing the session itself. The engine enforces it inside each change; the API
 * and pages use it for reads.
 *
 * - a learner acts on their own places only;
 * - an instructor acts on any learner's place in the sessions they teach (`session.instructorId`),
 *   and manages those sessions; nowhere else (in other sessions they are a learner like any other);
 * - an admin acts anywhere;
 * - a system actor (no user; origin `calcom` or `system`) acts on any place: the change already
 *   happened on Cal.com, or it is housekeeping. It never manages sessions.
 */
import { DomainError } from "./errors.ts";

/** The part of an actor (or an API principal) the rule looks at. */
export interface Acting {
  userId: string | null;
  roles?: readonly string[];
  /** Only actors carry it; a principal without one is never a system actor. */
  origin?: string;
}

/** The session a place is in, as far as the rule cares; null when it no longer exists (only admins then). */
export type SessionStaff = { instructorId: string } | null;

/** A change no person made: a Cal.com webhook or reconciliation, or the system itself. */
export function isSystemActor(who: Acting): boolean {
  return who.userId === null && (who.origin === "calcom" || who.origin === "system");
}

function isAdmin(who: Acting): boolean {
  return !!who.roles?.includes("admin");
}

/** Admins manage every session; an instructor only the sessions they teach. */
export function mayManageSession(who: Acting, session: SessionStaff): boolean {
  if (isAdmin(who)) return true;
  return !!session && !!who.userId && who.userId === session.instructorId && !!who.roles?.includes("instructor");
}

/** The learner themself. */
export function isOwnPlace(who: Acting, learnerId: string): boolean {
  return who.userId !== null && who.userId === learnerId;
}

/**
 * The session's staff (its instructor, an admin) or the system: who may act on every place in the
 * session, including after its start.
 */
export function actsForSession(who: Acting, session: SessionStaff): boolean {
  return isSystemActor(who) || mayManageSession(who, session);
}

/** Whether `who` may see or change `learnerId`'s place in `session` (see the module rules). */
export function mayActOnPlace(who: Acting, learnerId: string, session: SessionStaff): boolean {
  return isOwnPlace(who, learnerId) || actsForSession(who, session);
}

/** 403 `forbidden` unless {@link mayActOnPlace}. */
export function assertMayActOnPlace(who: Acting, learnerId: string, session: SessionStaff): void {
  if (!mayActOnPlace(who, learnerId, session)) {
    throw new DomainError(
      403,
      "forbidden",
      who.roles?.includes("instructor")
        ? "Instructors can only act on learners' places in the sessions they teach."
        : "You can only act on your own holds, bookings and waitlist places.",
    );
  }
}

/** 403 `forbidden` unless {@link mayManageSession}. */
export function assertMayManageSession(who: Acting, session: SessionStaff): void {
  if (!mayManageSession(who, session)) {
    throw new DomainError(
      403,
      "forbidden",
      who.roles?.includes("instructor")
        ? "Instructors can only manage their own sessions."
        : "Only admins and instructors can schedule, change or cancel sessions.",
    );
  }
}

/**
 * Who may see a session's join link: its staff (its instructor, admins) and learners with a
 * confirmed booking in it. Nobody else: not anonymous visitors, not learners who only hold a seat
 * or wait for one.
 */
export function maySeeJoinLink(who: Acting | null, session: SessionStaff, bookedInSession: boolean): boolean {
  if (!who) return false;
  return bookedInSession || mayManageSession(who, session);
}

/** Whose places a team read covers: a manager's reports, or a dealer's people. */
export type TeamScope = { managerId: string } | { dealerId: string };

/**
 * Who may read the places of a team: the manager themself (`managerId`), a dealer admin of that
 * dealer, and admins. Managers and dealer admins change nothing of their people's places.
 */
export function mayReadTeam(who: Acting & { dealerId?: string | null }, scope: TeamScope): boolean {
  if (isAdmin(who)) return true;
  if ("managerId" in scope) return !!who.roles?.includes("manager") && who.userId === scope.managerId;
  return !!who.roles?.includes("dealer_admin") && !!who.dealerId && who.dealerId === scope.dealerId;
}

/** 403 `forbidden` unless {@link mayReadTeam}. */
export function assertMayReadTeam(who: Acting & { dealerId?: string | null }, scope: TeamScope): void {
  if (!mayReadTeam(who, scope)) {
    throw new DomainError(
      403,
      "forbidden",
      "managerId" in scope
        ? "Managers can only see the people they manage."
        : "Dealer admins can only see the people of their own dealer.",
    );
  }
}
