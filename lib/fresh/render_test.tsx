import assert from "node:assert/strict";
import { signal } from "@preact/signals-core";
import type { ComponentChildren } from "preact";
import { Head } from "./head.tsx";
import { registerIslands } from "./island_hook.ts";
import { renderDocument } from "./render.ts";
import { createStyler } from "./twind.ts";
import type { AssetDeps } from "./bundle.ts";

function Badge({ label }: { label: string }) {
  return <b class="font-bold">{label}</b>;
}
function Card({ title }: { title: string; onPick?: () => void }) {
  return (
    <div>
      {title}
      <Badge label="inner" />
    </div>
  );
}
registerIslands([
  { name: "Badge", component: Badge as never },
  { name: "Card", component: Card as never },
]);

const deps: AssetDeps = {
  client: { file: "client.js", preload: ["client.js", "chunk-A.js"] },
  islands: {
    Badge: { file: "Badge.js", preload: ["Badge.js", "chunk-A.js"], classes: [] },
    Card: {
      file: "Card.js",
      preload: ["Card.js", "chunk-B.js"],
      classes: ["bg-pink-500"],
    },
  },
};
const options = { buildId: "b1", deps, styler: createStyler(), dev: false };

function stateOf(html: string) {
  const json = /<script type="application\/json" id="__FRSH_STATE">(.*?)<\/script>/
    .exec(html)?.[1];
  return json ? JSON.parse(json) : null;
}

Deno.test("[fresh] islands are wrapped in markers and their props recorded", () => {
  const html = renderDocument(
    <main>
      <Badge label="one" />
      <p>static</p>
      <Badge label="two" />
    </main>,
    options,
  );
  assert.match(
    html,
    /<!--frsh-Badge:0--><b class="font-bold">one<\/b><!--\/frsh-Badge:0-->/,
  );
  assert.match(html, /<!--frsh-Badge:1-->.*two.*<!--\/frsh-Badge:1-->/);
  assert.deepEqual(stateOf(html).props, [{ label: "one" }, { label: "two" }]);
});

Deno.test("[fresh] an island inside an island renders without markers", () => {
  const html = renderDocument(<Card title="outer" />, options);
  assert.match(html, /<!--frsh-Card:0--><div>outer<b class="font-bold">inner<\/b><\/div><!--\/frsh-Card:0-->/);
  assert.ok(!html.includes("frsh-Badge"));
  assert.deepEqual(stateOf(html).props, [{ title: "outer" }]);
  // Only the used (outer) island is imported, and its chunks preloaded.
  assert.match(html, /import i0 from"\/_frsh\/js\/b1\/Card\.js";revive\(\{"Card":i0\}\)/);
  assert.ok(!html.includes("Badge.js"));
  for (const f of ["client.js", "chunk-A.js", "Card.js", "chunk-B.js"]) {
    assert.ok(html.includes(`<link rel="modulepreload" href="/_frsh/js/b1/${f}">`), f);
  }
  // The island's client-only class is styled.
  assert.match(html, /\.bg-pink-500\{/);
});

Deno.test("[fresh] a function prop fails the render naming island and prop", () => {
  assert.throws(
    () => renderDocument(<Card title="x" onPick={() => {}} />, options),
    {
      message: `Island "Card" prop "onPick" is a function; island props must be serialisable`,
    },
  );
});

Deno.test("[fresh] two islands sharing a signal serialise it once", () => {
  function Show({ n }: { n: { value: number } }) {
    return <i>{n.value}</i>;
  }
  registerIslands([{ name: "Show", component: Show as never }]);
  const n = signal(7);
  const html = renderDocument(
    <>
      <Show n={n} />
      <Show n={n} />
    </>,
    {
      ...options,
      deps: { ...deps, islands: { Show: { file: "S.js", preload: [], classes: [] } } },
    },
  );
  const state = stateOf(html);
  assert.deepEqual(state.signals, [7]);
  assert.deepEqual(state.props, [{ n: { $: "S", v: 0 } }, { n: { $: "S", v: 0 } }]);
});

Deno.test("[fresh] a page without islands ships no script and no modulepreload", () => {
  const html = renderDocument(<p class="p-2">plain</p>, options);
  assert.ok(!html.includes("<script"), html);
  assert.ok(!html.includes("modulepreload"));
  const dev = renderDocument(<p>plain</p>, { ...options, dev: true });
  assert.equal(dev.match(/<script/g)?.length, 1);
  assert.ok(dev.includes("/_frsh/alive"));
  assert.ok(!dev.includes("modulepreload"));
});

Deno.test("[fresh] body-only trees get a full document with charset and viewport", () => {
  const html = renderDocument(<p>hi</p>, options);
  assert.match(
    html,
    /^<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><style id="__FRSH_TWIND">/,
  );
  assert.ok(html.endsWith("<body><p>hi</p></body></html>"));
});

Deno.test("[fresh] an app rendering <html> keeps its head and gets additions", () => {
  const App = ({ children }: { children: ComponentChildren }) => (
    <html lang="fr">
      <head>
        <meta name="viewport" content="width=500" />
        <title>App</title>
      </head>
      <body>{children}</body>
    </html>
  );
  const html = renderDocument(
    <App>
      <Head>
        <title>Page</title>
      </Head>
      <Badge label="x" />
    </App>,
    options,
  );
  assert.ok(
    html.startsWith(
      '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=500"/>',
    ),
  );
  assert.equal(html.match(/<title>/g)?.length, 1);
  assert.ok(html.includes("<title>Page</title>"));
  assert.equal(html.match(/name="viewport"/g)?.length, 1);
  assert.match(html, /<\/script><\/body><\/html>$/);
  assert.match(html, /<link rel="modulepreload"[^>]+><\/head>/);
});

Deno.test("[fresh] Head dedupes by key and the last title wins", () => {
  const html = renderDocument(
    <div>
      <Head>
        <title>First</title>
        <meta key="d" name="description" content="one" />
        <meta name="robots" content="none" />
      </Head>
      <Head>
        <meta key="d" name="description" content="two" />
        <title>Second</title>
      </Head>
    </div>,
    options,
  );
  assert.ok(
    html.includes('<meta name="robots" content="none"/><meta name="description" content="two"/><title>Second</title>'),
    html,
  );
  assert.ok(!html.includes("First"));
  assert.ok(!html.includes('content="one"'));
});

Deno.test("[fresh] a nonce goes on the loader, the live reload snippet, page scripts and the styles; none without one", () => {
  const page = (
    <main>
      <Badge label="one" />
      <script dangerouslySetInnerHTML={{ __html: "window.ok=1" }} />
    </main>
  );
  const html = renderDocument(page, { ...options, dev: true, nonce: "abc123" });
  const tags = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]);
  assert.equal(tags.length, 3, "page script, state JSON, loader");
  // The props JSON is data (never executed): it needs no nonce.
  for (const attrs of tags.filter((a) => !a.includes("application/json"))) {
    assert.ok(attrs.includes(`nonce="abc123"`), `<script${attrs}>`);
  }
  assert.ok(html.includes(`<style id="__FRSH_TWIND" nonce="abc123">`));
  assert.match(html, /<script type="module" nonce="abc123">import\{revive\}[^<]*EventSource/, "live reload inside");
  const bare = renderDocument(<p>static</p>, { ...options, dev: true, nonce: "n0" });
  assert.match(bare, /<script nonce="n0">[^<]*EventSource/, "live reload alone carries it too");
  assert.ok(!renderDocument(page, options).includes("nonce="), "no nonce asked, none written");
});
