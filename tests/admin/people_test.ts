/** People for admins (API and pages): search; roles, dealer, manager, preferred center; deactivate; stale edits refused. */
import assert from "node:assert/strict";
import { mintToken } from "../../lib/auth/tokens.ts";
import type { Role } from "../../lib/domain/mod.ts";
import { createUser, getUser, listDealers, updateUser } from "../../lib/store/mod.ts";
import { ApiClient, type Body } from "../api/client.ts";
import { type ApiFixture, startApiFixture } from "../api/fixture.ts";
import { devSignInCookie, getPage, postForm } from "../page_client.ts";

let n = 0;
async function person(f: ApiFixture, roles: Role[], dealerId: string | null, name = `Person ${++n}`) {
  const user = await createUser(f.services.kv, {
    email: `people-${++n}-${crypto.randomUUID().slice(0, 6)}@example.com`,
    name,
    roles,
    dealerId,
  });
  return { user, api: new ApiClient(f.app, (await mintToken(f.services.kv, user.id)).token) };
}

Deno.test("[people] API: search; change roles, dealer, manager and center with a version; bad references 400, stale 409", async () => {
  const f = await startApiFixture();
  try {
    const [mine, theirs] = await listDealers(f.services.kv);
    const zed = await person(f, ["learner"], mine.id, "Zebulon Quartz");
    const boss = await person(f, ["manager"], theirs.id);
    const location = await f.location();
    const found = await f.admin.get<Body>(`/api/v1/admin/people?q=zebulon%20quartz`);
    assert.deepEqual(found.body.people.map((p: Body) => p.user.id), [zed.user.id]);
    const byDealer = await f.admin.get<Body>(`/api/v1/admin/people?q=quartz&dealer=${theirs.id}`);
    assert.equal(byDealer.body.people.length, 0);
    const byRole = await f.admin.get<Body>(`/api/v1/admin/people?q=quartz&role=instructor`);
    assert.equal(byRole.body.people.length, 0);
    const version = found.body.people[0].version;
    const changed = await f.admin.patch<Body>(`/api/v1/users/${zed.user.id}`, {
      roles: ["learner", "instructor"],
      dealerId: theirs.id,
      managerId: boss.user.id,
      preferredLocationId: location.id,
      ifVersion: version,
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.deepEqual(changed.body.user.roles, ["learner", "instructor"]);
    assert.equal(changed.body.user.dealerId, theirs.id);
    assert.equal(changed.body.user.name, "Zebulon Quartz", "fields left out stay");
    const stale = await f.admin.patch<Body>(`/api/v1/users/${zed.user.id}`, { name: "Old copy", ifVersion: version });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.details.current.dealerId, theirs.id);
    const badManager = await f.admin.patch<Body>(`/api/v1/users/${zed.user.id}`, {
      managerId: "01JZZZZZZZZZZZZZZZZZZZZZZZ",
    });
    assert.equal(badManager.status, 400);
    assert.equal(badManager.body.details.issues[0].path, "managerId");
    const self = await f.admin.patch<Body>(`/api/v1/users/${zed.user.id}`, { managerId: zed.user.id });
    assert.equal(self.status, 400);
    assert.equal((await f.admin.patch(`/api/v1/users/01JZZZZZZZZZZZZZZZZZZZZZZZ`, { name: "X" })).status, 404);
    const [learner] = await f.learners(1);
    assert.equal((await learner.api.get("/api/v1/admin/people?q=a")).status, 403);
  } finally {
    await f.close();
  }
});

Deno.test("[people] API: a dealer admin renames their own learner; roles, other dealers and staff are 403", async () => {
  const f = await startApiFixture();
  try {
    const [mine, theirs] = await listDealers(f.services.kv);
    const da = await person(f, ["dealer_admin"], mine.id);
    const own = await person(f, ["learner"], mine.id);
    const other = await person(f, ["learner"], theirs.id);
    assert.equal((await da.api.patch<Body>(`/api/v1/users/${own.user.id}`, { name: "Renamed" })).status, 200);
    assert.equal((await getUser(f.services.kv, own.user.id))!.name, "Renamed");
    assert.equal((await da.api.patch(`/api/v1/users/${own.user.id}`, { roles: ["learner", "admin"] })).status, 403);
    assert.equal((await da.api.patch(`/api/v1/users/${own.user.id}`, { dealerId: theirs.id })).status, 403);
    assert.equal((await da.api.patch(`/api/v1/users/${other.user.id}`, { name: "Mine now" })).status, 403);
    assert.deepEqual((await getUser(f.services.kv, own.user.id))!.roles, ["learner"]);
    assert.equal((await getUser(f.services.kv, other.user.id))!.name, other.user.name);
  } finally {
    await f.close();
  }
});

Deno.test("[people] pages: search, change with errors kept, a stale edit refused, deactivate; unknown id 404", async () => {
  const f = await startApiFixture();
  try {
    const [admin] = await f.learners(1, ["admin"]);
    const cookie = await devSignInCookie(f.services.kv, admin.user.id);
    const target = await person(f, ["learner"], null, "Quincy Marbleton");
    const search = await getPage(f, "/admin/people?q=marbleton", cookie);
    assert.equal(search.res.status, 200);
    assert.ok(search.text.includes(`/admin/people/${target.user.id}`));
    const here = `/admin/people/${target.user.id}`;
    const page = await getPage(f, here, cookie);
    const version = /name="version" value="([^"]+)"/.exec(page.text)![1];
    const form = { version, name: "Quincy M.", dealerId: "", manager: "", preferredLocationId: "", roles: "learner" };
    const noRole = await postForm(f, here, cookie, { ...form, roles: "" });
    assert.equal(noRole.res.status, 400);
    assert.match(noRole.text, /data-testid="error-roles"/);
    assert.match(noRole.text, /value="Quincy M\."/);
    const badManager = await postForm(f, here, cookie, { ...form, manager: "nobody@example.com" });
    assert.match(badManager.text, /data-testid="error-manager"[^>]*>Nobody has this email or id\./);
    assert.equal((await getUser(f.services.kv, target.user.id))!.name, "Quincy Marbleton", "nothing changed");
    await updateUser(f.services.kv, target.user.id, { name: "Quincy Elsewhere" });
    const stale = await postForm(f, here, cookie, form);
    assert.equal(stale.res.status, 409);
    assert.match(stale.text, /name="name"[^>]*value="Quincy Elsewhere"/);
    const fresh = /name="version" value="([^"]+)"/.exec(stale.text)![1];
    const ok = await postForm(f, here, cookie, { ...form, version: fresh });
    assert.equal(ok.res.status, 303);
    assert.equal((await getUser(f.services.kv, target.user.id))!.name, "Quincy M.");
    const off = await postForm(f, here, cookie, { intent: "deactivate" });
    assert.equal(off.res.status, 303);
    assert.equal((await getUser(f.services.kv, target.user.id))!.active, false);
    assert.equal((await getPage(f, "/admin/people/01JZZZZZZZZZZZZZZZZZZZZZZZ", cookie)).res.status, 404);
  } finally {
    await f.close();
  }
});
