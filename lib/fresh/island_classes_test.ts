import assert from "node:assert/strict";
import { scanClassCandidates } from "./island_classes.ts";

Deno.test("[fresh] class scan finds tokens in string and template literals", () => {
  const source = `
    import { useState } from "preact/hooks";
    const x = open ? "px-2 bg-green-600" : 'hidden md:block';
    const y = \`text-\${size} rounded-lg hover:bg-red-50\`;
    // class="not scanned here because comments are ignored"? they are literals
  `;
  const found = scanClassCandidates(source);
  for (const token of ["px-2", "bg-green-600", "hidden", "md:block", "rounded-lg", "hover:bg-red-50"]) {
    assert.ok(found.includes(token), token);
  }
  assert.ok(!found.includes("${size}"));
  assert.deepEqual(found, [...new Set(found)].sort());
});
