/**
 * People management by staff: admins manage anyone; a dealer admin manages the learners of their
 * own dealer only (create, update, deactivate). Anything outside that is a 403 `forbidden`. The
 * rules live here; the API (lib/api/v1/users.ts) and the /dealer page both call them.
 */
import { deactivateUser } from "../auth/sessions.ts";
import { DomainError } from "../booking/errors.ts";
import type { Role, User } from "../domain/user.ts";
import { ConflictError } from "../store/errors.ts";
import { getLocation } from "../store/locations.ts";
import { createUser, getUser, getUserByEmail, listUsersByDealer, updateUser } from "../store/users.ts";
import { getDealer } from "../store/dealers.ts";
import { keys } from "../store/keys.ts";
import { ValidationError } from "../domain/validation.ts";
import { staleEdit } from "./form_outcome.ts";
import { recordVersion } from "./version.ts";

/** Who is managing people. */
export interface PeopleActor {
  userId: string | null;
  roles: readonly Role[];
  /** The dealer admin's own dealer. */
  dealerId: string | null;
}

/** A signed-in user as a manager of people. */
export function peopleActorOf(user: Pick<User, "id" | "roles" | "dealerId">): PeopleActor {
  return { userId: user.id, roles: user.roles, dealerId: user.dealerId };
}

const isAdmin = (a: PeopleActor) => a.roles.includes("admin");

function forbidden(message: string): DomainError {
  return new DomainError(403, "forbidden", message);
}

/** A dealer admin's dealer; 403 when they have none. */
function dealerOf(actor: PeopleActor): string {
  if (!actor.dealerId) throw forbidden("Your account belongs to no dealer, so you cannot manage people.");
  return actor.dealerId;
}

/** 403 unless the actor may manage this existing person: admins anyone; dealer admins their dealer's learners. */
export function assertMayManagePerson(actor: PeopleActor, person: User): void {
  if (isAdmin(actor)) return;
  if (person.dealerId !== dealerOf(actor)) {
    throw forbidden("Dealer admins can only manage the people of their own dealer.");
  }
  if (person.roles.some((r) => r !== "learner")) {
    throw forbidden("Dealer admins can only manage learners; ask an administrator to change staff accounts.");
  }
}

/** The fields a provisioning request sets (the API's POST /v1/users body). */
export interface PersonInput {
  email: string;
  roles?: Role[];
  dealerId?: string | null;
  managerId?: string | null;
  completedCourses?: unknown[];
}

/**
 * Scopes a provisioning request by a dealer admin: only learners, only of their own dealer (the
 * dealer defaults to theirs), a manager of their dealer, no completions, and an existing person
 * with that email must be theirs. Admins pass unchanged. Returns the input to provision.
 */
export async function scopePersonInput<T extends PersonInput>(kv: Deno.Kv, actor: PeopleActor, input: T): Promise<T> {
  if (isAdmin(actor)) return input;
  const dealerId = dealerOf(actor);
  if (input.dealerId !== undefined && input.dealerId !== dealerId) {
    throw forbidden("Dealer admins can only add people to their own dealer.");
  }
  if (input.roles && input.roles.some((r) => r !== "learner")) {
    throw forbidden("Dealer admins can only give the learner role.");
  }
  if (input.completedCourses?.length) throw forbidden("Dealer admins cannot record completed courses.");
  if (input.managerId) {
    const manager = await getUser(kv, input.managerId);
    if (manager && manager.dealerId !== dealerId) throw forbidden("The manager must be of your own dealer.");
  }
  const existing = await getUserByEmail(kv, input.email);
  if (existing) assertMayManagePerson(actor, existing);
  return { ...input, dealerId };
}

/** Deactivates a person the actor may manage (404 `user_not_found`, 403 outside their reach). */
export async function deactivatePerson(kv: Deno.Kv, actor: PeopleActor, userId: string): Promise<number> {
  const person = await getUser(kv, userId);
  if (!person) throw new DomainError(404, "user_not_found", `No user with id ${userId}.`);
  assertMayManagePerson(actor, person);
  return await deactivateUser(kv, userId);
}

/** A learner a dealer admin adds on their page. */
export interface DealerLearnerInput {
  email: string;
  name: string;
  managerId: string | null;
  preferredLocationId: string | null;
}

/** Field errors of the dealer admin's person form. */
export type PersonFormErrors = Partial<Record<"email" | "name" | "managerId" | "preferredLocationId", string>>;

/** The dealer admin's person form as typed (kept and shown again when refused). */
export interface PersonFormValues {
  name: string;
  managerId: string;
  preferredLocationId: string;
}

/** Reads the person form's name, manager and preferred training center, trimmed. */
export function personFormValues(form: FormData): PersonFormValues {
  const field = (k: string) => String(form.get(k) ?? "").trim();
  return { name: field("name"), managerId: field("managerId"), preferredLocationId: field("preferredLocationId") };
}

/** The learner fields of a typed person form: a blank manager or training center is none. */
export function personFormInput(values: PersonFormValues): Omit<DealerLearnerInput, "email"> {
  return {
    name: values.name,
    managerId: values.managerId || null,
    preferredLocationId: values.preferredLocationId || null,
  };
}

/** Checks a dealer admin's person form; returns one sentence per wrong field (empty when fine). */
export async function checkDealerLearner(
  kv: Deno.Kv,
  actor: PeopleActor,
  input: DealerLearnerInput,
): Promise<PersonFormErrors> {
  const errors: PersonFormErrors = {};
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(input.email)) errors.email = "Give an email address like name@example.com.";
  if (!input.name || input.name.length > 160) errors.name = "Give the person's name (at most 160 characters).";
  if (input.managerId) {
    const m = await getUser(kv, input.managerId);
    if (!m || m.dealerId !== actor.dealerId) errors.managerId = "Choose a manager of your dealer.";
  }
  if (input.preferredLocationId && !(await getLocation(kv, input.preferredLocationId))) {
    errors.preferredLocationId = "Choose a training center from the list.";
  }
  return errors;
}

/**
 * Adds a learner to the dealer admin's dealer. Field errors when the form is wrong or the email is
 * already registered; nothing is written then.
 */
export async function createDealerLearner(
  kv: Deno.Kv,
  actor: PeopleActor,
  input: DealerLearnerInput,
): Promise<{ user: User; errors: null } | { user: null; errors: PersonFormErrors }> {
  const dealerId = dealerOf(actor);
  const errors = await checkDealerLearner(kv, actor, input);
  if (Object.keys(errors).length) return { user: null, errors };
  try {
    const user = await createUser(kv, { ...input, roles: ["learner"], dealerId });
    return { user, errors: null };
  } catch (err) {
    if (err instanceof ConflictError && err.code === "email_taken") {
      return { user: null, errors: { email: "This email is already registered." } };
    }
    throw err;
  }
}

/** A person's record version (stale edits are refused). */
export function personVersion(user: User): string {
  return recordVersion(user);
}

/**
 * Changes a learner of the dealer admin's dealer (name, manager, preferred location), refused with
 * `stale` when the record changed since `version`.
 */
export async function updateDealerLearner(
  kv: Deno.Kv,
  actor: PeopleActor,
  userId: string,
  input: Omit<DealerLearnerInput, "email">,
  version: string,
): Promise<{ user: User; errors: null; stale: null } | { user: null; errors: PersonFormErrors; stale: User | null }> {
  const person = await getUser(kv, userId);
  if (!person) throw new DomainError(404, "user_not_found", `No user with id ${userId}.`);
  assertMayManagePerson(actor, person);
  const errors = await checkDealerLearner(kv, actor, { ...input, email: person.email });
  if (Object.keys(errors).length) return { user: null, errors, stale: null };
  let stale: User | null = null;
  const user = await updateUser(kv, userId, (current) => {
    // Checked inside the guarded update: the commit fails if the record moves after this read.
    if (personVersion(current) !== version) {
      stale = current;
      throw new StaleEdit();
    }
    return input;
  }).catch((err) => {
    if (err instanceof StaleEdit) return null;
    throw err;
  });
  if (!user) return { user: null, errors: {}, stale };
  return { user, errors: null, stale: null };
}

class StaleEdit extends Error {}

/** A staff search of people. */
export interface PeopleFilter {
  /** Words that must all appear in the name or email (case-insensitive). */
  q?: string;
  role?: Role;
  dealerId?: string;
  includeInactive?: boolean;
  limit?: number;
}

/** People read at most by one search (the users are scanned: an admin tool, not a hot path). */
const MAX_PEOPLE_SCAN = 50_000;

/** People matching the filter, by name (erased people never; deactivated only when asked). */
export async function searchPeople(kv: Deno.Kv, f: PeopleFilter): Promise<{ people: User[]; truncated: boolean }> {
  const words = (f.q ?? "").toLowerCase().split(/\s+/).filter(Boolean);
  const limit = Math.min(Math.max(f.limit ?? 50, 1), 200);
  const people: User[] = [];
  let scanned = 0;
  const source = f.dealerId ? listUsersByDealer(kv, f.dealerId) : (async () => {
    const all: User[] = [];
    for await (const e of kv.list<User>({ prefix: keys.usersPrefix() })) {
      if (++scanned > MAX_PEOPLE_SCAN) break;
      all.push(e.value);
    }
    return all;
  })();
  for (const u of await source) {
    if (u.erasedAt || (u.active === false && !f.includeInactive)) continue;
    if (f.role && !u.roles.includes(f.role)) continue;
    const text = `${u.name} ${u.email}`.toLowerCase();
    if (words.some((w) => !text.includes(w))) continue;
    people.push(u);
  }
  people.sort((a, b) => a.name.localeCompare(b.name));
  return { people: people.slice(0, limit), truncated: people.length > limit || scanned > MAX_PEOPLE_SCAN };
}

/** What an admin may change of a person. */
export interface PersonChange {
  name: string;
  roles: Role[];
  dealerId: string | null;
  managerId: string | null;
  preferredLocationId: string | null;
}

/**
 * Changes a person (admins; a dealer admin only their dealer's learners, and only as a learner of
 * their dealer); fields not given stay. References are checked (ValidationError on `managerId`, `dealerId`,
 * `preferredLocationId`); 409 `stale_edit` (details `{current, version}`) when `ifVersion` is
 * given and the person changed since.
 */
export async function changePerson(
  kv: Deno.Kv,
  actor: PeopleActor,
  id: string,
  given: Partial<PersonChange>,
  ifVersion?: string,
): Promise<User> {
  const person = await getUser(kv, id);
  if (!person || person.erasedAt) throw new DomainError(404, "user_not_found", `No user with id ${id}.`);
  const change: PersonChange = {
    name: person.name,
    roles: person.roles,
    dealerId: person.dealerId,
    managerId: person.managerId,
    preferredLocationId: person.preferredLocationId,
    ...given,
  };
  assertMayManagePerson(actor, person);
  // Only what changes is checked against the dealer admin's reach (an unchanged manager stays).
  if (!isAdmin(actor)) await scopePersonInput(kv, actor, { email: person.email, ...given });
  const issues: { path: string; message: string }[] = [];
  if (change.managerId === id) issues.push({ path: "managerId", message: "must not be the person themself" });
  else if (change.managerId && !(await getUser(kv, change.managerId))) {
    issues.push({ path: "managerId", message: "is nobody we know" });
  }
  if (change.dealerId && !(await getDealer(kv, change.dealerId))) {
    issues.push({ path: "dealerId", message: "is no dealer we know" });
  }
  if (change.preferredLocationId && !(await getLocation(kv, change.preferredLocationId))) {
    issues.push({ path: "preferredLocationId", message: "is no training center we know" });
  }
  if (issues.length) throw new ValidationError(issues, "user");
  return await updateUser(kv, id, (current) => {
    if (ifVersion !== undefined && personVersion(current) !== ifVersion) {
      throw staleEdit("person", current, personVersion(current));
    }
    return change;
  });
}
