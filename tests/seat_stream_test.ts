/**
 * `GET /sessions/{id}/seats` over real HTTP: the first event is the current picture, a hold placed
 * through the engine arrives as a new event, an expired hold is recounted without any write, and a
 * client that goes away ends the server side (Deno's op and resource sanitizers stay on).
 */
import assert from "node:assert/strict";
import { getAvailability } from "../lib/booking/availability.ts";
import { activeSeatFeeds, activeSeatStreams, seatEventStream, type SeatSnapshot } from "../lib/catalog/seat_stream.ts";
import { listSessions } from "../lib/store/mod.ts";
import { startTestApp, type TestApp } from "./app_fixture.ts";

/** Reads `event: seats` blocks (and comments) from an SSE body. */
class SseReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #decoder = new TextDecoder();
  #buffer = "";
  comments: string[] = [];
  retry: number | null = null;

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  /** The next `seats` event, or throws after `ms`. */
  async next(ms = 2000): Promise<SeatSnapshot> {
    const deadline = Date.now() + ms;
    for (;;) {
      const end = this.#buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        let event = "message";
        let data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) this.comments.push(line);
          else if (line.startsWith("retry: ")) this.retry = Number(line.slice(7));
          else if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
        }
        if (event === "seats" && data) return JSON.parse(data);
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no seats event within ${ms} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no seats event within ${ms} ms`)), left);
      });
      try {
        const { value, done } = await Promise.race([this.#reader.read(), timeout]);
        if (done) throw new Error("stream ended");
        this.#buffer += this.#decoder.decode(value, { stream: true });
      } finally {
        clearTimeout(timer);
      }
    }
  }
}

async function openSession(t: TestApp, minLeft: number): Promise<{ id: string; left: number }> {
  const { sessions } = await listSessions(t.services.kv, {
    from: new Date(Date.now() + 86_400_000).toISOString(),
    limit: 100,
  });
  const avail = await getAvailability(t.services.kv, sessions);
  for (const s of sessions) {
    const c = (await t.services.kv.get<{ prerequisiteCourseIds: string[] }>(["courses", s.courseId])).value!;
    const a = avail.get(s.id)!;
    if (!c.prerequisiteCourseIds.length && a.seatsLeft >= minLeft) return { id: s.id, left: a.seatsLeft };
  }
  throw new Error("no open session without prerequisites");
}

async function learners(t: TestApp, n: number): Promise<string[]> {
  const out: string[] = [];
  for await (const e of t.services.kv.list<{ id: string; roles: string[] }>({ prefix: ["users"] })) {
    if (e.value.roles.includes("learner")) out.push(e.value.id);
    if (out.length === n) break;
  }
  return out;
}

function actor(learnerId: string) {
  return { userId: learnerId, origin: "web" as const, correlationId: crypto.randomUUID() };
}

async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("[seats] stream: first event is the current seats, a hold arrives within 2 s, abort ends it", async () => {
  const t = await startTestApp({ serve: true });
  try {
    const { id, left } = await openSession(t, 2);
    const [learner] = await learners(t, 1);
    const ctrl = new AbortController();
    const res = await fetch(`${t.baseUrl}/sessions/${id}/seats`, { signal: ctrl.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const sse = new SseReader(res.body!);
    const first = await sse.next();
    assert.equal(first.left, left);
    assert.equal(first.capacity, first.left + first.taken);
    assert.ok(["open", "few_seats"].includes(first.state));
    assert.ok((sse.retry ?? 0) > 0, "a retry: hint comes first");
    assert.equal(activeSeatStreams(), 1);

    const started = performance.now();
    await t.services.engine.placeHold(id, learner, actor(learner));
    const second = await sse.next(2000);
    console.log(`hold → event in ${Math.round(performance.now() - started)} ms`);
    assert.equal(second.left, left - 1);
    assert.equal(second.taken, first.taken + 1);

    ctrl.abort();
    await waitFor(() => activeSeatStreams() === 0, 2000, "the server side to end");
  } finally {
    await t.close();
  }
});

Deno.test("[seats] stream: the streams of one session share one feed; one leaving keeps the others live", async () => {
  const t = await startTestApp();
  try {
    const { id, left } = await openSession(t, 3);
    const [learner] = await learners(t, 1);
    const ctrls = [new AbortController(), new AbortController(), new AbortController()];
    const readers = ctrls.map((c) => new SseReader(seatEventStream(t.services.kv, id, { signal: c.signal })));
    for (const r of readers) assert.equal((await r.next()).left, left);
    assert.equal(activeSeatStreams(), 3);
    assert.equal(activeSeatFeeds(), 1, "one watcher for the session, however many streams");
    ctrls[0].abort();
    await waitFor(() => activeSeatStreams() === 2, 2000, "the first stream to end");
    await t.services.engine.placeHold(id, learner, actor(learner));
    for (const r of readers.slice(1)) assert.equal((await r.next(2000)).left, left - 1);
    // A stream that joins later gets the current picture at once.
    const late = new AbortController();
    const lateReader = new SseReader(seatEventStream(t.services.kv, id, { signal: late.signal }));
    assert.equal((await lateReader.next()).left, left - 1);
    assert.equal(activeSeatFeeds(), 1);
    for (const c of [...ctrls, late]) c.abort();
    await waitFor(() => activeSeatStreams() === 0 && activeSeatFeeds() === 0, 2000, "every stream and the feed to end");
  } finally {
    await t.close();
  }
});

Deno.test("[seats] stream: unknown session is 404", async () => {
  const t = await startTestApp({ serve: true });
  try {
    const res = await fetch(`${t.baseUrl}/sessions/01ARZ3NDEKTSV4RRFFQ69G5FAV/seats`);
    assert.equal(res.status, 404);
    await res.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("[seats] stream: an expired hold is recounted without a write; heartbeats; only changes are sent", async () => {
  const t = await startTestApp({ env: { HOLD_MINUTES: "0.02" } }); // 1.2 s holds
  try {
    const { id, left } = await openSession(t, 2);
    const [learner] = await learners(t, 1);
    const ctrl = new AbortController();
    const sse = new SseReader(seatEventStream(t.services.kv, id, { signal: ctrl.signal, heartbeatMs: 100 }));
    assert.equal((await sse.next()).left, left);
    await t.services.engine.placeHold(id, learner, actor(learner));
    assert.equal((await sse.next()).left, left - 1);
    // No write happens when the hold lapses (no queue listener, no sweep here): the timer recounts.
    const back = await sse.next(3000);
    assert.equal(back.left, left, "the seat is back once the hold expired");
    assert.ok(sse.comments.includes(": heartbeat"), "heartbeat comments keep the stream alive");
    // Nothing changed since: no further event, heartbeats only.
    await assert.rejects(sse.next(400), /no seats event/);
    ctrl.abort();
    await waitFor(() => activeSeatStreams() === 0, 2000, "the stream to end");
  } finally {
    await t.close();
  }
});

Deno.test("[seats] stream: a consumer cancel or an already aborted signal releases the watcher and timers", async () => {
  const t = await startTestApp();
  try {
    const { id } = await openSession(t, 1);
    const stream = seatEventStream(t.services.kv, id, { heartbeatMs: 50 });
    const reader = stream.getReader();
    await reader.read(); // retry hint
    await reader.cancel();
    await waitFor(() => activeSeatStreams() === 0, 2000, "cancel to release the stream");

    const aborted = new AbortController();
    aborted.abort();
    const never = seatEventStream(t.services.kv, id, { signal: aborted.signal });
    assert.equal((await never.getReader().read()).done, true, "an aborted request gets an empty stream");
    await waitFor(() => activeSeatStreams() === 0, 2000, "the aborted stream to settle");
  } finally {
    await t.close();
  }
});

async function gzipSize(text: string): Promise<number> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

Deno.test("[seats] JS weight: the session page (LocalTime + LiveSeats) ships at most 15 KB gzip", async () => {
  const t = await startTestApp();
  try {
    const { id } = await openSession(t, 1);
    const get = async (path: string) => await (await t.app.fetch(new Request(`http://test${path}`))).text();
    const html = await get(`/sessions/${id}`);
    assert.ok(html.includes("LiveSeats") && html.includes("LocalTime"), "both islands are on the page");
    const urls = new Set([...html.matchAll(/(?:src|href)="(\/_frsh\/js\/[^"]+\.js)"/g)].map((m) => m[1]));
    const inline = [...html.matchAll(/<script[^>]*type="module"[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join("");
    let total = await gzipSize(inline);
    for (const url of urls) total += await gzipSize(await get(url));
    console.log(`session page JS: ${urls.size} files, ${total} bytes gzip`);
    assert.ok(total <= 15 * 1024, `session page JS ${total} bytes gzip`);
  } finally {
    await t.close();
  }
});
