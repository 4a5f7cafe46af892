import assert from "node:assert/strict";
import { signal } from "@preact/signals-core";
import { deserializeProps } from "../../lib/fresh/deserialize.ts";
import { createFixtureApp, fetchPage } from "./fixture_app.ts";

const { app, buildId } = await createFixtureApp();

function state(html: string) {
  const json = /<script type="application\/json" id="__FRSH_STATE">(.*?)<\/script>/
    .exec(html)?.[1];
  assert.ok(json, "page carries __FRSH_STATE");
  return JSON.parse(json);
}

Deno.test("[fresh] island page: markers in order, nested island unmarked", async () => {
  const { status, text } = await fetchPage(app, "/islands");
  assert.equal(status, 200);
  const markers = [...text.matchAll(/<!--(\/?frsh-[^>]*)-->/g)].map((m) => m[1]);
  assert.deepEqual(markers, [
    "frsh-Counter:0",
    "/frsh-Counter:0",
    "frsh-CountView:1",
    "/frsh-CountView:1",
    "frsh-DateView:2",
    "/frsh-DateView:2",
    "frsh-Outer:3",
    "/frsh-Outer:3",
    "frsh-Later:4",
    "/frsh-Later:4",
  ]);
  assert.match(
    text,
    /<!--frsh-Outer:3--><div id="outer">outer<button id="inner" type="button">inner:1<\/button><\/div><!--\/frsh-Outer:3-->/,
  );
});

Deno.test("[fresh] island props round trip: Date, Uint8Array, one shared signal", async () => {
  const { text } = await fetchPage(app, "/islands");
  const props = deserializeProps(state(text), (v) => signal(v));
  assert.equal(props.length, 5);
  const [counter, view, date, outer] = props as Record<string, never>[];
  assert.equal(counter.label, "Add one");
  assert.equal(counter.count, view.count, "one signal for both islands");
  assert.equal((view.count as { value: number }).value, 3);
  assert.ok((date.when as unknown) instanceof Date);
  assert.equal((date.when as Date).toISOString(), "2024-05-06T07:08:09.000Z");
  assert.deepEqual(date.bytes, new Uint8Array([1, 2, 255]));
  assert.deepEqual(outer, { title: "outer" });
});

Deno.test("[fresh] island page has one module script importing only used islands", async () => {
  const { text } = await fetchPage(app, "/islands");
  const modules = [...text.matchAll(/<script type="module">(.*?)<\/script>/g)];
  assert.equal(modules.length, 1);
  assert.equal(text.match(/<script/g)?.length, 2, "state JSON + module");
  const imports = [...modules[0][1].matchAll(/from"([^"]+)"/g)].map((m) => m[1]);
  const names = imports.map((i) => i.split("/").pop());
  assert.deepEqual(names, [
    "client.js",
    "Counter.js",
    "CountView.js",
    "DateView.js",
    "Outer.js",
    "Later.js",
  ]);
  assert.ok(imports.every((i) => i.startsWith(`/_frsh/js/${buildId}/`)));
  assert.ok(!text.includes("Inner.js"), "nested island is not imported separately");
  assert.ok(!text.includes("Echo.js"));
});

Deno.test("[fresh] modulepreload links cover entries and chunks, and all exist", async () => {
  const { text } = await fetchPage(app, "/islands");
  const links = [...text.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)]
    .map((m) => m[1]);
  assert.ok(links.some((l) => /\/chunk-[^/]+\.js$/.test(l)), "chunks are preloaded");
  assert.ok(links.some((l) => l.endsWith("/client.js")));
  assert.equal(new Set(links).size, links.length);
  for (const href of links) {
    const res = await fetchPage(app, href);
    assert.equal(res.status, 200, href);
    // Every static import of a preloaded file is itself preloaded.
    for (const [, spec] of res.text.matchAll(/(?:from|import)\s*"(\.{1,2}\/[^"]+)"/g)) {
      const target = new URL(spec, `http://x${href}`).pathname;
      assert.ok(links.includes(target), `${href} imports ${target}, not preloaded`);
    }
  }
});

Deno.test("[fresh] bundles are served immutable with a JS content type", async () => {
  const { text } = await fetchPage(app, "/islands");
  const client = /import\{revive\}from"([^"]+)"/.exec(text)![1];
  const res = await fetchPage(app, client);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(res.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.match(res.text, /export\s*\{[^}]*as revive/);
  const stale = await fetchPage(app, client.replace(buildId, "0000000000"));
  assert.equal(stale.status, 404);
  assert.equal((await fetchPage(app, `/_frsh/js/${buildId}/nope.js`)).status, 404);
});

Deno.test("[fresh] a page without islands ships zero JavaScript", async () => {
  for (const path of ["/", "/users/1", "/no-such-page"]) {
    const { text } = await fetchPage(app, path);
    assert.ok(!/<script/i.test(text), `${path} has a script tag`);
    assert.ok(!text.includes("modulepreload"), `${path} preloads modules`);
    assert.ok(!text.includes("frsh-"), `${path} has island markers`);
  }
});

Deno.test("[fresh] a function inside island props fails with island and prop path", async () => {
  const original = console.error;
  const logged: string[] = [];
  console.error = (...args: unknown[]) => logged.push(args.map(String).join(" "));
  try {
    const res = await fetchPage(app, "/bad-props");
    assert.equal(res.status, 500);
    assert.ok(
      res.text.includes(
        "Island &quot;Echo&quot; prop &quot;value.nested.fn&quot; is a function; island props must be serialisable",
      ),
      res.text,
    );
  } finally {
    console.error = original;
  }
  assert.ok(logged.some((l) => l.includes('Island "Echo" prop "value.nested.fn"')));
});
