/**
 * Test harness (not a test file itself): a booking engine on a hand-moved clock, a notifier that
 * sends through a real Mailpit, and readers of what arrived (with the `.ics` parsed by node-ical).
 * @module
 */
import ical from "node-ical";
import type { BookingEngine } from "../../lib/booking/engine.ts";
import { createSmtpMailer } from "../../lib/notify/smtp.ts";
import { Notifier, type NotifierOptions } from "../../lib/notify/notifier.ts";
import type { Mailer } from "../../lib/notify/mailer.ts";
import { type Clock, self, setup } from "../booking/test_fixtures.ts";
import type { Course } from "../../lib/domain/mod.ts";
import { type Mailpit, type MailpitOptions, startMailpit } from "./mailpit.ts";

export const SITE = "https://training.example.com";

/** Everything a notification test needs. */
export interface NotifyWorld {
  kv: Deno.Kv;
  engine: BookingEngine;
  clock: Clock;
  course: Course;
  mailpit: Mailpit;
  mailer: Mailer;
  notifier: Notifier;
  /** Another notifier on the same store (a second worker, or the one after a restart). */
  newNotifier(over?: Partial<NotifierOptions>): Notifier;
  close(): Promise<void>;
}

/** A fresh store, engine and Mailpit, and a notifier between them. */
export async function notifyWorld(
  over: Partial<NotifierOptions> = {},
  mailpitOptions: MailpitOptions = {},
): Promise<NotifyWorld> {
  const { kv, engine, clock, course } = await setup();
  const mailpit = await startMailpit(mailpitOptions);
  const mailers: Mailer[] = [];
  const newNotifier = (o: Partial<NotifierOptions> = {}) => {
    const mailer = createSmtpMailer(mailpit.smtpUrl, "Training <noreply@training.example>");
    mailers.push(mailer);
    return new Notifier({
      kv,
      mailer,
      from: { name: "Training", email: "noreply@training.example" },
      siteUrl: SITE,
      now: clock.now,
      unsubscribeUrl: (userId, kind) => Promise.resolve(`${SITE}/notifications/unsubscribe?u=${userId}&k=${kind}`),
      ...over,
      ...o,
    });
  };
  const notifier = newNotifier();
  return {
    kv,
    engine,
    clock,
    course,
    mailpit,
    mailer: mailers[0],
    notifier,
    newNotifier,
    async close() {
      for (const m of mailers) await m.close();
      await mailpit.close();
      await new Promise((r) => setTimeout(r, 0));
      kv.close();
    },
  };
}

/** A Deno test in a fresh `notifyWorld()`, closed after `fn`. */
export function notifyTest(name: string, fn: (w: NotifyWorld) => Promise<void>): void {
  Deno.test(name, async () => {
    const w = await notifyWorld();
    try {
      await fn(w);
    } finally {
      await w.close();
    }
  });
}

/** Runs the notifier's steps until one does nothing (at the clock's current time). */
export async function drain(notifier: Notifier, max = 1_000): Promise<number> {
  let total = 0;
  for (let i = 0; i < max; i++) {
    const n = await notifier.tick();
    if (!n) return total;
    total += n;
  }
  throw new Error("the notifier did not settle");
}

/** Books a seat for the learner (hold, then confirm). */
export async function book(engine: BookingEngine, sessionId: string, learnerId: string): Promise<string> {
  const { hold } = await engine.placeHold(sessionId, learnerId, self(learnerId));
  const { booking } = await engine.confirmHold(hold.id, self(learnerId));
  return booking.id;
}

/** Books a seat for the learner (hold, then confirm), then runs the notifier until it settles. */
export async function bookAndDrain(w: NotifyWorld, sessionId: string, learnerId: string): Promise<string> {
  const bookingId = await book(w.engine, sessionId, learnerId);
  await drain(w.notifier);
  return bookingId;
}

/** For each of `times` in turn: moves the clock to it and runs the notifier until it settles. */
export async function drainAt(w: NotifyWorld, ...times: number[]): Promise<void> {
  for (const ms of times) {
    w.clock.ms = ms;
    await drain(w.notifier);
  }
}

/** The subjects of every message Mailpit holds, oldest first. */
export async function subjects(w: NotifyWorld): Promise<string[]> {
  return (await w.mailpit.messages()).map((m) => m.Subject);
}

/** One parsed VEVENT of an invitation, with the calendar's METHOD. */
export interface ParsedInvite {
  method: string;
  uid: string;
  sequence: number;
  start: Date;
  end: Date;
  status: string | undefined;
}

/** Parses an `.ics` with node-ical (an independent parser). */
export function parseInvite(ics: string): ParsedInvite {
  const data = ical.sync.parseICS(ics) as Record<string, Record<string, unknown>>;
  const calendar = Object.values(data).find((c) => c.type === "VCALENDAR");
  const event = Object.values(data).find((c) => c.type === "VEVENT");
  if (!event) throw new Error(`no VEVENT in:\n${ics}`);
  return {
    method: String(calendar?.method ?? ics.match(/^METHOD:(.*)$/m)?.[1]?.trim() ?? ""),
    uid: String(event.uid),
    sequence: Number(event.sequence ?? 0),
    start: event.start as Date,
    end: event.end as Date,
    status: event.status as string | undefined,
  };
}

/** The `.ics` attachment of a Mailpit message. */
export async function inviteOf(mailpit: Mailpit, id: string): Promise<ParsedInvite> {
  const msg = await mailpit.message(id) as unknown as { Attachments: { PartID: string; FileName: string }[] };
  const part = msg.Attachments.find((a) => a.FileName.endsWith(".ics"));
  if (!part) throw new Error("no .ics attachment");
  const res = await fetch(`${mailpit.apiUrl}/api/v1/message/${id}/part/${part.PartID}`);
  return parseInvite(await res.text());
}
