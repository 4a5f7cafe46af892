import assert from "node:assert/strict";
import type { Body } from "../api/client.ts";
import { skipKafka, startKafka } from "./broker.ts";
import { readTopics, startRelayApp, waitFor } from "./relay_fixture.ts";

Deno.test({
  name: "[privacy] a real broker receives the erasure on nlj.privacy.erasure (user id and time, no personal data)",
  ignore: skipKafka(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const broker = await startKafka();
    const f = await startRelayApp(broker.brokers, { idleMs: 200 });
    let reader: Awaited<ReturnType<typeof readTopics>> | null = null;
    try {
      const [ann] = await f.learners(1);
      const session = await f.schedule({ capacity: 3 });
      const hold = await ann.api.post<Body>("/api/v1/holds", { sessionId: session.id });
      assert.equal((await ann.api.post("/api/v1/bookings", { holdId: hold.body.hold.id })).status, 201);
      const erased = await f.admin.post<Body>(`/api/v1/users/${ann.user.id}/erase`, { reason: "GDPR request" });
      assert.equal(erased.status, 200, JSON.stringify(erased.body));

      reader = await readTopics(broker.brokers);
      const r = reader;
      const record = await waitFor(
        () => `the erasure on nlj.privacy.erasure (have ${r.records.length} records)`,
        () => r.records.find((x) => x.topic === "nlj.privacy.erasure"),
        60_000,
      );
      assert.equal(record.key, ann.user.id);
      assert.equal(record.headers["event-type"], "user.erased");
      assert.deepEqual(JSON.parse(record.value), {
        type: "user.erased",
        userId: ann.user.id,
        erasedAt: erased.body.erasure.erasedAt,
        eventId: record.headers["event-id"],
      });
      // Her cancellation reached the registration topic too, naming her by account id only.
      const cancel = await waitFor(
        () => "the cancellation statement",
        () => r.records.find((x) => x.headers["event-type"] === "booking.cancelled" && x.key === session.id),
        60_000,
      );
      assert.equal(cancel.value.includes(ann.user.email), false);
      assert.equal(record.value.includes(ann.user.email), false);
    } finally {
      await reader?.stop().catch(() => {});
      await f.close();
      await broker.close();
    }
  },
});
