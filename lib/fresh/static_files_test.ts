import assert from "node:assert/strict";
import { Hono } from "hono";
import { serveStaticDir, staticFilePath } from "./static_files.ts";

/** A static root with a file inside, a secret beside it, and symlinks pointing out of it. */
async function fixture() {
  const top = await Deno.makeTempDir();
  await Deno.mkdir(`${top}/static/sub`, { recursive: true });
  await Deno.writeTextFile(`${top}/static/ok.txt`, "public");
  await Deno.writeTextFile(`${top}/static/sub/nested.txt`, "nested");
  await Deno.writeTextFile(`${top}/secret.txt`, "SECRET");
  await Deno.symlink(`${top}/secret.txt`, `${top}/static/link.txt`);
  await Deno.symlink(top, `${top}/static/up`);
  await Deno.symlink("/etc", `${top}/static/etc`);
  const app = new Hono();
  app.use("*", serveStaticDir(new URL(`file://${top}/static/`)));
  app.all("*", (c) => c.text("fallthrough", 404));
  return { top, app };
}

const ESCAPES = [
  "/%2e%2e/secret.txt",
  "/%252e%252e/secret.txt",
  "/%25252e%25252e/secret.txt",
  "/%252e%252e/%252e%252e/%252e%252e/%252e%252e/proc/self/environ",
  "/..%2fsecret.txt",
  "/%2e%2e%2fsecret.txt",
  "/%252e%252e%252fsecret.txt",
  "/..%5csecret.txt",
  "/%5c..%5csecret.txt",
  "/..\\secret.txt",
  "/%c0%ae%c0%ae/secret.txt",
  "/%c0%ae%c0%ae%c0%afsecret.txt",
  "/%e0%80%ae%e0%80%ae/secret.txt",
  "/ok.txt%00",
  "/ok.txt%00.png",
  "//etc/passwd",
  "/%2fetc%2fpasswd",
  "/%2f%2e%2e/secret.txt",
  "/sub/../../secret.txt",
  "/link.txt",
  "/up/secret.txt",
  "/etc/passwd",
  "/%75p/secret.txt",
];

Deno.test("[static] staticFilePath refuses every traversal form before touching the disk", () => {
  for (const raw of ESCAPES.filter((p) => !p.startsWith("/link") && !p.startsWith("/up") && !p.startsWith("/etc/"))) {
    if (raw === "/%75p/secret.txt") continue; // decodes to a plain path; the real-path check refuses it
    assert.equal(staticFilePath("/srv/static", raw), null, raw);
  }
  assert.equal(staticFilePath("/srv/static", "/./ok.txt"), null);
  assert.equal(staticFilePath("/srv/static", "/ok.txt"), "/srv/static/ok.txt");
  assert.equal(staticFilePath("/srv/static", "/sub/nested%20file.txt"), "/srv/static/sub/nested file.txt");
});

Deno.test("[static] serves files inside the root and falls through for every escape, over real HTTP", async () => {
  const { top, app } = await fixture();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
  const port = (server.addr as Deno.NetAddr).port;
  // Raw request lines: a client such as `curl --path-as-is` sends the path exactly as written.
  async function rawGet(path: string): Promise<{ status: number; body: string }> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let text = "";
    const buf = new Uint8Array(65536);
    for (let n; (n = await conn.read(buf)) !== null;) text += new TextDecoder().decode(buf.subarray(0, n));
    conn.close();
    return { status: Number(text.split(" ")[1]), body: text.slice(text.indexOf("\r\n\r\n") + 4) };
  }
  try {
    assert.deepEqual(await rawGet("/ok.txt"), { status: 200, body: "public" });
    assert.deepEqual(await rawGet("/sub/nested.txt"), { status: 200, body: "nested" });
    for (const path of ESCAPES) {
      const res = await rawGet(path);
      assert.ok(res.status === 404 || res.status === 400, `${path} → ${res.status}`);
      assert.ok(!res.body.includes("SECRET") && !res.body.includes("root:"), `${path} leaked a file`);
    }
    const viaFetch = await app.fetch(new Request("http://x/%252e%252e/secret.txt"));
    assert.equal(viaFetch.status, 404);
    assert.equal(await viaFetch.text(), "fallthrough");
  } finally {
    await server.shutdown();
    await Deno.remove(top, { recursive: true });
  }
});
