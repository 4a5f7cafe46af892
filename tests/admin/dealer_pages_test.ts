/** The dealer admin's pages (/dealer): their dealer's learners added, changed, deactivated; other dealers 403. */
import assert from "node:assert/strict";
import type { Role } from "../../lib/domain/mod.ts";
import { createUser, getUser, getUserByEmail, listDealers, updateUser } from "../../lib/store/mod.ts";
import { type ApiFixture, startApiFixture } from "../api/fixture.ts";
import { devSignInCookie, getPage, postForm } from "../page_client.ts";

let n = 0;
function person(f: ApiFixture, roles: Role[], dealerId: string | null) {
  return createUser(f.services.kv, {
    email: `dealer-page-${++n}-${crypto.randomUUID().slice(0, 6)}@example.com`,
    name: `Dealer Page ${n}`,
    roles,
    dealerId,
  });
}

Deno.test("[dealer pages] a dealer admin adds and deactivates learners of their dealer; bad input is kept with its error", async () => {
  const f = await startApiFixture();
  try {
    const [mine, theirs] = await listDealers(f.services.kv);
    const da = await person(f, ["dealer_admin"], mine.id);
    const cookie = await devSignInCookie(f.services.kv, da.id);
    const home = await getPage(f, "/dealer", cookie);
    assert.equal(home.res.status, 200);
    assert.ok(home.text.includes(mine.name));
    assert.ok(home.text.includes('href="/dealer/reports"'));
    const bad = await postForm(f, "/dealer", cookie, { intent: "add", email: "not-an-email", name: "" });
    assert.equal(bad.res.status, 400);
    assert.match(bad.text, /data-testid="error-email"[^>]*>Give an email address/);
    assert.match(bad.text, /data-testid="error-name"/);
    assert.match(bad.text, /value="not-an-email"/);
    const added = await postForm(f, "/dealer", cookie, {
      intent: "add",
      email: "New.One@Example.com",
      name: "New One",
    });
    assert.equal(added.res.status, 303);
    const user = (await getUserByEmail(f.services.kv, "new.one@example.com"))!;
    assert.equal(user.dealerId, mine.id);
    assert.deepEqual(user.roles, ["learner"]);
    const again = await postForm(f, "/dealer", cookie, { intent: "add", email: "new.one@example.com", name: "Again" });
    assert.match(again.text, /data-testid="error-email"[^>]*>This email is already registered\./);

    const off = await postForm(f, "/dealer", cookie, { intent: "deactivate", id: user.id });
    assert.equal(off.res.status, 303);
    assert.equal((await getUser(f.services.kv, user.id))!.active, false);
    const outsider = await person(f, ["learner"], theirs.id);
    const refused = await postForm(f, "/dealer", cookie, { intent: "deactivate", id: outsider.id });
    assert.equal(refused.res.status, 403);
    assert.notEqual((await getUser(f.services.kv, outsider.id))!.active, false);
    const [admin] = await f.learners(1, ["admin"]);
    assert.equal((await getPage(f, "/dealer", await devSignInCookie(f.services.kv, admin.user.id))).res.status, 403);
  } finally {
    await f.close();
  }
});

Deno.test("[dealer pages] changing a learner: other dealers 403, unknown 404, a stale edit refused with the current values", async () => {
  const f = await startApiFixture();
  try {
    const [mine, theirs] = await listDealers(f.services.kv);
    const da = await person(f, ["dealer_admin"], mine.id);
    const cookie = await devSignInCookie(f.services.kv, da.id);
    const learner = await person(f, ["learner"], mine.id);
    const outsider = await person(f, ["learner"], theirs.id);
    assert.equal((await getPage(f, `/dealer/people/${outsider.id}`, cookie)).res.status, 403);
    assert.equal((await postForm(f, `/dealer/people/${outsider.id}`, cookie, { name: "X" })).res.status, 403);
    assert.equal((await getUser(f.services.kv, outsider.id))!.name, outsider.name);
    assert.equal((await getPage(f, "/dealer/people/01JZZZZZZZZZZZZZZZZZZZZZZZ", cookie)).res.status, 404);
    const here = `/dealer/people/${learner.id}`;
    const page = await getPage(f, here, cookie);
    assert.equal(page.res.status, 200);
    const version = /name="version" value="([^"]+)"/.exec(page.text)![1];
    await updateUser(f.services.kv, learner.id, { name: "Changed Elsewhere" });
    const stale = await postForm(f, here, cookie, {
      version,
      name: "Mine Now",
      managerId: "",
      preferredLocationId: "",
    });
    assert.equal(stale.res.status, 409);
    assert.match(stale.text, /Someone changed this person/);
    assert.match(stale.text, /name="name"[^>]*value="Changed Elsewhere"/);
    assert.equal((await getUser(f.services.kv, learner.id))!.name, "Changed Elsewhere");
    const fresh = /name="version" value="([^"]+)"/.exec(stale.text)![1];
    const empty = await postForm(f, here, cookie, { version: fresh, name: "", managerId: "", preferredLocationId: "" });
    assert.equal(empty.res.status, 400);
    assert.match(empty.text, /data-testid="error-name"/);
    const ok = await postForm(f, here, cookie, {
      version: fresh,
      name: "Mine Now",
      managerId: "",
      preferredLocationId: "",
    });
    assert.equal(ok.res.status, 303);
    assert.equal((await getUser(f.services.kv, learner.id))!.name, "Mine Now");
  } finally {
    await f.close();
  }
});
