/**
 * Demo notifications for the seeded store (imported bookings have no events, so the notifier
 * never sees them): the demo learner's confirmations as sent, their reminders waiting for their
 * time, and one dead letter for the admin page. Nothing is emailed.
 */
import type { DomainEvent } from "../booking/events.ts";
import type { Booking } from "../domain/booking.ts";
import { listBookingsByLearner } from "../store/bookings.ts";
import { keys } from "../store/keys.ts";
import { getUser } from "../store/users.ts";
import { DEFAULT_REMINDER_OFFSETS_MIN, KIND_INFO } from "./kinds.ts";
import { notificationId, toNotification } from "./notifier.ts";
import { draftsForEvent } from "./produce.ts";
import { TemplateSet } from "./templates.ts";

function confirmedEvent(b: Booking, at: Date): DomainEvent {
  return {
    id: `seed-${b.id}`,
    key: b.id,
    type: "booking.confirmed",
    schemaVersion: 1,
    occurredAt: at.toISOString(),
    origin: "system",
    correlationId: `seed-${b.id}`,
    actor: { userId: b.learnerId },
    sessionId: b.sessionId,
    learnerId: b.learnerId,
    reason: null,
    data: { bookingId: b.id },
  };
}

/** Writes the demo learner's notifications (at most `limit` bookings' worth). Returns how many. */
export async function seedDemoNotifications(
  kv: Deno.Kv,
  learnerId: string,
  now: Date,
  options: { siteUrl?: string; limit?: number } = {},
): Promise<number> {
  const learner = await getUser(kv, learnerId);
  if (!learner) return 0;
  const to = { address: learner.email, name: learner.name };
  const deps = {
    kv,
    siteUrl: options.siteUrl ?? "http://localhost:8000",
    reminderOffsetsMin: DEFAULT_REMINDER_OFFSETS_MIN,
  };
  const templates = new TemplateSet();
  const upcoming = (await listBookingsByLearner(kv, learnerId, { status: "confirmed" })).slice(0, options.limit ?? 3);
  const from = { name: "Training Booking", email: "noreply@localhost" };
  let n = 0;
  for (const [i, booking] of upcoming.entries()) {
    const at = new Date(now.getTime() - (i + 1) * 86_400_000);
    const drafts = await draftsForEvent(deps, confirmedEvent(booking, at));
    const op = kv.atomic();
    for (const d of drafts.filter((x) => x.userId === learnerId)) {
      const id = await notificationId(d.identity);
      const record = toNotification(d, id, to, at.getTime(), from);
      if (d.kind === "booking_confirmed") {
        const vars = { ...d.vars, kindLabel: KIND_INFO[d.kind].label, preferencesUrl: "", unsubscribeUrl: null };
        const subject = (await templates.render(KIND_INFO[d.kind].template, vars)).subject;
        // The first one failed for good, to show a dead letter; the others were sent.
        const dead = i === upcoming.length - 1 && i > 0;
        Object.assign(
          record,
          dead
            ? { status: "dead", attempts: 1, lastError: "550 5.1.1 mailbox unavailable (demo data)" }
            : { status: "sent", attempts: 1, sentAt: at.toISOString(), subject },
        );
        if (dead) op.set(keys.notifyDead(id), null);
      } else if (record.dueAtMs <= now.getTime()) {
        continue;
      } else {
        op.set(keys.notifyDue(record.dueAtMs, id), null);
      }
      if (d.calendar) op.set(keys.notifyCalendar(d.calendar.bookingId), d.calendar.state);
      op.set(keys.notifyMessage(id), record).set(keys.notifyByUser(learnerId, record.createdAtMs, id), null);
      n++;
    }
    await op.commit();
  }
  return n;
}
