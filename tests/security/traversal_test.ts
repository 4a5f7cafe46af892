/** The outside probe's file-read hole, against the whole app over real HTTP (issue 10, item 1). */
import assert from "node:assert/strict";
import { startTestApp } from "../app_fixture.ts";

async function rawGet(baseUrl: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(baseUrl);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  await conn.write(new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (let n; (n = await conn.read(buf)) !== null;) chunks.push(buf.slice(0, n));
  conn.close();
  const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  return { status: Number(text.split(" ")[1]), body: text.slice(text.indexOf("\r\n\r\n") + 4) };
}

Deno.test("[security] no path reaches the environment, deno.json or the KV file, signed in or not", async () => {
  const t = await startTestApp({ serve: true, env: { DEV_LOGIN: "0" } });
  try {
    const up = (n: number, enc: string) => Array(n).fill(`${enc}/`).join("");
    const paths = [
      `/${up(4, "%252e%252e")}proc/self/environ`,
      `/${up(6, "%25252e%25252e")}proc/self/environ`,
      `/${up(4, "..%252f").replaceAll("/", "")}proc/self/environ`,
      "/%252e%252e/deno.json",
      "/%2e%2e/deno.json",
      "/..%2fdeno.json",
      "/..%5cdeno.json",
      "/%c0%ae%c0%ae/deno.json",
      "/%252e%252e/data/app.kv",
      "/%2fproc%2fself%2fenviron",
      "/favicon.svg%00.txt",
    ];
    for (const path of paths) {
      const res = await rawGet(t.baseUrl, path);
      assert.ok(res.status >= 400 && res.status < 500, `${path} → ${res.status}`);
      assert.ok(!/PATH=|HOME=|"tasks"|SQLite format/.test(res.body), `${path} leaked a file`);
    }
    const icon = await rawGet(t.baseUrl, "/favicon.svg");
    assert.equal(icon.status, 200);
    assert.match(icon.body, /<svg/);
  } finally {
    await t.close();
  }
});
