/** A full session's page shows ranked alternatives before any attempt, each held with one tap (no JavaScript). */
import assert from "node:assert/strict";
import { listEvents } from "../lib/booking/events.ts";
import type { Hold } from "../lib/domain/mod.ts";
import { createLocation } from "../lib/store/mod.ts";
import { keys } from "../lib/store/keys.ts";
import { courseFixture, fillSession, startTestApp } from "./app_fixture.ts";
import { devSignInCookie, getPage, postForm } from "./page_client.ts";

Deno.test("[alternatives-page] a full session lists up to 3 alternatives with reasons before any attempt; one tap holds", async () => {
  const t = await startTestApp({ seed: false });
  try {
    const kv = t.services.kv;
    const place = (slug: string, name: string, lat: number, lng: number, tz: string) =>
      createLocation(kv, {
        slug,
        name,
        address: { line1: "1 Main St", city: name, region: "GA", postalCode: "30303", country: "US" },
        lat,
        lng,
        timeZone: tz,
      });
    const atl = await place("atl", "Atlanta", 33.7849, -84.3831, "America/New_York");
    const la = await place("la", "Los Angeles", 34.0447, -118.2646, "America/Los_Angeles");
    const { learner, session } = await courseFixture(t, { preferredLocationId: atl.id });
    const full = await session(48, { locationId: atl.id, capacity: 1 });
    const laSoon = await session(30, { locationId: la.id });
    const atlLater = await session(24 * 10, { locationId: atl.id });
    await fillSession(t, full.id);
    const cookie = await devSignInCookie(kv, learner.id);
    const page = await getPage(t, `/sessions/${full.id}`, cookie);
    assert.equal(page.res.status, 200);
    assert.match(page.text, /This session is full\. These similar sessions have seats:/);
    const ids = [...page.text.matchAll(/<form method="post" action="\/sessions\/([0-9A-Z]{26})"/g)].map((m) => m[1]);
    assert.deepEqual(ids.filter((id) => id !== full.id), [atlLater.id, laSoon.id], "nearest first, as ranked");
    assert.match(page.text, /same course · under 1 km away · in 9 days/);
    assert.match(page.text, /same course · 3112 km away · in 1 day/);
    assert.match(page.text, /Join waitlist/);
    const { events } = await listEvents(kv, { limit: 100 });
    assert.equal(events.filter((e) => e.type === "alternatives.offered").length, 1);

    const form = page.text.split(`action="/sessions/${atlLater.id}"`)[1].split("</form>")[0];
    const fields = Object.fromEntries([...form.matchAll(/name="(\w+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    assert.deepEqual(Object.keys(fields).sort(), ["alt", "intent", "key"]);
    assert.equal(fields.alt, full.id);
    const held = await postForm(t, `/sessions/${atlLater.id}`, cookie, fields);
    assert.equal(held.res.status, 303);
    const holdId = held.res.headers.get("location")!.split("/").at(-1)!;
    assert.equal((await kv.get<Hold>(keys.hold(holdId))).value!.alternativeOf, full.id);
  } finally {
    await t.close();
  }
});

Deno.test("[duplicate-page] a course already booked is said before the hold button, which then books anyway", async () => {
  const t = await startTestApp({ seed: false });
  try {
    const kv = t.services.kv;
    const { learner, session: online } = await courseFixture(t);
    const first = await online(30);
    const second = await online(80);
    const actor = {
      userId: learner.id,
      roles: ["learner"],
      origin: "web" as const,
      correlationId: crypto.randomUUID(),
    };
    const { hold } = await t.services.engine.placeHold(first.id, learner.id, actor);
    const { booking } = await t.services.engine.confirmHold(hold.id, actor);
    const cookie = await devSignInCookie(kv, learner.id);

    const page = await getPage(t, `/sessions/${second.id}`, cookie);
    assert.match(page.text, /data-testid="duplicate-warning"/);
    assert.match(
      page.text,
      new RegExp(`You are already booked on this course on\\s*<a href="/bookings/${booking.id}"`),
    );
    assert.match(page.text, /Hold a seat anyway/);
    assert.doesNotMatch(page.text, />Hold my seat</);

    // A post without the confirmation (a stale page, an alternative's button) is refused with the same choice.
    const refused = await postForm(t, `/sessions/${second.id}`, cookie, { intent: "hold", key: crypto.randomUUID() });
    assert.equal(refused.res.status, 409);
    assert.match(refused.text, /You are already booked on another session of this course\./);
    const form = refused.text.split(`action="/sessions/${second.id}"`)[1].split("</form>")[0];
    assert.match(form, /name="confirmDuplicate" value="1"/);
    assert.match(form, /Hold a seat anyway/);
    const fields = Object.fromEntries([...form.matchAll(/name="(\w+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const anyway = await postForm(t, `/sessions/${second.id}`, cookie, fields);
    assert.equal(anyway.res.status, 303);
    assert.match(anyway.res.headers.get("location")!, /^\/holds\//);
  } finally {
    await t.close();
  }
});
