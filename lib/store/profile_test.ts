import assert from "node:assert/strict";
import { ValidationError } from "../domain/validation.ts";
import { putLocation, putUser } from "../../tests/booking/test_fixtures.ts";
import { getUser } from "./users.ts";
import { updateProfile } from "./profile.ts";

async function issuesOf(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    return err.issues.map((i) => i.path);
  }
  assert.fail("expected a ValidationError");
}

Deno.test("[profile] preferences are saved in one write; weekdays sorted; null clears the location", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const loc = await putLocation(kv);
    const user = await putUser(kv);
    const saved = await updateProfile(kv, user.id, {
      preferredLocationId: loc.id,
      preferredTimes: { weekdays: [5, 2], dayParts: ["evening"] },
    });
    assert.deepEqual(saved, {
      preferredLocationId: loc.id,
      preferredTimes: { weekdays: [2, 5], dayParts: ["evening"] },
    });
    const stored = await getUser(kv, user.id);
    assert.equal(stored!.preferredLocationId, loc.id);
    assert.deepEqual(stored!.preferredTimes, { weekdays: [2, 5], dayParts: ["evening"] });
    const cleared = await updateProfile(kv, user.id, { preferredLocationId: null, preferredTimes: {} });
    assert.deepEqual(cleared, { preferredLocationId: null, preferredTimes: { weekdays: [], dayParts: [] } });
  } finally {
    kv.close();
  }
});

Deno.test("[profile] bad input names the field and changes nothing", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const closed = await putLocation(kv, { active: false });
    const user = await putUser(kv);
    const times = { weekdays: [1], dayParts: [] };
    assert.deepEqual(
      await issuesOf(
        updateProfile(kv, user.id, { preferredLocationId: "01JZZZZZZZZZZZZZZZZZZZZZZZ", preferredTimes: times }),
      ),
      ["preferredLocationId"],
    );
    assert.deepEqual(
      await issuesOf(updateProfile(kv, user.id, { preferredLocationId: closed.id, preferredTimes: times })),
      ["preferredLocationId"],
    );
    assert.deepEqual(
      await issuesOf(updateProfile(kv, user.id, { preferredLocationId: null, preferredTimes: { weekdays: [0, 8] } })),
      ["preferredTimes.weekdays.0", "preferredTimes.weekdays.1"],
    );
    assert.deepEqual(
      await issuesOf(updateProfile(kv, user.id, { preferredLocationId: null, preferredTimes: { weekdays: [3, 3] } })),
      ["preferredTimes.weekdays"],
    );
    assert.deepEqual(
      await issuesOf(
        updateProfile(kv, user.id, { preferredLocationId: null, preferredTimes: { dayParts: ["night"] } }),
      ),
      ["preferredTimes.dayParts.0"],
    );
    assert.deepEqual(
      await issuesOf(updateProfile(kv, user.id, { preferredLocationId: null, preferredTimes: times, role: "admin" })),
      [""],
    );
    const stored = await getUser(kv, user.id);
    assert.equal(stored!.preferredLocationId, null);
    assert.equal(stored!.preferredTimes, undefined);
  } finally {
    kv.close();
  }
});
