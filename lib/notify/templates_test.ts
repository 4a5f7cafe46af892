/** Every message kind produced from an event and rendered with its template files: no template error ships. */
import assert from "node:assert/strict";
import type { DomainEvent } from "../booking/events.ts";
import { putSession, putUser, self, setup, T0 } from "../../tests/booking/test_fixtures.ts";
import { KIND_INFO, NOTIFICATION_KINDS, type NotificationKind } from "./kinds.ts";
import { draftsForEvent, type MessageDraft } from "./produce.ts";
import { digestVars, toNotification } from "./notifier.ts";
import { fill, TemplateError, TemplateSet } from "./templates.ts";

function event(type: string, sessionId: string, learnerId: string | null, data: Record<string, unknown>): DomainEvent {
  return {
    id: crypto.randomUUID(),
    key: "01J00000000000000000000000",
    type: type as DomainEvent["type"],
    schemaVersion: 1,
    occurredAt: new Date(T0).toISOString(),
    origin: "web",
    correlationId: crypto.randomUUID(),
    actor: { userId: learnerId },
    sessionId,
    learnerId,
    reason: null,
    data,
  };
}

Deno.test("[notify] every message kind comes from its event and renders with its template (text, accessible HTML)", async () => {
  const { kv, engine, course } = await setup();
  try {
    const deps = { kv, siteUrl: "https://training.example.com", reminderOffsetsMin: [7 * 24 * 60, 24 * 60, 60] };
    const instructor = await putUser(kv, { roles: ["instructor"], name: "Ivy Instructor" });
    const manager = await putUser(kv, { roles: ["manager"], name: "Max Manager" });
    const learner = await putUser(kv, { name: "Lee <Learner> & Co", managerId: manager.id });
    // Within 48 h of its start (roster notices) and online (join link, "now live").
    const s = await putSession(kv, course.id, { startsInHours: 30, instructorId: instructor.id });
    const s2 = await putSession(kv, course.id, { startsInHours: 60, instructorId: instructor.id });
    const { hold } = await engine.placeHold(s.id, learner.id, self(learner.id));
    const { booking } = await engine.confirmHold(hold.id, self(learner.id));
    const moved = await engine.rescheduleBooking(booking.id, s2.id, self(learner.id));
    const events = [
      event("booking.confirmed", s.id, learner.id, { bookingId: booking.id }),
      event("booking.rescheduled", s2.id, learner.id, {
        bookingId: moved.booking.id,
        fromBookingId: booking.id,
        fromSessionId: s.id,
      }),
      event("booking.cancelled", s2.id, learner.id, { bookingId: moved.booking.id, late: true }),
      event("waitlist.offered", s.id, learner.id, { holdId: "01J00000000000000000000000", expiresAt: s.startsAt }),
      event("attendance.recorded", s.id, learner.id, {
        bookingId: booking.id,
        status: "no_show",
        previousStatus: null,
      }),
      event("recording.available", s2.id, null, { recordingUrl: "https://video.example.com/r/1" }),
      event("assignment.created", "_compliance", learner.id, { courseId: course.id, dueAt: s.startsAt }),
      event("assignment.due_soon", "_compliance", learner.id, { courseId: course.id, dueAt: s.startsAt }),
      event("assignment.overdue", "_compliance", learner.id, { courseId: course.id, dueAt: s.startsAt }),
      event("certification.expiring", "_compliance", learner.id, { courseId: course.id, expiresAt: s.startsAt }),
    ];
    const drafts: MessageDraft[] = [];
    for (const e of events) drafts.push(...await draftsForEvent(deps, e));
    const kinds = new Set(drafts.map((d) => d.kind));
    const missing = NOTIFICATION_KINDS.filter((k) => !kinds.has(k));
    assert.deepEqual(missing, [], "every kind is produced by some event");
    const templates = new TemplateSet();
    const used = new Set<string>();
    for (const d of drafts.filter((x) => !x.digest)) {
      const vars = {
        ...d.vars,
        kindLabel: KIND_INFO[d.kind].label,
        preferencesUrl: "https://x/me",
        unsubscribeUrl: null,
      };
      const r = await templates.render(KIND_INFO[d.kind].template, vars);
      used.add(KIND_INFO[d.kind].template);
      assert.ok(r.subject.length > 5, `${d.kind}: subject`);
      for (const part of [r.subject, r.text, r.html]) {
        assert.doesNotMatch(part, /\{\{|\}\}/, `${d.kind}: placeholder left`);
      }
      assert.match(r.html, /<html lang="en">/);
      assert.match(r.html, /<title>[^<]+<\/title>/);
      // Names are escaped in HTML, kept as they are in text.
      if (d.userId === learner.id) {
        assert.doesNotMatch(r.html, /<Learner>/, `${d.kind}: HTML escapes values`);
      }
    }
    // Digests: the managers' daily one (when chosen) and the instructors' hourly one, several notices in one email.
    for (const kind of ["manager_notice", "instructor_roster"] as const) {
      const notices = drafts.filter((d) => d.kind === kind).map((d, i) => ({
        value: toNotification(d, String(i), { address: "m@example.com", name: "M" }, T0, { name: "T", email: "t@x.y" }),
      }));
      assert.ok(notices.length > 0);
      const template = KIND_INFO[kind].digestTemplate!;
      const digest = await templates.render(template, {
        ...digestVars(notices[0].value, notices),
        kindLabel: KIND_INFO[kind].label,
        preferencesUrl: "https://x/me",
        unsubscribeUrl: "https://x/u",
      });
      used.add(template);
      assert.match(digest.subject, /\(\d+\)$/);
      assert.doesNotMatch(digest.html, /\{\{|<Learner>/);
      assert.equal(digest.html.match(/<li>/g)?.length, notices.length);
    }
    // Every template file is used by some kind.
    const files = [...Deno.readDirSync(new URL("../../templates/email/", import.meta.url))]
      .map((f) => f.name).filter((n) => /^[a-z].*\.txt$/.test(n)).map((n) => n.replace(/\.txt$/, ""));
    assert.deepEqual(files.filter((f) => !used.has(f)), []);
    const byKind = new Map<NotificationKind, number>();
    for (const d of drafts) byKind.set(d.kind, (byKind.get(d.kind) ?? 0) + 1);
    // Both sessions start within a week: only the 1-day and 1-hour reminders lie ahead.
    assert.equal(byKind.get("reminder"), 4);
  } finally {
    kv.close();
  }
});

Deno.test("[notify] a misspelt placeholder or section is an error, not an empty gap", () => {
  assert.throws(() => fill("Hello {{recipentName}}", { recipientName: "A" }, false), TemplateError);
  assert.throws(() => fill("{{#joinUrl}}x{{/joinUrl}}", {}, true), TemplateError);
  assert.equal(fill("{{#a}}yes{{/a}}{{^a}}no{{/a}}", { a: "" }, false), "no");
  assert.equal(fill("<p>{{a}}</p>", { a: "<b>&" }, true), "<p>&lt;b&gt;&amp;</p>");
});
