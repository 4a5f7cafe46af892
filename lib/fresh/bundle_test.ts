import assert from "node:assert/strict";
import { staticImports } from "./bundle.ts";

Deno.test("[fresh] staticImports finds chunk imports but not dynamic ones", () => {
  const code = `import{a as e}from"./chunk-A.js";import"../chunk-B.js";export{x}from"./c.js";` +
    `const l=()=>import("./lazy.js");import{h}from"preact";`;
  assert.deepEqual(staticImports(code), ["./chunk-A.js", "../chunk-B.js", "./c.js"]);
});
