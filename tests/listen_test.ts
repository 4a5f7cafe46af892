/**
 * main.ts as deployed: it listens on HOST:PORT only, and its header-read timeout
 * (HEADER_TIMEOUT_MS) closes connections whose request head is late.
 */
import assert from "node:assert/strict";
import { spawnApp } from "./kafka/relay_fixture.ts";

const enc = new TextEncoder();

/** An IPv4 address of this machine other than loopback, if it has one. */
function otherAddress(): string | null {
  return Deno.networkInterfaces().find((i) => i.family === "IPv4" && !i.address.startsWith("127."))?.address ?? null;
}

async function readToEnd(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(4096);
  let text = "";
  try {
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
  } catch { /* reset: closed too */ }
  return text;
}

Deno.test("[server] main.ts listens on HOST only and answers a late request head with 408 (HEADER_TIMEOUT_MS)", async () => {
  const dir = await Deno.makeTempDir();
  const app = await spawnApp({
    HOST: "127.0.0.1",
    HEADER_TIMEOUT_MS: "500",
    DENO_KV_PATH: `${dir}/app.kv`,
    SEED_DEMO: "0",
    DEV_LOGIN: "0",
  });
  try {
    const port = Number(new URL(app.baseUrl).port);
    assert.match(app.output(), new RegExp(`Listening on http://127\\.0\\.0\\.1:${port}/`));
    const other = otherAddress();
    if (other) {
      await assert.rejects(Deno.connect({ hostname: other, port }), /refused/i, `not listening on ${other}`);
    }
    const slow = await Deno.connect({ hostname: "127.0.0.1", port });
    await slow.write(enc.encode("GET /health HTTP/1.1\r\nHost: x\r\n"));
    assert.match(await readToEnd(slow), /^HTTP\/1\.1 408 /);
    slow.close();
    const health = await fetch(`${app.baseUrl}/health`);
    assert.equal(health.status, 200);
    assert.equal((await health.json()).status, "ok");
  } finally {
    await app.kill("SIGTERM");
    await Deno.remove(dir, { recursive: true });
  }
});
