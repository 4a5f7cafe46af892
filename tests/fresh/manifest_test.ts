import assert from "node:assert/strict";
import { checkManifestFresh, writeManifestIfChanged } from "../../lib/fresh/mod.ts";

const FIXTURE = new URL("./fixture/", import.meta.url);
const REPO_ROOT = new URL("../../", import.meta.url);

async function copyDir(from: URL, to: URL): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const name = entry.isDirectory ? `${entry.name}/` : entry.name;
    if (entry.isDirectory) {
      await copyDir(new URL(name, from), new URL(name, to));
    } else if (entry.isFile) {
      await Deno.copyFile(new URL(name, from), new URL(name, to));
    }
  }
}

Deno.test("[fresh] the fixture's fresh.gen.ts is up to date", async () => {
  const result = await checkManifestFresh(FIXTURE);
  assert.ok(result.fresh, `run the generator for tests/fresh/fixture:\n${result.diff}`);
});

Deno.test("[fresh] adding a route makes a generated manifest stale", async () => {
  const temp = await Deno.makeTempDir({ prefix: "fresh_fixture_" });
  const root = new URL(`file://${temp}/`);
  try {
    await copyDir(new URL("routes/", FIXTURE), new URL("routes/", root));
    await copyDir(new URL("islands/", FIXTURE), new URL("islands/", root));
    assert.equal(await writeManifestIfChanged(root), true);
    assert.deepEqual(await checkManifestFresh(root), { fresh: true });
    await Deno.writeTextFile(
      new URL("routes/added.tsx", root),
      "export default function Added() {\n  return <p>added</p>;\n}\n",
    );
    const stale = await checkManifestFresh(root);
    assert.equal(stale.fresh, false);
    assert.match(stale.diff!, /\.\/routes\/added\.tsx/);
    await Deno.remove(new URL("islands/Echo.tsx", root));
    await writeManifestIfChanged(root);
    const afterRemoval = await checkManifestFresh(root);
    assert.ok(afterRemoval.fresh);
  } finally {
    await Deno.remove(temp, { recursive: true });
  }
});

Deno.test("[fresh] the app's fresh.gen.ts matches routes/ and islands/", async () => {
  const result = await checkManifestFresh(REPO_ROOT);
  assert.ok(
    result.fresh,
    `fresh.gen.ts is stale; run \`deno task manifest\`:\n${result.diff}`,
  );
});
