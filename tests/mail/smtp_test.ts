/** The SMTP mailer against a real Mailpit: plain, STARTTLS, implicit TLS, refused recipients, server down. */
import assert from "node:assert/strict";
import { createSmtpMailer, isPermanentSmtpError, parseSmtpUrl } from "../../lib/notify/smtp.ts";
import type { OutgoingMail } from "../../lib/notify/mailer.ts";
import { startMailpit } from "./mailpit.ts";

const mail = (to: string): OutgoingMail => ({
  to: { address: to, name: "Ada Learner" },
  subject: "Test über SMTP",
  text: "Hello in plain text.",
  html: "<p>Hello in <strong>HTML</strong>.</p>",
  messageId: `<${crypto.randomUUID()}@training-booking>`,
  headers: { "X-Notification-Kind": "test" },
  calendar: {
    method: "REQUEST",
    filename: "invite.ics",
    content: "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
  },
});

Deno.test("[mail] SMTP_URL parsing: STARTTLS, implicit TLS, default ports, decoded credentials", () => {
  assert.deepEqual(parseSmtpUrl("smtp://u%40x:p%3Aw@mail.example.com:2525"), {
    host: "mail.example.com",
    port: 2525,
    secure: false,
    requireTls: false,
    auth: { user: "u@x", pass: "p:w" },
  });
  assert.equal(parseSmtpUrl("smtps://mail.example.com").port, 465);
  assert.equal(parseSmtpUrl("smtps://mail.example.com").secure, true);
  assert.equal(parseSmtpUrl("smtp://mail.example.com").port, 587);
  assert.equal(parseSmtpUrl("smtp://h?starttls=required").requireTls, true);
  assert.throws(() => parseSmtpUrl("http://h"), /smtp:\/\//);
  assert.throws(() => parseSmtpUrl("not a url"), /SMTP_URL must be a URL/);
});

Deno.test("[mail] SMTP errors: 5xx and malformed envelopes are permanent, 4xx and connection errors are not", () => {
  assert.equal(isPermanentSmtpError({ responseCode: 550 }), true);
  assert.equal(isPermanentSmtpError({ responseCode: 554, code: "EENVELOPE" }), true);
  assert.equal(isPermanentSmtpError({ responseCode: 451 }), false);
  assert.equal(isPermanentSmtpError({ code: "ECONNECTION" }), false);
  assert.equal(isPermanentSmtpError({ code: "ETIMEDOUT" }), false);
  assert.equal(isPermanentSmtpError({ code: "EENVELOPE" }), true);
});

for (const tls of ["none", "starttls", "implicit"] as const) {
  Deno.test(`[mail] a message with its calendar part reaches Mailpit (${tls})`, async () => {
    const mp = await startMailpit({ tls });
    const url = tls === "starttls" ? `${mp.smtpUrl}?starttls=required` : mp.smtpUrl;
    const mailer = createSmtpMailer(
      url.replace("127.0.0.1", "mailer%40x:s3cret@localhost"),
      "Training <noreply@training.example>",
      {
        ca: mp.caPem ?? undefined,
      },
    );
    try {
      const out = await mailer.send(mail("ada@example.com"));
      assert.equal(out.ok, true, JSON.stringify(out));
      const [m] = await mp.messages();
      assert.equal(m.Subject, "Test über SMTP");
      assert.equal(m.To[0].Address, "ada@example.com");
      const full = await mp.message(m.ID);
      assert.match(full.Text, /Hello in plain text/);
      assert.match(full.HTML, /<strong>HTML<\/strong>/);
      const raw = await mp.raw(m.ID);
      assert.match(raw, /text\/calendar; charset=utf-8; method=REQUEST/i);
      assert.match(raw, /X-Notification-Kind: test/);
    } finally {
      await mailer.close();
      await mp.close();
    }
  });
}

Deno.test("[mail] a refused recipient is a permanent failure; a server that is down is a transient one", async () => {
  const mp = await startMailpit({ allowedRecipients: "@example\\.com$" });
  const mailer = createSmtpMailer(mp.smtpUrl, "noreply@training.example");
  try {
    const refused = await mailer.send(mail("someone@blocked.test"));
    assert.deepEqual({ ok: refused.ok, permanent: !refused.ok && refused.permanent }, { ok: false, permanent: true });
    await mp.stop();
    const down = await mailer.send(mail("ada@example.com"));
    assert.deepEqual({ ok: down.ok, permanent: !down.ok && down.permanent }, { ok: false, permanent: false });
    await mp.restart();
    assert.equal((await mailer.send(mail("ada@example.com"))).ok, true);
    assert.equal((await mp.messages()).length, 1);
  } finally {
    await mailer.close();
    await mp.close();
  }
});
