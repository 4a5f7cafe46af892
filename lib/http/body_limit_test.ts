import assert from "node:assert/strict";
import { Hono } from "hono";
import { countingBody } from "../../tests/counting_body.ts";
import { bodyLimit } from "./body_limit.ts";

function post(path: string, body: BodyInit, headers: Record<string, string> = {}): Request {
  return new Request(`http://test${path}`, { method: "POST", body, headers });
}

/** An app with the limits as lib/app.ts sets them (smaller numbers), echoing the body size it got. */
function app(): Hono {
  const a = new Hono();
  a.use("/api/webhooks/*", bodyLimit(8 * 1024, { format: "json" }));
  a.use("/api/*", bodyLimit(4 * 1024, { format: "json" }));
  a.use("*", bodyLimit(2 * 1024, { format: "html" }));
  a.all("*", async (c) => {
    if (c.req.method === "GET") return c.text(c.req.raw.body ? "body" : "no body");
    const form = c.req.header("content-type")?.startsWith("application/x-www-form-urlencoded")
      ? Object.fromEntries(await c.req.raw.formData())
      : null;
    const size = form ? null : (await c.req.raw.arrayBuffer()).byteLength;
    return c.json({ size, form });
  });
  return a;
}

Deno.test("[http] bodyLimit hands a body within the limit to the handler whole", async () => {
  const a = app();
  const form = await a.fetch(
    post("/dev/sign-in", "email=ann%40example.com&next=%2F", { "content-type": "application/x-www-form-urlencoded" }),
  );
  assert.deepEqual(await form.json(), { size: null, form: { email: "ann@example.com", next: "/" } });
  const { stream } = countingBody(2 * 1024);
  const streamed = await a.fetch(post("/dev/sign-in", stream));
  assert.deepEqual(await streamed.json(), { size: 2048, form: null });
  const empty = await a.fetch(post("/api/v1/x", ""));
  assert.deepEqual(await empty.json(), { size: 0, form: null });
});

Deno.test("[http] bodyLimit refuses a declared Content-Length over the limit without reading the body", async () => {
  const { stream, stats } = countingBody(1024 * 1024);
  const res = await app().fetch(post("/api/v1/x", stream, { "content-length": String(1024 * 1024) }));
  assert.equal(res.status, 413);
  assert.deepEqual(await res.json(), {
    error: "payload_too_large",
    message: "The request body is larger than 4096 bytes.",
  });
  assert.ok(stats.pulls <= 1, `pulled ${stats.pulls} times`);
  assert.ok(stats.cancelled);
});

Deno.test("[http] bodyLimit stops reading a streamed body as soon as it passes the limit", async () => {
  const { stream, stats } = countingBody(1024 * 1024);
  const res = await app().fetch(post("/dev/sign-in", stream));
  assert.equal(res.status, 413);
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
  assert.match(await res.text(), /That form was too large.*at most 2 KiB/);
  // 2 KiB limit, 1 KiB chunks: the third chunk passes it and nothing more is pulled.
  assert.ok(stats.pulls <= 4, `pulled ${stats.pulls} times`);
  assert.equal(stats.sent, 3 * 1024);
  assert.ok(stats.cancelled);
});

Deno.test("[http] bodyLimit: the first limit that applies to a request decides", async () => {
  const a = app();
  const webhook = await a.fetch(post("/api/webhooks/calcom/booking", "x".repeat(6 * 1024)));
  assert.deepEqual(await webhook.json(), { size: 6 * 1024, form: null });
  const api = await a.fetch(post("/api/v1/x", "x".repeat(6 * 1024)));
  assert.equal(api.status, 413);
  await api.body?.cancel();
  const page = await a.fetch(post("/dev/sign-in", "x".repeat(3 * 1024)));
  assert.equal(page.status, 413);
  await page.body?.cancel();
});

Deno.test("[http] bodyLimit lets requests without a body through untouched", async () => {
  const res = await app().fetch(new Request("http://test/sessions/x/seats"));
  assert.equal(await res.text(), "no body");
});
