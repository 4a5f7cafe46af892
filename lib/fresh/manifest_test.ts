import assert from "node:assert/strict";
import { checkManifestFresh, generateManifest, writeManifestIfChanged } from "./manifest.ts";

async function tempApp(files: string[]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "fresh_manifest_" });
  for (const file of files) {
    const path = `${dir}/${file}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, "export default function X() { return null; }\n");
  }
  return dir;
}

/** What `deno fmt` makes of `text` (fed through stdin). */
async function denoFmt(text: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext", "ts", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test("[fresh] generateManifest is sorted, deterministic and deno-fmt clean", async () => {
  const dir = await tempApp([
    "routes/index.tsx",
    "routes/_app.tsx",
    "routes/api/[id].ts",
    "routes/(group)/about.tsx",
    "routes/index_test.ts",
    "islands/Zed.tsx",
    "islands/Counter.tsx",
    "islands/index.tsx",
  ]);
  try {
    const text = await generateManifest(dir);
    assert.equal(await generateManifest(dir), text);
    assert.equal(await denoFmt(text), text);
    const keys = [...text.matchAll(/^ {4}"([^"]+)": (\$\w+),$/gm)];
    assert.deepEqual(keys.map((m) => m[1]), [
      "./routes/(group)/about.tsx",
      "./routes/_app.tsx",
      "./routes/api/[id].ts",
      "./routes/index.tsx",
      "./islands/Counter.tsx",
      "./islands/Zed.tsx",
      "./islands/index.tsx",
    ]);
    const ids = keys.map((m) => m[2]);
    assert.equal(new Set(ids).size, ids.length, "identifiers are unique");
    assert.ok(!text.includes("index_test"));
    assert.match(text, /import type \{ Manifest \} from "[./]+.*lib\/fresh\/mod\.ts";/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[fresh] empty islands folder formats as islands: {}", async () => {
  const dir = await tempApp(["routes/index.tsx"]);
  try {
    const text = await generateManifest(dir);
    assert.ok(text.includes("  islands: {},\n"));
    assert.equal(await denoFmt(text), text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[fresh] writeManifestIfChanged writes only on change; staleness is detected", async () => {
  const dir = await tempApp(["routes/index.tsx"]);
  try {
    assert.deepEqual(await checkManifestFresh(dir), {
      fresh: false,
      diff: "fresh.gen.ts is missing",
    });
    assert.equal(await writeManifestIfChanged(dir), true);
    const { mtime } = await Deno.stat(`${dir}/fresh.gen.ts`);
    assert.equal(await writeManifestIfChanged(dir), false);
    assert.deepEqual((await Deno.stat(`${dir}/fresh.gen.ts`)).mtime, mtime);
    assert.deepEqual(await checkManifestFresh(dir), { fresh: true });
    await Deno.writeTextFile(`${dir}/routes/new.tsx`, "export default () => null;\n");
    const stale = await checkManifestFresh(dir);
    assert.equal(stale.fresh, false);
    assert.match(stale.diff!, /\+ {5}"\.\/routes\/new\.tsx": \$new,/);
    assert.equal(await writeManifestIfChanged(dir), true);
    assert.equal((await checkManifestFresh(dir)).fresh, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
