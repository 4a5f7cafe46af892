import assert from "node:assert/strict";
import type { Body } from "../api/client.ts";
import { skipKafka, startKafka } from "./broker.ts";
import {
  allEvents,
  checkDelivered,
  checkTopicFigures,
  readTopics,
  startRelayApp,
  waitUntilDrained,
} from "./relay_fixture.ts";

Deno.test({
  name: "[relay] end to end: every committed event reaches Kafka once per id, in per-session order, as valid xAPI",
  ignore: skipKafka(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const broker = await startKafka();
    // Small pages: the script's events cross many page boundaries (cursor moves, per-key order).
    const f = await startRelayApp(broker.brokers, { batchSize: 7, idleMs: 200 });
    let reader: Awaited<ReturnType<typeof readTopics>> | null = null;
    try {
      const [ann, ben, cat, dan, eve, fay] = await f.learners(6);
      const crowd = await f.learners(12);
      const s1 = await f.schedule({ capacity: 2 });
      const s2 = await f.schedule({ capacity: 3 });
      const s3 = await f.schedule({ capacity: 3, startsInHours: 96 });
      const s4 = await f.schedule({ capacity: 5, startsInHours: 120 });
      const ok = (status: number, expected: number, what: string) => assert.equal(status, expected, what);

      // session.updated
      ok(
        (await f.admin.patch(`/api/v1/sessions/${s2.id}`, { capacity: 4, reason: "bigger room" })).status,
        200,
        "patch",
      );
      // holds, a release, bookings: s1 becomes full
      const h1 = await ann.api.post<Body>("/api/v1/holds", { sessionId: s1.id });
      ok(h1.status, 201, "hold ann");
      const b1 = await ann.api.post<Body>("/api/v1/bookings", { holdId: h1.body.hold.id });
      ok(b1.status, 201, "book ann");
      const h2 = await ben.api.post<Body>("/api/v1/holds", { sessionId: s1.id });
      ok((await ben.api.delete(`/api/v1/holds/${h2.body.hold.id}`)).status, 200, "release ben");
      const h2b = await ben.api.post<Body>("/api/v1/holds", { sessionId: s1.id });
      const b2 = await ben.api.post<Body>("/api/v1/bookings", { holdId: h2b.body.hold.id });
      ok(b2.status, 201, "book ben");
      // waitlist: join, join, leave
      ok((await cat.api.post("/api/v1/waitlist", { sessionId: s1.id })).status, 201, "cat waits");
      ok((await dan.api.post("/api/v1/waitlist", { sessionId: s1.id })).status, 201, "dan waits");
      ok((await dan.api.delete(`/api/v1/waitlist/${s1.id}`)).status, 200, "dan leaves");
      // a cancellation frees a seat: cat gets an offer (waitlist.offered) and takes it
      ok(
        (await ann.api.post(`/api/v1/bookings/${b1.body.booking.id}/cancel`, { reason: "ill" })).status,
        200,
        "cancel",
      );
      const me = await cat.api.get<Body>("/api/v1/me/bookings");
      const offer = (me.body.holds as Body[]).find((h) => h.sessionId === s1.id);
      assert.ok(offer, "cat has an offer");
      ok((await cat.api.post("/api/v1/bookings", { holdId: offer.id })).status, 201, "cat books the offer");
      // reschedule ben s1 → s3 (same course)
      const moved = await ben.api.post<Body>(`/api/v1/bookings/${b2.body.booking.id}/reschedule`, {
        sessionId: s3.id,
      });
      ok(moved.status, 200, "reschedule");
      // a burst: 12 learners race for s4's 5 seats at once (group commits), winners book
      const race = await Promise.all(crowd.map((l) => l.api.post<Body>("/api/v1/holds", { sessionId: s4.id })));
      const won = race.map((r, i) => [r, crowd[i]] as const).filter(([r]) => r.status === 201);
      assert.equal(won.length, 5);
      await Promise.all(won.map(([r, l]) => l.api.post("/api/v1/bookings", { holdId: r.body.hold.id })));
      // bookings on s2, then the session is cancelled with them
      for (const l of [eve, fay]) {
        const h = await l.api.post<Body>("/api/v1/holds", { sessionId: s2.id });
        ok((await l.api.post("/api/v1/bookings", { holdId: h.body.hold.id })).status, 201, "book s2");
      }
      ok((await dan.api.post("/api/v1/holds", { sessionId: s2.id })).status, 201, "dan holds s2");
      const cancelled = await f.admin.post<Body>(`/api/v1/sessions/${s2.id}/cancel`, { reason: "trainer ill" });
      ok(cancelled.status, 200, "cancel session");
      assert.equal(cancelled.body.cancelledBookings, 2);

      const types = new Set<string>((await allEvents(f.kv)).map((e) => e.type));
      for (
        const t of [
          "session.scheduled",
          "session.updated",
          "session.cancelled",
          "hold.placed",
          "hold.released",
          "booking.confirmed",
          "booking.cancelled",
          "booking.rescheduled",
          "waitlist.joined",
          "waitlist.offered",
          "waitlist.left",
        ]
      ) assert.ok(types.has(t), `the script made a ${t} event`);

      await waitUntilDrained(async () => (await f.admin.get<Body>("/api/calcom/topics")).body, 30_000);
      reader = await readTopics(broker.brokers);
      const report = await checkDelivered(f.kv, reader);
      assert.ok(report.events >= 35, `${report.events} events`);
      assert.equal(report.sessions, 4);
      const figures = await checkTopicFigures(f.admin, f.kv);
      assert.equal(figures.relay.state, "running");
      assert.equal(figures.relay.delivered, report.events);
      const health = await f.admin.get<Body>("/api/calcom/health");
      assert.equal(health.body.kafkaConfigured, true);
      const h = await f.app.fetch(new Request("http://test/health"));
      assert.equal((await h.json()).relay.state, "running");
      console.log(`[relay e2e] ${report.events} events, ${report.records} records, ${report.duplicates} duplicates`);
    } finally {
      await reader?.stop().catch(() => {});
      await f.close();
      await broker.close();
    }
  },
});
