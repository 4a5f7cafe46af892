import assert from "node:assert/strict";
import { admin, putSession, putUsers, self, setup, teardown } from "../../tests/booking/test_fixtures.ts";
import type { OutboundMessage } from "../relay/publisher.ts";
import { EventRelay } from "../relay/relay.ts";
import { topicFor, TOPICS } from "../relay/xapi.ts";
import { eraseUser } from "./erase.ts";

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok(), `timed out waiting for ${what}`);
}

Deno.test("[privacy] user.erased maps to the nlj.privacy.erasure topic", () => {
  assert.equal(topicFor({ type: "user.erased", origin: "admin" }), "nlj.privacy.erasure");
  assert.equal(TOPICS.privacyErasure, "nlj.privacy.erasure");
});

Deno.test("[privacy] the relay sends the erasure (id and time only) and no later statement names the person, though it had them cached", async () => {
  const { kv, engine, course } = await setup();
  const published: OutboundMessage[] = [];
  const relay = new EventRelay(kv, {
    connect: () => Promise.resolve(),
    publish: (messages) => {
      published.push(...messages);
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  }, { idleMs: 20, lingerMs: 0 });
  try {
    const [ann] = await putUsers(kv, 1);
    const session = await putSession(kv, course.id);
    relay.start();
    const { hold } = await engine.placeHold(session.id, ann.id, self(ann.id));
    await engine.confirmHold(hold.id, self(ann.id));
    await until("her booking statements", () => published.length === 2);
    assert.ok(published.every((m) => m.value.includes(ann.email)), "before: statements name her by mailbox");

    const r = await eraseUser(kv, engine, ann.id, { actor: admin(), reason: "GDPR request" });
    assert.equal(r.outcome, "erased");
    await until("the erasure and the cancellation", () => published.length === 4);
    const later = published.slice(2);
    const erasure = later.find((m) => m.topic === TOPICS.privacyErasure)!;
    assert.equal(erasure.key, ann.id);
    assert.equal(erasure.headers["event-type"], "user.erased");
    assert.deepEqual(Object.keys(JSON.parse(erasure.value)).sort(), ["erasedAt", "eventId", "type", "userId"]);
    assert.equal(JSON.parse(erasure.value).erasedAt, r.record.erasedAt);
    const cancel = later.find((m) => m.headers["event-type"] === "booking.cancelled")!;
    assert.equal(JSON.parse(cancel.value).actor.account.name, ann.id, "named by account id only");
    for (const m of later) {
      assert.equal(m.value.includes(ann.email), false);
      assert.equal(m.value.includes(ann.name), false);
    }
  } finally {
    await relay.stop();
    await teardown(kv);
  }
});
