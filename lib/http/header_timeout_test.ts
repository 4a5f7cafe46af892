import assert from "node:assert/strict";
import {
  type GuardedServer,
  MessageFramer,
  type MessageHead,
  parseHead,
  PEER_HEADER,
  requestFraming,
  responseFraming,
  serveWithHeaderTimeout,
  withPeerHeader,
} from "./header_timeout.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Feeds `text` in pieces of `size` bytes; returns the heads seen, messages ended and bytes passed on. */
function frame(text: string, size: number) {
  const heads: string[] = [];
  let ends = 0;
  const framer = new MessageFramer({
    head(h) {
      heads.push(h.startLine);
      return requestFraming(h);
    },
    end: () => ends++,
  }, { holdHeads: true, maxHead: 1024 });
  const bytes = enc.encode(text);
  let passed = "";
  for (let i = 0; i < bytes.length; i += size) {
    for (const piece of framer.feed(bytes.slice(i, i + size))) passed += dec.decode(piece);
  }
  return { heads, ends, passed, phase: framer.phase };
}

Deno.test("[http] the framer follows pipelined heads, Content-Length and chunked bodies split at any byte", () => {
  const stream = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n" +
    "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
    "\r\n" + // a stray blank line between messages is allowed
    "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n" +
    "GET /d HTTP/1.1\nHost: x\n\n" + // bare LF line ends
    "GET /e HTTP/1.1\r\nHost: x\r\n";
  for (const size of [1, 2, 3, 7, 64, stream.length]) {
    const out = frame(stream, size);
    assert.deepEqual(
      out.heads,
      ["GET /a HTTP/1.1", "POST /b HTTP/1.1", "POST /c HTTP/1.1", "GET /d HTTP/1.1"],
      `${size}`,
    );
    assert.equal(out.ends, 4, `${size}`);
    assert.equal(out.phase, "head", "the last head is incomplete");
    assert.equal(out.passed, stream.slice(0, stream.indexOf("GET /e")), `the incomplete head is held (${size})`);
  }
  const bad = frame("POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\nhello", 4);
  assert.equal(bad.phase, "opaque", "an unframeable body is passed through, not guessed");
  assert.equal(bad.passed, "POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\nhello");
  const big = new MessageFramer({ head: () => ({ kind: "none" }) }, { holdHeads: true, maxHead: 100 });
  big.feed(enc.encode(`GET / HTTP/1.1\r\nX: ${"a".repeat(200)}`));
  assert.equal(big.overflow, true);
});

Deno.test("[http] response framing: HEAD, 204, 304 and 1xx have no body; no length means until close", () => {
  const head = (startLine: string, fields: Record<string, string> = {}): MessageHead =>
    parseHead(enc.encode(`${startLine}\r\n${Object.entries(fields).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`))!;
  assert.deepEqual(responseFraming(head("HTTP/1.1 200 OK", { "content-length": "10" }), "HEAD"), {
    kind: "none",
    final: true,
  });
  assert.equal(responseFraming(head("HTTP/1.1 204 No Content"), "GET").kind, "none");
  assert.equal(responseFraming(head("HTTP/1.1 304 Not Modified", { "content-length": "9" }), "GET").kind, "none");
  assert.deepEqual(responseFraming(head("HTTP/1.1 100 Continue"), "POST"), { kind: "none", final: false });
  assert.deepEqual(responseFraming(head("HTTP/1.1 101 Switching Protocols"), "GET"), { kind: "opaque", final: true });
  assert.equal(responseFraming(head("HTTP/1.1 200 OK", { "transfer-encoding": "chunked" }), "GET").kind, "chunked");
  assert.deepEqual(responseFraming(head("HTTP/1.1 200 OK", { "Content-Length": "12" }), "GET"), {
    kind: "length",
    length: 12,
    final: true,
  });
  assert.equal(responseFraming(head("HTTP/1.1 200 OK"), "GET").kind, "until_close");
});

/** Reads a connection until the server closes it; returns what came. */
async function readToEnd(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(4096);
  let text = "";
  try {
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += dec.decode(buf.subarray(0, n));
    }
  } catch { /* reset by the server: closed as well */ }
  return text;
}

/** Reads until `text` has arrived (or the connection ends). */
async function readUntil(conn: Deno.Conn, predicate: (text: string) => boolean): Promise<string> {
  const buf = new Uint8Array(4096);
  let text = "";
  while (!predicate(text)) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += dec.decode(buf.subarray(0, n));
  }
  return text;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withServer(
  headerTimeoutMs: number,
  handler: Deno.ServeHandler<Deno.Addr>,
  fn: (server: GuardedServer, url: string) => Promise<void>,
): Promise<void> {
  const server = await serveWithHeaderTimeout({ hostname: "127.0.0.1", port: 0, headerTimeoutMs }, handler);
  try {
    await fn(server, `http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

Deno.test("[http] 200 slowloris connections are closed with 408 once the header timeout passes; normal requests still succeed", async () => {
  const TIMEOUT = 1_000;
  await withServer(TIMEOUT, () => new Response("ok"), async (server, url) => {
    const started = Date.now();
    const attacks = Array.from({ length: 200 }, async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
      await conn.write(enc.encode("GET / HTTP/1.1\r\nHost: x\r\n"));
      let open = true;
      // Keeps trickling header bytes, never ending the head, until the server closes the connection.
      const trickle = (async () => {
        for (let i = 0; open; i++) {
          await sleep(100);
          await conn.write(enc.encode(i % 2 ? "a" : "X-")).catch(() => open = false);
        }
      })();
      const text = await readToEnd(conn);
      const closedAfter = Date.now() - started;
      open = false;
      await trickle;
      conn.close();
      return { text, closedAfter };
    });
    // A watchdog, not a timing assertion: without the guard these stay open for good.
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const stuck = new Promise<never>((_, reject) => {
      watchdog = setTimeout(() => reject(new Error("slow connections still open after 20 s")), 20_000);
    });
    try {
      const during = await fetch(`${url}/`);
      assert.equal(await during.text(), "ok", "served while 200 slow heads are pending");
      const results = await Promise.race([Promise.all(attacks), stuck]);
      for (const r of results) {
        assert.match(r.text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
        assert.match(r.text, /"error":"request_timeout"/);
        assert.ok(r.closedAfter >= TIMEOUT, `closed after ${r.closedAfter} ms, before the timeout`);
      }
    } finally {
      clearTimeout(watchdog);
    }
    const after = await fetch(`${url}/`);
    assert.equal(after.status, 200);
    assert.equal(await after.text(), "ok");
  });
});

Deno.test("[http] keep-alive, a slow answer, a long quiet stream and a slow request body are not cut by the header timeout", async () => {
  const TIMEOUT = 800;
  const handler = async (req: Request) => {
    const path = new URL(req.url).pathname;
    if (path === "/slow") {
      await sleep(TIMEOUT * 2);
      return new Response("slow done");
    }
    if (path === "/stream") {
      const body = new ReadableStream<Uint8Array>({
        async start(c) {
          c.enqueue(enc.encode("data: first\n\n"));
          await sleep(TIMEOUT * 2);
          c.enqueue(enc.encode("data: last\n\n"));
          c.close();
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    }
    if (path === "/upload") return new Response(`got ${(await req.text()).length}`);
    if (path === "/none") return new Response(null, { status: 204 });
    return new Response("ok");
  };
  await withServer(TIMEOUT, handler, async (server) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    try {
      await conn.write(enc.encode("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
      assert.match(await readUntil(conn, (t) => t.endsWith("slow done")), /^HTTP\/1\.1 200/);
      await conn.write(enc.encode("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
      const stream = await readUntil(conn, (t) => t.includes("\r\n0\r\n\r\n"));
      assert.ok(stream.includes("data: first") && stream.includes("data: last"), stream);
      // A body may take its time: only heads are timed.
      await conn.write(enc.encode("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc"));
      await sleep(TIMEOUT * 2);
      await conn.write(enc.encode("def"));
      assert.match(await readUntil(conn, (t) => t.endsWith("got 6")), /^HTTP\/1\.1 200/);
      // The same connection still takes requests, and a head sent in pieces within the limit is fine.
      await conn.write(enc.encode("GET / HTTP/1.1\r\n"));
      await sleep(50);
      await conn.write(enc.encode("Host: x\r\n\r\n"));
      assert.match(await readUntil(conn, (t) => t.endsWith("ok")), /^HTTP\/1\.1 200/);
      // Answers without a body (HEAD, 204) end where their head ends.
      await conn.write(enc.encode("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /none HTTP/1.1\r\nHost: x\r\n\r\n"));
      const bodiless = await readUntil(
        conn,
        (t) => (t.match(/HTTP\/1\.1 /g) ?? []).length === 2 && t.endsWith("\r\n\r\n"),
      );
      assert.match(bodiless, /^HTTP\/1\.1 200[^]*HTTP\/1\.1 204 /);
      // Idle after its last answer, the connection is closed quietly (no 408: nothing was asked).
      assert.equal(await readToEnd(conn), "");
    } finally {
      conn.close();
    }
    const fetched = await Promise.all(Array.from({ length: 20 }, () => fetch(`http://127.0.0.1:${server.addr.port}/`)));
    assert.deepEqual(await Promise.all(fetched.map((r) => r.text())), Array(20).fill("ok"));
  });
});

Deno.test("[http] an over-long head gets 431, an unframeable one the app's 400, cleartext HTTP/2 is refused, silence is closed", async () => {
  await withServer(300, () => new Response("ok"), async (server) => {
    const send = async (raw: string) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
      await conn.write(enc.encode(raw));
      const text = await readToEnd(conn);
      conn.close();
      return text;
    };
    assert.match(await send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello"), /^HTTP\/1\.1 400 /);
    assert.match(await send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\nhi"), /^HTTP\/1\.1 400 /);
    assert.equal(await send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), "");
    const big = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    await big.write(enc.encode(`GET / HTTP/1.1\r\nX-Big: ${"a".repeat(70 * 1024)}\r\n\r\n`)).catch(() => 0);
    assert.match(await readToEnd(big), /^HTTP\/1\.1 431 /);
    big.close();
    const silent = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    assert.equal(await readToEnd(silent), "", "closed quietly: nothing was asked");
    silent.close();
  });
});

Deno.test("[http] the server binds the host it is given, and a taken port is an error", async () => {
  await withServer(1_000, () => new Response("ok"), async (server, url) => {
    assert.equal(server.addr.hostname, "127.0.0.1");
    assert.equal(await (await fetch(url)).text(), "ok");
    await assert.rejects(
      serveWithHeaderTimeout(
        { hostname: "127.0.0.1", port: server.addr.port, headerTimeoutMs: 1_000 },
        () => new Response("no"),
      ),
      Deno.errors.AddrInUse,
    );
  });
});

Deno.test("[http] behind the front the app sees the URL the client used (not http+unix:), body and method intact", async () => {
  const handler = async (req: Request) =>
    Response.json({ url: req.url, origin: new URL(req.url).origin, method: req.method, body: await req.text() });
  await withServer(5_000, handler, async (_server, url) => {
    const res = await fetch(`${url}/a/b?c=1`, { method: "POST", body: "hello" });
    assert.deepEqual(await res.json(), { url: `${url}/a/b?c=1`, origin: url, method: "POST", body: "hello" });
  });
});

Deno.test("[http] the front hands the client's address to the app; a client's own peer header is dropped", async () => {
  const head = enc.encode("GET / HTTP/1.1\r\nHost: x\r\nX-Front-Peer-Address: 6.6.6.6\r\nAccept: */*\r\n\r\n");
  assert.equal(
    dec.decode(withPeerHeader(head, "192.0.2.1")),
    "GET / HTTP/1.1\r\nx-front-peer-address: 192.0.2.1\r\nHost: x\r\nAccept: */*\r\n\r\n",
  );
  const seen: string[] = [];
  await withServer(5_000, (req, info) => {
    seen.push(`${(info.remoteAddr as Deno.NetAddr).hostname}|${req.headers.get(PEER_HEADER)}`);
    return new Response("ok");
  }, async (_server, url) => {
    const res = await fetch(url, { headers: { [PEER_HEADER]: "6.6.6.6" } });
    assert.equal(await res.text(), "ok");
  });
  assert.deepEqual(seen, ["127.0.0.1|127.0.0.1"], "the app sees the real peer, never the client's claim");
});

Deno.test("[http] behind the front TRACE and TRACK reach the app (no 500 from the Request constructor)", async () => {
  const allow = (req: Request) =>
    new Response(null, { status: 405, headers: { allow: "GET", "x-method": req.method } });
  await withServer(5_000, allow, async (server) => {
    for (const method of ["TRACE", "TRACK"]) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
      await conn.write(new TextEncoder().encode(`${method} /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
      let text = "";
      const buf = new Uint8Array(4096);
      for (let n; (n = await conn.read(buf)) !== null;) text += new TextDecoder().decode(buf.subarray(0, n));
      conn.close();
      assert.match(text, /^HTTP\/1\.1 405 /, `${method}: ${text.split("\r\n")[0]}`);
      assert.match(text, new RegExp(`x-method: ${method}`, "i"), "the app answered it");
    }
  });
});
