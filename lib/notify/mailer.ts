/**
 * The mail interface the notification code sends through. Domain code never sees the SMTP client
 * (lib/notify/smtp.ts builds one with nodemailer); tests may hand in their own.
 */

/** A calendar part (`text/calendar; method=…`, also attached as an `.ics` file). */
export interface MailCalendar {
  method: "REQUEST" | "CANCEL";
  content: string;
  filename: string;
}

/** One email, ready to send. */
export interface OutgoingMail {
  to: { address: string; name: string };
  subject: string;
  text: string;
  html: string;
  /** Stable per message identity (`<id@host>`): a copy sent twice in the crash window carries the same one. */
  messageId: string;
  /** Extra headers (List-Unsubscribe and friends). */
  headers: Record<string, string>;
  calendar?: MailCalendar;
}

/** What a send came to. `permanent`: retrying cannot help (a 5xx, a refused address). */
export type SendOutcome =
  | { ok: true; response: string }
  | { ok: false; permanent: boolean; reason: string };

/** Something that hands mail to a server. */
export interface Mailer {
  send(mail: OutgoingMail): Promise<SendOutcome>;
  /** Longest a send may take before it gives up (the sender's lease must outlast it). */
  readonly maxSendMs: number;
  close(): Promise<void>;
}
