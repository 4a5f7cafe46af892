/** The reports API: contract, dealer scope, bad filters, CSV and the recount. */
import assert from "node:assert/strict";
import { mintToken } from "../../lib/auth/tokens.ts";
import { createUser, listDealers } from "../../lib/store/mod.ts";
import { type Body } from "./client.ts";
import { ADMIN_TOKEN, startApiFixture } from "./fixture.ts";
import { foldPending, handled } from "../../lib/reports/aggregator.ts";

Deno.test("[api reports] admins get any slice; a dealer admin only their own (403 otherwise); CSV and recount", async () => {
  const f = await startApiFixture();
  try {
    const kv = f.services.kv;
    const [d1, d2] = await listDealers(kv);
    const da = await createUser(kv, {
      email: `dealer-admin-${Date.now()}@example.com`,
      name: "Dealer Admin",
      roles: ["dealer_admin"],
      dealerId: d1.id,
    });
    const dealerAdmin = f.admin.as((await mintToken(kv, da.id)).token);
    const [learner] = await f.learners(1);
    // Some activity, folded by hand (no worker runs in this fixture).
    const s = await f.session({ capacity: 3 });
    await learner.api.post("/api/v1/holds", { sessionId: s.id });
    while (handled((await foldPending(kv, (op) => op, f.services.engine.now()))!)) { /* fold everything */ }
    // Nothing differs, so nothing is repaired (no worker here: the recount runs in the request).
    const recount = await f.admin.post<Body>("/api/v1/admin/reports/recount", { repair: true });
    assert.equal(recount.status, 200);
    assert.deepEqual([recount.body.recount.ok, recount.body.recount.repaired], [true, 0]);

    const all = await f.admin.get<Body>("/api/v1/reports");
    assert.equal(all.status, 200);
    assert.equal(all.body.funnel.holds, 1);
    const own = await dealerAdmin.get<Body>("/api/v1/reports");
    assert.equal(own.status, 200);
    assert.equal(own.body.filters.dealerId, d1.id);
    assert.equal((await dealerAdmin.get<Body>(`/api/v1/reports?dealerId=${d1.id}`)).status, 200);
    const other = await dealerAdmin.get<Body>(`/api/v1/reports?dealerId=${d2.id}`);
    assert.equal(other.status, 403);
    assert.equal(other.body.error, "forbidden");
    assert.equal((await learner.api.get<Body>("/api/v1/reports")).status, 403);

    const bad = await f.admin.get<Body>("/api/v1/reports?from=2026-02-30");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.details.issues[0].path, "query.from");
    assert.equal((await f.admin.get<Body>("/api/v1/reports?colour=red")).status, 400);

    const csv = await f.app.fetch(
      new Request("http://test/api/v1/reports/funnel/csv", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
    );
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get("content-type") ?? "", /^text\/csv/);
    const lines = (await csv.text()).trimEnd().split("\r\n");
    assert.deepEqual(lines.slice(0, 3), ["Step,Count", "Session views,0", "Holds,1"]);
    const refused = await f.app.fetch(
      new Request(`http://test/api/v1/reports/funnel/csv?dealerId=${d2.id}`, {
        headers: { authorization: `Bearer ${dealerAdmin.token}` },
      }),
    );
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).error, "forbidden");
    const unknown = await f.app.fetch(
      new Request("http://test/api/v1/reports/nosuch/csv", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
    );
    assert.equal(unknown.status, 400);

    const last = await f.admin.get<Body>("/api/v1/admin/reports/recount");
    assert.equal(last.status, 200);
    assert.equal(last.body.recount.ok, true);
    assert.equal((await f.admin.post<Body>("/api/v1/admin/reports/recount", { repair: "yes" })).status, 400);
    assert.equal((await dealerAdmin.post<Body>("/api/v1/admin/reports/recount")).status, 403);
  } finally {
    await f.close();
  }
});
