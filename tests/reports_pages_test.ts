/**
 * The reports pages and CSV through the real app: what an admin and a dealer admin see, the dealer
 * scope (another dealer's slice is 403), field errors on bad filters, and the CSV download.
 */
import assert from "node:assert/strict";
import { startTestApp, type TestApp } from "./app_fixture.ts";
import { devSignInCookie, getPage } from "./page_client.ts";
import { listDealers, listUsersByDealer } from "../lib/store/mod.ts";
import type { Session, User } from "../lib/domain/mod.ts";
import { foldPending, handled } from "../lib/reports/aggregator.ts";
import { clearReportCache } from "../lib/reports/query.ts";

/** Two dealers' learners book the same open session; the fold runs; the people and cookies. */
async function world(t: TestApp) {
  const { kv, engine } = t.services;
  const [d1, d2] = await listDealers(kv);
  const people = async (dealerId: string) => await listUsersByDealer(kv, dealerId);
  const [p1, p2] = [await people(d1.id), await people(d2.id)];
  const learner = (ps: User[]) => ps.find((u) => u.roles.length === 1 && u.roles[0] === "learner")!;
  const dealerAdmin = p1.find((u) => u.roles.includes("dealer_admin"))!;
  const admin = [...(await Array.fromAsync(kv.list<User>({ prefix: ["users"] })))].map((e) => e.value)
    .find((u) => u.roles.includes("admin"))!;
  const sessions = (await Array.fromAsync(kv.list<Session>({ prefix: ["sessions"] }))).map((e) => e.value);
  const open = sessions.find((s) => s.status === "scheduled" && Date.parse(s.startsAt) > Date.now() + 3 * 86_400_000)!;
  const l1 = learner(p1);
  const l2 = learner(p2);
  for (const u of [l1, l2]) {
    const actor = { userId: u.id, roles: u.roles, origin: "web" as const, correlationId: crypto.randomUUID() };
    await engine.placeHold(open.id, u.id, actor).catch(() => {}); // prerequisites may refuse: the test reads totals
  }
  await getPage(t, `/sessions/${open.id}`); // a view
  while (handled((await foldPending(kv, (op) => op, engine.now()))!)) { /* fold everything */ }
  clearReportCache();
  return {
    d1,
    d2,
    admin: await devSignInCookie(kv, admin.id),
    dealerAdmin: await devSignInCookie(kv, dealerAdmin.id),
    learner: await devSignInCookie(kv, l1.id),
  };
}

Deno.test("[reports pages] an admin sees every report with charts, tables, KPI targets and CSV links", async () => {
  const t = await startTestApp();
  try {
    const w = await world(t);
    const { res, text } = await getPage(t, "/admin/reports", w.admin);
    assert.equal(res.status, 200);
    for (
      const heading of [
        "No-shows",
        "Late cancellations",
        "Registration funnel",
        "Alternative acceptance",
        "Waitlist",
        "Completion and fill rate per course",
        "Completion and fill rate per location",
      ]
    ) assert.ok(text.includes(`>${heading}</h2>`), heading);
    assert.ok((text.match(/<svg[^>]*role="img"/g) ?? []).length >= 9);
    assert.ok((text.match(/<table/g) ?? []).length === 7);
    for (const target of ["Target > 90 %", "Target > 60 %", "Target &lt; 10 %", "Target &lt; 5 s"]) {
      assert.ok(text.includes(target), target);
    }
    assert.ok(text.includes("/admin/reports.csv?section=funnel"));
    assert.match(text, /Session views<\/th><td[^>]*>\d+<\/td>/);
    // Admins may choose any dealer.
    assert.ok(text.includes(`<option value="${w.d2.id}"`));
  } finally {
    await t.close();
  }
});

Deno.test("[reports pages] a dealer admin sees their own dealer only; another dealer is 403", async () => {
  const t = await startTestApp();
  try {
    const w = await world(t);
    const own = await getPage(t, "/dealer/reports", w.dealerAdmin);
    assert.equal(own.res.status, 200);
    assert.ok(own.text.includes(`Reports: ${w.d1.name}`));
    assert.ok(!own.text.includes('name="dealerId"'), "no dealer choice for a dealer admin");
    assert.equal((await getPage(t, `/dealer/reports?dealerId=${w.d1.id}`, w.dealerAdmin)).res.status, 200);
    for (
      const path of [
        `/dealer/reports?dealerId=${w.d2.id}`,
        `/admin/reports?dealerId=${w.d2.id}`,
        `/dealer/reports.csv?section=funnel&dealerId=${w.d2.id}`,
        `/admin/reports.csv?section=no-shows&dealerId=${w.d2.id}`,
      ]
    ) {
      const { res, text } = await getPage(t, path, w.dealerAdmin);
      assert.equal(res.status, 403, path);
      assert.ok(!text.includes("<table"), path);
    }
    // /admin/reports for a dealer admin is the same slice as /dealer/reports.
    const viaAdmin = await getPage(t, "/admin/reports", w.dealerAdmin);
    assert.equal(viaAdmin.res.status, 200);
    assert.equal((await getPage(t, "/admin/reports", w.learner)).res.status, 403);
    assert.equal((await getPage(t, "/dealer/reports.csv?section=funnel", w.learner)).res.status, 403);
  } finally {
    await t.close();
  }
});

Deno.test("[reports pages] bad filters: the sentence is next to the field, what was typed is kept, no report", async () => {
  const t = await startTestApp();
  try {
    const w = await world(t);
    const { res, text } = await getPage(t, "/admin/reports?from=2026-02-30x&to=2026-01-01&courseId=nope", w.admin);
    assert.equal(res.status, 400);
    assert.ok(text.includes('id="f-from-error"'));
    assert.ok(text.includes('aria-describedby="f-courseId-error"'));
    assert.ok(text.includes('value="2026-02-30x"'));
    assert.ok(!text.includes("<table"));
    const order = await getPage(t, "/admin/reports?from=2026-03-01&to=2026-01-01", w.admin);
    assert.equal(order.res.status, 400);
    assert.ok(order.text.includes("must not be after"));
    const csv = await getPage(t, "/admin/reports.csv?section=nosuch", w.admin);
    assert.equal(csv.res.status, 400);
  } finally {
    await t.close();
  }
});

Deno.test("[reports pages] the CSV is the section's table, as an attachment", async () => {
  const t = await startTestApp();
  try {
    const w = await world(t);
    const { res, text } = await getPage(t, "/admin/reports.csv?section=funnel", w.admin);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/csv/);
    assert.match(res.headers.get("content-disposition") ?? "", /attachment; filename="report-funnel.csv"/);
    const lines = text.trimEnd().split("\r\n");
    assert.equal(lines[0], "Step,Count");
    assert.equal(lines.length, 8);
    assert.match(lines[1], /^Session views,\d+$/);
    const page = await getPage(t, "/admin/reports", w.admin);
    const views = page.text.match(/Session views<\/th><td[^>]*>(\d+)<\/td>/)![1];
    assert.equal(lines[1], `Session views,${views}`);
  } finally {
    await t.close();
  }
});
