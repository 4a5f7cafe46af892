/** /me/notifications, /admin/notifications and the unsubscribe link as pages (in process, no JS). */
import assert from "node:assert/strict";
import { DEMO_EMAILS } from "../../lib/seed/build_people.ts";
import { getNotificationPrefs, signUnsubscribe } from "../../lib/notify/manage.ts";
import { startTestApp } from "../app_fixture.ts";
import { devCookie, getPage, PAGE_BASE, postForm } from "../page_client.ts";
import { keys } from "../../lib/store/keys.ts";
import type { Notification } from "../../lib/notify/notifier.ts";

Deno.test("[notify] /me/notifications: optional kinds can be turned off, transactional ones cannot, a bad zone is explained beside the field", async () => {
  const t = await startTestApp();
  try {
    const cookie = await devCookie(t, DEMO_EMAILS.learner);
    const userId = (await t.services.kv.get<string>(["users_by_email", DEMO_EMAILS.learner])).value!;
    const { res, text } = await getPage(t, "/me/notifications", cookie);
    assert.equal(res.status, 200);
    assert.match(text, /Booking confirmations\s*(<!-- -->)?\s*<span[^>]*>\(always sent\)/);
    assert.match(text, /<label for="timeZone"/);
    // The demo data's inbox: sent confirmations and waiting reminders.
    assert.match(text, /Booked: /);
    assert.match(text, /Waiting to send/);
    const bad = await postForm(t, "/me/notifications", cookie, { on: "recording_available", timeZone: "Mars/Base" });
    assert.equal(bad.res.status, 422);
    assert.match(bad.text, /id="timeZone-problem"[^>]*>Choose a time zone/);
    assert.match(bad.text, /value="Mars\/Base"/, "the input is kept");
    const ok = await postForm(t, "/me/notifications", cookie, { on: "recording_available", timeZone: "Europe/Berlin" });
    assert.equal(ok.res.status, 303);
    const prefs = await getNotificationPrefs(t.services.kv, userId);
    assert.equal(prefs.timeZone, "Europe/Berlin");
    assert.ok(prefs.off.includes("reminder") && !prefs.off.includes("recording_available"));
    assert.ok(!prefs.off.includes("booking_confirmed"), "a transactional kind stays on whatever the form says");
  } finally {
    await t.close();
  }
});

Deno.test("[notify] one-click unsubscribe: the link's page and the mail client's POST turn the kind off; a forged link is a 400 sentence", async () => {
  const t = await startTestApp();
  try {
    const kv = t.services.kv;
    const userId = (await kv.get<string>(["users_by_email", DEMO_EMAILS.learner])).value!;
    const token = await signUnsubscribe(kv, userId, "reminder");
    const page = await getPage(t, `/notifications/unsubscribe?t=${encodeURIComponent(token)}`);
    assert.equal(page.res.status, 200);
    assert.match(page.text, /Stop emails about session reminders\?/);
    // RFC 8058: the provider POSTs `List-Unsubscribe=One-Click` from elsewhere, without a cookie.
    const res = await t.app.fetch(
      new Request(`${PAGE_BASE}/notifications/unsubscribe?t=${encodeURIComponent(token)}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://mail.example.net" },
        body: "List-Unsubscribe=One-Click",
      }),
    );
    assert.equal(res.status, 200);
    assert.match(await res.text(), /no longer get session reminders/);
    assert.deepEqual((await getNotificationPrefs(kv, userId)).off, ["reminder"]);
    const forged = await getPage(
      t,
      `/notifications/unsubscribe?t=${encodeURIComponent(token.replace("reminder", "booking_confirmed"))}`,
    );
    assert.equal(forged.res.status, 400);
    assert.match(forged.text, /not valid/);
  } finally {
    await t.close();
  }
});

Deno.test("[notify] /admin/notifications: admins see counts and dead letters, retry one and pause all sending; learners get 403", async () => {
  const t = await startTestApp();
  try {
    const kv = t.services.kv;
    const id = "f".repeat(32);
    const dead: Notification = {
      id,
      identity: "event:x:booking_confirmed:u",
      kind: "booking_confirmed",
      userId: "u",
      to: { address: "a@example.com", name: "A" },
      status: "dead",
      dueAtMs: Date.parse("2026-03-01T10:00:00Z"),
      createdAtMs: Date.parse("2026-03-01T10:00:00Z"),
      attempts: 1,
      lastError: "550 5.1.1 mailbox unavailable",
      sentAt: null,
      skippedReason: null,
      vars: {},
      calendar: null,
      guard: null,
      subject: null,
    };
    await kv.atomic().set(keys.notifyMessage(id), dead).set(keys.notifyDead(id), null).commit();
    const learner = await devCookie(t, DEMO_EMAILS.learner);
    assert.equal((await getPage(t, "/admin/notifications", learner)).res.status, 403);
    const admin = await devCookie(t, DEMO_EMAILS.admin);
    const page = await getPage(t, "/admin/notifications", admin);
    assert.equal(page.res.status, 200);
    assert.match(page.text, /550 5\.1\.1 mailbox unavailable/);
    assert.match(page.text, /SMTP_URL is not set/);
    assert.match(page.text, /mailbox unavailable \(demo data\)/, "the seeded dead letter");
    const retried = await postForm(t, "/admin/notifications", admin, { intent: "retry", id });
    assert.equal(retried.res.status, 303);
    assert.equal((await kv.get<Notification>(keys.notifyMessage(id))).value!.status, "pending");
    const again = await postForm(t, "/admin/notifications", admin, { intent: "retry", id });
    assert.equal(again.res.status, 404);
    assert.match(again.text, /no longer in the dead-letter list/);
    assert.equal((await postForm(t, "/admin/notifications", admin, { intent: "pause" })).res.status, 303);
    assert.match((await getPage(t, "/admin/notifications", admin)).text, /Sending is paused\./);
  } finally {
    await t.close();
  }
});

Deno.test("[notify] PUT /api/v1/me/notifications: a transactional kind or a bad zone is a 422 with {error, message}; a good choice is saved", async () => {
  const t = await startTestApp();
  try {
    const cookie = await devCookie(t, DEMO_EMAILS.learner);
    const put = (body: unknown) =>
      t.app.fetch(
        new Request(`${PAGE_BASE}/api/v1/me/notifications`, {
          method: "PUT",
          headers: { cookie, origin: PAGE_BASE, "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
      );
    const required = await put({ off: ["booking_cancelled"], timeZone: null });
    assert.equal(required.status, 422);
    const body = await required.json();
    assert.equal(body.error, "required_kind");
    assert.match(body.message, /cannot be turned off: cancellations/);
    const zone = await put({ off: [], timeZone: "Nowhere/Land" });
    assert.equal(zone.status, 422);
    assert.equal((await zone.json()).error, "invalid_time_zone");
    const ok = await put({ off: ["manager_notice"], timeZone: "America/Chicago" });
    assert.equal(ok.status, 200);
    const saved = await ok.json();
    assert.equal(saved.timeZone, "America/Chicago");
    assert.deepEqual(
      saved.kinds.filter((k: { on: boolean }) => !k.on).map((k: { kind: string }) => k.kind),
      ["manager_notice"],
    );
  } finally {
    await t.close();
  }
});
