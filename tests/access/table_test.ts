import assert from "node:assert/strict";
import { accessMatrixMarkdown, formattedAccessMatrix, MATRIX_FILE } from "../../scripts/access_matrix.ts";

Deno.test("[access] docs/access_matrix.md is the table generated from the declarations", async () => {
  const written = await Deno.readTextFile(MATRIX_FILE);
  assert.equal(written, await formattedAccessMatrix(), "run `deno task access-matrix --write`");
  const generated = accessMatrixMarkdown();
  assert.match(generated, /\| `GET \/api\/v1\/bookings\/\{id\}` \| — \| own \| own sessions \| own \| own \| yes \|/);
  assert.match(generated, /\| `GET \/admin\/calcom` \| — \| — \| — \| — \| — \| yes \|/);
});
