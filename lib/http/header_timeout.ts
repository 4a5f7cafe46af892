/**
 * A header-read timeout in front of `Deno.serve`, which has none (a partial request head keeps its
 * connection open for good: slowloris). Clients connect to a small TCP front; the app's
 * `Deno.serve` listens on a Unix socket in a private temp dir, out of the network's reach.
 *
 * The front follows HTTP/1.1 framing in both directions (request and response heads,
 * Content-Length and chunked bodies) without changing a byte (but one: each request head gets an
 * `x-front-peer-address` line naming the client, see {@link PEER_HEADER}), and applies one rule: **whenever the
 * server owes the client nothing, the client must deliver a complete request head within
 * `headerTimeoutMs`**, or the connection is closed (with a 408 when part of a head came). The clock
 * starts when the connection opens, when the last response ends (an idle keep-alive connection),
 * or at the first byte of a head sent while a response is still running. So a long response (a
 * seat stream) is never cut, a quiet client waiting for its answer is never cut, and a request
 * body may take its time: the limit is for request heads only.
 *
 * A head is held back until it is complete, so partial heads never reach `Deno.serve`. Heads over
 * {@link MAX_HEAD_BYTES} are refused with 431. What the front cannot frame (a malformed
 * Content-Length or Transfer-Encoding) is passed through untimed: `Deno.serve` answers it 400 and
 * closes. After `101 Switching Protocols` the connection is a plain tunnel. Cleartext HTTP/2 with
 * prior knowledge (`PRI * HTTP/2.0`) is refused (closed): its frames cannot be timed this way, and
 * browsers only speak HTTP/2 over TLS, which a proxy in front terminates.
 */

/** Methods the Fetch `Request` constructor refuses (CONNECT, TRACE, TRACK). */
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/** Largest request head (request line and headers) the front accepts. */
export const MAX_HEAD_BYTES = 64 * 1024;

/** A parsed message head: the start line and the header fields (names in lower case). */
export interface MessageHead {
  startLine: string;
  fields: Map<string, string[]>;
}

/** How the body after a head is delimited. */
export type BodyFraming =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  /** Until the connection closes (responses without a length). */
  | { kind: "until_close" }
  /** Cannot be framed: stop following the stream (bytes still pass). */
  | { kind: "opaque" };

/** Where a {@link MessageFramer} stands. */
export type FramerPhase =
  | "idle"
  | "head"
  | "length"
  | "chunk_size"
  | "chunk_data"
  | "chunk_end"
  | "trailer"
  | "until_close"
  | "opaque";

/** What a framer reports while it reads. */
export interface FramerEvents {
  /** A complete head; returns how its body is delimited. */
  head(head: MessageHead): BodyFraming;
  /** The message (head and body) ended. */
  end?(): void;
}

const LF = 0x0a;
const CR = 0x0d;
const latin1 = new TextDecoder("latin1");

/** Parses a head (the bytes up to and including its blank line). Null when it has no start line. */
export function parseHead(bytes: Uint8Array): MessageHead | null {
  const lines = latin1.decode(bytes).split(/\r?\n/);
  const startLine = lines[0]?.trim() ?? "";
  if (!startLine) return null;
  const fields = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    fields.set(name, [...(fields.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return { startLine, fields };
}

/** Comma-separated tokens of every instance of a field, in lower case. */
function tokens(head: MessageHead, name: string): string[] {
  return (head.fields.get(name) ?? []).flatMap((v) => v.split(",")).map((t) => t.trim().toLowerCase())
    .filter(Boolean);
}

/** Transfer-Encoding, then Content-Length (RFC 9112 §6.3); `fallback` when neither is present. */
function framingOf(head: MessageHead, fallback: BodyFraming): BodyFraming {
  const codings = tokens(head, "transfer-encoding");
  if (codings.length) return codings.at(-1) === "chunked" ? { kind: "chunked" } : { kind: "opaque" };
  const lengths = [...new Set(tokens(head, "content-length"))];
  if (!lengths.length) return fallback;
  if (lengths.length > 1 || !/^\d{1,15}$/.test(lengths[0])) return { kind: "opaque" };
  const length = Number(lengths[0]);
  return length === 0 ? { kind: "none" } : { kind: "length", length };
}

/** How a request's body is delimited. */
export function requestFraming(head: MessageHead): BodyFraming {
  return framingOf(head, { kind: "none" });
}

/**
 * How a response's body is delimited, given the method of the request it answers. Interim (1xx)
 * responses have no body; `final` is false for them.
 */
export function responseFraming(head: MessageHead, method: string | undefined): BodyFraming & { final: boolean } {
  const status = Number(head.startLine.split(" ")[1]);
  if (status >= 100 && status < 200) return { kind: status === 101 ? "opaque" : "none", final: status === 101 };
  if (method === "HEAD" || status === 204 || status === 304) return { kind: "none", final: true };
  return { ...framingOf(head, { kind: "until_close" }), final: true };
}

/**
 * Follows HTTP/1.1 messages in one direction of a connection. `feed` returns the bytes that may be
 * passed on now: everything, or (with `holdHeads`) everything but an incomplete head.
 */
export class MessageFramer {
  #phase: FramerPhase = "idle";
  #head: Uint8Array[] = [];
  #headSize = 0;
  #remaining = 0;
  #line = "";
  /** Set when a head grew past `maxHead` bytes without ending; nothing more is read. */
  overflow = false;

  constructor(
    readonly events: FramerEvents,
    readonly options: { holdHeads: boolean; maxHead: number; rewriteHead?: (head: Uint8Array) => Uint8Array },
  ) {}

  get phase(): FramerPhase {
    return this.#phase;
  }

  /** Stops following the stream (after an upgrade); returns a held partial head, to pass on. */
  giveUp(): Uint8Array[] {
    const held = this.#phase === "head" && this.options.holdHeads ? [this.#joinHead()] : [];
    this.#phase = "opaque";
    this.#head = [];
    this.#headSize = 0;
    return held;
  }

  /** Reads `chunk`; returns what may be passed on (possibly sharing `chunk`'s memory). */
  feed(chunk: Uint8Array): Uint8Array[] {
    const hold = this.options.holdHeads;
    const out: Uint8Array[] = [];
    let at = 0;
    /** Start of the bytes not yet passed on (with `hold`). */
    let passFrom = 0;
    while (at < chunk.length) {
      switch (this.#phase) {
        case "opaque":
        case "until_close":
          at = chunk.length;
          break;
        case "idle":
          // Blank lines between messages are allowed (RFC 9112 §2.2): they pass.
          if (chunk[at] === CR || chunk[at] === LF) {
            at++;
            break;
          }
          this.#phase = "head";
          if (hold) {
            if (at > passFrom) out.push(chunk.subarray(passFrom, at));
            passFrom = at;
          }
          break;
        case "head": {
          const end = this.#findHeadEnd(chunk, at);
          const stop = end === -1 ? chunk.length : end;
          this.#headSize += stop - at;
          if (this.#headSize > this.options.maxHead) {
            this.overflow = true;
            return out;
          }
          this.#head.push(chunk.slice(at, stop));
          at = stop;
          if (end === -1) break;
          const bytes = this.#joinHead();
          this.#head = [];
          this.#headSize = 0;
          if (hold) {
            out.push(this.options.rewriteHead ? this.options.rewriteHead(bytes) : bytes);
            passFrom = at;
          }
          const head = parseHead(bytes);
          this.#startBody(head ? this.events.head(head) : { kind: "opaque" });
          break;
        }
        case "length":
        case "chunk_data": {
          const take = Math.min(this.#remaining, chunk.length - at);
          at += take;
          this.#remaining -= take;
          if (this.#remaining > 0) break;
          if (this.#phase === "length") this.#endMessage();
          else this.#phase = "chunk_end";
          break;
        }
        case "chunk_size":
        case "chunk_end":
        case "trailer": {
          const lf = chunk.indexOf(LF, at);
          const stop = lf === -1 ? chunk.length : lf;
          this.#line += latin1.decode(chunk.subarray(at, stop));
          at = lf === -1 ? chunk.length : lf + 1;
          if (this.#line.length > 4096) this.#phase = "opaque";
          else if (lf !== -1) this.#endLine();
          break;
        }
      }
    }
    const holding = hold && this.#phase === "head";
    if (!holding && passFrom < chunk.length) out.push(hold ? chunk.subarray(passFrom) : chunk);
    return out;
  }

  /** Index just past the blank line that ends the head (LF LF or LF CR LF), or -1; looks back into held bytes. */
  #findHeadEnd(chunk: Uint8Array, from: number): number {
    const tail = this.#tail(2);
    const byteAt = (i: number) => (i >= from ? chunk[i] : tail[tail.length - (from - i)]);
    const first = from - tail.length;
    for (let i = from; i < chunk.length; i++) {
      if (chunk[i] !== LF) continue;
      if (i - 1 >= first && byteAt(i - 1) === LF) return i + 1;
      if (i - 2 >= first && byteAt(i - 1) === CR && byteAt(i - 2) === LF) return i + 1;
    }
    return -1;
  }

  /** The last `n` (at most) bytes of the head held so far. */
  #tail(n: number): number[] {
    const out: number[] = [];
    for (let i = this.#head.length - 1; i >= 0 && out.length < n; i--) {
      const piece = this.#head[i];
      for (let j = piece.length - 1; j >= 0 && out.length < n; j--) out.unshift(piece[j]);
    }
    return out;
  }

  #joinHead(): Uint8Array {
    const all = new Uint8Array(this.#headSize);
    let at = 0;
    for (const p of this.#head) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  }

  #startBody(framing: BodyFraming): void {
    switch (framing.kind) {
      case "none":
        this.#endMessage();
        return;
      case "length":
        this.#remaining = framing.length;
        this.#phase = "length";
        return;
      case "chunked":
        this.#line = "";
        this.#phase = "chunk_size";
        return;
      case "until_close":
      case "opaque":
        this.#phase = framing.kind;
        return;
    }
  }

  #endLine(): void {
    const line = this.#line.replace(/\r$/, "");
    this.#line = "";
    if (this.#phase === "chunk_end") {
      this.#phase = "chunk_size";
    } else if (this.#phase === "trailer") {
      if (line === "") this.#endMessage();
    } else {
      const size = line.split(";")[0].trim();
      if (!/^[0-9a-fA-F]{1,15}$/.test(size)) {
        this.#phase = "opaque";
        return;
      }
      this.#remaining = parseInt(size, 16);
      this.#phase = this.#remaining === 0 ? "trailer" : "chunk_data";
    }
  }

  #endMessage(): void {
    this.#phase = "idle";
    this.events.end?.();
  }
}

/**
 * Request header the front adds with the client's address (`Deno.serve` behind it only sees the
 * Unix socket). A copy sent by the client is removed first, so the app can trust it.
 */
export const PEER_HEADER = "x-front-peer-address";
const PEER_PREFIX = new TextEncoder().encode(`${PEER_HEADER}:`);

function isPeerLine(head: Uint8Array, from: number): boolean {
  for (let i = 0; i < PEER_PREFIX.length; i++) {
    const b = head[from + i];
    if (b === undefined || (b | 0x20) !== (PEER_PREFIX[i] | 0x20)) return false;
  }
  return true;
}

/** `head` with every `x-front-peer-address` line removed and one naming `address` after the start line. */
export function withPeerHeader(head: Uint8Array, address: string): Uint8Array {
  const parts: Uint8Array[] = [];
  let at = 0;
  let first = true;
  while (at < head.length) {
    const lf = head.indexOf(LF, at);
    const end = lf === -1 ? head.length : lf + 1;
    if (first) {
      parts.push(head.subarray(at, end), new TextEncoder().encode(`${PEER_HEADER}: ${address}\r\n`));
      first = false;
    } else if (!isPeerLine(head, at)) {
      parts.push(head.subarray(at, end));
    }
    at = end;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Settings of {@link serveWithHeaderTimeout}. */
export interface HeaderTimeoutServeOptions {
  hostname: string;
  port: number;
  /** How long a complete request head may take (see the module comment). */
  headerTimeoutMs: number;
  onListen?: (addr: Deno.NetAddr) => void;
}

/** A running server. */
export interface GuardedServer {
  /** The address clients connect to. */
  addr: Deno.NetAddr;
  /** Stops accepting; in-flight requests finish and their responses reach the clients; then every connection closes. */
  shutdown(): Promise<void>;
}

/** A complete HTTP/1.1 error response with a JSON body that closes the connection. */
function closingResponse(status: string, error: string, message: string): Uint8Array {
  const body = JSON.stringify({ error, message });
  return new TextEncoder().encode(
    `HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-type: application/json\r\n` +
      `content-length: ${body.length}\r\n\r\n${body}`,
  );
}

const REQUEST_TIMEOUT = closingResponse(
  "408 Request Timeout",
  "request_timeout",
  "The request line and headers did not arrive in time.",
);
const HEAD_TOO_LARGE = closingResponse(
  "431 Request Header Fields Too Large",
  "header_too_large",
  `The request line and headers are larger than ${MAX_HEAD_BYTES / 1024} KiB.`,
);
/** Read buffer sizes: requests are small; responses get more room. */
const REQUEST_READ_BYTES = 8 * 1024;
const RESPONSE_READ_BYTES = 16 * 1024;

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}

/**
 * Serves `handler` with `Deno.serve` behind the header-read timeout front (see the module
 * comment) on `hostname:port`.
 */
export async function serveWithHeaderTimeout(
  options: HeaderTimeoutServeOptions,
  handler: Deno.ServeHandler<Deno.Addr>,
): Promise<GuardedServer> {
  const abort = new AbortController();
  let dir: string | null = null;
  let app: Deno.HttpServer<Deno.Addr> | null = null;
  let listener: Deno.TcpListener;
  try {
    dir = await Deno.makeTempDir({ prefix: "http-front-" });
    // The app sees the client's address (from the front's header) as its remote address. Requests over
    // the Unix socket have `http+unix:` URLs, whose origin is "null": give the app the URL the client
    // used (same-origin checks and redirect URLs compare origins).
    const behindFront: Deno.ServeHandler<Deno.Addr> = (req, info) => {
      const hostname = req.headers.get(PEER_HEADER);
      // The Request constructor refuses TRACE, TRACK and CONNECT: those keep their http+unix URL (the
      // app answers them 405 with Allow by path alone).
      const rewrite = req.url.startsWith("http+unix:") && !FORBIDDEN_METHODS.has(req.method.toUpperCase());
      const request = rewrite ? new Request(`http:${req.url.slice(10)}`, req) : req;
      return handler(request, hostname ? { ...info, remoteAddr: { transport: "tcp", hostname, port: 0 } } : info);
    };
    app = Deno.serve({ path: `${dir}/app.sock`, signal: abort.signal, onListen: () => {} }, behindFront);
    listener = Deno.listen({ hostname: options.hostname, port: options.port });
  } catch (err) {
    abort.abort();
    await app?.finished;
    if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    if (err instanceof Deno.errors.AddrInUse || err instanceof Deno.errors.AddrNotAvailable) throw err;
    // No temp dir, Unix socket or raw listener here (e.g. Deno Deploy, whose own proxy bounds request
    // heads): serve directly.
    console.warn(`The header-read timeout is not available here (${(err as Error).name}); serving directly.`);
    const server = Deno.serve({ hostname: options.hostname, port: options.port, onListen: () => {} }, handler);
    options.onListen?.(server.addr);
    return { addr: server.addr, shutdown: () => server.shutdown() };
  }
  const socketDir = dir;
  const path = `${socketDir}/app.sock`;
  const open = new Set<GuardedConnection>();
  const addr = listener.addr;
  options.onListen?.(addr);
  const accepting = (async () => {
    for await (const conn of listener) {
      const guarded = guardConnection(conn, path, options.headerTimeoutMs, () => open.delete(guarded));
      open.add(guarded);
    }
  })().catch(() => {});
  return {
    addr,
    async shutdown() {
      try {
        listener.close();
      } catch { /* already closed */ }
      await accepting;
      // Graceful: the app finishes its in-flight requests and then closes its side of each
      // connection, and the front relays every response to its end before closing the client's.
      // Connections with nothing sent to the app yet are closed at once.
      const drained = app.shutdown();
      for (const c of [...open]) if (!c.relaying()) c.close();
      await drained;
      while (open.size) await new Promise((r) => setTimeout(r, 10));
      await Deno.remove(socketDir, { recursive: true }).catch(() => {});
    },
  };
}

/** A client connection the front relays. */
interface GuardedConnection {
  close(): void;
  /** Whether it reached the app (a response may be on its way back). */
  relaying(): boolean;
}

/** Runs one client connection through the front. */
function guardConnection(
  client: Deno.Conn,
  path: string,
  timeoutMs: number,
  onClosed: () => void,
): GuardedConnection {
  let upstream: Deno.Conn | null = null;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Requests whose head went to the app and whose final response has not ended. */
  let outstanding = 0;
  const methods: string[] = [];
  /** The response being read is a final one (not 1xx). */
  let finalPending = false;

  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    for (const c of [client, upstream]) {
      try {
        c?.close();
      } catch { /* already closed */ }
    }
    onClosed();
  };
  /** Set for HTTP/2 prior knowledge, which the front cannot time (see the module comment). */
  let refused = false;
  const requests = new MessageFramer({
    head(head) {
      if (head.startLine.startsWith("PRI * HTTP/2")) {
        refused = true;
        return { kind: "opaque" };
      }
      outstanding++;
      methods.push(head.startLine.split(" ")[0]);
      return requestFraming(head);
    },
  }, {
    holdHeads: true,
    maxHead: MAX_HEAD_BYTES,
    rewriteHead: (head) => withPeerHeader(head, (client.remoteAddr as Deno.NetAddr).hostname),
  });
  const responses = new MessageFramer({
    head(head) {
      const framing = responseFraming(head, methods[0]);
      if (head.startLine.split(" ")[1] === "101") {
        for (const bytes of requests.giveUp()) if (upstream) void writeAll(upstream, bytes).catch(close);
      }
      if (!framing.final) return { kind: "none" };
      finalPending = true;
      return framing;
    },
    end() {
      if (!finalPending) return;
      finalPending = false;
      outstanding--;
      methods.shift();
    },
  }, { holdHeads: false, maxHead: 1024 * 1024 });

  /** Arms the clock while the client owes a head (see the module comment); disarms it otherwise. */
  const update = () => {
    const phase = requests.phase;
    const owesHead = phase === "head" || (phase === "idle" && outstanding === 0);
    if (closed || !owesHead || responses.phase === "opaque") {
      clearTimeout(timer);
      timer = undefined;
    } else if (timer === undefined) {
      timer = setTimeout(async () => {
        if (requests.phase === "head" && outstanding === 0) await writeAll(client, REQUEST_TIMEOUT).catch(() => {});
        close();
      }, timeoutMs);
    }
  };

  const pumpResponses = async (up: Deno.Conn) => {
    const buf = new Uint8Array(RESPONSE_READ_BYTES);
    try {
      while (true) {
        const n = await up.read(buf);
        if (n === null) break;
        const bytes = buf.subarray(0, n);
        responses.feed(bytes);
        if (responses.overflow) break;
        update();
        await writeAll(client, bytes);
      }
    } catch { /* either side went away */ }
    close();
  };

  (async () => {
    const buf = new Uint8Array(REQUEST_READ_BYTES);
    update();
    try {
      while (!closed) {
        const n = await client.read(buf);
        if (n === null) break;
        const pass = requests.feed(buf.subarray(0, n));
        if (refused) break;
        if (requests.overflow) {
          if (outstanding === 0) await writeAll(client, HEAD_TOO_LARGE).catch(() => {});
          close();
          return;
        }
        update();
        for (const bytes of pass) {
          if (!upstream) {
            upstream = await Deno.connect({ transport: "unix", path });
            void pumpResponses(upstream);
          }
          await writeAll(upstream, bytes);
        }
      }
      // The client finished sending: let the app answer what it has, then close.
      if (upstream && !closed && !refused) await (upstream as Deno.UnixConn).closeWrite();
      else close();
    } catch {
      close();
    }
  })();
  return { close, relaying: () => upstream !== null && !closed };
}
