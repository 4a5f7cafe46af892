/**
 * The load generator of the concurrent-users bench, as a process of its own (started by
 * bench/users.ts; same stdin/stdout protocol as bench/load_client.ts: job, ready, go, report).
 *
 * - Browsing: `users` virtual users, each viewing a page every `thinkMs` on average, give an
 *   open-loop arrival rate of users / thinkMs (Poisson arrivals). A page is the home page, a
 *   search (`/?q=…` or `/?program=…`) or a session page, a third each. At most `maxInFlight`
 *   page requests are open; an arrival beyond that is counted as `dropped` (the server fell behind).
 * - Streams: `streams` `GET /sessions/{id}/seats` held open over `streamSessionIds` (ramped up
 *   before the clock starts), every `event: seats` read and timed.
 * - Bookings: `bookingRatePerSec` learners a second place a hold (`POST /api/v1/holds`) on one of
 *   the streamed sessions and confirm it (`POST /api/v1/bookings`). The fan-out delay is from the
 *   hold's 201 (its commit is done) to the first event on each open stream of that session whose
 *   `taken` went up after the hold was sent (an event that beat the 201 counts as 0).
 *
 * Everything goes to `baseUrl` (127.0.0.1) and stops after `durationMs`.
 * @module
 */
import process from "node:process";
import { serveClientProtocol } from "./load_client.ts";
import { percentile, round } from "./stats.ts";

/** What the client runs. */
export interface UsersJob {
  baseUrl: string;
  users: number;
  thinkMs: number;
  maxInFlight: number;
  streams: number;
  streamSessionIds: string[];
  /** Session pages to view (any sessions). */
  pageSessionIds: string[];
  bookingRatePerSec: number;
  bookingTokens: string[];
  durationMs: number;
}

/** What the client measured. */
export interface UsersReport {
  pages: {
    targetPerSec: number;
    completed: number;
    perSec: number;
    p50Ms: number;
    p95Ms: number;
    p99Ms: number;
    maxMs: number;
    statuses: Record<string, number>;
    failed: number;
    dropped: number;
    byKind: Record<string, { count: number; p95Ms: number; p99Ms: number }>;
  };
  streams: { opened: number; failedToOpen: number; openMs: number; events: number; endedEarly: number };
  bookings: {
    attempted: number;
    booked: number;
    statuses: Record<string, number>;
    holdP95Ms: number;
    confirmP95Ms: number;
  };
  fanout: { samples: number; p50Ms: number; p95Ms: number; p99Ms: number; maxMs: number; missed: number };
  clientCpuPct: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(xs: number[]) {
  const s = Float64Array.from(xs).sort();
  return {
    p50Ms: round(percentile(s, 50), 1),
    p95Ms: round(percentile(s, 95), 1),
    p99Ms: round(percentile(s, 99), 1),
    maxMs: round(s.length ? s[s.length - 1] : 0, 1),
  };
}

/** Runs the job (also usable in process, by tests). */
export async function runUsers(job: UsersJob): Promise<UsersReport> {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const client = Deno.createHttpClient({ http2: false, poolMaxIdlePerHost: job.maxInFlight });
  const streamClient = Deno.createHttpClient({ http2: false });
  const stop = new AbortController();

  // Streams: session id → list of {taken, arrivals (ms)} per stream.
  type Stream = { sessionId: string; events: { at: number; taken: number }[] };
  const streams: Stream[] = [];
  let failedToOpen = 0;
  let endedEarly = 0;
  const openStream = async (sessionId: string): Promise<void> => {
    const s: Stream = { sessionId, events: [] };
    let res: Response;
    try {
      res = await fetch(`${job.baseUrl}/sessions/${sessionId}/seats`, { client: streamClient, signal: stop.signal });
    } catch {
      failedToOpen++;
      return;
    }
    if (!res.ok || !res.body) {
      failedToOpen++;
      await res.body?.cancel();
      return;
    }
    streams.push(s);
    (async () => {
      let buf = "";
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body!) {
          const at = performance.now();
          buf += decoder.decode(chunk, { stream: true });
          let end;
          while ((end = buf.indexOf("\n\n")) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            const data = /^data: (.*)$/m.exec(block);
            if (block.startsWith("event: seats") && data) s.events.push({ at, taken: JSON.parse(data[1]).taken });
          }
        }
        if (!stop.signal.aborted) endedEarly++;
      } catch {
        if (!stop.signal.aborted) endedEarly++;
      }
    })();
  };
  const tOpen = performance.now();
  for (let i = 0; i < job.streams; i += 50) {
    await Promise.all(
      Array.from(
        { length: Math.min(50, job.streams - i) },
        (_, k) => openStream(job.streamSessionIds[(i + k) % job.streamSessionIds.length]),
      ),
    );
  }
  const openMs = Math.round(performance.now() - tOpen);

  const started = performance.now();
  const deadline = started + job.durationMs;

  // Pages.
  const pageLatencies: number[] = [];
  const byKind: Record<string, number[]> = { home: [], search: [], session: [] };
  const pageStatuses: Record<string, number> = {};
  let failed = 0;
  let dropped = 0;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  const rate = job.users / job.thinkMs; // per ms
  const queries = ["/?q=Bench", "/?program=onboarding", "/?q=Spread"];
  const page = async (i: number) => {
    const kind = (["home", "search", "session"] as const)[i % 3];
    const path = kind === "home"
      ? "/"
      : kind === "search"
      ? queries[i % queries.length]
      : `/sessions/${job.pageSessionIds[(i * 7919) % job.pageSessionIds.length]}`;
    const t0 = performance.now();
    try {
      const res = await fetch(job.baseUrl + path, { client });
      await res.arrayBuffer();
      const ms = performance.now() - t0;
      pageLatencies.push(ms);
      byKind[kind].push(ms);
      pageStatuses[res.status] = (pageStatuses[res.status] ?? 0) + 1;
    } catch {
      failed++;
    }
  };
  const browse = (async () => {
    let next = started;
    let i = 0;
    while (true) {
      next += -Math.log(1 - Math.random()) / rate;
      if (next >= deadline) break;
      const wait = next - performance.now();
      if (wait > 1) await sleep(wait);
      if (inFlight >= job.maxInFlight) {
        dropped++;
        continue;
      }
      inFlight++;
      const p = page(i++).finally(() => {
        inFlight--;
        pending.delete(p);
      });
      pending.add(p);
    }
  })();

  // Bookings.
  const bookingStatuses: Record<string, number> = {};
  const holdMs: number[] = [];
  const confirmMs: number[] = [];
  const booked: { sessionId: string; sentAt: number; at201: number }[] = [];
  let attempted = 0;
  const post = async (path: string, token: string, body: unknown) => {
    const res = await fetch(job.baseUrl + path, {
      method: "POST",
      client,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const book = async (i: number) => {
    const token = job.bookingTokens[i % job.bookingTokens.length];
    const sessionId = job.streamSessionIds[(i * 31) % job.streamSessionIds.length];
    attempted++;
    try {
      const sentAt = performance.now();
      const h = await post("/api/v1/holds", token, { sessionId });
      const at201 = performance.now();
      holdMs.push(at201 - sentAt);
      bookingStatuses[`hold ${h.status}`] = (bookingStatuses[`hold ${h.status}`] ?? 0) + 1;
      if (h.status !== 201) return;
      booked.push({ sessionId, sentAt, at201 });
      const c0 = performance.now();
      const c = await post("/api/v1/bookings", token, { holdId: h.body.hold.id });
      confirmMs.push(performance.now() - c0);
      bookingStatuses[`confirm ${c.status}`] = (bookingStatuses[`confirm ${c.status}`] ?? 0) + 1;
    } catch {
      bookingStatuses.failed = (bookingStatuses.failed ?? 0) + 1;
    }
  };
  const bookings = (async () => {
    const n = Math.min(job.bookingTokens.length, Math.floor((job.durationMs / 1000) * job.bookingRatePerSec));
    const all: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const wait = started + (i * 1000) / job.bookingRatePerSec - performance.now();
      if (wait > 0) await sleep(wait);
      if (performance.now() >= deadline) break;
      all.push(book(i));
    }
    await Promise.all(all);
  })();

  await Promise.all([browse, bookings]);
  await Promise.all(pending);
  const elapsed = performance.now() - started;
  // Let the last seat events arrive, then close the streams.
  await sleep(2_000);
  stop.abort();
  client.close();
  streamClient.close();

  // Fan-out: for each booking, each stream of its session, the first event after it was sent with a higher `taken`.
  const bySession = new Map<string, Stream[]>();
  for (const s of streams) bySession.set(s.sessionId, [...(bySession.get(s.sessionId) ?? []), s]);
  const delays: number[] = [];
  let missed = 0;
  for (const b of booked) {
    for (const s of bySession.get(b.sessionId) ?? []) {
      const before = s.events.filter((e) => e.at < b.sentAt).at(-1)?.taken ?? -1;
      const e = s.events.find((e) => e.at >= b.sentAt && e.taken > before);
      if (e) delays.push(Math.max(0, e.at - b.at201));
      else missed++;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const pages = pct(pageLatencies);
  return {
    pages: {
      targetPerSec: round(job.users / (job.thinkMs / 1000), 1),
      completed: pageLatencies.length,
      perSec: round(pageLatencies.length / (elapsed / 1000), 1),
      ...pages,
      statuses: pageStatuses,
      failed,
      dropped,
      byKind: Object.fromEntries(
        Object.entries(byKind).map(([k, xs]) => [k, { count: xs.length, p95Ms: pct(xs).p95Ms, p99Ms: pct(xs).p99Ms }]),
      ),
    },
    streams: {
      opened: streams.length,
      failedToOpen,
      openMs,
      events: streams.reduce((n, s) => n + s.events.length, 0),
      endedEarly,
    },
    bookings: {
      attempted,
      booked: bookingStatuses["confirm 201"] ?? 0,
      statuses: bookingStatuses,
      holdP95Ms: pct(holdMs).p95Ms,
      confirmP95Ms: pct(confirmMs).p95Ms,
    },
    fanout: { samples: delays.length, ...pct(delays), missed },
    clientCpuPct: Math.round(((cpu.user + cpu.system) / 1000 / (performance.now() - wall0)) * 100),
  };
}

if (import.meta.main) await serveClientProtocol(runUsers);
