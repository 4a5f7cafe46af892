/** Dealer admins manage the learners of their own dealer (API): create, update, deactivate; anything else 403. */
import assert from "node:assert/strict";
import { mintToken } from "../../lib/auth/tokens.ts";
import type { Role } from "../../lib/domain/mod.ts";
import { createUser, getUser, listDealers } from "../../lib/store/mod.ts";
import { ApiClient, type Body } from "./client.ts";
import { type ApiFixture, startApiFixture } from "./fixture.ts";

let n = 0;
async function person(f: ApiFixture, roles: Role[], dealerId: string | null) {
  const user = await createUser(f.services.kv, {
    email: `dealer-test-${++n}-${crypto.randomUUID().slice(0, 6)}@example.com`,
    name: `Dealer Test ${n}`,
    roles,
    dealerId,
  });
  const { token } = await mintToken(f.services.kv, user.id);
  return { user, api: new ApiClient(f.app, token) };
}

Deno.test("[dealer] a dealer admin creates, updates and deactivates learners of their own dealer", async () => {
  const f = await startApiFixture();
  try {
    const [mine] = await listDealers(f.services.kv);
    const da = await person(f, ["dealer_admin"], mine.id);
    const created = await da.api.post<Body>("/api/v1/users", { email: "fresh.learner@example.com", name: "Fresh" });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.user.dealerId, mine.id, "their own dealer by default");
    assert.deepEqual(created.body.user.roles, ["learner"]);
    const manager = await person(f, ["manager"], mine.id);
    const updated = await da.api.post<Body>("/api/v1/users", {
      email: "fresh.learner@example.com",
      name: "Fresh Learner",
      dealerId: mine.id,
      managerId: manager.user.id,
    });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.user.name, "Fresh Learner");
    const off = await da.api.post<Body>(`/api/v1/users/${created.body.user.id}/deactivate`);
    assert.equal(off.status, 200);
    assert.equal((await getUser(f.services.kv, created.body.user.id))!.active, false);
  } finally {
    await f.close();
  }
});

Deno.test("[dealer] a dealer admin touching another dealer, staff roles or completions gets 403 and nothing changes", async () => {
  const f = await startApiFixture();
  try {
    const [mine, theirs] = await listDealers(f.services.kv);
    const da = await person(f, ["dealer_admin"], mine.id);
    const outsider = await person(f, ["learner"], theirs.id);
    const otherManager = await person(f, ["manager"], theirs.id);
    const colleague = await person(f, ["dealer_admin"], mine.id);
    const course = await f.courseWithoutPrerequisites();
    const refused: [string, Body][] = [
      ["another dealer", { email: "a@example.com", name: "A", dealerId: theirs.id }],
      ["a staff role", { email: "b@example.com", name: "B", roles: ["learner", "instructor"] }],
      ["a manager of another dealer", { email: "c@example.com", name: "C", managerId: otherManager.user.id }],
      ["completions", {
        email: "d@example.com",
        name: "D",
        completedCourses: [{ courseId: course.id, completedAt: "2026-01-02T03:04:05.000Z" }],
      }],
      ["a person of another dealer", { email: outsider.user.email, name: "Renamed" }],
      ["a staff member of their dealer", { email: colleague.user.email, name: "Renamed" }],
    ];
    for (const [what, body] of refused) {
      const r = await da.api.post<Body>("/api/v1/users", body);
      assert.equal(r.status, 403, `${what}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, "forbidden");
    }
    for (const email of ["a@example.com", "b@example.com", "c@example.com", "d@example.com"]) {
      assert.equal((await f.services.kv.get(["users_by_email", email])).value, null, `${email} not created`);
    }
    assert.equal((await getUser(f.services.kv, outsider.user.id))!.name, outsider.user.name);
    assert.equal((await da.api.post(`/api/v1/users/${outsider.user.id}/deactivate`)).status, 403);
    assert.equal((await da.api.post(`/api/v1/users/${colleague.user.id}/deactivate`)).status, 403);
    assert.notEqual((await getUser(f.services.kv, outsider.user.id))!.active, false);
    assert.equal((await da.api.post(`/api/v1/users/01JZZZZZZZZZZZZZZZZZZZZZZZ/deactivate`)).status, 404);
    const homeless = await person(f, ["dealer_admin"], null);
    assert.equal((await homeless.api.post("/api/v1/users", { email: "e@example.com", name: "E" })).status, 403);
    const learner = await person(f, ["learner"], mine.id);
    assert.equal((await learner.api.post("/api/v1/users", { email: "f@example.com", name: "F" })).status, 403);
  } finally {
    await f.close();
  }
});
