import assert from "node:assert/strict";
import { createFixtureApp, fetchPage } from "./fixture_app.ts";

const { app } = await createFixtureApp();

function styles(html: string): string[] {
  return [...html.matchAll(/<style[^>]*>(.*?)<\/style>/gs)].map((m) => m[1]);
}

Deno.test("[fresh] one style tag holding only the classes the page uses", async () => {
  const { text } = await fetchPage(app, "/");
  const css = styles(text);
  assert.equal(css.length, 1);
  assert.match(css[0], /\.text-3xl\{/);
  assert.match(css[0], /\.font-bold\{/);
  assert.match(css[0], /\.bg-white\{/);
  assert.ok(!css[0].includes(".p-4"), "class of another page");
  assert.ok(!css[0].includes("bg-green-600"), "island class on a page without it");
});

Deno.test("[fresh] requests do not leak classes into each other", async () => {
  const islands = styles((await fetchPage(app, "/islands")).text)[0];
  const home = styles((await fetchPage(app, "/")).text)[0];
  const islandsAgain = styles((await fetchPage(app, "/islands")).text)[0];
  assert.match(islands, /\.p-4\{/);
  assert.ok(!islands.includes("text-3xl"));
  assert.ok(!home.includes(".p-4{"));
  assert.equal(islandsAgain, islands, "no growth across requests");
});

Deno.test("[fresh] classes an island adds only in the browser are styled", async () => {
  const { text } = await fetchPage(app, "/islands");
  assert.ok(!text.includes('class="px-2 bg-green-600"'), "not in the SSR markup");
  assert.match(styles(text)[0], /\.bg-green-600\{/);
});
