import assert from "node:assert/strict";
import { createFixtureApp, fetchPage } from "./fixture_app.ts";

const { app } = await createFixtureApp();

/** Text content of the element with `id` in `html` (first match). */
function textOf(html: string, id: string): string | undefined {
  const match = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(html);
  return match?.[1];
}

Deno.test("[fresh] index and [id] routes receive params and route pattern", async () => {
  const home = await fetchPage(app, "/");
  assert.equal(home.status, 200);
  assert.match(home.text, /<h1 class="text-3xl font-bold">Home<\/h1>/);
  const user = await fetchPage(app, "/users/42");
  assert.equal(user.status, 200);
  assert.equal(textOf(user.text, "user"), "user:42");
  assert.match(user.text, /data-route="\/users\/:id"/);
  const encoded = await fetchPage(app, "/users/a%20b");
  assert.equal(textOf(encoded.text, "user"), "user:a b");
});

Deno.test("[fresh] static route beats the dynamic one that sorts first", async () => {
  const res = await fetchPage(app, "/users/new");
  assert.equal(textOf(res.text, "new"), "new user form");
  assert.ok(!res.text.includes('id="user"'));
});

Deno.test("[fresh] [...rest] catches the remaining path, including none", async () => {
  assert.equal(textOf((await fetchPage(app, "/docs/a/b/c")).text, "rest"), "rest:a/b/c");
  assert.equal(textOf((await fetchPage(app, "/docs/intro")).text, "rest"), "rest:intro");
  assert.equal(textOf((await fetchPage(app, "/docs")).text, "rest"), "rest:");
});

Deno.test("[fresh] (group) folders are transparent and scope their layout", async () => {
  const pricing = await fetchPage(app, "/pricing");
  assert.equal(pricing.status, 200);
  assert.match(
    pricing.text,
    /<div data-layout="root"><section data-layout="marketing"><p id="pricing">/,
  );
  assert.equal((await fetchPage(app, "/(marketing)/pricing")).status, 404);
  const user = await fetchPage(app, "/users/1");
  assert.ok(!user.text.includes("marketing"));
});

Deno.test("[fresh] _app wraps _layouts, nested outer to inner", async () => {
  const admin = await fetchPage(app, "/admin");
  assert.match(
    admin.text,
    /<body class="bg-white"><div data-layout="root"><div data-layout="admin"><p id="trail">/,
  );
  assert.match(admin.text, /<link rel="icon" href="data:,"\/>/);
});

Deno.test("[fresh] skipAppWrapper and skipInheritedLayouts are honoured", async () => {
  const bare = await fetchPage(app, "/admin/bare");
  assert.equal(bare.status, 200);
  assert.ok(!bare.text.includes("data-layout"));
  assert.ok(!bare.text.includes("bg-white"), "no _app");
  assert.match(bare.text, /^<!DOCTYPE html><html lang="en"><head>.*<body><p id="bare">bare<\/p><\/body><\/html>$/s);
});

Deno.test("[fresh] middlewares run outer first and share ctx.state", async () => {
  const admin = await fetchPage(app, "/admin");
  assert.equal(textOf(admin.text, "trail"), "root>admin");
  assert.equal(admin.headers.get("x-trail"), "root>admin");
  const home = await fetchPage(app, "/");
  assert.equal(home.headers.get("x-trail"), "root");
  // Middlewares also see requests that end in a 404.
  const missing = await fetchPage(app, "/admin/nothing-here");
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get("x-trail"), "root>admin");
});

Deno.test("[fresh] routes the caller registered first keep working untouched", async () => {
  const health = await fetchPage(app, "/health");
  assert.equal(health.status, 200);
  assert.equal(health.text, "ok");
  assert.equal(health.headers.get("x-trail"), null, "no fresh middleware ran");
});

Deno.test("[fresh] handler-only .ts routes answer per method; others get 405", async () => {
  const get = await fetchPage(app, "/api/data");
  assert.equal(get.status, 200);
  assert.deepEqual(JSON.parse(get.text), { ok: true });
  const post = await fetchPage(app, "/api/data", {
    method: "POST",
    body: JSON.stringify({ a: 1 }),
  });
  assert.equal(post.status, 201);
  assert.deepEqual(JSON.parse(post.text), { a: 1 });
  const put = await fetchPage(app, "/api/data", { method: "PUT" });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get("allow"), "GET, POST, HEAD");
  const pagePost = await fetchPage(app, "/users/1", { method: "POST" });
  assert.equal(pagePost.status, 405);
  assert.equal(pagePost.headers.get("allow"), "GET, HEAD");
});

Deno.test("[fresh] HEAD is answered by GET without a body", async () => {
  const head = await fetchPage(app, "/users/9", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.text, "");
  assert.match(head.headers.get("content-type")!, /^text\/html/);
});

Deno.test("[fresh] handlers render with data and ResponseInit", async () => {
  const get = await fetchPage(app, "/form?name=Ada");
  assert.equal(textOf(get.text, "name"), "name:Ada");
  const body = new FormData();
  body.set("name", "Grace");
  const post = await fetchPage(app, "/form", { method: "POST", body });
  assert.equal(post.status, 201);
  assert.equal(textOf(post.text, "name"), "name:Grace");
});

Deno.test("[fresh] async route components and routeOverride work", async () => {
  assert.equal(textOf((await fetchPage(app, "/async-page")).text, "async"), "async:/async-page");
  assert.equal(textOf((await fetchPage(app, "/custom/abc")).text, "slug"), "slug:abc");
  assert.equal((await fetchPage(app, "/override")).status, 404);
});

Deno.test("[fresh] unknown URLs render _404 with status 404", async () => {
  const res = await fetchPage(app, "/no/such/page");
  assert.equal(res.status, 404);
  assert.match(res.text, /<h1>Custom 404<\/h1>/);
  assert.equal(textOf(res.text, "missing"), "/no/such/page");
  assert.match(res.text, /data-layout="root"/, "404 page gets the root layout");
  const gone = await fetchPage(app, "/gone");
  assert.equal(gone.status, 404);
  assert.equal(textOf(gone.text, "reason"), "gone for good");
});

Deno.test("[fresh] a throwing handler renders _500 with the error and logs it", async () => {
  const logged: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    const res = await fetchPage(app, "/boom");
    assert.equal(res.status, 500);
    assert.match(res.text, /<h1>Custom 500<\/h1>/);
    assert.equal(textOf(res.text, "error"), "kaboom");
  } finally {
    console.error = original;
  }
  assert.equal(logged.length, 1);
  assert.ok(logged[0].some((a) => a instanceof Error && a.message === "kaboom"));
});

Deno.test("[fresh] static files are served from static/ with a content type", async () => {
  const res = await fetchPage(app, "/robots.txt");
  assert.equal(res.status, 200);
  assert.equal(res.text, "User-agent: *\n");
  assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
  const etag = res.headers.get("etag")!;
  const again = await fetchPage(app, "/robots.txt", { headers: { "if-none-match": etag } });
  assert.equal(again.status, 304);
  assert.equal((await fetchPage(app, "/../fresh.gen.ts")).status, 404);
  assert.equal((await fetchPage(app, "/%2e%2e/fresh.gen.ts")).status, 404);
});
