/**
 * `deno task test`: the whole suite. Runs every `*_test.ts` (unit tests beside the code,
 * integration, Kafka and browser tests under tests/, the bench's own tests) in parallel, then the
 * Lighthouse audit alone (its performance score measures main-thread time, which parallel tests on
 * a 2-core machine would steal). Extra arguments replace the default run and pass through to
 * `deno test`, e.g. `deno task test lib/booking/` or `deno task test --filter "[booking]"`.
 *
 * Browser tests need Debian's chromium (`CHROMIUM_PATH`, default /usr/bin/chromium), Kafka
 * tests need Java 17 and Maven, the multi-instance tests (tests/multi/) need `denokv` 0.14.0
 * (`DENOKV_BIN`; `.ci/run` builds it), the mail tests (tests/mail/) need Mailpit v1.33.1 (`MAILPIT_BIN`;
 * `.ci/run` installs it); all FAIL when missing. SKIP_BROWSER=1 / SKIP_KAFKA=1 /
 * SKIP_DENOKV=1 leave them out on a machine without them (never in CI).
 */
const ci = Deno.env.get("CI") === "true";
for (const name of ["SKIP_BROWSER", "SKIP_KAFKA", "SKIP_DENOKV"]) {
  if (ci && Deno.env.get(name)) {
    console.error(`${name} is not allowed in CI: those tests are a required part of the suite.`);
    Deno.exit(1);
  }
}
const LIGHTHOUSE = "tests/browser/lighthouse_test.ts";
const skipBrowser = !!Deno.env.get("SKIP_BROWSER");

async function denoTest(args: string[]): Promise<number> {
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", ...args],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return code;
}

if (Deno.args.length) Deno.exit(await denoTest(["--parallel", ...Deno.args]));

/** Every `*_test.ts(x)` under `dir`, sorted. */
async function testFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory && e.name !== "artifacts" && e.name !== "fixture") out.push(...await testFiles(path));
    else if (e.isFile && /_test\.tsx?$/.test(e.name)) out.push(path);
  }
  return out.sort();
}

// Files are listed explicitly: Deno 2.9's `--ignore` does not exclude files under folders named on the command line,
// so the audit used to run twice, once beside the parallel tests.
const skipped = (f: string) => f === LIGHTHOUSE || (skipBrowser && f.startsWith("tests/browser/"));
const files = (await Promise.all(["lib", "tests", "bench"].map(testFiles))).flat().filter((f) => !skipped(f));
if (files.length === 0) {
  console.error("no test file found: the suite ran no test");
  Deno.exit(1);
}
const audit = skipBrowser ? 0 : await denoTest([LIGHTHOUSE]);
const main = await denoTest(["--parallel", ...files]);
Deno.exit(main || audit);
