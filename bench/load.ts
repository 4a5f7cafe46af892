/**
 * The load generator: a closed loop of `concurrency` clients, each sending its next request as
 * soon as its previous response body has been read (keep-alive HTTP/1.1 through `fetch`). It stops
 * starting requests after `durationMs`, after `maxRequests`, or when `request(i)` returns null (no
 * more work), and waits for the requests in flight. Latency = from calling fetch to the last byte
 * of the response body.
 */

/** One request: a POST of `body` (JSON) to `path`, with a bearer token when given. */
export interface LoadRequest {
  path: string;
  body: string;
  token?: string;
}

/** What to run. */
export interface LoadOptions {
  baseUrl: string;
  /** More servers: request i goes to `[baseUrl, ...alsoBaseUrls][i % n]` (several app instances). */
  alsoBaseUrls?: string[];
  /**
   * Rate limit: request i starts no earlier than i / ratePerSec seconds after the first (an open
   * loop at that rate while fewer than `concurrency` requests are in flight). Default: closed loop.
   */
  ratePerSec?: number;
  concurrency: number;
  /** Stop starting requests after this long (default: no limit). */
  durationMs?: number;
  /** Stop after starting this many requests (default: no limit). */
  maxRequests?: number;
  /** The i-th request (0-based, in start order), or null when there is no more work. */
  request(i: number): LoadRequest | null;
}

/** What happened. */
export interface LoadResult {
  /** Requests that got a response (any status). */
  completed: number;
  /** Requests that failed without a response (network errors). */
  failed: number;
  /** From the first request started to the last response read. */
  elapsedMs: number;
  /** Response counts by HTTP status. */
  statuses: Record<string, number>;
  /** Counts of the `error` field of non-2xx JSON bodies (e.g. session_full). */
  errorCodes: Record<string, number>;
  /** Latency of every completed request, in completion order. */
  latenciesMs: number[];
  /** True when `request(i)` ran out of work before the time was up. */
  exhausted: boolean;
  /** The first network error, if any. */
  firstError: string | null;
}

/** Runs the closed loop and returns counts and latencies. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  if (!(o.concurrency >= 1)) throw new Error("concurrency must be at least 1");
  const client = Deno.createHttpClient({ http2: false, poolMaxIdlePerHost: o.concurrency });
  const statuses: Record<string, number> = {};
  const errorCodes: Record<string, number> = {};
  const latenciesMs: number[] = [];
  let next = 0;
  let failed = 0;
  let exhausted = false;
  let firstError: string | null = null;
  const started = performance.now();
  const deadline = o.durationMs === undefined ? Infinity : started + o.durationMs;
  const max = o.maxRequests ?? Infinity;
  const urls = [o.baseUrl, ...(o.alsoBaseUrls ?? [])];

  async function worker(): Promise<void> {
    while (!exhausted && next < max && performance.now() < deadline) {
      const i = next++;
      if (o.ratePerSec) {
        const wait = started + (i * 1000) / o.ratePerSec - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (performance.now() >= deadline) return;
      }
      const req = o.request(i);
      if (!req) {
        exhausted = true;
        return;
      }
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (req.token) headers.authorization = `Bearer ${req.token}`;
      const t0 = performance.now();
      try {
        const res = await fetch(urls[i % urls.length] + req.path, { method: "POST", headers, body: req.body, client });
        const text = await res.text();
        latenciesMs.push(performance.now() - t0);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status >= 300) {
          const code = errorCode(text);
          errorCodes[code] = (errorCodes[code] ?? 0) + 1;
        }
      } catch (err) {
        failed++;
        firstError ??= String(err);
      }
    }
  }

  try {
    await Promise.all(Array.from({ length: o.concurrency }, worker));
  } finally {
    client.close();
  }
  return {
    completed: latenciesMs.length,
    failed,
    elapsedMs: performance.now() - started,
    statuses,
    errorCodes,
    latenciesMs,
    exhausted,
    firstError,
  };
}

function errorCode(text: string): string {
  try {
    const body = JSON.parse(text);
    return typeof body?.error === "string" ? body.error : "no_error_field";
  } catch {
    return "not_json";
  }
}
