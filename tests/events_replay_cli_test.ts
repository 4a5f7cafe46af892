import assert from "node:assert/strict";
import { BookingEngine } from "../lib/booking/engine.ts";
import { putCourse, putLocation, putSession, putUsers, T0 } from "./booking/test_fixtures.ts";

Deno.test("[scripts] deno task events:replay counts a window with --dry-run and refuses bad input", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/app.kv`;
  try {
    const kv = await Deno.openKv(path);
    const location = await putLocation(kv);
    const course = await putCourse(kv);
    const session = await putSession(kv, course.id, { capacity: 5, locationId: location.id });
    const users = await putUsers(kv, 3);
    const engine = new BookingEngine(kv, { holdMinutes: 15, now: () => new Date(T0) });
    for (const u of users) {
      await engine.placeHold(session.id, u.id, { userId: u.id, origin: "api", correlationId: crypto.randomUUID() });
    }
    kv.close();
    const run = async (...args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["task", "-q", "events:replay", ...args],
        env: { DENO_KV_PATH: path, KAFKA_BROKERS: "", NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      return {
        code: out.code,
        stdout: new TextDecoder().decode(out.stdout),
        stderr: new TextDecoder().decode(out.stderr),
      };
    };
    const all = await run("--since", "2000-01-01T00:00:00Z", "--dry-run");
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(JSON.parse(all.stdout), { events: 3, published: 0, failed: 0 });
    const none = await run("--since", "2999-01-01T00:00:00Z", "--dry-run");
    assert.deepEqual(JSON.parse(none.stdout), { events: 0, published: 0, failed: 0 });
    const noKafka = await run("--since", "2000-01-01T00:00:00Z");
    assert.equal(noKafka.code, 2);
    assert.match(noKafka.stderr, /KAFKA_BROKERS is not set/);
    assert.equal((await run("--since", "yesterday")).code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
