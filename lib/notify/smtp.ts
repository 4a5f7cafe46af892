/**
 * The SMTP {@link Mailer}: nodemailer, configured from `SMTP_URL` and `MAIL_FROM`.
 * - `smtp://user:pass@host:587`: plain connection upgraded with STARTTLS when the server offers it
 *   (`?starttls=required` refuses a server that does not);
 * - `smtps://user:pass@host:465`: implicit TLS from the first byte.
 * Credentials are percent-decoded and never logged.
 */
// @ts-types="@types/nodemailer"
import nodemailer from "nodemailer";
import type { Mailer, OutgoingMail, SendOutcome } from "./mailer.ts";
import { parseSmtpUrl } from "./smtp_url.ts";

export { parseSmtpUrl, type SmtpSettings } from "./smtp_url.ts";

/**
 * Whether an SMTP failure is permanent: a 5xx reply (refused recipient, policy, bounce) is, a 4xx
 * or a connection problem (server down, timeout, TLS hiccup) is not. Pure; tested on its own.
 */
export function isPermanentSmtpError(err: unknown): boolean {
  const e = err as { responseCode?: number; code?: string };
  if (typeof e?.responseCode === "number") return e.responseCode >= 500 && e.responseCode < 600;
  // Nodemailer's own refusal of a malformed address or message, before any server saw it.
  return e?.code === "EENVELOPE" || e?.code === "EMESSAGE";
}

function describe(err: unknown): string {
  const e = err as { message?: string; responseCode?: number };
  return e?.message ? String(e.message).slice(0, 300) : String(err);
}

/** Extra settings (tests: the CA of a self-signed server certificate). */
export interface SmtpMailerOptions {
  ca?: string;
  /** Connections kept open (default 4, the notifier's sends in flight). */
  maxConnections?: number;
}

/** The SMTP mailer for `SMTP_URL`, sending as `from` (`MAIL_FROM`). */
export function createSmtpMailer(smtpUrl: string, from: string, options: SmtpMailerOptions = {}): Mailer {
  const s = parseSmtpUrl(smtpUrl);
  const timeouts = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 };
  const transport = nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: s.secure,
    requireTLS: s.requireTls,
    auth: s.auth ?? undefined,
    pool: true,
    maxConnections: options.maxConnections ?? 4,
    tls: options.ca ? { ca: options.ca, servername: s.host } : { servername: s.host },
    ...timeouts,
  });
  return {
    maxSendMs: timeouts.connectionTimeout + timeouts.greetingTimeout + timeouts.socketTimeout,
    async send(mail: OutgoingMail): Promise<SendOutcome> {
      try {
        const info = await transport.sendMail({
          from,
          to: { name: mail.to.name, address: mail.to.address },
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: mail.messageId,
          headers: mail.headers,
          ...(mail.calendar
            ? {
              icalEvent: {
                method: mail.calendar.method,
                filename: mail.calendar.filename,
                content: mail.calendar.content,
              },
              attachments: [{
                filename: mail.calendar.filename,
                content: mail.calendar.content,
                contentType: `application/ics; method=${mail.calendar.method}`,
              }],
            }
            : {}),
        });
        if (info.rejected?.length) return { ok: false, permanent: true, reason: `recipient refused: ${info.response}` };
        return { ok: true, response: String(info.response ?? "") };
      } catch (err) {
        return { ok: false, permanent: isPermanentSmtpError(err), reason: describe(err) };
      }
    },
    close() {
      transport.close();
      return Promise.resolve();
    },
  };
}
