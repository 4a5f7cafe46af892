/**
 * Notification faults against a real Mailpit, with the clock moved by hand: crashes mid-batch
 * (outside and inside the documented window), two workers at once, an SMTP outage, a refused
 * address, and the admin retry of a dead letter.
 */
import assert from "node:assert/strict";
import { keys } from "../../lib/store/keys.ts";
import type { Notification } from "../../lib/notify/notifier.ts";
import { HOUR, MINUTE, putSession, putUser } from "../booking/test_fixtures.ts";
import { retryDeadNotification } from "../../lib/notify/manage.ts";
import { book, drain, type NotifyWorld, notifyWorld } from "./notify_fixture.ts";
import { startMailpit } from "./mailpit.ts";

class Crash extends Error {}

async function messages(kv: Deno.Kv): Promise<Notification[]> {
  const out: Notification[] = [];
  for await (const e of kv.list<Notification>({ prefix: keys.notifyMessagesPrefix() })) out.push(e.value);
  return out;
}

/** How many times each recipient got a message (Mailpit's view). */
async function perRecipient(w: NotifyWorld): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const m of await w.mailpit.messages()) counts.set(m.To[0].Address, (counts.get(m.To[0].Address) ?? 0) + 1);
  return counts;
}

async function bookMany(w: NotifyWorld, n: number): Promise<string[]> {
  // Far enough ahead that only the confirmations are due now.
  const s = await putSession(w.kv, w.course.id, { startsInHours: 24 * 30, capacity: n });
  const emails: string[] = [];
  for (let i = 0; i < n; i++) {
    const u = await putUser(w.kv);
    await book(w.engine, s.id, u.id);
    emails.push(u.email);
  }
  return emails;
}

/** A lease clock tests move: a crashed worker's lease lapses when it is moved past the lease. */
function leaseClock() {
  const c = { ms: Date.now(), now: () => c.ms };
  return c;
}

Deno.test("[notify] a crash mid-batch after a sent marker, then a restart: every message exactly once", async () => {
  const lc = leaseClock();
  let marked = 0;
  const w = await notifyWorld({ leaseClock: lc.now, leaseMs: 30_000 });
  try {
    const emails = await bookMany(w, 20);
    const crashing = w.newNotifier({
      owner: "worker-1",
      concurrency: 2,
      hooks: {
        afterMarked: () => {
          if (++marked === 7) throw new Crash("killed after the 7th marker");
        },
      },
    });
    await assert.rejects(drain(crashing), Crash);
    // The 8th send ran beside the 7th (two in flight); nothing after it started.
    assert.ok([7, 8].includes((await w.mailpit.messages()).length));
    // The crashed worker never releases its lease; another takes over once it lapses.
    const restarted = w.newNotifier({ owner: "worker-2" });
    assert.equal(await restarted.tick(), null, "the lease still belongs to the crashed worker");
    // Before each send the lease was extended past the longest send (50 s).
    lc.ms += 61_000;
    assert.ok(await drain(restarted) > 0);
    const counts = await perRecipient(w);
    assert.equal(counts.size, 20);
    for (const e of emails) assert.equal(counts.get(e), 1, `${e} got ${counts.get(e)}`);
  } finally {
    await w.close();
  }
});

Deno.test("[notify] a crash before the send or inside the window: only the message in the window may go twice", async () => {
  const lc = leaseClock();
  let accepted = 0;
  const w = await notifyWorld({ leaseClock: lc.now, leaseMs: 30_000, concurrency: 1 });
  try {
    const emails = await bookMany(w, 10);
    // Killed between the server's 250 and the marker of the 4th message: the documented window.
    const crashing = w.newNotifier({
      owner: "worker-1",
      concurrency: 1,
      hooks: {
        afterAccepted: () => {
          if (++accepted === 4) throw new Crash("killed between SMTP accept and the marker");
        },
      },
    });
    await assert.rejects(drain(crashing), Crash);
    lc.ms += 61_000;
    assert.ok(await drain(w.newNotifier({ owner: "worker-2" })) > 0);
    const counts = await perRecipient(w);
    const twice = emails.filter((e) => counts.get(e) === 2);
    assert.equal(twice.length, 1, "exactly the message in the window is sent again");
    assert.ok(emails.every((e) => (counts.get(e) ?? 0) >= 1));
    assert.equal([...counts.values()].reduce((a, b) => a + b, 0), 11);
    // The copy carries the same Message-ID, so mail clients can fold it.
    const copies = (await w.mailpit.messages()).filter((m) => m.To[0].Address === twice[0]);
    assert.equal(copies[0].MessageID, copies[1].MessageID);
  } finally {
    await w.close();
  }
});

Deno.test("[notify] two workers draining at once never both send a message", async () => {
  const w = await notifyWorld();
  try {
    const emails = await bookMany(w, 30);
    const a = w.newNotifier({ owner: "worker-a" });
    const b = w.newNotifier({ owner: "worker-b" });
    // Two loops run for real while a third worker is driven by hand, all at once.
    a.start();
    b.start();
    for (let i = 0; i < 400; i++) {
      await w.notifier.tick();
      const sent = (await messages(w.kv)).filter((n) => n.kind === "booking_confirmed" && n.status === "sent").length;
      if (sent === 30) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all([a.stop(), b.stop()]);
    const counts = await perRecipient(w);
    assert.equal(counts.size, 30);
    for (const e of emails) assert.equal(counts.get(e), 1);
  } finally {
    await w.close();
  }
});

Deno.test("[notify] SMTP down for a while: messages retry with backoff and all arrive once after", async () => {
  const w = await notifyWorld();
  try {
    const emails = await bookMany(w, 12);
    await w.mailpit.stop();
    // An hour of outage: the notifier keeps trying as the clock moves (each try finds the server down).
    for (let t = 0; t < 60; t += 5) {
      await drain(w.notifier);
      w.clock.advance(5 * MINUTE);
    }
    const during = (await messages(w.kv)).filter((n) => n.kind === "booking_confirmed");
    assert.ok(during.every((n) => n.status === "pending"), "nothing is dropped or dead-lettered by an outage");
    assert.ok(during.some((n) => n.attempts > 1), "it retried");
    assert.ok(during.every((n) => n.lastError === null || !/@/.test(n.lastError)), "no address in the error");
    await w.mailpit.restart();
    w.clock.advance(2 * HOUR);
    await drain(w.notifier);
    await drain(w.notifier);
    const counts = await perRecipient(w);
    assert.equal(counts.size, 12);
    for (const e of emails) assert.equal(counts.get(e), 1);
    const confirmations = (await messages(w.kv)).filter((n) => n.kind === "booking_confirmed");
    assert.equal(confirmations.length, 12);
    assert.ok(confirmations.every((n) => n.status === "sent"));
  } finally {
    await w.close();
  }
});

Deno.test("[notify] a refused address is a dead letter at once (no retry loop); an admin retry sends it once fixed", async () => {
  const w = await notifyWorld({}, { allowedRecipients: "@example\\.com$" });
  try {
    const s = await putSession(w.kv, w.course.id, { startsInHours: 24 * 30 });
    const bad = await putUser(w.kv, { email: "nobody@refused.test" });
    const good = await putUser(w.kv);
    await book(w.engine, s.id, bad.id);
    await book(w.engine, s.id, good.id);
    for (let i = 0; i < 5; i++) {
      await drain(w.notifier);
      w.clock.advance(HOUR);
    }
    const all = await messages(w.kv);
    const dead = all.filter((n) => n.status === "dead");
    assert.equal(dead.length, 1);
    assert.equal(dead[0].userId, bad.id);
    assert.equal(dead[0].attempts, 1, "a permanent failure is not retried");
    assert.match(dead[0].lastError ?? "", /5\d\d/);
    const deadList = await Array.fromAsync(w.kv.list({ prefix: keys.notifyDeadPrefix() }));
    assert.deepEqual(deadList.map((e) => e.key[1]), [dead[0].id]);
    assert.deepEqual([...(await perRecipient(w)).keys()], [good.email]);
    // The server's rule is lifted (a new server on the same port), and an admin retries the letter.
    await w.mailpit.stop();
    const fixed = await startMailpit({ smtpPort: w.mailpit.smtpPort });
    try {
      const retried = await retryDeadNotification(w.kv, dead[0].id, w.clock.now());
      assert.equal(retried?.status, "pending");
      assert.equal(await retryDeadNotification(w.kv, dead[0].id, w.clock.now()), null, "only a dead letter is retried");
      await drain(w.notifier);
      const arrived = await fixed.messages();
      assert.deepEqual(arrived.map((m) => m.To[0].Address), [bad.email]);
      assert.deepEqual(await Array.fromAsync(w.kv.list({ prefix: keys.notifyDeadPrefix() })), []);
    } finally {
      await fixed.close();
    }
  } finally {
    await w.close();
  }
});
