/**
 * `deno run -A bench/notify.ts`: the notification figures, against a real Mailpit on a file-backed KV.
 * - throughput: N confirmations (booked first, then the notifier started) until Mailpit holds all
 *   of them: messages per second end to end (outbox ingest, render, SMTP send, sent marker);
 * - reminder lateness: reminders due over a 20 s window while the loop runs on the real clock:
 *   Mailpit's receive time minus the due time, p50/p95/max.
 * Prints one JSON object and writes bench/notify_results.json.
 * @module
 */
import os from "node:os";
import { BookingEngine } from "../lib/booking/engine.ts";
import { Notifier } from "../lib/notify/notifier.ts";
import { createSmtpMailer } from "../lib/notify/smtp.ts";
import { putCourse, putSession, putUser, self } from "../tests/booking/test_fixtures.ts";
import { startMailpit } from "../tests/mail/mailpit.ts";

const N = Number(Deno.args[0] ?? 500);
const REMINDERS = Number(Deno.args[1] ?? 200);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function waitUntil(cond: () => Promise<boolean>, limitMs: number): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

const dir = await Deno.makeTempDir({ prefix: "notify_bench_" });
const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
const mailpit = await startMailpit();
const engine = new BookingEngine(kv, { holdMinutes: 15 });
const CONCURRENCY = Number(Deno.env.get("NOTIFY_CONCURRENCY") ?? 4); // the notifier's default
const mailer = createSmtpMailer(mailpit.smtpUrl, "Bench <bench@example.com>", { maxConnections: CONCURRENCY });
const notifier = new Notifier({
  kv,
  mailer,
  from: { name: "Bench", email: "bench@example.com" },
  siteUrl: "http://localhost:8000",
  now: () => new Date(),
  reminderOffsetsMin: [60],
  rate: { perWindow: 1000, windowMs: 60_000 },
  concurrency: CONCURRENCY,
});
try {
  const course = await putCourse(kv);
  // 1. Throughput: N confirmations waiting, then the loop.
  const far = await putSession(kv, course.id, {
    startsAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    capacity: N,
  });
  for (let i = 0; i < N; i++) {
    const u = await putUser(kv);
    const { hold } = await engine.placeHold(far.id, u.id, self(u.id));
    await engine.confirmHold(hold.id, self(u.id));
  }
  console.error(`booked ${N}; sending…`);
  const t0 = performance.now();
  notifier.start();
  await waitUntil(async () => (await mailpit.messages()).length >= N, 600_000);
  const seconds = (performance.now() - t0) / 1000;
  const throughput = { messages: N, seconds: Math.round(seconds * 100) / 100, perSecond: Math.round(N / seconds) };
  console.error(JSON.stringify(throughput));
  await mailpit.clear();

  // 2. Lateness: one reminder per learner, due 30 s … 50 s from now, the loop running.
  const base = Date.now() + 60 * 60_000 + 30_000;
  const due = new Map<string, number>();
  for (let i = 0; i < REMINDERS; i++) {
    const startsAt = new Date(base + Math.floor((i * 20_000) / REMINDERS)).toISOString();
    const s = await putSession(kv, course.id, {
      startsAt,
      endsAt: new Date(Date.parse(startsAt) + 3_600_000).toISOString(),
    });
    const u = await putUser(kv);
    const { hold } = await engine.placeHold(s.id, u.id, self(u.id));
    await engine.confirmHold(hold.id, self(u.id));
    due.set(u.email, Date.parse(startsAt) - 60 * 60_000);
  }
  console.error(`booked ${REMINDERS} reminders; waiting for them…`);
  const isReminder = (m: { Subject: string }) => m.Subject.startsWith("Reminder");
  await waitUntil(async () => (await mailpit.messages()).filter(isReminder).length >= REMINDERS, 300_000);
  const late = (await mailpit.messages()).filter(isReminder)
    .map((m) => Date.parse(m.Created) - due.get(m.To[0].Address)!).sort((a, b) => a - b);
  const lateness = {
    reminders: late.length,
    p50Ms: pct(late, 0.5),
    p95Ms: pct(late, 0.95),
    maxMs: late.at(-1),
    early: late.filter((x) => x < 0).length,
  };
  const result = {
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, loadavg: os.loadavg().map((x) => Math.round(x * 10) / 10) },
    throughput,
    lateness,
  };
  console.log(JSON.stringify(result, null, 2));
  await Deno.writeTextFile(new URL("./notify_results.json", import.meta.url), JSON.stringify(result, null, 2) + "\n");
} finally {
  await notifier.stop();
  await mailpit.close();
  kv.close();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
