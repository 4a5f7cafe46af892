/** The notifier as the worker starts it: SMTP when SMTP_URL is set, otherwise messages wait (visible). */
import type { BookingEngine } from "../booking/engine.ts";
import type { Config } from "../config.ts";
import { unsubscribeLinks } from "./manage.ts";
import { Notifier } from "./notifier.ts";
import { createSmtpMailer } from "./smtp.ts";

/** `Name <address>` or `address` as the invitation's organizer. */
export function parseFrom(from: string): { name: string; email: string } {
  const m = from.match(/^\s*(.*?)\s*<([^>]+)>\s*$/);
  return m ? { name: m[1].replace(/^"|"$/g, "") || m[2], email: m[2] } : { name: from.trim(), email: from.trim() };
}

/** Builds the notifier for this configuration (not started). */
export function createNotifier(kv: Deno.Kv, config: Config, engine: BookingEngine): Notifier {
  const siteUrl = config.siteUrl ?? `http://localhost:${config.port}`;
  return new Notifier({
    kv,
    mailer: config.smtpUrl ? createSmtpMailer(config.smtpUrl, config.mailFrom) : null,
    from: parseFrom(config.mailFrom),
    siteUrl,
    now: () => engine.now(),
    reminderOffsetsMin: config.reminderOffsetsMin,
    unsubscribeUrl: unsubscribeLinks(kv, siteUrl),
  });
}
