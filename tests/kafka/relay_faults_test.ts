import assert from "node:assert/strict";
import { logLevel } from "kafkajs";
import { ulid } from "ulid";
import { Draft } from "../../lib/booking/draft.ts";
import { addEvent, type DomainEvent } from "../../lib/booking/events.ts";
import { KafkaPublisher } from "../../lib/relay/publisher.ts";
import { keys } from "../../lib/store/keys.ts";
import { type DeadLetter, EventRelay } from "../../lib/relay/relay.ts";
import { topicFor } from "../../lib/relay/xapi.ts";
import type { Body } from "../api/client.ts";
import { skipKafka, startKafka, type TestKafka } from "./broker.ts";
import {
  ADMIN_TOKEN,
  allEvents,
  checkDelivered,
  checkTopicFigures,
  createCatalogSession,
  createLearners,
  createTinyCatalog,
  httpJson,
  type Learner,
  readTopics,
  type RelayApp,
  spawnApp,
  startRelayApp,
  statementProblems,
  type TopicReader,
  waitFor,
  waitUntilDrained,
} from "./relay_fixture.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Books learners onto sessions over the in-process API until stopped: hold, then confirm. */
function bookingStream(learners: Learner[], sessionIds: string[], everyMs: number) {
  let stopped = false;
  let booked = 0;
  const done = (async () => {
    let i = 0;
    while (!stopped) {
      const learner = learners[i % learners.length];
      const sessionId = sessionIds[Math.floor(i / learners.length) % sessionIds.length];
      i++;
      // The same learners come back to other sessions of the one course: "book anyway".
      const hold = await learner.api.post<Body>("/api/v1/holds", { sessionId, confirmDuplicate: true });
      if (hold.status === 201) {
        const b = await learner.api.post<Body>("/api/v1/bookings", { holdId: hold.body.hold.id });
        if (b.status === 201) booked++;
      }
      await sleep(everyMs);
    }
  })();
  return {
    get booked() {
      return booked;
    },
    async stop() {
      stopped = true;
      await done;
    },
  };
}

const topicsOf = (f: RelayApp) => async () => (await f.admin.get<Body>("/api/calcom/topics")).body;

async function withReader<T>(brokers: string[], fn: (r: TopicReader) => Promise<T>): Promise<T> {
  const reader = await readTopics(brokers);
  try {
    return await fn(reader);
  } finally {
    await reader.stop().catch(() => {});
  }
}

async function noKafkaThenLateRelay(broker: TestKafka) {
  const f = await startRelayApp(null);
  let late: EventRelay | null = null;
  try {
    const people = await f.learners(3);
    const s = await f.schedule({ capacity: 5 });
    for (const p of people) {
      const h = await p.api.post<Body>("/api/v1/holds", { sessionId: s.id });
      assert.equal((await p.api.post("/api/v1/bookings", { holdId: h.body.hold.id })).status, 201);
    }
    const events = await allEvents(f.kv);
    assert.equal(events.length, 7);
    const before = (await f.admin.get<Body>("/api/calcom/topics")).body;
    assert.equal(before.relay.state, "off");
    for (const t of before.topics as Body[]) {
      assert.equal(t.pending, events.filter((e) => topicFor(e) === t.topic).length, `${t.topic} pending`);
      assert.equal(t.delivered, 0);
    }
    const health = await f.app.fetch(new Request("http://test/health"));
    assert.equal((await health.json()).relay.state, "off");
    // One of them dead-lettered earlier (as the relay stores it, its outbox entry acknowledged): a retry
    // on this instance without Kafka puts it back in the outbox, in its commit place, pending again.
    const earlier = events[events.length - 1];
    await f.kv.atomic().delete(keys.outboxEntry("kafka", earlier.sessionId, earlier.key))
      .set(
        keys.deadLetter(earlier.key),
        {
          eventKey: earlier.key,
          eventId: earlier.id,
          eventType: earlier.type,
          sessionId: earlier.sessionId,
          topic: topicFor(earlier),
          reason: "Kafka refused it: earlier",
          attempts: 1,
          failedAt: new Date().toISOString(),
          event: earlier,
        } satisfies DeadLetter,
      ).commit();
    const unknown = await f.admin.post<Body>(`/api/v1/admin/dead-letters/${ulid()}/retry`);
    assert.deepEqual([unknown.status, unknown.body.error], [404, "dead_letter_not_found"]);
    const retry = await f.admin.post<Body>(`/api/v1/admin/dead-letters/${earlier.key}/retry`);
    assert.deepEqual([retry.status, retry.body], [202, { requeued: true, eventKey: earlier.key }]);
    const waiting = (await f.admin.get<Body>("/api/calcom/topics")).body.topics as Body[];
    assert.equal(waiting.reduce((n, t) => n + t.pending, 0), events.length, "all pending again");
    assert.equal(waiting.reduce((n, t) => n + t.deadLetters, 0), 0);

    // Kafka arrives later: a relay on the same KV delivers the backlog.
    late = new EventRelay(f.kv, new KafkaPublisher({ brokers: broker.brokers, logLevel: logLevel.NOTHING }), {
      idleMs: 200,
    });
    late.start();
    await waitUntilDrained(topicsOf(f), 20_000);
    await withReader(broker.brokers, (r) => checkDelivered(f.kv, r));
    await checkTopicFigures(f.admin, f.kv);
  } finally {
    await late?.stop();
    await f.close();
  }
}

async function badDataDeadLettersAndRedrive(broker: TestKafka) {
  const f = await startRelayApp(broker.brokers, { idleMs: 200 });
  try {
    const people = await f.learners(4);
    const s = await f.schedule({ capacity: 10 });
    const book = async (p: Learner) => {
      const h = await p.api.post<Body>("/api/v1/holds", { sessionId: s.id });
      assert.equal((await p.api.post("/api/v1/bookings", { holdId: h.body.hold.id })).status, 201);
    };
    await book(people[0]);
    await book(people[1]);
    // An event whose statement cannot be serialised (a BigInt in its data), committed like the
    // engine's: Draft + addEvent (stored and announced in one atomic op).
    const draft = new Draft(f.kv);
    const actor = { userId: people[0].user.id, origin: "api" as const, correlationId: crypto.randomUUID() };
    const bigint = addEvent(draft, actor, "hold.placed", s.id, people[0].user.id, {
      holdId: ulid(),
      seats: 10n,
    }, new Date());
    assert.ok(await draft.commit());
    // An event of a type the relay does not know, written straight into the history and the Kafka outbox.
    const unknown = {
      ...bigint,
      id: crypto.randomUUID(),
      key: ulid(),
      type: "hold.teleported",
      data: { holdId: ulid() },
    } as unknown as DomainEvent;
    await f.kv.atomic().set(keys.event(unknown.key), unknown)
      .set(keys.outboxEntry("kafka", unknown.sessionId, unknown.key), unknown).commit();
    await book(people[2]);
    await book(people[3]);

    const bad = new Set([bigint.id, unknown.id]);
    await waitUntilDrained(topicsOf(f), 20_000);
    const listed = await waitFor(() => "2 dead letters", async () => {
      const res = await f.admin.get<Body>("/api/v1/admin/dead-letters");
      return res.body.deadLetters.length === 2 ? res.body.deadLetters as Body[] : null;
    }, 10_000);
    const byId = new Map(listed.map((d) => [d.eventId, d]));
    assert.match(byId.get(bigint.id)!.reason, /cannot build the message: .*BigInt/);
    assert.equal(byId.get(bigint.id)!.event.data.seats, "10n", "shown as text");
    assert.match(byId.get(unknown.id)!.reason, /no xAPI verb for event type hold\.teleported/);
    assert.equal(byId.get(unknown.id)!.topic, "nlj.training.registration");
    // The rest kept flowing (the two bad ones are behind the cursor, not blocking it).
    await withReader(broker.brokers, async (r) => {
      await checkDelivered(f.kv, r, { excludeIds: bad });
      await checkTopicFigures(f.admin, f.kv, { deadLetters: 2 });

      // Retrying before the fix: back in the outbox (202), the relay fails it again and dead-letters it
      // again with the reason; nothing reaches Kafka.
      const again = await f.admin.post<Body>(`/api/v1/admin/dead-letters/${bigint.key}/retry`);
      assert.deepEqual([again.status, again.body], [202, { requeued: true, eventKey: bigint.key }]);
      const kept = await waitFor(() => "the retried event dead-lettered again", async () => {
        const entry = await f.kv.get<DeadLetter>(["dead_letters", bigint.key]);
        return entry.value;
      }, 10_000);
      assert.match(kept.reason, /BigInt/);
      await waitUntilDrained(topicsOf(f), 10_000);
      assert.equal(f.relayLog.filter((m) => m.includes("dead-lettered")).length, 3);

      // Fix the events' data where the requeue reads it (the history, keeping their commit place),
      // then two retries and a requeue of each at once: one of each is requeued (202), the others
      // find it gone (404) or already pending (409); the relay delivers each once, off the list.
      for (const key of [bigint.key, unknown.key]) {
        const entry = await f.kv.get<DomainEvent>(keys.event(key));
        const event = { ...entry.value!, type: "hold.placed" as const };
        event.data = { ...event.data, seats: 10 };
        event.commitVersionstamp ??= entry.versionstamp!;
        await f.kv.set(entry.key, event);
      }
      const answers = await Promise.all([bigint.key, unknown.key].flatMap((key) => [
        f.admin.post<Body>(`/api/v1/admin/dead-letters/${key}/retry`),
        f.admin.post<Body>(`/api/v1/admin/dead-letters/${key}/requeue`),
        f.admin.post<Body>(`/api/v1/admin/dead-letters/${key}/retry`),
      ]));
      const statuses = answers.map((a) => a.status);
      assert.equal(statuses.filter((st) => st === 202).length, 2, JSON.stringify(answers.map((a) => a.body)));
      assert.ok(statuses.every((st) => st === 202 || st === 404 || st === 409), JSON.stringify(statuses));
      await waitFor(() => "the re-driven events on Kafka", () => {
        const got = new Set(r.records.filter((x) => bad.has(x.headers["event-id"])).map((x) => x.headers["event-id"]));
        return got.size === 2;
      }, 10_000);
      await waitUntilDrained(topicsOf(f), 10_000);
      assert.deepEqual((await f.admin.get<Body>("/api/v1/admin/dead-letters")).body.deadLetters, []);
      // Records of a produce request arrive together; a second copy would have come from a second
      // outbox entry, and none is left.
      const onKafka = r.records.filter((x) => bad.has(x.headers["event-id"]));
      assert.deepEqual(onKafka.map((x) => x.headers["event-id"]).sort(), [...bad].sort(), "each exactly once");
      for (const rec of onKafka) {
        const statement = JSON.parse(rec.value);
        assert.deepEqual(statementProblems(statement), []);
        assert.equal(statement.id, rec.headers["event-id"]);
        assert.equal(rec.key, s.id);
      }
      const ids = new Set(r.forSessions(new Set([s.id])).map((x) => x.headers["event-id"]));
      assert.deepEqual([...ids].sort(), (await allEvents(f.kv)).map((e) => e.id).sort(), "every KV id on Kafka");
    });
    const figures = (await f.admin.get<Body>("/api/calcom/topics")).body;
    const registration = (figures.topics as Body[]).find((t) => t.topic === "nlj.training.registration")!;
    assert.equal(registration.delivered, 10, "8 bookings' events + 2 re-driven");
    assert.equal(registration.deadLetters, 0);
    assert.equal(f.relayLog.filter((m) => m.includes("dead-lettered")).length, 3, "2, and 1 retried before the fix");
  } finally {
    await f.close();
  }
}

async function hotSessionPageOverOneMebibyte(broker: TestKafka) {
  // One session's events share a partition; 450 statements of ~2.7 KB are more than the broker's
  // message.max.bytes (1 MiB) for one record batch.
  const kv = await Deno.openKv(":memory:");
  const catalog = await createTinyCatalog(kv);
  const people = await createLearners(kv, 3);
  const inner = new KafkaPublisher({ brokers: broker.brokers, logLevel: logLevel.NOTHING });
  const calls: number[] = [];
  const relay = new EventRelay(kv, {
    connect: () => inner.connect(),
    publish: (m) => {
      calls.push(m.length);
      return inner.publish(m);
    },
    close: () => inner.close(),
  }, { idleMs: 200 });
  try {
    const sessionId = (await createCatalogSession(kv, catalog)).id;
    // Three commits of 150 (each event is 3 writes: history + 2 outbox entries; 1000 mutations per op).
    let draft = new Draft(kv);
    for (let i = 0; i < 450; i++) {
      if (i > 0 && i % 150 === 0) {
        assert.ok(await draft.commit());
        draft = new Draft(kv);
      }
      const learner = people[i % people.length].user;
      const actor = { userId: learner.id, origin: "api" as const, correlationId: crypto.randomUUID() };
      addEvent(
        draft,
        actor,
        "hold.placed",
        sessionId,
        learner.id,
        { holdId: ulid(), note: "x".repeat(500) },
        new Date(),
      );
    }
    assert.ok(await draft.commit());
    relay.start();
    await waitFor(
      () => `450 delivered (${JSON.stringify(relay.status())})`,
      () => relay.status().delivered === 450,
      20_000,
    );
    assert.ok(calls.length <= 3, `${calls.length} produce calls: ${calls.join(",")}`);
    const report = await withReader(broker.brokers, (r) => checkDelivered(kv, r));
    assert.equal(report.events, 450);
  } finally {
    await relay.stop();
    kv.close();
  }
}

async function brokerOutage(broker: TestKafka) {
  // The production relay settings except a 2 s backoff cap (30 s in production), so the catch-up
  // after the restart shows within the test's patience.
  const f = await startRelayApp(broker.brokers, { idleMs: 200, minBackoffMs: 100, maxBackoffMs: 2_000 });
  try {
    const people = await f.learners(40);
    const sessions = [];
    for (let i = 0; i < 4; i++) sessions.push((await f.schedule({ capacity: 100 })).id);
    const stream = bookingStream(people, sessions, 40);
    await waitFor(() => "first deliveries", () => f.relay.status().delivered > 20, 10_000);
    const downAt = Date.now();
    await broker.stop();
    const bookedAtStop = stream.booked;
    const seen = await waitFor(() => `/health relay retrying (now ${JSON.stringify(f.relay.status())})`, async () => {
      const res = await f.app.fetch(new Request("http://test/health"));
      const body = await res.json();
      return body.relay.state === "retrying" && body.relay.lastError ? body.relay : null;
    }, 8_000);
    const topicsDuring = (await f.admin.get<Body>("/api/calcom/topics")).body;
    assert.ok((topicsDuring.topics as Body[]).some((t) => t.pending > 0 && t.lastError), "pending with an error");
    await sleep(Math.max(0, 10_000 - (Date.now() - downAt)));
    // The stream ends before Kafka is back: no commit wakes the relay, its own retry must find Kafka.
    await stream.stop();
    const bookedDuringOutage = stream.booked - bookedAtStop;
    assert.ok(bookedDuringOutage >= 20, `${bookedDuringOutage} bookings while Kafka was down`);
    await broker.restart();
    const outageMs = Date.now() - downAt;

    const t0 = Date.now();
    await waitUntilDrained(topicsOf(f), 30_000);
    const catchUpMs = Date.now() - t0;
    const report = await withReader(broker.brokers, (r) => checkDelivered(f.kv, r));
    await checkTopicFigures(f.admin, f.kv);
    assert.equal(f.relay.status().state, "running");
    const failures = f.relayLog.filter((m) => m.includes("delivery failed")).length;
    console.log(
      `[relay outage] down ${outageMs} ms, ${bookedDuringOutage} bookings meanwhile, /health said ` +
        `"${seen.state}: ${seen.lastError}"; drained ${catchUpMs} ms after the broker was back; ` +
        `${report.events} events, ${report.duplicates} duplicates; ${failures} failure log lines`,
    );
  } finally {
    await f.close();
  }
}

async function appKilledMidStream(broker: TestKafka) {
  const dir = await Deno.makeTempDir({ prefix: "relay-kill-" });
  const kvPath = `${dir}/app.kv`;
  const env = {
    DENO_KV_PATH: kvPath,
    SEED_DEMO: "0",
    DEV_LOGIN: "0",
    KAFKA_BROKERS: broker.brokers.join(","),
    ADMIN_TOKEN,
  };
  // Our own catalog and learners in the KV file, before the app opens it.
  const setup = await Deno.openKv(kvPath);
  const catalog = await createTinyCatalog(setup);
  const learners = await createLearners(setup, 24);
  setup.close();

  let app = await spawnApp(env);
  let stopped = false;
  let kv: Deno.Kv | null = null;
  const counts = { booked: 0, errors: 0 };
  try {
    const sessions: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await httpJson(app.baseUrl, "POST", "/api/v1/sessions", ADMIN_TOKEN, {
        courseId: catalog.course.id,
        startsAt: new Date(Date.now() + (72 + i) * 3_600_000).toISOString(),
        mode: "in_person",
        locationId: catalog.location.id,
        capacity: 100,
        instructorId: catalog.instructor.id,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      sessions.push(res.body.session.id);
    }
    // Six workers hold, book and cancel over HTTP without pause; a dead server only makes them retry.
    const workers = Array.from({ length: 6 }, async (_, w) => {
      for (let i = w; !stopped; i += 6) {
        const learner = learners[i % learners.length];
        const sessionId = sessions[Math.floor(i / learners.length) % sessions.length];
        try {
          const hold = await httpJson(app.baseUrl, "POST", "/api/v1/holds", learner.token, {
            sessionId,
            confirmDuplicate: true,
          });
          if (hold.status === 201) {
            const b = await httpJson(app.baseUrl, "POST", "/api/v1/bookings", learner.token, {
              holdId: hold.body.hold.id,
            });
            if (b.status === 201) {
              counts.booked++;
              // Cancel again so the learner can book once more: the stream never runs out of
              // bookable places, however late the kill comes on a slow machine.
              await httpJson(app.baseUrl, "POST", `/api/v1/bookings/${b.body.booking.id}/cancel`, learner.token, {});
            }
          }
        } catch {
          counts.errors++;
          await sleep(100);
        }
      }
    });
    const topics = async () => (await httpJson(app.baseUrl, "GET", "/api/calcom/topics", ADMIN_TOKEN)).body;
    await waitFor(() => "deliveries before the kill", async () => (await topics()).relay.delivered >= 30, 15_000);
    const killed = await app.kill("SIGKILL");
    assert.equal(killed.signal, "SIGKILL");
    const bookedAtKill = counts.booked;
    const errorsAtKill = counts.errors;
    const t0 = Date.now();
    app = await spawnApp(env);
    const restartMs = Date.now() - t0;
    const stateAfterRestart = (await httpJson(app.baseUrl, "GET", "/api/calcom/health", ADMIN_TOKEN)).body.relay.state;
    // Bookings go on against the new process (a timeout here fails the test).
    await waitFor(
      () => `10 bookings after the restart (${counts.booked - bookedAtKill} so far)`,
      () => counts.booked >= bookedAtKill + 10,
      20_000,
    );
    stopped = true;
    await Promise.all(workers);

    // The dead process's lease (15 s) runs out; the new one takes over and catches up by itself.
    const t1 = Date.now();
    const drained = await waitUntilDrained(topics, 40_000);
    const drainMs = Date.now() - t1;
    assert.equal(drained.relay.state, "running");
    kv = await Deno.openKv(kvPath);
    const store = kv;
    const report = await withReader(broker.brokers, (r) => checkDelivered(store, r));
    await checkTopicFigures(topics, kv);
    console.log(
      `[relay app kill] ${counts.booked} bookings (${bookedAtKill} before the kill, ${
        counts.errors - errorsAtKill
      } failed calls while down); restart ${restartMs} ms, relay "${stateAfterRestart}" after it; drained ` +
        `${drainMs} ms after the stream; ${report.events} events, ${report.duplicates} duplicates`,
    );
  } catch (err) {
    console.error(`app output:\n${app.output()}`);
    throw err;
  } finally {
    stopped = true;
    kv?.close();
    await app.kill("SIGTERM");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test({
  name: "[relay] faults against a real broker: no Kafka, bad data, a broker outage, an app crash",
  ignore: skipKafka(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const broker = await startKafka();
    try {
      await t.step(
        "[relay] no Kafka: events wait as pending; a relay started later delivers the backlog",
        () => noKafkaThenLateRelay(broker),
      );
      await t.step(
        "[relay] bad data goes to dead letters with the reason, the rest flows; fixed, retry and requeue at once deliver it once",
        () => badDataDeadLettersAndRedrive(broker),
      );
      await t.step(
        "[relay] 450 events of one session (> 1 MiB) go out in size-bounded requests, not one by one",
        () => hotSessionPageOverOneMebibyte(broker),
      );
      await t.step(
        "[relay] a broker outage ≥ 10 s mid-stream: /health says retrying; it catches up, nothing lost",
        () => brokerOutage(broker),
      );
      await t.step(
        "[relay] the app SIGKILLed mid-stream and restarted on its KV file: nothing lost",
        () => appKilledMidStream(broker),
      );
    } finally {
      await broker.close();
    }
  },
});
