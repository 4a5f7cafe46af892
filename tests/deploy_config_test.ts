import assert from "node:assert/strict";

Deno.test("[deploy] deno.json configures Deno Deploy: the build task prebuilds islands, main.ts serves", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const { deploy, tasks } = config;
  assert.equal(deploy.build, "deno task build");
  assert.match(tasks.build, /scripts\/build\.ts/, "the build task writes the island bundle");
  assert.equal(deploy.runtime.type ?? "dynamic", "dynamic");
  assert.ok((await Deno.stat(new URL(`../${deploy.runtime.entrypoint}`, import.meta.url))).isFile);
  assert.equal(deploy.runtime.entrypoint, "main.ts");
  // Deploy runs with fixed flags: the unstable APIs the app uses are enabled in deno.json itself.
  for (const feature of ["kv", "cron"]) assert.ok(config.unstable.includes(feature), feature);
});
