import assert from "node:assert/strict";
import { keys } from "../store/keys.ts";
import {
  getNotificationPrefs,
  NotifyInputError,
  setNotificationPrefs,
  signUnsubscribe,
  unsubscribe,
  verifyUnsubscribe,
} from "./manage.ts";

Deno.test("[notify] preferences: optional kinds can be turned off, transactional ones and unknown zones cannot", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    assert.deepEqual(await getNotificationPrefs(kv, "u1"), { off: [], timeZone: null });
    await setNotificationPrefs(kv, "u1", { off: ["reminder", "reminder"], timeZone: "Europe/Berlin" });
    assert.deepEqual(await getNotificationPrefs(kv, "u1"), { off: ["reminder"], timeZone: "Europe/Berlin" });
    await assert.rejects(
      setNotificationPrefs(kv, "u1", { off: ["booking_confirmed"], timeZone: null }),
      (e) => e instanceof NotifyInputError && e.code === "required_kind",
    );
    await assert.rejects(
      setNotificationPrefs(kv, "u1", { off: ["nope"], timeZone: null }),
      (e) => e instanceof NotifyInputError && e.code === "unknown_kind",
    );
    await assert.rejects(
      setNotificationPrefs(kv, "u1", { off: [], timeZone: "Mars/Olympus" }),
      (e) => e instanceof NotifyInputError && e.code === "invalid_time_zone",
    );
    assert.deepEqual(await getNotificationPrefs(kv, "u1"), { off: ["reminder"], timeZone: "Europe/Berlin" });
  } finally {
    kv.close();
  }
});

Deno.test("[notify] one-click unsubscribe: a signed token turns its kind off; forged or transactional tokens are refused", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const token = await signUnsubscribe(kv, "u2", "manager_notice");
    assert.deepEqual(await verifyUnsubscribe(kv, token), { userId: "u2", kind: "manager_notice" });
    assert.equal(await verifyUnsubscribe(kv, token.replace("u2.", "u3.")), null);
    assert.equal(await verifyUnsubscribe(kv, token.slice(0, -2) + "xx"), null);
    const forgedKind = token.replace("manager_notice", "booking_confirmed");
    assert.equal(await verifyUnsubscribe(kv, forgedKind), null);
    assert.equal((await unsubscribe(kv, token)).kind, "manager_notice");
    assert.equal((await unsubscribe(kv, token)).kind, "manager_notice", "twice is fine");
    assert.deepEqual((await getNotificationPrefs(kv, "u2")).off, ["manager_notice"]);
    await assert.rejects(unsubscribe(kv, "garbage"), (e) => e instanceof NotifyInputError && e.status === 400);
    // The key lives in KV, made once.
    assert.match((await kv.get<string>(keys.notifySigningKey())).value!, /^[0-9a-f]{64}$/);
  } finally {
    kv.close();
  }
});
