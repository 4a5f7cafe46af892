import assert from "node:assert/strict";
import { createStyler } from "./twind.ts";

Deno.test("[fresh] twind inlines only the classes used", () => {
  const { css } = createStyler().style('<p class="text-red-500 p-4">x</p>');
  assert.match(css, /\.text-red-500\{/);
  assert.match(css, /\.p-4\{padding:1rem\}/);
  assert.ok(!css.includes(".p-2"));
  assert.ok(!css.includes("bg-blue-500"));
});

Deno.test("[fresh] twind sheets do not leak between renders", () => {
  const styler = createStyler();
  const first = styler.style('<p class="bg-blue-500">x</p>');
  const second = styler.style('<p class="m-3">y</p>');
  assert.match(first.css, /\.bg-blue-500\{/);
  assert.ok(!second.css.includes("bg-blue-500"));
  assert.match(second.css, /\.m-3\{/);
  // Same preflight, so the size only differs by the page's own rules.
  assert.ok(Math.abs(first.css.length - second.css.length) < 200);
});

Deno.test("[fresh] twind styles extra (client-only) classes and user theme colors", () => {
  const styler = createStyler({ theme: { extend: { colors: { brand: "#123456" } } } });
  const { css } = styler.style("<p>x</p>", ["bg-brand", "not-a-class", "hover:underline"]);
  assert.match(css, /\.bg-brand\{[^}]*rgba\(18,52,86/);
  assert.match(css, /\.hover\\:underline:hover/);
  assert.ok(!css.includes("not-a-class"));
});
