/** /me/profile in process: save, refuse bad input with a sentence next to the field (input kept), sign-in prompt. */
import assert from "node:assert/strict";
import type { User } from "../lib/domain/mod.ts";
import { listLocations } from "../lib/store/mod.ts";
import { keys } from "../lib/store/keys.ts";
import { startTestApp } from "./app_fixture.ts";
import { devCookie, getPage, postForm } from "./page_client.ts";

Deno.test("[profile-page] saves location and times, keeps input and names the field on bad input", async () => {
  const t = await startTestApp();
  try {
    const kv = t.services.kv;
    const cookie = await devCookie(t, "learner@example.com");
    const userId = (await kv.get<string>(keys.userByEmail("learner@example.com"))).value!;
    const [loc] = await listLocations(kv);
    const page = await getPage(t, "/me/profile", cookie);
    assert.equal(page.res.status, 200);
    assert.match(page.text, /<label for="location"[^>]*>Preferred training location<\/label>/);
    assert.match(page.text, /<legend[^>]*>Days that suit you<\/legend>/);

    const ok = await postForm(t, "/me/profile", cookie, { location: loc.id, weekday: "2", dayPart: "morning" });
    assert.equal(ok.res.status, 303);
    assert.equal(ok.res.headers.get("location"), "/me/profile?saved=1");
    const user = (await kv.get<User>(keys.user(userId))).value!;
    assert.equal(user.preferredLocationId, loc.id);
    assert.deepEqual(user.preferredTimes, { weekdays: [2], dayParts: ["morning"] });
    const again = await getPage(t, "/me/profile?saved=1", cookie);
    assert.match(again.text, /Saved\./);
    assert.match(again.text, new RegExp(`<option value="${loc.id}" selected`));
    assert.match(again.text, /value="2" checked/);

    // An unknown location and a day that does not exist: nothing saved, sentences beside the fields, input kept.
    const body = new URLSearchParams([["location", "01JZZZZZZZZZZZZZZZZZZZZZZZ"], ["weekday", "4"], ["weekday", "9"], [
      "dayPart",
      "evening",
    ]]);
    const res = await t.app.fetch(
      new Request("http://test/me/profile", {
        method: "POST",
        headers: { cookie, origin: "http://test", "content-type": "application/x-www-form-urlencoded" },
        body: body.toString(),
      }),
    );
    const text = await res.text();
    assert.equal(res.status, 400);
    assert.match(text, /Nothing was saved/);
    assert.match(text, /id="location-problem"[^>]*>Choose a location from the list/);
    assert.match(text, /aria-describedby="location-problem"/);
    assert.match(text, /id="weekdays-problem"[^>]*>Choose days from the list/);
    assert.match(text, /value="4" checked/, "the days sent stay ticked");
    assert.match(text, /value="evening" checked/);
    const unchanged = (await kv.get<User>(keys.user(userId))).value!;
    assert.equal(unchanged.preferredLocationId, loc.id);
    assert.deepEqual(unchanged.preferredTimes, { weekdays: [2], dayParts: ["morning"] });

    const anonymous = await getPage(t, "/me/profile");
    assert.match(anonymous.text, /Sign in to set your preferences|sign in/i);
  } finally {
    await t.close();
  }
});
