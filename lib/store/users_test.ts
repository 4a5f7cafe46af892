import assert from "node:assert/strict";
import { newId } from "../domain/ids.ts";
import { ValidationError } from "../domain/validation.ts";
import { ConflictError } from "./errors.ts";
import {
  createUser,
  getUser,
  getUserByEmail,
  importUsers,
  listUsersByDealer,
  listUsersByManager,
  mergeCompletedCourses,
  updateUser,
  upsertUserByEmail,
} from "./users.ts";
import { keys } from "./keys.ts";
import { allKeys, withKv } from "./test_helpers.ts";

Deno.test("[store] createUser lower-cases email and writes indexes", async () => {
  await withKv(async (kv) => {
    const dealerId = newId();
    const boss = await createUser(kv, { email: "Boss@Example.com", name: "Boss", roles: ["manager"], dealerId });
    assert.equal(boss.email, "boss@example.com");
    const ana = await createUser(kv, {
      email: "ana@example.com",
      name: "Ana",
      roles: ["learner"],
      dealerId,
      managerId: boss.id,
    });
    assert.deepEqual(await getUserByEmail(kv, " BOSS@example.COM "), boss);
    assert.deepEqual(await getUser(kv, ana.id), ana);
    assert.deepEqual((await listUsersByManager(kv, boss.id)).map((u) => u.id), [ana.id]);
    assert.deepEqual((await listUsersByDealer(kv, dealerId)).map((u) => u.name), ["Ana", "Boss"]);
    assert.equal((await kv.get(keys.userByEmail("ana@example.com"))).value, ana.id);
    await assert.rejects(
      createUser(kv, { email: "nope", name: "X", roles: ["learner"] }),
      (e) => e instanceof ValidationError && e.issues[0].path === "email",
    );
    await assert.rejects(
      createUser(kv, { email: "x@example.com", name: "X", roles: [] }),
      (e) => e instanceof ValidationError && e.issues[0].path === "roles",
    );
  });
});

Deno.test("[store] concurrent createUser with one email: exactly one succeeds", async () => {
  await withKv(async (kv) => {
    const results = await Promise.allSettled(
      Array.from(
        { length: 20 },
        (_, i) =>
          createUser(kv, { email: i % 2 ? "Dup@Example.com" : "dup@example.com", name: `U${i}`, roles: ["learner"] }),
      ),
    );
    const ok = results.filter((r) => r.status === "fulfilled");
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    assert.equal(ok.length, 1);
    assert.equal(failed.length, 19);
    for (const f of failed) assert.ok(f.reason instanceof ConflictError && f.reason.code === "email_taken");
    assert.equal((await allKeys(kv, "users")).length, 1);
    assert.equal((await allKeys(kv, "users_by_email")).length, 1);
  });
});

Deno.test("[store] updateUser moves email, manager and dealer indexes", async () => {
  await withKv(async (kv) => {
    const [m1, m2, d1, d2] = [newId(), newId(), newId(), newId()];
    const u = await createUser(kv, {
      email: "a@example.com",
      name: "A",
      roles: ["learner"],
      managerId: m1,
      dealerId: d1,
    });
    await createUser(kv, { email: "taken@example.com", name: "T", roles: ["learner"] });
    const moved = await updateUser(kv, u.id, { email: "B@example.com", managerId: m2, dealerId: d2 });
    assert.equal(moved.email, "b@example.com");
    assert.equal(await getUserByEmail(kv, "a@example.com"), null);
    assert.deepEqual(await getUserByEmail(kv, "b@example.com"), moved);
    assert.deepEqual(await listUsersByManager(kv, m1), []);
    assert.deepEqual(await listUsersByManager(kv, m2), [moved]);
    assert.deepEqual(await listUsersByDealer(kv, d1), []);
    assert.deepEqual(await listUsersByDealer(kv, d2), [moved]);
    const cleared = await updateUser(kv, u.id, { managerId: null });
    assert.deepEqual(await listUsersByManager(kv, m2), []);
    assert.equal(cleared.managerId, null);
    await assert.rejects(
      updateUser(kv, u.id, { email: "taken@example.com" }),
      (e) => e instanceof ConflictError && e.code === "email_taken",
    );
  });
});

Deno.test("[store] upsertUserByEmail creates once, then merges without dropping roles", async () => {
  await withKv(async (kv) => {
    const first = await upsertUserByEmail(kv, { email: "Pat@Example.com", name: "Pat", roles: ["admin"] });
    assert.equal(first.created, true);
    const courseId = newId();
    const second = await upsertUserByEmail(kv, {
      email: "pat@example.com",
      name: "Pat Q",
      roles: ["learner"],
      completedCourses: [{ courseId, completedAt: "2026-01-01T00:00:00.000Z" }],
    });
    assert.equal(second.created, false);
    assert.equal(second.user.id, first.user.id);
    assert.deepEqual(second.user.roles, ["admin", "learner"]);
    assert.equal(second.user.name, "Pat Q");
    assert.equal(second.user.completedCourses.length, 1);

    const racers = await Promise.all(
      Array.from(
        { length: 10 },
        (_, i) => upsertUserByEmail(kv, { email: "race@example.com", name: `R${i}`, roles: ["learner"] }),
      ),
    );
    assert.equal(racers.filter((r) => r.created).length, 1);
    assert.equal(new Set(racers.map((r) => r.user.id)).size, 1);
  });
});

Deno.test("[store] importUsers batches and refuses duplicate emails", async () => {
  await withKv(async (kv) => {
    const dealerId = newId();
    const users = await importUsers(
      kv,
      Array.from(
        { length: 130 },
        (_, i) => ({ email: `u${i}@example.com`, name: `User ${i}`, roles: ["learner" as const], dealerId }),
      ),
    );
    assert.equal(users.length, 130);
    assert.equal((await listUsersByDealer(kv, dealerId)).length, 130);
    await assert.rejects(
      importUsers(kv, [
        { email: "x@example.com", name: "X", roles: ["learner"] },
        { email: "X@example.com", name: "X2", roles: ["learner"] },
      ]),
      (e) => e instanceof ConflictError && e.code === "email_taken",
    );
    await assert.rejects(
      importUsers(kv, [{ email: "u5@example.com", name: "Again", roles: ["learner"] }]),
      ConflictError,
    );
  });
});

Deno.test("[store] merged completions keep the latest per course, so a recertification renews", () => {
  const merged = mergeCompletedCourses(
    {
      completedCourses: [
        { courseId: "A", completedAt: "2024-05-01T10:00:00.000Z" },
        { courseId: "B", completedAt: "2025-01-01T10:00:00.000Z" },
      ],
    },
    [
      { courseId: "A", completedAt: "2026-05-01T10:00:00.000Z" },
      { courseId: "B", completedAt: "2020-01-01T10:00:00.000Z" },
      { courseId: "C", completedAt: "2026-01-01T10:00:00.000Z" },
    ],
  );
  assert.deepEqual(merged, [
    { courseId: "A", completedAt: "2026-05-01T10:00:00.000Z" },
    { courseId: "B", completedAt: "2025-01-01T10:00:00.000Z" },
    { courseId: "C", completedAt: "2026-01-01T10:00:00.000Z" },
  ]);
});
