import assert from "node:assert/strict";
import { writeAssets } from "../../lib/fresh/mod.ts";
import { createFixtureApp, fetchPage, manifest } from "./fixture_app.ts";

async function captureLog<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; logs: string[] }> {
  const logs: string[] = [];
  const { log, warn } = console;
  console.log = (...a: unknown[]) => logs.push(a.join(" "));
  console.warn = (...a: unknown[]) => logs.push(a.join(" "));
  try {
    return { value: await fn(), logs };
  } finally {
    console.log = log;
    console.warn = warn;
  }
}

Deno.test("[fresh] dev pages carry only the live reload snippet when island-free", async () => {
  const { app } = await createFixtureApp({ dev: true });
  const { text } = await fetchPage(app, "/");
  assert.equal(text.match(/<script/g)?.length, 1);
  assert.match(text, /<script>\(\(\)=>\{.*new EventSource\("\/_frsh\/alive"\)/);
  assert.ok(!text.includes("modulepreload"));
  const islands = await fetchPage(app, "/islands");
  assert.equal(islands.text.match(/<script type="module">/g)?.length, 1);
  assert.ok(islands.text.includes("/_frsh/alive"));
});

Deno.test("[fresh] /_frsh/alive streams the server revision (dev only)", async () => {
  const { app } = await createFixtureApp({ dev: true });
  const res = await app.fetch(new Request("http://localhost/_frsh/alive"));
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  const reader = res.body!.getReader();
  const { value } = await reader.read();
  await reader.cancel();
  const text = new TextDecoder().decode(value);
  assert.match(text, /^retry: \d+\ndata: [0-9a-f-]{36}\n\n$/);
  const { app: prod } = await createFixtureApp({ dev: false });
  const notDev = await prod.fetch(new Request("http://localhost/_frsh/alive"));
  assert.equal(notDev.status, 404);
  await notDev.body?.cancel();
});

Deno.test("[fresh] prebuilt assets are used when present, ignored when stale or in dev", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fresh_build_" });
  try {
    const built = await writeAssets(manifest, dir);
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/meta.json`));
    assert.equal(meta.buildId, built.buildId);
    for (const file of meta.files) await Deno.stat(`${dir}/js/${file}`);

    const prebuilt = await captureLog(() => createFixtureApp({ buildDir: dir }));
    assert.equal(prebuilt.value.buildId, built.buildId);
    assert.deepEqual(prebuilt.logs, [], "no bundling at startup");
    const page = await fetchPage(prebuilt.value.app, "/islands");
    const client = /import\{revive\}from"([^"]+)"/.exec(page.text)![1];
    assert.equal((await fetchPage(prebuilt.value.app, client)).status, 200);

    const dev = await captureLog(() => createFixtureApp({ buildDir: dir, dev: true }));
    assert.match(dev.logs.join("\n"), /bundled 7 islands in \d+ ms/);

    meta.sourceHash = "0123456789ab"; // as if an island changed after the build
    await Deno.writeTextFile(`${dir}/meta.json`, JSON.stringify(meta));
    const stale = await captureLog(() => createFixtureApp({ buildDir: dir }));
    assert.match(stale.logs.join("\n"), /ignoring stale assets/);
    assert.match(stale.logs.join("\n"), /bundled 7 islands/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[fresh] production serves the prebuilt bundle only: refuses to start without it or when stale", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fresh_prod_" });
  try {
    const missing = await captureLog(() =>
      assert.rejects(createFixtureApp({ buildDir: dir, production: true }), /has none: run `deno task build`/)
    );
    assert.ok(!missing.logs.some((l) => /bundled/.test(l)), "nothing bundled in the server");
    const built = await writeAssets(manifest, dir);
    const prod = await captureLog(() => createFixtureApp({ buildDir: dir, production: true }));
    assert.equal(prod.value.buildId, built.buildId);
    assert.deepEqual(prod.logs, [], "no bundling at startup");
    const page = await fetchPage(prod.value.app, "/islands");
    const client = /import\{revive\}from"([^"]+)"/.exec(page.text)![1];
    assert.equal((await fetchPage(prod.value.app, client)).status, 200);

    const meta = JSON.parse(await Deno.readTextFile(`${dir}/meta.json`));
    meta.sourceHash = "0123456789ab"; // as if an island changed after the build
    await Deno.writeTextFile(`${dir}/meta.json`, JSON.stringify(meta));
    const stale = await captureLog(() =>
      assert.rejects(createFixtureApp({ buildDir: dir, production: true }), /is stale .*deno task build/)
    );
    assert.ok(!stale.logs.some((l) => /bundled/.test(l)), "nothing bundled in the server");
    await assert.rejects(createFixtureApp({ buildDir: dir, production: true, dev: true }), /exclude each other/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
