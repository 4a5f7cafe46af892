import assert from "node:assert/strict";
import { deadLetterOf, refusingPublisher, until } from "../../tests/admin/dead_letters_fixture.ts";
import { putSession, putUsers, self, setup, teardown } from "../../tests/booking/test_fixtures.ts";
import { keys } from "../store/keys.ts";
import { EventRelay } from "./relay.ts";
import { listDeadLetters, requeueDeadLetter } from "./topics.ts";

Deno.test("[relay] a requeued dead letter goes back through the outbox and is delivered once, even when requeued twice at once", async () => {
  const { kv, engine, course } = await setup();
  const pub = refusingPublisher();
  const relay = new EventRelay(kv, pub.publisher, { idleMs: 20, lingerMs: 0, log: () => {} });
  try {
    const [ann] = await putUsers(kv, 1);
    const session = await putSession(kv, course.id);
    relay.start();
    const { hold } = await engine.placeHold(session.id, ann.id, self(ann.id));
    await engine.confirmHold(hold.id, self(ann.id));
    await until("two dead letters", async () => (await listDeadLetters(kv)).length === 2);
    assert.equal(pub.published.length, 0);
    const dead = await listDeadLetters(kv);
    assert.match(dead[0].reason, /MESSAGE_TOO_LARGE/);

    pub.refuse = false; // the cause is fixed
    const outcomes = await Promise.all(
      dead.flatMap((d) => [requeueDeadLetter(kv, d.eventKey), requeueDeadLetter(kv, d.eventKey)]),
    );
    assert.deepEqual(outcomes.filter((o) => o === "requeued").length, 2, JSON.stringify(outcomes));
    assert.ok(outcomes.every((o) => o === "requeued" || o === "not_found"));
    await until("both delivered", () => pub.published.length >= 2);
    await until(
      "the outbox empty",
      async () => (await Array.fromAsync(kv.list({ prefix: keys.outboxPrefix("kafka") }))).length === 0,
    );
    assert.deepEqual(
      pub.published.map((m) => m.headers["event-type"]).sort(),
      dead.map((d) => d.eventType).sort(),
      "each event once",
    );
    assert.deepEqual(await listDeadLetters(kv), []);
    assert.equal(await requeueDeadLetter(kv, dead[0].eventKey), "not_found");
    assert.equal(await requeueDeadLetter(kv, "x".repeat(5000)), "not_found");
  } finally {
    await relay.stop();
    await teardown(kv);
  }
});

Deno.test("[relay] requeue refuses an event already waiting in the outbox and keeps the dead letter", async () => {
  const { kv } = await setup();
  try {
    const d = deadLetterOf("01JKEY00000000000000000001", "2026-03-01T15:00:00.000Z", "x");
    const event = d.event;
    await kv.set(keys.deadLetter(event.key), d);
    await kv.set(keys.outboxEntry("kafka", "s1", event.key), event);
    assert.equal(await requeueDeadLetter(kv, event.key), "already_pending");
    assert.equal((await listDeadLetters(kv)).length, 1);
  } finally {
    await teardown(kv);
  }
});
