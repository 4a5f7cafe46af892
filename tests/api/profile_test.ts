/** GET/PUT /v1/me/profile: the preferences, bad input per field, and their effect on the alternatives' ranking. */
import assert from "node:assert/strict";
import type { Body } from "./client.ts";
import { startApiFixture } from "./fixture.ts";
import { listLocations } from "../../lib/store/mod.ts";

Deno.test("[api] profile: set and read preferences; the preferred location reorders the alternatives", async () => {
  const f = await startApiFixture();
  try {
    const [a, b] = await f.learners(2);
    const empty = await b.api.get<Body>("/api/v1/me/profile");
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body, { preferredLocationId: null, preferredTimes: { weekdays: [], dayParts: [] } });
    const locations = await listLocations(f.services.kv);
    const home = locations[0];
    const away = locations.find((l) => l.address.region !== home.address.region)!;
    const course = await f.courseWithoutPrerequisites();
    const full = await f.session({ capacity: 1, course, startsInHours: 400, locationId: away.id });
    const atAway = await f.session({ capacity: 5, course, startsInHours: 1.5, locationId: away.id });
    const atHome = await f.session({ capacity: 5, course, startsInHours: 1.5, locationId: home.id });
    assert.equal((await a.api.post("/api/v1/holds", { sessionId: full.id })).status, 201);
    const before = await b.api.get<Body>(`/api/v1/sessions/${full.id}/alternatives`);
    assert.equal(before.body.alternatives[0].sessionId, atAway.id, "no preference: measured from the full session");

    const put = await b.api.put<Body>("/api/v1/me/profile", {
      preferredLocationId: home.id,
      preferredTimes: { weekdays: [3, 1], dayParts: ["morning"] },
    });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body, {
      preferredLocationId: home.id,
      preferredTimes: { weekdays: [1, 3], dayParts: ["morning"] },
    });
    assert.deepEqual((await b.api.get<Body>("/api/v1/me/profile")).body, put.body);
    const after = await b.api.get<Body>(`/api/v1/sessions/${full.id}/alternatives`);
    assert.equal(after.body.alternatives[0].sessionId, atHome.id, "measured from the preferred location");
  } finally {
    await f.close();
  }
});

Deno.test("[api] profile: unknown location, bad days and unknown fields are 400 naming the field", async () => {
  const f = await startApiFixture();
  try {
    const [a] = await f.learners(1);
    const paths = async (body: unknown) => {
      const res = await a.api.put<Body>("/api/v1/me/profile", body);
      assert.equal(res.status, 400);
      return (res.body.details.issues as Body[]).map((i) => i.path);
    };
    const times = { weekdays: [], dayParts: [] };
    assert.deepEqual(await paths({ preferredLocationId: "01JZZZZZZZZZZZZZZZZZZZZZZZ", preferredTimes: times }), [
      "preferredLocationId",
    ]);
    assert.ok((await paths({ preferredLocationId: null, preferredTimes: { weekdays: [8] } })).length >= 1);
    assert.ok((await paths({ preferredLocationId: null, preferredTimes: times, roles: ["admin"] })).length >= 1);
    const admin = await f.admin.get<Body>("/api/v1/me/profile");
    assert.equal(admin.status, 400);
    assert.equal(admin.body.error, "learner_required");
  } finally {
    await f.close();
  }
});
