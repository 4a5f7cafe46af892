/**
 * Notifications end to end: the booking engine on a hand-moved clock, the notifier's steps run by
 * hand (never real waiting), a real Mailpit receiving, node-ical parsing the invitations.
 */
import assert from "node:assert/strict";
import { keys } from "../../lib/store/keys.ts";
import type { Notification } from "../../lib/notify/notifier.ts";
import { admin, HOUR, MINUTE, putLocation, putSession, putUser, self, T0 } from "../booking/test_fixtures.ts";
import { setNotificationPrefs, setNotifyPaused } from "../../lib/notify/manage.ts";
import { eraseUser } from "../../lib/privacy/erase.ts";
import {
  book,
  bookAndDrain,
  drain,
  drainAt,
  inviteOf,
  notifyTest,
  type NotifyWorld,
  SITE,
  subjects,
} from "./notify_fixture.ts";
import type { User } from "../../lib/domain/mod.ts";

// The session is on Monday 9 March 2026, 09:00 in New York: after the US switch to daylight time
// (8 March), so 13:00 UTC, not 14:00. The test clock starts on 1 March, in standard time.
const STARTS = "2026-03-09T13:00:00.000Z";
const ENDS = "2026-03-09T15:00:00.000Z";

/** A session at STARTS, a learner (with `over`) booked on it, and the notifier run until it settles. */
async function bookedAtStarts(w: NotifyWorld, over: Partial<User> = {}) {
  const s = await putSession(w.kv, w.course.id, { startsAt: STARTS, endsAt: ENDS });
  const learner = await putUser(w.kv, over);
  return { s, learner, bookingId: await bookAndDrain(w, s.id, learner.id) };
}

notifyTest(
  "[notify] a booking gives one confirmation whose .ics holds the right UTC times across the DST change",
  async (w) => {
    const berlin = await putLocation(w.kv, { timeZone: "Europe/Berlin", name: "Berlin Center" });
    const { learner, bookingId } = await bookedAtStarts(w, { name: "Ada Lovelace", preferredLocationId: berlin.id });
    await drain(w.notifier);
    const msgs = await w.mailpit.messages();
    assert.equal(msgs.length, 1, JSON.stringify(msgs.map((m) => m.Subject)));
    assert.equal(msgs[0].To[0].Address, learner.email);
    assert.match(
      msgs[0].Subject,
      /^Booked: Shop Safety Fundamentals on Monday, 9 March 2026 at 14:00 GMT\+1 \(Berlin\)$/,
    );
    const full = await w.mailpit.message(msgs[0].ID);
    // The recipient's zone first, the session's own alongside.
    assert.match(full.Text, /Monday, 9 March 2026 at 14:00 GMT\+1 \(Berlin\)/);
    assert.match(full.Text, /\(Monday, 9 March 2026 at 09:00 EDT at the session\)/);
    assert.match(full.HTML, /<html lang="en">/);
    assert.match(full.HTML, /<title>Booked: /);
    const invite = await inviteOf(w.mailpit, msgs[0].ID);
    assert.equal(invite.method, "REQUEST");
    assert.equal(invite.uid, `booking-${bookingId}@training-booking`);
    assert.equal(invite.sequence, 0);
    assert.equal(invite.start.toISOString(), STARTS);
    assert.equal(invite.end.toISOString(), ENDS);
    // Transactional: no unsubscribe header.
    const headers = await w.mailpit.headers(msgs[0].ID);
    assert.equal(headers["List-Unsubscribe"], undefined);
  },
);

notifyTest(
  "[notify] reminders go at 7 d, 1 d and 1 h before the start (and 'now live' at it), each exactly once",
  async (w) => {
    await bookedAtStarts(w);
    const start = Date.parse(STARTS);
    for (
      const [lead, subject] of [[7 * 24 * HOUR, /in 1 week$/], [24 * HOUR, /tomorrow$/], [HOUR, /in 1 hour$/]] as const
    ) {
      // A minute before: nothing new.
      const before = (await w.mailpit.messages()).length;
      await drainAt(w, start - lead - MINUTE);
      assert.equal((await w.mailpit.messages()).length, before);
      await drainAt(w, start - lead);
      await drain(w.notifier);
      const sent = await subjects(w);
      assert.equal(sent.length, before + 1);
      assert.match(sent.at(-1)!, subject);
    }
    await drainAt(w, start);
    const sent = await subjects(w);
    assert.deepEqual(sent.map((x) => x.split(":")[0]), ["Booked", "Reminder", "Reminder", "Reminder", "Now live"]);
    await drainAt(w, start + HOUR);
    assert.equal((await w.mailpit.messages()).length, 5, "nothing is sent twice");
    const reminder = (await w.mailpit.messages())[1];
    const headers = await w.mailpit.headers(reminder.ID);
    assert.match(headers["List-Unsubscribe"][0], /^<https:\/\/training\.example\.com\/notifications\/unsubscribe\?/);
    assert.equal(headers["List-Unsubscribe-Post"][0], "List-Unsubscribe=One-Click");
  },
);

notifyTest(
  "[notify] a reschedule moves the reminders and updates the invitation (same UID, higher SEQUENCE); a cancel stops them",
  async (w) => {
    const s1 = await putSession(w.kv, w.course.id, { startsAt: STARTS, endsAt: ENDS });
    const later = "2026-03-20T13:00:00.000Z";
    const s2 = await putSession(w.kv, w.course.id, { startsAt: later, endsAt: "2026-03-20T15:00:00.000Z" });
    const learner = await putUser(w.kv);
    const bookingId = await bookAndDrain(w, s1.id, learner.id);
    const moved = await w.engine.rescheduleBooking(bookingId, s2.id, self(learner.id));
    await drain(w.notifier);
    const [confirmed, rescheduled] = await w.mailpit.messages();
    assert.match(rescheduled.Subject, /^Moved: /);
    const a = await inviteOf(w.mailpit, confirmed.ID);
    const b = await inviteOf(w.mailpit, rescheduled.ID);
    assert.equal(b.uid, a.uid);
    assert.equal(b.method, "REQUEST");
    assert.ok(b.sequence > a.sequence);
    assert.equal(b.start.toISOString(), later);
    // The old session's reminder times pass without a message.
    await drainAt(w, ...[7 * 24 * HOUR, 24 * HOUR, HOUR].map((lead) => Date.parse(STARTS) - lead));
    assert.equal((await w.mailpit.messages()).length, 2);
    // The new session's 7-day reminder comes.
    await drainAt(w, Date.parse(later) - 7 * 24 * HOUR);
    assert.match((await subjects(w)).at(-1)!, /^Reminder: .* in 1 week$/);
    // Cancel: the cancellation (METHOD:CANCEL, same UID, higher SEQUENCE), then no more reminders.
    await w.engine.cancelBooking(moved.booking.id, self(learner.id));
    await drain(w.notifier);
    const all = await w.mailpit.messages();
    const cancel = all.at(-1)!;
    assert.match(cancel.Subject, /^Cancelled: /);
    const c = await inviteOf(w.mailpit, cancel.ID);
    assert.equal(c.method, "CANCEL");
    assert.equal(c.uid, a.uid);
    assert.ok(c.sequence > b.sequence);
    assert.match((await w.mailpit.message(cancel.ID)).Text, /You cancelled your booking/);
    await drainAt(w, ...[24 * HOUR, HOUR, 0].map((lead) => Date.parse(later) - lead));
    assert.equal((await w.mailpit.messages()).length, all.length, "no reminder after the cancel");
    // The skipped reminders are visible with their reason.
    const skipped: Notification[] = [];
    for await (const e of w.kv.list<Notification>({ prefix: keys.notifyMessagesPrefix() })) {
      if (e.value.status === "skipped") skipped.push(e.value);
    }
    assert.ok(skipped.length >= 5, `skipped: ${skipped.length}`);
    assert.ok(skipped.every((n) => /cancelled or moved/.test(n.skippedReason ?? "")));
  },
);

notifyTest("[notify] a waitlist offer arrives with its expiry and a link that opens the offer", async (w) => {
  const s = await putSession(w.kv, w.course.id, { startsAt: STARTS, endsAt: ENDS, capacity: 1 });
  const [a, b] = [await putUser(w.kv), await putUser(w.kv, { name: "Grace Hopper" })];
  const booking = await book(w.engine, s.id, a.id);
  await w.engine.joinWaitlist(s.id, b.id, self(b.id));
  await w.engine.cancelBooking(booking, self(a.id));
  await drain(w.notifier);
  const offer = (await w.mailpit.messages()).find((m) => m.To[0].Address === b.email)!;
  assert.match(offer.Subject, /^A place is free: /);
  const text = (await w.mailpit.message(offer.ID)).Text;
  const link = text.match(/Take the place: (\S+)/)![1];
  const holdId = new URL(link).pathname.split("/").at(-1)!;
  assert.equal(new URL(link).origin, SITE);
  // The link's hold is the learner's live offer, and taking it books the seat.
  const place = (await w.kv.get<{ kind: string; id: string }>(keys.place(s.id, b.id))).value!;
  assert.deepEqual([place.kind, place.id], ["offer", holdId]);
  assert.match(text, /held for you until /);
  const { booking: taken } = await w.engine.confirmHold(holdId, self(b.id));
  assert.equal(taken.status, "confirmed");
});

notifyTest("[notify] a 200-person session cancel gives 200 cancellations, one to each learner", async (w) => {
  const s = await putSession(w.kv, w.course.id, { startsAt: STARTS, endsAt: ENDS, capacity: 200 });
  const learners = [];
  for (let i = 0; i < 200; i++) learners.push(await putUser(w.kv));
  for (const l of learners) await book(w.engine, s.id, l.id);
  await drain(w.notifier);
  await w.mailpit.clear();
  await w.engine.cancelSession(s.id, admin());
  await drain(w.notifier);
  const msgs = await w.mailpit.messages();
  const to = msgs.map((m) => m.To[0].Address);
  assert.equal(msgs.length, 200);
  assert.equal(new Set(to).size, 200);
  assert.ok(msgs.every((m) => m.Subject.startsWith("Cancelled: ")));
  const text = (await w.mailpit.message(msgs[0].ID)).Text;
  assert.match(text, /This session has been cancelled/);
});

notifyTest("[notify] a burst to one recipient is paced (5 per 10 minutes) and nothing is dropped", async (w) => {
  const learner = await putUser(w.kv);
  const bookings: string[] = [];
  for (let i = 0; i < 8; i++) {
    const s = await putSession(w.kv, w.course.id, { startsInHours: 24 * 20 + i });
    bookings.push(await book(w.engine, s.id, learner.id));
  }
  await drain(w.notifier);
  // 8 confirmations: 5 now, 3 in the next window.
  assert.equal((await w.mailpit.messages()).length, 5);
  w.clock.advance(10 * MINUTE);
  await drain(w.notifier);
  assert.equal((await w.mailpit.messages()).length, 8);
  const sent: number[] = [];
  for await (const e of w.kv.list<Notification>({ prefix: keys.notifyMessagesPrefix() })) {
    if (e.value.status === "sent") sent.push(Date.parse(e.value.sentAt!));
  }
  sent.sort((a, b) => a - b);
  for (let i = 0; i + 5 < sent.length; i++) {
    assert.ok(sent[i + 5] - sent[i] >= 10 * MINUTE, "at most 5 in any window");
  }
  assert.equal(sent.length, 8);
  assert.ok(sent[0] >= T0);
});

notifyTest(
  "[notify] without SMTP messages are produced and kept; paused, nothing goes; configured and resumed, each goes once; no event or Kafka entry is written by sending",
  async (w) => {
    const s = await putSession(w.kv, w.course.id, { startsAt: STARTS, endsAt: ENDS });
    const learner = await putUser(w.kv);
    await book(w.engine, s.id, learner.id);
    const eventsBefore = (await Array.fromAsync(w.kv.list({ prefix: ["events"] }))).length;
    const noSmtp = w.newNotifier({ mailer: null });
    await drain(noSmtp);
    await noSmtp.stop();
    const produced = await Array.fromAsync(w.kv.list<Notification>({ prefix: keys.notifyMessagesPrefix() }));
    assert.deepEqual(
      produced.map((e) => e.value.kind).sort(),
      ["booking_confirmed", "reminder", "reminder", "reminder", "session_live"],
    );
    assert.ok(produced.every((e) => e.value.status === "pending"));
    assert.equal((await w.mailpit.messages()).length, 0);
    // SMTP configured, but an admin paused sending.
    await setNotifyPaused(w.kv, true);
    await drain(w.notifier);
    assert.equal((await w.mailpit.messages()).length, 0);
    await setNotifyPaused(w.kv, false);
    await drain(w.notifier);
    await drain(w.notifier);
    const sent = await subjects(w);
    assert.equal(sent.length, 1);
    assert.match(sent[0], /^Booked: /);
    // Sending is not a learning event: no new history, nothing for Kafka.
    assert.equal((await Array.fromAsync(w.kv.list({ prefix: ["events"] }))).length, eventsBefore);
    assert.deepEqual(
      (await Array.fromAsync(w.kv.list<{ type: string }>({ prefix: keys.outboxPrefix("kafka") }))).map((e) =>
        e.value.type
      ),
      ["hold.placed", "booking.confirmed"],
    );
  },
);

notifyTest(
  "[notify] a session moved by staff: the learner gets the updated invitation and the new time's reminders, not the old ones",
  async (w) => {
    const { s } = await bookedAtStarts(w);
    const later = "2026-03-12T13:00:00.000Z";
    await w.engine.updateSession(s.id, { startsAt: later, endsAt: "2026-03-12T15:00:00.000Z" }, admin());
    await drain(w.notifier);
    const [booked, moved] = await w.mailpit.messages();
    assert.match(moved.Subject, /^Moved: .*Thursday, 12 March 2026/);
    const a = await inviteOf(w.mailpit, booked.ID);
    const b = await inviteOf(w.mailpit, moved.ID);
    assert.equal(b.uid, a.uid);
    assert.equal(b.sequence, a.sequence + 1);
    assert.equal(b.start.toISOString(), later);
    const reminderTimes = [
      Date.parse(later) - 7 * 24 * HOUR,
      Date.parse(STARTS) - 24 * HOUR,
      Date.parse(later) - 24 * HOUR,
      Date.parse(later) - HOUR,
    ];
    await drainAt(w, ...reminderTimes);
    assert.deepEqual(
      (await subjects(w)).slice(2).map((x) => x.replace(/^Reminder: .* (in 1 week|tomorrow|in 1 hour)$/, "$1")),
      [
        "in 1 week",
        "tomorrow",
        "in 1 hour",
      ],
    );
  },
);

notifyTest(
  "[notify] a reminder that could not go near its time (an outage, a pause) is skipped rather than sent days late",
  async (w) => {
    await bookedAtStarts(w);
    // First look after the week's reminder was due: 4 days late (more than half its lead).
    await drainAt(w, Date.parse(STARTS) - 3 * 24 * HOUR);
    assert.equal((await w.mailpit.messages()).length, 1, "only the confirmation");
    const skipped = (await Array.fromAsync(w.kv.list<Notification>({ prefix: keys.notifyMessagesPrefix() })))
      .filter((e) => e.value.status === "skipped");
    assert.deepEqual(skipped.map((e) => e.value.skippedReason), ["too late for this reminder (a later one follows)"]);
  },
);

notifyTest(
  "[notify] an erased learner gets nothing more, and their stored messages lose their name and email",
  async (w) => {
    const { learner } = await bookedAtStarts(w, { name: "Erin Erasable" });
    assert.equal((await w.mailpit.messages()).length, 1);
    await eraseUser(w.kv, w.engine, learner.id, { actor: admin(), reason: "asked to be forgotten" });
    await drain(w.notifier);
    await drainAt(w, ...[7 * 24 * HOUR, 24 * HOUR, HOUR, 0].map((lead) => Date.parse(STARTS) - lead));
    // The confirmation only: no mail about the cancellation the erasure made, no reminder.
    assert.deepEqual((await subjects(w)).map((x) => x.split(":")[0]), ["Booked"]);
    const statuses = (await Array.fromAsync(w.kv.list<Notification>({ prefix: keys.notifyMessagesPrefix() })))
      .map((e) => e.value.status);
    assert.ok(!statuses.includes("pending"), "nothing left waiting");
    const stored = JSON.stringify(await Array.fromAsync(w.kv.list({ prefix: keys.notifyMessagesPrefix() })));
    assert.ok(!stored.includes(learner.email), "no email left");
    assert.ok(!stored.includes("Erin Erasable"), "no name left");
  },
);

notifyTest(
  "[notify] a manager who chose the daily digest gets one email at 07:00 their time listing every team change, once",
  async (w) => {
    const manager = await putUser(w.kv, { name: "Maya Manager", roles: ["manager"] });
    await setNotificationPrefs(w.kv, manager.id, { off: [], timeZone: "America/New_York", managerDigest: true });
    const team = [
      await putUser(w.kv, { name: "Ann Team", managerId: manager.id }),
      await putUser(w.kv, { name: "Bob Team", managerId: manager.id }),
    ];
    const s = await putSession(w.kv, w.course.id, { startsAt: STARTS, endsAt: ENDS });
    const a = await book(w.engine, s.id, team[0].id);
    await book(w.engine, s.id, team[1].id);
    await w.engine.cancelBooking(a, self(team[0].id));
    await drain(w.notifier);
    const toManager = async () => (await w.mailpit.messages()).filter((m) => m.To[0].Address === manager.email);
    assert.equal((await toManager()).length, 0, "nothing to the manager before the digest time");
    // T0 is 1 March 15:00 UTC = 10:00 in New York: the digest goes at 07:00 on 2 March (12:00 UTC).
    await drainAt(w, Date.parse("2026-03-02T11:59:00Z"));
    assert.equal((await toManager()).length, 0);
    await drainAt(w, Date.parse("2026-03-02T12:00:00Z"), Date.parse("2026-03-02T13:00:00Z"));
    const got = await toManager();
    assert.equal(got.length, 1);
    assert.equal(got[0].Subject, "Your team's training changes (3)");
    const text = (await w.mailpit.message(got[0].ID)).Text;
    assert.match(text, /- Ann Team booked a place: /);
    assert.match(text, /- Bob Team booked a place: /);
    assert.match(text, /- Ann Team cancelled: /);
    const html = (await w.mailpit.message(got[0].ID)).HTML;
    assert.equal(html.match(/<li>/g)?.length, 3);
  },
);

notifyTest(
  "[notify] roster changes in the last 48 h reach the instructor as one digest per hour; earlier changes do not",
  async (w) => {
    const instructor = await putUser(w.kv, { name: "Ivo Instructor", roles: ["instructor"] });
    const soon = await putSession(w.kv, w.course.id, { startsInHours: 30, instructorId: instructor.id });
    const later = await putSession(w.kv, w.course.id, { startsInHours: 24 * 10, instructorId: instructor.id });
    const [a, b, c] = [await putUser(w.kv), await putUser(w.kv, { name: "Bea Booker" }), await putUser(w.kv)];
    const ba = await book(w.engine, soon.id, a.id);
    w.clock.advance(20 * MINUTE);
    await book(w.engine, soon.id, b.id);
    await w.engine.cancelBooking(ba, self(a.id));
    await book(w.engine, later.id, c.id); // 10 days ahead: not a roster notice
    await drain(w.notifier);
    const toInstructor = async () => (await w.mailpit.messages()).filter((m) => m.To[0].Address === instructor.email);
    assert.equal((await toInstructor()).length, 0, "gathered until the top of the hour");
    await drainAt(w, T0 + HOUR, T0 + 2 * HOUR); // 16:00 and 17:00 UTC
    const got = await toInstructor();
    assert.equal(got.length, 1);
    assert.equal(got[0].Subject, "Roster changes for your sessions (3)");
    const text = (await w.mailpit.message(got[0].ID)).Text;
    assert.match(text, /Bea Booker booked \(now \d booked\)/);
    assert.match(text, /cancelled/);
  },
);
