/**
 * "Near me" on the home page: a signed-in learner with a preferred location gets in-person
 * sessions by distance (shown on each card); signed out or without a location it is explained.
 */
import assert from "node:assert/strict";
import { distanceKm } from "../lib/booking/ranking.ts";
import type { Location, Session, User } from "../lib/domain/mod.ts";
import { DEMO_EMAILS } from "../lib/seed/mod.ts";
import { startTestApp, type TestApp } from "./app_fixture.ts";
import { devSignInCookie } from "./page_client.ts";

async function userByEmail(t: TestApp, email: string): Promise<User> {
  const id = (await t.services.kv.get<string>(["users_by_email", email])).value!;
  return (await t.services.kv.get<User>(["users", id])).value!;
}

async function get(t: TestApp, path: string, cookie?: string) {
  const res = await t.app.fetch(new Request(`http://test${path}`, { headers: cookie ? { cookie } : {} }));
  return { res, html: await res.text() };
}

/** Session ids and the distances shown on the cards of the session list, in page order. */
function cards(html: string): { id: string; km: number | null }[] {
  // The list only: the home page may also show recommended sessions ("Required for you").
  const list = html.split('aria-label="Sessions"')[1]?.split("</ul>")[0] ?? "";
  const items = list.split("<li").slice(1);
  return items.flatMap((li) => {
    const id = /href="\/sessions\/([0-9A-Z]{26})"/.exec(li)?.[1];
    if (!id) return [];
    const km = /data-distance-km="(\d+)"[^>]*>(?:\d+ km|under 1 km) away</.exec(li)?.[1];
    return [{ id, km: km === undefined ? null : Number(km) }];
  });
}

Deno.test("[near-me] a learner with a preferred location sees in-person sessions nearest first with the distance", async () => {
  const t = await startTestApp();
  try {
    const learner = await userByEmail(t, DEMO_EMAILS.learner);
    assert.ok(learner.preferredLocationId, "the demo learner has a preferred location");
    const cookie = await devSignInCookie(t.services.kv, learner.id);
    const home = await get(t, "/", cookie);
    assert.match(home.html, /name="near"/);
    assert.doesNotMatch(home.html, /id="near"[^>]*disabled/);

    const { res, html } = await get(t, "/?near=1", cookie);
    assert.equal(res.status, 200);
    assert.match(html, /id="near-summary"/);
    assert.match(html, /within 300 km of/);
    const shown = cards(html);
    assert.ok(shown.length > 0, "some sessions near the learner");
    const origin = (await t.services.kv.get<Location>(["locations", learner.preferredLocationId!])).value!;
    let prev = null as { km: number; startsAt: string } | null;
    for (const card of shown) {
      assert.notEqual(card.km, null, "every near-me card shows its distance");
      const s = (await t.services.kv.get<Session>(["sessions", card.id])).value!;
      assert.notEqual(s.mode, "online", "online sessions are left out");
      const loc = (await t.services.kv.get<Location>(["locations", s.locationId!])).value!;
      assert.equal(card.km, Math.round(distanceKm(origin, loc)));
      assert.ok(card.km! <= 300);
      if (prev) {
        assert.ok(prev.km <= card.km!, "nearest first");
        if (prev.km === card.km) assert.ok(prev.startsAt <= s.startsAt, "soonest first at the same distance");
      }
      prev = { km: card.km!, startsAt: s.startsAt };
    }

    // Paging: the next page continues the order without repeats.
    const more = /href="(\/\?[^"]*cursor=n24[^"]*)"/.exec(html)?.[1]?.replaceAll("&amp;", "&");
    assert.ok(more, "the demo learner has more than one page of near-me sessions");
    const next = cards((await get(t, more, cookie)).html);
    assert.ok(next.length > 0);
    assert.ok(next[0].km! >= prev!.km);
    const ids = new Set(shown.map((c) => c.id));
    for (const c of next) assert.ok(!ids.has(c.id), "no repeats across pages");

    // Without near=1 the same learner gets the usual list with no distances.
    assert.ok(cards(home.html).every((c) => c.km === null));
  } finally {
    await t.close();
  }
});

Deno.test("[near-me] signed out or without a preferred location, Near me is explained and never an error", async () => {
  const t = await startTestApp();
  try {
    const out = await get(t, "/?near=1");
    assert.equal(out.res.status, 200);
    assert.match(out.html, /id="near"[^>]*disabled/);
    assert.match(out.html, /Sign in to list in-person sessions by distance/);
    assert.match(out.html, /id="near-note"/);
    assert.ok(cards(out.html).length >= 10, "the usual list is shown");
    assert.ok(cards(out.html).every((c) => c.km === null));

    const admin = await userByEmail(t, DEMO_EMAILS.admin);
    const noLoc = admin.preferredLocationId ? { ...admin, preferredLocationId: null } : admin;
    await t.services.kv.set(["users", noLoc.id], noLoc);
    const none = await get(t, "/?near=1", await devSignInCookie(t.services.kv, noLoc.id));
    assert.equal(none.res.status, 200);
    assert.match(none.html, /needs a preferred location/);
    assert.ok(cards(none.html).length >= 10);
  } finally {
    await t.close();
  }
});

Deno.test("[near-me] bad near values and near with Online are ignored with a note", async () => {
  const t = await startTestApp();
  try {
    const learner = await userByEmail(t, DEMO_EMAILS.learner);
    const cookie = await devSignInCookie(t.services.kv, learner.id);
    const bad = await get(t, "/?near=yes", cookie);
    assert.equal(bad.res.status, 200);
    assert.match(bad.html, /role="alert"/);
    assert.match(bad.html, /Near me &quot;yes&quot;.*it was ignored\./);
    assert.ok(cards(bad.html).every((c) => c.km === null));

    const online = await get(t, "/?near=1&location=online", cookie);
    assert.equal(online.res.status, 200);
    assert.match(online.html, /Near me lists in-person sessions only/);
    assert.ok(cards(online.html).length > 0);

    // A store cursor with near=1 (or a near cursor without it) starts from the first page instead of failing.
    const mixed = await get(t, "/?cursor=n24", cookie);
    assert.equal(mixed.res.status, 200);
  } finally {
    await t.close();
  }
});
