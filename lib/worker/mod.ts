/**
 * The worker role: every background job of the product, each in the one {@link LeasedLoop}
 * (fenced lease, so across N processes one worker runs each job at a time):
 * - `relay`: the Kafka outbox → Kafka (lib/relay/relay.ts);
 * - `calcom-outbound`: the Cal.com outbox → Cal.com (lib/calcom/outbound.ts);
 * - `notify`: the notification outbox → messages → email over SMTP, with reminders from a due-time
 *   index (lib/notify/notifier.ts); without SMTP_URL messages are produced and wait;
 * - `hold-sweep`: releases holds and offers whose time is up (their seat, the `hold.expired`
 *   event and the next waitlist offer), walking `holds_by_expiry`: it looks again when the next
 *   hold is due, at least every second;
 * - crons (`Deno.cron`, registered at the top level of the entry point; each body takes a lease
 *   first, so N instances never run it twice at once): Cal.com reconciliation (hourly), a
 *   backstop hold sweep (every minute) and the resume of session cancels cut short by a crash
 *   (at start, then every minute for cancels pending at least a minute), and retention (daily:
 *   events and audit older than `RETENTION_DAYS` are pseudonymised, lib/privacy/retention.ts), and
 *   attendance close (hourly: sessions whose correction window ended, lib/attendance/close.ts).
 *
 * - `compliance-rescan` (lib/compliance/rescan.ts): every 30 s, the compliance rescans asked for
 *   (requirements, assignments) and those of people whose courses opened or freed seats; a cron
 *   runs the full compliance scan nightly (02:23 UTC).
 *   events and audit older than `RETENTION_DAYS` are pseudonymised, lib/privacy/retention.ts).
 * - `reports`: folds the reports outbox, page views and decided alternative offers into the report
 *   aggregates (lib/reports/job.ts); a daily cron asks it for a recount with repair.
 *
 * It runs inside the app by default (`deno task start`), or alone (`deno task worker`) against the
 * same KV, with `WORKER=0` on the app instances. No job depends on KV queues.
 */
import type { BookingEngine } from "../booking/engine.ts";
import { indexCourseWaitlists, resumeCourseWaitlistCovers } from "../booking/course_waitlist.ts";
import { reconcile, type ReconcileDeps, reconcileDepsFor } from "../calcom/reconcile.ts";
import { OutboundSync } from "../calcom/outbound.ts";
import type { Config } from "../config.ts";
import { createRelay } from "../relay/mod.ts";
import type { EventRelay } from "../relay/relay.ts";
import { applyRetention, DEFAULT_RETENTION_DAYS } from "../privacy/retention.ts";
import { createReportsJob, requestRecount } from "../reports/job.ts";
import { runExclusive } from "./lease.ts";
import { closeDueAttendance } from "../attendance/close.ts";
import { type AttendanceSettings, attendanceSettingsOf, DEFAULT_ATTENDANCE_SETTINGS } from "../attendance/windows.ts";
import { LeasedLoop } from "./leased_loop.ts";
import { runComplianceScan } from "../compliance/scan.ts";
import { runPendingRescans, SeatWatcher } from "../compliance/rescan.ts";
import { type ComplianceSettings, DEFAULT_COMPLIANCE_SETTINGS } from "../compliance/state.ts";
import { createNotifier } from "../notify/mod.ts";
import type { Notifier } from "../notify/notifier.ts";

/** Lease name of the hold sweep. */
export const HOLD_SWEEP_JOB = "hold-sweep";

/** Settings of the hold sweep. */
export interface HoldSweepOptions {
  /** Longest wait between looks (default 1 000 ms): a hold is released at most this late. */
  maxIdleMs?: number;
  leaseMs?: number;
  owner?: string;
  log?: (message: string) => void;
}

/**
 * The hold sweep as a leased loop (not started). Expiring a hold is idempotent and checked by the
 * lane's commit, so the lease only keeps N workers from doing the same work.
 */
export function createHoldSweep(engine: BookingEngine, options: HoldSweepOptions = {}): LeasedLoop {
  const maxIdle = options.maxIdleMs ?? 1_000;
  const log = options.log ?? ((m: string) => console.log(m));
  return new LeasedLoop(engine.kv, HOLD_SWEEP_JOB, {
    step: async () => {
      const n = await engine.sweepExpiredHolds();
      if (n) log(`hold sweep: released ${n} expired hold(s)`);
      return n;
    },
    idleMs: async () => {
      const next = await engine.nextHoldExpiryMs();
      if (next === null) return maxIdle;
      // A due entry that would not expire (its session is gone) must not make the loop spin.
      return Math.min(maxIdle, Math.max(100, next - engine.now().getTime() + 1));
    },
    leaseMs: options.leaseMs,
    owner: options.owner,
  });
}

/** What the worker runs. */
export interface WorkerDeps {
  kv: Deno.Kv;
  engine: BookingEngine;
  relay: EventRelay;
  outbound: OutboundSync;
  reconcile: ReconcileDeps;
  holdSweep?: HoldSweepOptions;
  /** Retention period in days (default {@link DEFAULT_RETENTION_DAYS}). */
  retentionDays?: number;
  /** Compliance rules (default {@link DEFAULT_COMPLIANCE_SETTINGS}). */
  compliance?: ComplianceSettings;
  /** Wait between compliance rescan looks, ms (default 30 000). */
  complianceIdleMs?: number;
  /** Attendance windows (default {@link DEFAULT_ATTENDANCE_SETTINGS}): when attendance closes by itself. */
  attendance?: AttendanceSettings;
  /** Notifications (absent: not run by this worker). */
  notifier?: Notifier;
}

/**
 * The worker's jobs for this store and configuration, as both entry points (main.ts and
 * scripts/worker.ts) build them: the Kafka relay, the Cal.com sync (with no tenant every booking
 * ends "skipped"), reconciliation and retention. The app also hands the relay and sync to its routes.
 */
export function workerDepsFor(kv: Deno.Kv, config: Config, engine: BookingEngine): WorkerDeps {
  return {
    kv,
    engine,
    relay: createRelay(kv, config),
    outbound: new OutboundSync({ kv, config }),
    reconcile: reconcileDepsFor(kv, config, engine),
    retentionDays: config.retentionDays,
    compliance: config.compliance,
    attendance: attendanceSettingsOf(config),
    notifier: createNotifier(kv, config, engine),
  };
}

/** A running worker. */
export interface Worker {
  readonly holdSweep: LeasedLoop;
  /** The cron bodies (each under its own lease; false when another worker ran it). */
  reconcileCron(): Promise<boolean>;
  sweepCron(): Promise<boolean>;
  /**
   * Finishes pending session cancels, and course-wide waitlist walks of sessions (adding entries to a
   * session scheduled or changed later), at least `minAgeMs` old (all when omitted).
   */
  cancelResumeCron(minAgeMs?: number): Promise<boolean>;
  /** Pseudonymises events and audit older than the retention period (the engine's clock decides). */
  retentionCron(): Promise<boolean>;
  /** The full compliance scan (nightly): every person's states, recommendations and alerts. */
  complianceScanCron(): Promise<boolean>;
  /** The compliance rescans asked for, and those of courses that opened or freed seats. */
  readonly complianceRescan: LeasedLoop;
  /** Closes attendance of sessions whose correction window ended (no-shows, completions). */
  attendanceCloseCron(): Promise<boolean>;
  /** The report aggregator loop (lib/reports/job.ts). */
  readonly reports: LeasedLoop;
  /** Asks the report aggregator for a recount with repair (it runs under the aggregator's lease). */
  reportsRecountCron(): Promise<void>;
  /** Stops every loop after its in-flight step and releases the leases. */
  stop(): Promise<void>;
}

/** Starts every background loop of this process. */
export function startWorker(deps: WorkerDeps): Worker {
  const holdSweep = createHoldSweep(deps.engine, deps.holdSweep);
  holdSweep.start();
  const reports = createReportsJob(deps.kv, () => deps.engine.now());
  reports.start();
  deps.relay.start();
  deps.outbound.start();
  deps.notifier?.start();
  const cancelResumeCron = (minAgeMs?: number) =>
    runExclusive(deps.kv, "cron:cancel-resume", () => resumeSessionCancels(deps.engine, minAgeMs), {
      leaseMs: 60_000,
    });
  // A cancel (or course-wide waitlist walk) cut short by a crash resumes as soon as a worker starts, whatever its age.
  cancelResumeCron().catch((err) => console.error(`cancel resume at start failed: ${err?.message ?? err}`));
  // Course-wide entries made before the by-course index existed (once per store).
  indexCourseWaitlists(deps.kv, deps.engine.now()).catch((err) =>
    console.error(`course waitlist index at start failed: ${err?.message ?? err}`)
  );
  const compliance = deps.compliance ?? DEFAULT_COMPLIANCE_SETTINGS;
  const seats = new SeatWatcher();
  const complianceRescan = new LeasedLoop(deps.kv, "compliance-rescan", {
    step: async () => {
      const now = deps.engine.now();
      await seats.look(deps.kv, now);
      const r = await runPendingRescans(deps.kv, now, compliance);
      return r ? 1 : 0;
    },
    idleMs: deps.complianceIdleMs ?? 30_000,
  });
  complianceRescan.start();
  return {
    cancelResumeCron,
    holdSweep,
    complianceRescan,
    complianceScanCron: () =>
      runExclusive(deps.kv, "cron:compliance-scan", async () => {
        try {
          const r = await runComplianceScan(deps.kv, { now: deps.engine.now(), settings: compliance });
          console.log(`compliance scan: ${r.people} people, ${r.peopleWithGaps} with gaps, ${r.events} alerts`);
        } catch (err) {
          console.error(`compliance scan failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }, { leaseMs: 10 * 60_000 }),
    reports,
    reportsRecountCron: async () => {
      await requestRecount(deps.kv, true);
    },
    reconcileCron: () =>
      runExclusive(deps.kv, "cron:reconcile", async () => {
        try {
          const r = await reconcile(deps.reconcile);
          const changed = r.steps.length - r.counts.verified;
          if (changed) console.log(`Cal.com reconciliation: ${JSON.stringify(r.counts)}`);
        } catch (err) {
          console.error(`Cal.com reconciliation failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }),
    sweepCron: () =>
      runExclusive(deps.kv, "cron:hold-sweep", async () => {
        const n = await deps.engine.sweepExpiredHolds().catch(() => 0);
        if (n) console.log(`hold sweep (cron): released ${n} overdue hold(s)`);
      }, { leaseMs: 60_000 }),
    retentionCron: () =>
      runExclusive(deps.kv, "cron:retention", async () => {
        try {
          const r = await applyRetention(deps.kv, {
            now: deps.engine.now(),
            retentionDays: deps.retentionDays ?? DEFAULT_RETENTION_DAYS,
          });
          const n = r.eventsPseudonymised + r.bookingsPseudonymised;
          if (n) console.log(`retention: pseudonymised ${JSON.stringify(r)}`);
        } catch (err) {
          console.error(`retention failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }, { leaseMs: 10 * 60_000 }),
    attendanceCloseCron: () =>
      runExclusive(deps.kv, "cron:attendance-close", async () => {
        try {
          const settings = deps.attendance ?? DEFAULT_ATTENDANCE_SETTINGS;
          const n = await closeDueAttendance(deps.kv, deps.engine.now(), settings);
          if (n) console.log(`attendance: closed ${n} session(s) at the end of their correction window`);
        } catch (err) {
          console.error(`attendance close failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }, { leaseMs: 10 * 60_000 }),
    async stop() {
      await Promise.all([
        holdSweep.stop(),
        reports.stop(),
        complianceRescan.stop(),
        deps.relay.stop(),
        deps.outbound.stop(),
        deps.notifier?.stop(),
      ]);
    },
  };
}

/** The cancel-resume cron's body: session cancels cut short, then course-wide waitlist walks cut short. */
async function resumeSessionCancels(engine: BookingEngine, minAgeMs?: number): Promise<void> {
  const options = minAgeMs === undefined ? {} : { minAgeMs };
  const { finished, failed } = await engine.resumeSessionCancels(options);
  if (finished.length) console.log(`cancel resume: finished ${finished.length} pending session cancel(s)`);
  for (const f of failed) {
    const message = f.error instanceof Error ? f.error.message : String(f.error);
    console.error(`cancel resume: session ${f.sessionId} failed, will retry: ${message}`);
  }
  // Sessions whose course-wide waitlist entries were not all added yet (a crash or failure midway).
  const covers = await resumeCourseWaitlistCovers(engine, options);
  if (covers.finished) console.log(`course waitlist: finished adding entries to ${covers.finished} session(s)`);
  for (const f of covers.failed) {
    const message = f.error instanceof Error ? f.error.message : String(f.error);
    console.error(`course waitlist: session ${f.sessionId} failed, will retry: ${message}`);
  }
}

/**
 * Registers the worker's crons. Call it at the top level of the entry point, before anything is
 * awaited (Deno Deploy discovers crons statically); a cron does nothing in a process whose
 * worker is off (`current()` returns null).
 */
export function registerCrons(current: () => Worker | null): void {
  Deno.cron("reconcile calcom bookings", "17 * * * *", async () => {
    await current()?.reconcileCron();
  });
  Deno.cron("expire overdue holds", "* * * * *", async () => {
    await current()?.sweepCron();
  });
  // A minute's grace, so the cron does not race a cancel that is running normally.
  Deno.cron("resume pending session cancels", "* * * * *", async () => {
    await current()?.cancelResumeCron(60_000);
  });
  Deno.cron("pseudonymise history past retention", "41 3 * * *", async () => {
    await current()?.retentionCron();
  });
  Deno.cron("compliance scan", "23 2 * * *", async () => {
    await current()?.complianceScanCron();
  });
  Deno.cron("close attendance after the correction window", "23 * * * *", async () => {
    await current()?.attendanceCloseCron();
  });
  Deno.cron("recount report aggregates", "53 2 * * *", async () => {
    await current()?.reportsRecountCron();
  });
}
