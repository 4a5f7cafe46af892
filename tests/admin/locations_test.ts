/** Training centers for admins (API and pages): add, change, close; bad input and stale edits refused. */
import assert from "node:assert/strict";
import { getLocation, listLocations } from "../../lib/store/mod.ts";
import { type Body } from "../api/client.ts";
import { startApiFixture } from "../api/fixture.ts";
import { devSignInCookie, getPage, postForm } from "../page_client.ts";

const center = (over: Body = {}): Body => ({
  name: "Boise Training Center",
  slug: "boise",
  address: { line1: "1 Main St", city: "Boise", region: "ID", postalCode: "83702", country: "US" },
  timeZone: "America/Boise",
  lat: 43.615,
  lng: -116.2023,
  ...over,
});

Deno.test("[locations] API: add, change with a version, stale 409, taken slug 409, bad zone 400, closed ones leave the list", async () => {
  const f = await startApiFixture();
  try {
    const made = await f.admin.post<Body>("/api/v1/locations", center());
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const id = made.body.location.id;
    assert.equal((await f.admin.post<Body>("/api/v1/locations", center({ name: "Other" }))).body.error, "slug_taken");
    const badZone = await f.admin.post<Body>("/api/v1/locations", center({ slug: "x", timeZone: "Mars/Base" }));
    assert.equal(badZone.status, 400);
    const closed = await f.admin.request<Body>("PUT", `/api/v1/locations/${id}`, {
      ...center({ active: false }),
      ifVersion: made.body.version,
    });
    assert.equal(closed.status, 200);
    assert.equal(closed.body.location.active, false);
    const stale = await f.admin.request<Body>("PUT", `/api/v1/locations/${id}`, {
      ...center({ name: "Old copy" }),
      ifVersion: made.body.version,
    });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.details.current.active, false);
    assert.ok(!(await listLocations(f.services.kv)).some((l) => l.id === id), "closed: not listed for booking");
    const all = await f.admin.get<Body>("/api/v1/admin/locations");
    assert.ok(all.body.locations.some((l: Body) => l.location.id === id));
    assert.equal((await f.admin.request("PUT", "/api/v1/locations/01JZZZZZZZZZZZZZZZZZZZZZZZ", center())).status, 404);
    const [learner] = await f.learners(1);
    assert.equal((await learner.api.post("/api/v1/locations", center({ slug: "y" }))).status, 403);
  } finally {
    await f.close();
  }
});

Deno.test("[locations] pages: bad input kept with its errors; a stale edit shows the current values; unknown id 404", async () => {
  const f = await startApiFixture();
  try {
    const [admin] = await f.learners(1, ["admin"]);
    const cookie = await devSignInCookie(f.services.kv, admin.user.id);
    const form = {
      name: "Reno Center",
      slug: "reno",
      line1: "2 Virginia St",
      city: "Reno",
      region: "NV",
      postalCode: "89501",
      timeZone: "America/Los_Angeles",
      lat: "39.5296",
      lng: "-119.8138",
      active: "on",
    };
    const bad = await postForm(f, "/admin/locations", cookie, { ...form, lat: "north", postalCode: "ABC" });
    assert.equal(bad.res.status, 400);
    assert.match(bad.text, /data-testid="error-lat"[^>]*>Give the latitude/);
    assert.match(bad.text, /value="north"/);
    const badZip = await postForm(f, "/admin/locations", cookie, { ...form, postalCode: "ABC", timeZone: "Nowhere" });
    assert.match(badZip.text, /data-testid="error-postalCode"/);
    assert.match(badZip.text, /data-testid="error-timeZone"/);
    assert.ok(!(await listLocations(f.services.kv, { includeInactive: true })).some((l) => l.slug === "reno"));
    const ok = await postForm(f, "/admin/locations", cookie, form);
    assert.equal(ok.res.status, 303);
    const reno = (await listLocations(f.services.kv)).find((l) => l.slug === "reno")!;
    assert.equal(reno.lat, 39.5296);
    const here = `/admin/locations/${reno.id}`;
    const version = /name="version" value="([^"]+)"/.exec((await getPage(f, here, cookie)).text)![1];
    await f.admin.request("PUT", `/api/v1/locations/${reno.id}`, center({ slug: "reno", name: "Reno Downtown" }));
    const stale = await postForm(f, here, cookie, { ...form, version, name: "Mine" });
    assert.equal(stale.res.status, 409);
    assert.match(stale.text, /name="name"[^>]*value="Reno Downtown"/);
    assert.equal((await getLocation(f.services.kv, reno.id))!.name, "Reno Downtown");
    assert.equal((await getPage(f, "/admin/locations/01JZZZZZZZZZZZZZZZZZZZZZZZ", cookie)).res.status, 404);
  } finally {
    await f.close();
  }
});
