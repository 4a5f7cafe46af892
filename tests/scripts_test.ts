import assert from "node:assert/strict";
import { findUserByToken } from "../lib/auth/tokens.ts";
import { createSession, createUser } from "../lib/store/mod.ts";
import { keys } from "../lib/store/keys.ts";
import { putCourse, putLocation } from "./booking/test_fixtures.ts";

async function run(task: string, args: string[], kvPath: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", task, ...args],
    env: { DENO_KV_PATH: kvPath, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout), stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("[scripts] deno task token prints a working token for an email; unknown email fails", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/app.kv`;
  try {
    const kv = await Deno.openKv(path);
    const user = await createUser(kv, { email: "hr.sync@example.com", name: "HR sync", roles: ["admin"] });
    kv.close();
    const ok = await run("token", ["HR.Sync@example.com", "--label", "HR"], path);
    assert.equal(ok.code, 0, ok.stderr);
    const token = ok.stdout.trim();
    assert.match(token, /^tbk_/);
    const kv2 = await Deno.openKv(path);
    assert.equal((await findUserByToken(kv2, token))?.id, user.id);
    kv2.close();
    const missing = await run("token", ["nobody@example.com"], path);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no user with email/);
    assert.equal(missing.stdout, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[scripts] deno task doctor passes on a consistent store and fails naming a broken counter", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/app.kv`;
  try {
    const kv = await Deno.openKv(path);
    const location = await putLocation(kv);
    const course = await putCourse(kv);
    const session = await createSession(kv, {
      courseId: course.id,
      startsAt: "2030-01-01T15:00:00.000Z",
      endsAt: "2030-01-01T17:00:00.000Z",
      timeZone: location.timeZone,
      mode: "in_person",
      locationId: location.id,
      capacity: 5,
      instructorId: "01JZZZZZZZZZZZZZZZZZZZZZZZ",
    });
    kv.close();
    const ok = await run("doctor", [], path);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^OK: 1 sessions/);
    const kv2 = await Deno.openKv(path);
    await kv2.set(keys.seats(session.id), { confirmed: 3, holds: 0, waiting: 0 });
    kv2.close();
    const bad = await run("doctor", [], path);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /seats_confirmed_mismatch/);
    assert.ok(bad.stdout.includes(session.id));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
