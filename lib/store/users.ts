import { EmailSchema, type NewUser, type Role, type User, UserSchema } from "../domain/user.ts";
import { newId } from "../domain/ids.ts";
import { parseOrThrow } from "../domain/validation.ts";
import { ConflictError, NotFoundError } from "./errors.ts";
import { keys } from "./keys.ts";
import { backoff, MAX_WRITE_ATTEMPTS } from "./retry.ts";
import { type AtomicUnit, commitInBatches, getValueById, getValuesById } from "./batch.ts";

function toUser(input: NewUser, now: string): User {
  return parseOrThrow(
    UserSchema,
    { ...input, id: input.id ?? newId(), createdAt: input.createdAt ?? now },
    "user",
  );
}

/** Mutations writing a user with its email, manager and dealer indexes. */
function userWriteMutations(user: User): Deno.KvMutation[] {
  const m: Deno.KvMutation[] = [
    { type: "set", key: keys.user(user.id), value: user },
    { type: "set", key: keys.userByEmail(user.email), value: user.id },
  ];
  if (user.managerId) {
    m.push({ type: "set", key: keys.userByManager(user.managerId, user.id), value: user.id });
  }
  if (user.dealerId) {
    m.push({ type: "set", key: keys.userByDealer(user.dealerId, user.id), value: user.id });
  }
  return m;
}

function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Creates a user. Validates with `UserSchema` (email is lower-cased); the
 * email must be unused: uniqueness is enforced by the atomic op itself
 * (`check({key: ["users_by_email", email], versionstamp: null})`), so of
 * many concurrent creates with one email exactly one succeeds and the others
 * throw `ConflictError` "email_taken".
 */
export async function createUser(kv: Deno.Kv, input: NewUser): Promise<User> {
  const user = toUser(input, new Date().toISOString());
  const res = await kv.atomic()
    .check({ key: keys.userByEmail(user.email), versionstamp: null })
    .check({ key: keys.user(user.id), versionstamp: null })
    .mutate(...userWriteMutations(user))
    .commit();
  if (!res.ok) {
    const taken = await kv.get(keys.userByEmail(user.email));
    if (taken.value !== null) {
      throw new ConflictError("email_taken", `email ${user.email} is already registered`);
    }
    throw new ConflictError("exists", `user ${user.id} already exists`);
  }
  return user;
}

/**
 * Creates many users (seeding, imports) in batched atomic ops, each user
 * together with its indexes and uniqueness checks. Everything is validated,
 * and emails checked for duplicates within `inputs`, before anything is
 * written.
 */
export async function importUsers(
  kv: Deno.Kv,
  inputs: ReadonlyArray<NewUser>,
): Promise<User[]> {
  const now = new Date().toISOString();
  const users = inputs.map((u) => toUser(u, now));
  const seen = new Set<string>();
  for (const u of users) {
    if (seen.has(u.email)) {
      throw new ConflictError("email_taken", `email ${u.email} appears twice`);
    }
    seen.add(u.email);
  }
  const units = users.map((user): AtomicUnit => ({
    checks: [
      { key: keys.userByEmail(user.email), versionstamp: null },
      { key: keys.user(user.id), versionstamp: null },
    ],
    mutations: userWriteMutations(user),
  }));
  await commitInBatches(kv, units);
  return users;
}

/** Returns the user with `id`, or null. */
export async function getUser(kv: Deno.Kv, id: string): Promise<User | null> {
  return await getValueById<User>(kv, id, keys.user);
}

/** Reads many users; a Map keyed by id, unknown ids absent. */
export function getUsers(
  kv: Deno.Kv,
  ids: ReadonlyArray<string>,
): Promise<Map<string, User>> {
  return getValuesById<User>(kv, ids, keys.user);
}

/** Returns the user with `email` (case-insensitive), or null. */
export async function getUserByEmail(
  kv: Deno.Kv,
  email: string,
): Promise<User | null> {
  const id = (await kv.get<string>(keys.userByEmail(normaliseEmail(email)))).value;
  return id ? await getUser(kv, id) : null;
}

async function listUsersByIndex(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
): Promise<User[]> {
  const ids: string[] = [];
  for await (const e of kv.list<string>({ prefix })) ids.push(e.value);
  const users = await getUsers(kv, ids);
  return [...users.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The users whose managerId is `managerId`, sorted by name. */
export function listUsersByManager(
  kv: Deno.Kv,
  managerId: string,
): Promise<User[]> {
  return listUsersByIndex(kv, keys.usersByManagerPrefix(managerId));
}

/** The users of dealer `dealerId`, sorted by name. */
export function listUsersByDealer(
  kv: Deno.Kv,
  dealerId: string,
): Promise<User[]> {
  return listUsersByIndex(kv, keys.usersByDealerPrefix(dealerId));
}

/** Fields {@link updateUser} may change. */
export type UserPatch = Partial<Omit<NewUser, "id" | "createdAt">>;

/**
 * Applies `patch` to a user, moving the email, manager and dealer index
 * entries when those change, in one atomic op guarded by the user's
 * versionstamp (retried on a concurrent change). A new email must be unused
 * (`ConflictError` "email_taken").
 */
export async function updateUser(
  kv: Deno.Kv,
  id: string,
  patch: UserPatch | ((user: User) => UserPatch),
): Promise<User> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    await backoff(attempt);
    const current = await kv.get<User>(keys.user(id));
    if (!current.value) throw new NotFoundError("user", id);
    const before = current.value;
    const changes = typeof patch === "function" ? patch(before) : patch;
    const after = parseOrThrow(
      UserSchema,
      { ...before, ...changes, id: before.id, createdAt: before.createdAt },
      "user",
    );
    if (JSON.stringify(after) === JSON.stringify(before)) return before;
    const op = kv.atomic().check(current);
    if (after.email !== before.email) {
      op.check({ key: keys.userByEmail(after.email), versionstamp: null });
      op.delete(keys.userByEmail(before.email));
    }
    if (before.managerId && before.managerId !== after.managerId) {
      op.delete(keys.userByManager(before.managerId, id));
    }
    if (before.dealerId && before.dealerId !== after.dealerId) {
      op.delete(keys.userByDealer(before.dealerId, id));
    }
    op.mutate(...userWriteMutations(after));
    if ((await op.commit()).ok) return after;
    if (after.email !== before.email) {
      const taken = await kv.get<string>(keys.userByEmail(after.email));
      if (taken.value !== null && taken.value !== id) {
        throw new ConflictError("email_taken", `email ${after.email} is already registered`);
      }
    }
  }
  throw new ConflictError(
    "concurrent_update",
    `user ${id} kept changing; update abandoned after ${MAX_WRITE_ATTEMPTS} attempts`,
  );
}

/**
 * Finds the user with `input.email` and updates it, or creates it.
 *
 * On update: roles are added (never removed); name, dealerId, managerId and
 * preferredLocationId change only when given; completed courses are merged
 * by course id (latest completion kept: a recertification renews). Safe under concurrency: if
 * another request creates the same email first, this one updates it.
 */
export async function upsertUserByEmail(
  kv: Deno.Kv,
  input: NewUser,
): Promise<{ user: User; created: boolean }> {
  const email = parseOrThrow(EmailSchema, input.email, "user");
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    await backoff(attempt);
    const existing = await getUserByEmail(kv, email);
    if (!existing) {
      try {
        return { user: await createUser(kv, { ...input, email }), created: true };
      } catch (err) {
        if (err instanceof ConflictError && err.code === "email_taken") continue;
        throw err;
      }
    }
    const user = await updateUser(kv, existing.id, (u) => mergeInto(u, input));
    return { user, created: false };
  }
  throw new ConflictError("concurrent_update", `could not upsert ${email}`);
}

/**
 * A user's completed courses plus `given`, one per course, the LATEST completion kept: completing
 * a course again renews the certification it grants (lib/compliance/), while prerequisites only
 * ask whether it was ever completed.
 */
export function mergeCompletedCourses(
  user: Pick<User, "completedCourses">,
  given: NewUser["completedCourses"] = [],
): User["completedCourses"] {
  const done = new Map<string, User["completedCourses"][number]>();
  for (const c of [...user.completedCourses, ...given]) {
    const prev = done.get(c.courseId);
    if (!prev || Date.parse(c.completedAt) > Date.parse(prev.completedAt)) done.set(c.courseId, c);
  }
  return [...done.values()];
}

function mergeInto(user: User, input: NewUser): UserPatch {
  const roles = [...user.roles];
  for (const r of (input.roles ?? []) as Role[]) if (!roles.includes(r)) roles.push(r);
  return {
    roles,
    name: input.name ?? user.name,
    dealerId: input.dealerId !== undefined ? input.dealerId : user.dealerId,
    managerId: input.managerId !== undefined ? input.managerId : user.managerId,
    preferredLocationId: input.preferredLocationId !== undefined ? input.preferredLocationId : user.preferredLocationId,
    completedCourses: mergeCompletedCourses(user, input.completedCourses),
  };
}
