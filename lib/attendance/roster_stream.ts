/**
 * A session's roster, live, as server-sent events (`GET /teach/sessions/{id}/roster`): the first
 * `event: roster` is the current picture, later ones follow every change. Fed by `kv.watch` on the
 * keys every roster change touches: `["seats", id]` (bookings, cancellations), `["roster_ticks", id]`
 * (marks, check-ins, closing), the session and its close record; recomputed at least every
 * `refreshMs` too (the phase moves with the clock; a local KV file does not see other processes'
 * writes). Only the session's staff open it (few streams), so each stream has its own watcher.
 */
import type { Acting } from "../booking/access.ts";
import { keys } from "../store/keys.ts";
import { getRoster, type Roster } from "./roster.ts";
import type { AttendanceSettings } from "./windows.ts";

/** What each `event: roster` carries: the roster without e-mail addresses. */
export type RosterSnapshot = Omit<Roster, "rows"> & { rows: Omit<Roster["rows"][number], "email">[] };

/** The snapshot of a roster (what the page's island receives). */
export function rosterSnapshot(roster: Roster): RosterSnapshot {
  return { ...roster, rows: roster.rows.map(({ email: _email, ...row }) => row) };
}

/** Timings of a stream (tests shorten them). */
export interface RosterStreamOptions {
  heartbeatMs?: number;
  refreshMs?: number;
  retryMs?: number;
  maxLifetimeMs?: number;
  now?: () => Date;
}

/** The event stream of one session's roster for `who` (already allowed to see it). */
export function rosterEventStream(
  kv: Deno.Kv,
  sessionId: string,
  who: Acting,
  settings: AttendanceSettings,
  options: RosterStreamOptions = {},
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const now = options.now ?? (() => new Date());
  let closed = false;
  let last = "";
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let refresh: ReturnType<typeof setInterval> | undefined;
  let lifetime: ReturnType<typeof setTimeout> | undefined;
  let reader: ReadableStreamDefaultReader<Deno.KvEntryMaybe<unknown>[]> | null = null;
  let controller: ReadableStreamDefaultController<Uint8Array>;
  let queue: Promise<void> = Promise.resolve();

  function send(text: string) {
    if (closed) return;
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      finish();
    }
  }

  function update(): Promise<void> {
    queue = queue.then(async () => {
      if (closed) return;
      const json = JSON.stringify(rosterSnapshot(await getRoster(kv, sessionId, who, now(), settings)));
      if (json === last) return;
      last = json;
      send(`event: roster\ndata: ${json}\n\n`);
    }).catch(() => finish());
    return queue;
  }

  function finish() {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    clearInterval(refresh);
    clearTimeout(lifetime);
    reader?.cancel().catch(() => {});
    try {
      controller.close();
    } catch {
      // already closed by the consumer
    }
  }

  async function follow() {
    const watched = [keys.seats(sessionId), keys.rosterTick(sessionId), keys.session(sessionId)];
    reader = kv.watch([...watched, keys.attendanceClose(sessionId)]).getReader();
    try {
      while (!closed) {
        const { done } = await reader.read();
        if (done) break;
        await update();
      }
    } catch {
      // KV closed: end the stream; the browser reconnects.
    }
    finish();
  }

  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      send(`retry: ${options.retryMs ?? 5_000}\n\n`);
      heartbeat = setInterval(() => send(": heartbeat\n\n"), options.heartbeatMs ?? 15_000);
      refresh = setInterval(() => update(), options.refreshMs ?? 15_000);
      lifetime = setTimeout(finish, options.maxLifetimeMs ?? 600_000);
      follow();
    },
    cancel() {
      finish();
    },
  });
}
