/**
 * `main.ts` as a real process: SIGTERM and SIGINT stop it cleanly (exit 0) after the request in
 * flight got its whole response; nothing listens once it is gone.
 */
import assert from "node:assert/strict";
import { startAppProcess } from "./app_process.ts";

/** A Cal.com stand-in whose `GET /v2/me` answers only when the test releases it. */
function slowCalcom() {
  let arrived!: () => void;
  const arrivedP = new Promise<void>((r) => arrived = r);
  let release!: () => void;
  const released = new Promise<void>((r) => release = r);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    if (new URL(req.url).pathname !== "/v2/me") return Response.json({ status: "success", data: [] });
    arrived();
    await released;
    return Response.json({ status: "success", data: { id: 1, email: "ops@example.com", username: "ops" } });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, arrived: arrivedP, release, server };
}

const ADMIN = `admin-${crypto.randomUUID()}`;

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`[shutdown] ${signal} finishes the request in flight, then main.ts exits 0`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "shutdown_" });
    const calcom = slowCalcom();
    const app = await startAppProcess({
      env: {
        DENO_KV_PATH: `${dir}/app.kv`,
        SEED_DEMO: "0",
        KAFKA_BROKERS: "",
        CALCOM_API_URL: calcom.url,
        CALCOM_API_KEY: "test-key",
        ADMIN_TOKEN: ADMIN,
      },
    });
    try {
      // The public health check asks Cal.com `GET /v2/me`: in flight until the stand-in answers.
      const pending = fetch(`${app.url}/api/calcom/health`, { headers: { authorization: `Bearer ${ADMIN}` } });
      await Promise.race([
        calcom.arrived,
        pending.then((r) => Promise.reject(new Error(`answered ${r.status} without asking Cal.com`))),
      ]);
      app.child.kill(signal);
      await new Promise((r) => setTimeout(r, 200));
      calcom.release();
      const res = await pending;
      assert.equal(res.status, 200, app.output());
      // Cal.com's answer, sent after the signal, made it into the response.
      const body = await res.json();
      assert.equal(body.calcom.tenants[0].reachable, true, JSON.stringify(body));
      const status = await app.exited;
      assert.equal(status.code, 0, app.output());
      assert.match(app.output(), /shutdown: signal received/);
      await assert.rejects(fetch(`${app.url}/health`), "nothing listens any more");
    } finally {
      calcom.release();
      await app.stop("SIGKILL");
      await calcom.server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
