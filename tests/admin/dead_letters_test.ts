/** /admin/dead-letters and its API: every dead-letter list summarised, Kafka dead letters requeued; admins only. */
import assert from "node:assert/strict";
import { summariseDeadLetterLists } from "../../lib/admin/dead_letters.ts";
import { flagForReview } from "../../lib/calcom/sync_store.ts";
import type { Notification } from "../../lib/notify/notifier.ts";
import { EventRelay } from "../../lib/relay/relay.ts";
import { listDeadLetters } from "../../lib/relay/topics.ts";
import { keys } from "../../lib/store/keys.ts";
import type { Body } from "../api/client.ts";
import { startApiFixture } from "../api/fixture.ts";
import { devSignInCookie, getPage, postForm } from "../page_client.ts";
import { deadLetterOf, refusingPublisher, until } from "./dead_letters_fixture.ts";

/** Known contents of the three lists (the demo data's own dead letters removed first). */
async function seedLists(kv: Deno.Kv) {
  for (const prefix of [keys.deadLettersPrefix(), keys.calcomReviewPrefix(), keys.notifyDeadPrefix()]) {
    for await (const e of kv.list({ prefix })) await kv.delete(e.key);
  }
  for (
    const [k, at, why] of [
      ["01JKAFKA000000000000000001", "2026-03-01T10:00:00.000Z", "cannot build the message: oldest"],
      ["01JKAFKA000000000000000002", "2026-03-03T10:00:00.000Z", "Kafka refused it: newest"],
      ["01JKAFKA000000000000000003", "2026-03-02T10:00:00.000Z", "Kafka refused it: middle"],
    ] as const
  ) await kv.set(keys.deadLetter(k), deadLetterOf(k, at, why));
  await flagForReview(kv, {
    kind: "sync_failed",
    tenant: "main",
    bookingId: "b1",
    sessionId: "s1",
    calBookingUid: null,
    email: null,
    code: "calcom_refused",
    message: "Cal.com answered 500 three times",
    flaggedAt: "2026-03-02T08:00:00.000Z",
  });
  const resolved = await flagForReview(kv, {
    kind: "calcom_conflict",
    tenant: "main",
    bookingId: null,
    sessionId: null,
    calBookingUid: "u1",
    email: null,
    code: "old",
    message: "resolved long ago",
  });
  await kv.set(keys.calcomReview(resolved.id), { ...resolved, status: "resolved" });
  const mail = {
    id: "0".repeat(32),
    kind: "reminder",
    status: "dead",
    dueAtMs: Date.parse("2026-03-02T09:00:00.000Z"),
    lastError: "550 5.1.1 mailbox unavailable",
  } as unknown as Notification;
  await kv.set(keys.notifyMessage(mail.id), mail);
  await kv.set(keys.notifyDead(mail.id), null);
}

Deno.test("[admin] dead letters: each list's count, oldest and newest with the reason; resolved review items left out", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await seedLists(kv);
    const [kafka, review, mail] = await summariseDeadLetterLists(kv, { newest: 2 });
    assert.deepEqual([kafka.list, kafka.count, kafka.oldestAt], ["kafka", 3, "2026-03-01T10:00:00.000Z"]);
    assert.deepEqual(kafka.newest.map((e) => e.reason), ["Kafka refused it: newest", "Kafka refused it: middle"]);
    assert.deepEqual([review.count, review.newest[0].what], [1, "sync failed: calcom_refused"]);
    assert.deepEqual([mail.count, mail.oldestAt, mail.newest[0].what], [
      1,
      "2026-03-02T09:00:00.000Z",
      "session reminders",
    ]);
    const empty = await summariseDeadLetterLists(await Deno.openKv(":memory:"));
    assert.deepEqual(empty.map((l) => [l.count, l.oldestAt, l.newest.length]), [[0, null, 0], [0, null, 0], [
      0,
      null,
      0,
    ]]);
  } finally {
    kv.close();
  }
});

Deno.test("[admin] /admin/dead-letters: admins see every list and requeue a Kafka dead letter; others 403, signed out to sign-in", async () => {
  const f = await startApiFixture();
  try {
    const kv = f.services.kv;
    await seedLists(kv);
    const [learner] = await f.learners(1);
    const [manager] = await f.learners(1, ["manager"]);
    const [staff] = await f.learners(1, ["admin"]);
    const admin = await devSignInCookie(kv, staff.user.id);

    const page = await getPage(f, "/admin/dead-letters", admin);
    assert.equal(page.res.status, 200);
    assert.match(page.text, /data-testid="count-kafka"[^>]*>3 entries; the oldest from 2026-03-01 10:00 UTC\./);
    assert.match(page.text, /data-testid="count-calcom_review"[^>]*>1 entry;/);
    assert.match(page.text, /data-testid="count-notifications"[^>]*>1 entry;/);
    assert.match(page.text, /550 5\.1\.1 mailbox unavailable/);
    assert.match(page.text, /href="\/admin\/calcom#review"/);
    assert.match(page.text, /href="\/admin\/notifications"/);
    assert.ok(
      page.text.indexOf("Kafka refused it: newest") < page.text.indexOf("Kafka refused it: middle"),
      "newest first",
    );
    assert.match((await getPage(f, "/admin", admin)).text, /href="\/admin\/dead-letters"/);

    const key = "01JKAFKA000000000000000002";
    const done = await postForm(f, "/admin/dead-letters", admin, { intent: "requeue", id: key });
    assert.equal(done.res.status, 303);
    assert.equal(done.res.headers.get("location"), "/admin/dead-letters?done=requeued");
    assert.ok((await kv.get(keys.outboxEntry("kafka", "s1", key))).value, "back in the Kafka outbox");
    assert.equal((await kv.get(keys.deadLetter(key))).value, null);
    const again = await postForm(f, "/admin/dead-letters", admin, { intent: "requeue", id: key });
    assert.equal(again.res.status, 404);
    assert.match(again.text, /no longer in the list/);
    assert.equal((await postForm(f, "/admin/dead-letters", admin, { intent: "nonsense" })).res.status, 400);

    for (const who of [learner, manager]) {
      const cookie = await devSignInCookie(kv, who.user.id);
      assert.equal((await getPage(f, "/admin/dead-letters", cookie)).res.status, 403);
      const post = await postForm(f, "/admin/dead-letters", cookie, {
        intent: "requeue",
        id: "01JKAFKA000000000000000001",
      });
      assert.equal(post.res.status, 403);
    }
    assert.ok(await kv.get(keys.deadLetter("01JKAFKA000000000000000001")).then((e) => e.value), "untouched");
    const anonymous = await getPage(f, "/admin/dead-letters");
    assert.equal(anonymous.res.status, 303);
    assert.match(anonymous.res.headers.get("location") ?? "", /next=%2Fadmin%2Fdead-letters/);
  } finally {
    await f.close();
  }
});

Deno.test("[admin] dead-letter API: the summary, the requeue and its older name retry are admins' only and in the OpenAPI document", async () => {
  const f = await startApiFixture();
  try {
    await seedLists(f.services.kv);
    const [learner] = await f.learners(1);
    const lists = await f.admin.get<Body>("/api/v1/admin/dead-letter-lists?newest=1");
    assert.equal(lists.status, 200);
    assert.deepEqual(lists.body.lists.map((l: Body) => [l.list, l.count, l.newest.length]), [
      ["kafka", 3, 1],
      ["calcom_review", 1, 1],
      ["notifications", 1, 1],
    ]);
    assert.equal(lists.body.lists[1].page, "/admin/calcom#review");
    assert.equal((await learner.api.get("/api/v1/admin/dead-letter-lists")).status, 403);
    assert.equal((await f.admin.get("/api/v1/admin/dead-letter-lists?newest=99")).status, 400);

    const key = "01JKAFKA000000000000000001";
    assert.equal((await learner.api.post(`/api/v1/admin/dead-letters/${key}/requeue`)).status, 403);
    const requeued = await f.admin.post<Body>(`/api/v1/admin/dead-letters/${key}/requeue`);
    assert.equal(requeued.status, 202, JSON.stringify(requeued.body));
    assert.deepEqual(requeued.body, { requeued: true, eventKey: key });
    const gone = await f.admin.post<Body>(`/api/v1/admin/dead-letters/${key}/requeue`);
    assert.deepEqual([gone.status, gone.body.error], [404, "dead_letter_not_found"]);

    // The older retry is the same requeue, with the same answers.
    const other = "01JKAFKA000000000000000002";
    assert.equal((await learner.api.post(`/api/v1/admin/dead-letters/${other}/retry`)).status, 403);
    const retried = await f.admin.post<Body>(`/api/v1/admin/dead-letters/${other}/retry`);
    assert.deepEqual([retried.status, retried.body], [202, { requeued: true, eventKey: other }]);
    const pending = await f.services.kv.get(keys.outboxEntry("kafka", "s1", other));
    assert.equal((pending.value as Body).key, other, "back in the Kafka outbox");
    assert.equal((await f.services.kv.get(keys.deadLetter(other))).versionstamp, null, "off the list");
    const retriedAgain = await f.admin.post<Body>(`/api/v1/admin/dead-letters/${other}/retry`);
    assert.deepEqual([retriedAgain.status, retriedAgain.body.error], [404, "dead_letter_not_found"]);
    // A dead letter whose event is already waiting in the outbox: 409, and the dead letter is kept.
    const third = "01JKAFKA000000000000000003";
    await f.services.kv.set(keys.outboxEntry("kafka", "s1", third), { key: third });
    const refused = await f.admin.post<Body>(`/api/v1/admin/dead-letters/${third}/retry`);
    assert.deepEqual([refused.status, refused.body.error], [409, "already_pending"]);
    assert.ok((await f.services.kv.get(keys.deadLetter(third))).versionstamp, "kept");

    const doc = (await f.admin.get<Body>("/api/openapi.json")).body;
    assert.ok(doc.paths["/v1/admin/dead-letter-lists"].get);
    assert.ok(doc.paths["/v1/admin/dead-letters/{id}/requeue"].post);
    const retryDoc = doc.paths["/v1/admin/dead-letters/{id}/retry"].post;
    assert.deepEqual(
      ["200", "202", "404", "409", "422"].filter((status) => status in retryDoc.responses),
      ["202", "404", "409"],
      "the requeue's answers, no longer 200 delivered or 422 redrive_failed",
    );
    assert.match(retryDoc.description, /Changed: .*202/);
    assert.equal(retryDoc.deprecated, true);
    assert.equal(doc.paths["/v1/admin/dead-letters/{id}/requeue"].post.deprecated, undefined);
    const docs = await (await f.app.fetch(new Request("http://test/api/docs"))).text();
    assert.match(docs, /<section id="retryDeadLetter">.*?<b>Deprecated\.<\/b> The older name of requeueDeadLetter/s);
  } finally {
    await f.close();
  }
});

Deno.test("[admin] dead-letter retry and requeue of one dead letter at once: one requeues, the relay publishes the event once", async () => {
  const f = await startApiFixture();
  const kv = f.services.kv;
  const pub = refusingPublisher();
  const relay = new EventRelay(kv, pub.publisher, { idleMs: 20, lingerMs: 0, log: () => {} });
  const outboxSize = async () => (await Array.fromAsync(kv.list({ prefix: keys.outboxPrefix("kafka") }))).length;
  try {
    // The demo catalog's own pending events are not this test's: only a booking's events wait.
    for await (const e of kv.list({ prefix: keys.outboxPrefix("kafka") })) await kv.delete(e.key);
    for await (const e of kv.list({ prefix: keys.deadLettersPrefix() })) await kv.delete(e.key);
    const [ann] = await f.learners(1);
    const session = await f.session();
    const hold = await ann.api.post<Body>("/api/v1/holds", { sessionId: session.id });
    assert.equal((await ann.api.post("/api/v1/bookings", { holdId: hold.body.hold.id })).status, 201);
    const waiting = await outboxSize();
    assert.ok(waiting > 0);
    relay.start();
    await until("the booking's events dead-lettered", async () => (await listDeadLetters(kv)).length === waiting);
    const [dead] = await listDeadLetters(kv);

    pub.refuse = false; // the cause is fixed; two admins press retry, a third requeue, at once
    const answers = await Promise.all([
      f.admin.post<Body>(`/api/v1/admin/dead-letters/${dead.eventKey}/retry`),
      f.admin.post<Body>(`/api/v1/admin/dead-letters/${dead.eventKey}/requeue`),
      f.admin.post<Body>(`/api/v1/admin/dead-letters/${dead.eventKey}/retry`),
    ]);
    const statuses = answers.map((a) => a.status);
    assert.equal(statuses.filter((s) => s === 202).length, 1, JSON.stringify(answers.map((a) => a.body)));
    assert.ok(statuses.every((s) => s === 202 || s === 404 || s === 409), JSON.stringify(statuses));
    await until(
      "the requeued event published",
      () => pub.published.some((m) => m.headers["event-id"] === dead.eventId),
    );
    await until("the outbox empty again", async () => (await outboxSize()) === 0);
    assert.equal(pub.published.filter((m) => m.headers["event-id"] === dead.eventId).length, 1, "published once");
    assert.deepEqual((await listDeadLetters(kv)).map((d) => d.eventKey).includes(dead.eventKey), false);
    const late = await f.admin.post<Body>(`/api/v1/admin/dead-letters/${dead.eventKey}/retry`);
    assert.equal(late.status, 404);
  } finally {
    await relay.stop();
    await f.close();
  }
});
